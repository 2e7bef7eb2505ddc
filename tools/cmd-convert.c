/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert: mmiotrace text <-> JSON Lines, plain or compressed (.gz, .xz, .zst).
 * The input format is detected from the content; the output format from OUT's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "warn.h"

struct convert_opts {
    gboolean kernel_compat;
    gboolean skip_bad;
    gboolean jsonl;
    gboolean quiet;
    char *compress;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Progress on stderr, only when it is a terminal and the conversion takes a while. */
struct progress {
    bool enabled, shown;
    double start, next;
    off_t total; /* input size, 0 if unknown */
};

static void progress_update(struct progress *p, struct mmiotrace_reader *r, uint64_t records)
{
    double t = now();

    if (t < p->next) {
        return;
    }
    p->next = t + 0.5;
    if (t - p->start < 1.0) {
        return;
    }
    uint64_t in = mmiotrace_reader_bytes(r);
    if (p->total) {
        fprintf(stderr, "\rhvmmio convert: %llu records, %.0f%% of %.1f MB ",
                (unsigned long long)records, 100.0 * in / p->total, p->total / 1e6);
    } else {
        fprintf(stderr, "\rhvmmio convert: %llu records, %.1f MB read ",
                (unsigned long long)records, in / 1e6);
    }
    p->shown = true;
}

/* Where the output goes. path NULL: stdout. */
struct output {
    char *path;   /* the file to write: OUT, or the target of the symlink OUT */
    bool regular; /* a regular file (or none yet): written beside it and renamed over it */
    mode_t mode;  /* its permissions, kept */
};

/*
 * Decide how OUT is written. A symlink is followed deliberately: its target is written and
 * the link stays (a dangling link is refused). A directory is refused, and so is OUT naming
 * the same file as IN (it would be truncated before it is read). Returns 0, or -1 after
 * printing why.
 */
static int resolve_output(const char *prog, const char *in, const char *out, struct output *o)
{
    struct stat st, st_in;

    memset(o, 0, sizeof(*o));
    o->mode = 0644;
    if (!strcmp(out, "-")) {
        return 0;
    }
    if (lstat(out, &st) < 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(errno));
            return -1;
        }
        o->path = g_strdup(out);
        o->regular = true;
        return 0;
    }
    if (S_ISLNK(st.st_mode)) {
        char *target = realpath(out, NULL);
        if (!target || stat(target, &st) < 0) {
            fprintf(stderr, "%s: %s is a symbolic link to nothing (write its target itself)\n",
                    prog, out);
            free(target);
            return -1;
        }
        o->path = g_strdup(target);
        free(target);
    } else {
        o->path = g_strdup(out);
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s is a directory\n", prog, out);
        goto fail;
    }
    if (strcmp(in, "-") && !stat(in, &st_in) && st_in.st_dev == st.st_dev &&
        st_in.st_ino == st.st_ino) {
        fprintf(stderr, "%s: IN and OUT are the same file\n", prog);
        goto fail;
    }
    o->regular = S_ISREG(st.st_mode);
    o->mode = st.st_mode & 07777;
    return 0;

fail:
    g_clear_pointer(&o->path, g_free);
    return -1;
}

/* Parse argv into o: 0, or 2 having said why. */
static int parse_args(int *argc, char ***argv, struct convert_opts *o)
{
    GOptionEntry entries[] = {
        {"kernel-compat", 'k', 0, G_OPTION_ARG_NONE, &o->kernel_compat,
         "Write only what the kernel writes: drop hvmmio's facts and records (PCICFG, IRQ)", NULL},
        {"skip-bad", 's', 0, G_OPTION_ARG_NONE, &o->skip_bad,
         "Skip malformed input lines (with a warning) instead of stopping", NULL},
        {"jsonl", 'j', 0, G_OPTION_ARG_NONE, &o->jsonl,
         "Write JSON Lines whatever OUT is called (e.g. for '-')", NULL},
        {"compress", 'z', 0, G_OPTION_ARG_STRING, &o->compress,
         "Compress the output with gz, xz, zst or none (default: from OUT's extension)", "ALGO"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No progress line", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IN OUT");
    g_autoptr(GError) error = NULL;

    g_option_context_set_summary(
        ctx, "Convert an mmiotrace between text and JSON Lines (.jsonl), plain or compressed\n"
             "(.gz, .xz, .zst). The input's format and compression are detected from its\n"
             "content; the output's from OUT's name. '-' is stdin or stdout.\n"
             "A regular OUT is replaced only once the conversion succeeded; a device or a FIFO\n"
             "is written directly; a symbolic link is followed (its target is written).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "%s: %s\n", (*argv)[0], error->message);
        return 2;
    }
    if (*argc != 3) {
        fprintf(stderr, "%s: expected IN and OUT (see --help)\n", (*argv)[0]);
        return 2;
    }
    return 0;
}

/* The output's compression: --compress, else from OUT's name. 0, or 2 having said why. */
static int output_compression(const char *prog, const char *compress, const char *out,
                              enum mmiotrace_compression *comp)
{
    *comp = mmiotrace_compression_from_name(out);
    if (!compress) {
        return 0;
    }
    if (!strcmp(compress, "gz") || !strcmp(compress, "gzip")) {
        *comp = MMIOTRACE_COMP_GZIP;
    } else if (!strcmp(compress, "xz")) {
        *comp = MMIOTRACE_COMP_XZ;
    } else if (!strcmp(compress, "zst") || !strcmp(compress, "zstd")) {
        *comp = MMIOTRACE_COMP_ZSTD;
    } else if (!strcmp(compress, "none")) {
        *comp = MMIOTRACE_COMP_NONE;
    } else {
        fprintf(stderr, "%s: unknown compression '%s' (gz, xz, zst or none)\n", prog, compress);
        return 2;
    }
    return 0;
}

/* One conversion: IN's reader, OUT's file descriptor, the compressing sink and the writer. */
struct conversion {
    const char *prog, *in, *out;
    struct output dest;
    char *tmp; /* a regular OUT's temporary file, until renamed over it */
    int fd;
    struct mmiotrace_reader *r;
    struct mmiotrace_csink *cs;
    struct mmiotrace_writer *w;
};

/*
 * A regular file is written to TARGET.tmp-XXXXXX and renamed over it on success: a failed
 * conversion leaves no half file. Anything else (a device, a FIFO, '-') is written
 * directly: it is never replaced. 0, or -1 having said why.
 */
static int open_output(struct conversion *c)
{
    if (c->dest.path && c->dest.regular) {
        c->tmp = g_strdup_printf("%s.tmp-XXXXXX", c->dest.path);
        c->fd = g_mkstemp(c->tmp);
        if (c->fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
            return -1;
        }
        fchmod(c->fd, c->dest.mode);
    } else if (c->dest.path) {
        c->fd = open(c->dest.path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (c->fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Every record of IN to the writer: 0, or 1 having said why. */
static int copy_records(struct conversion *c, const struct convert_opts *o,
                        const struct hvmmio_warn *warned)
{
    struct stat st_in;
    struct progress prog = {.enabled = !o->quiet && isatty(2), .start = now()};
    prog.next = prog.start + 1.0;
    if (prog.enabled && strcmp(c->in, "-") && !stat(c->in, &st_in)) {
        prog.total = st_in.st_size;
    }
    struct mmiotrace_record rec;
    uint64_t n = 0;
    int got;
    while ((got = mmiotrace_reader_next(c->r, &rec)) > 0) {
        if (o->kernel_compat) {
            if (rec.type == MMIOTRACE_CONFIG || rec.type == MMIOTRACE_IRQ) {
                continue;
            }
            rec.ext = 0;
        }
        if (mmiotrace_writer_write(c->w, &rec) < 0) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
            return 1;
        }
        if (prog.enabled && !(++n & 0xffff)) {
            progress_update(&prog, c->r, n);
        }
    }
    if (prog.shown) {
        fprintf(stderr, "\n");
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", c->prog, mmiotrace_reader_error(c->r));
        return 1;
    }
    if (warned->count > warned->max) {
        fprintf(stderr, "hvmmio convert: %u more malformed lines skipped\n",
                warned->count - warned->max);
    }
    return 0;
}

/* Flush, sync and close OUT; rename the temporary file over it. 0, or 1 having said why. */
static int finish_output(struct conversion *c)
{
    int wret = mmiotrace_writer_free(c->w);
    c->w = NULL;
    int cret = mmiotrace_csink_finish(c->cs);
    c->cs = NULL;
    if (wret < 0 || cret < 0 || (c->tmp && fsync(c->fd) < 0)) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
        return 1;
    }
    if (c->tmp) {
        if (close(c->fd) < 0 || rename(c->tmp, c->dest.path) < 0) {
            c->fd = -1;
            fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
            return 1;
        }
        c->fd = -1;
        g_clear_pointer(&c->tmp, g_free);
    }
    if (!c->tmp && c->fd > 2 && close(c->fd) < 0) {
        c->fd = -1;
        fprintf(stderr, "%s: %s: %s\n", c->prog, c->out, strerror(errno));
        return 1;
    }
    if (!c->tmp && c->fd > 2) {
        c->fd = -1;
    }
    return 0;
}

/* What is left after a failure: the writer, the sink, the temporary file, the descriptor. */
static void conversion_free(struct conversion *c)
{
    if (c->w) {
        mmiotrace_writer_free(c->w);
    }
    if (c->cs) {
        mmiotrace_csink_finish(c->cs);
    }
    if (c->tmp) {
        if (c->fd >= 0) {
            close(c->fd);
        }
        unlink(c->tmp);
        g_free(c->tmp);
    } else if (c->fd > 2) {
        close(c->fd);
    }
    g_free(c->dest.path);
    mmiotrace_reader_free(c->r);
}

int hvmmio_cmd_convert(int argc, char **argv)
{
    /* --to perfetto: the Chrome/Perfetto trace event exporter (tools/perfetto.c) */
    if (hvmmio_perfetto_requested(argc, argv)) {
        return hvmmio_perfetto_convert(argc, argv);
    }
    struct convert_opts o = {0};
    int ret = parse_args(&argc, &argv, &o);
    g_autofree char *compress = o.compress;
    enum mmiotrace_compression comp;
    if (ret || (ret = output_compression(argv[0], compress, argv[2], &comp))) {
        return ret;
    }
    const char *out = argv[2];
    bool jsonl = o.jsonl || ends_with(out, ".jsonl") || ends_with(out, ".jsonl.gz") ||
                 ends_with(out, ".jsonl.xz") || ends_with(out, ".jsonl.zst");
    struct conversion c = {.prog = argv[0], .in = argv[1], .out = out, .fd = 1};
    if (resolve_output(c.prog, c.in, out, &c.dest) < 0) {
        return 2;
    }
    c.r = mmiotrace_reader_open(c.in);
    if (!c.r) {
        fprintf(stderr, "%s: %s: %s\n", c.prog, c.in, strerror(errno));
        g_free(c.dest.path);
        return 1;
    }
    struct hvmmio_warn warned = {"hvmmio convert", 10, 0};
    mmiotrace_reader_set_policy(c.r, o.skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                hvmmio_warn_line, &warned);
    if (open_output(&c) < 0) {
        mmiotrace_reader_free(c.r);
        g_free(c.dest.path);
        g_free(c.tmp);
        return 1;
    }
    c.cs = mmiotrace_csink_new(c.fd, comp);
    c.w = c.cs ? mmiotrace_writer_new(
                     mmiotrace_csink_write, c.cs, jsonl ? mmiotrace_jsonl_format : mmiotrace_format,
                     o.kernel_compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED)
               : NULL;
    ret = 1;
    if (!c.w) {
        fprintf(stderr, "%s: %s\n", c.prog, strerror(errno));
    } else if (!copy_records(&c, &o, &warned)) {
        ret = finish_output(&c);
    }
    conversion_free(&c);
    return ret;
}
