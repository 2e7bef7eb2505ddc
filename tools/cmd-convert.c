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

int hvmmio_cmd_convert(int argc, char **argv)
{
    /* --to perfetto: the Chrome/Perfetto trace event exporter (tools/perfetto.c) */
    if (hvmmio_perfetto_requested(argc, argv)) {
        return hvmmio_perfetto_convert(argc, argv);
    }
    struct convert_opts o = {0};
    GOptionEntry entries[] = {
        {"kernel-compat", 'k', 0, G_OPTION_ARG_NONE, &o.kernel_compat,
         "Write only what the kernel writes: drop hvmmio's facts and records (PCICFG, IRQ)", NULL},
        {"skip-bad", 's', 0, G_OPTION_ARG_NONE, &o.skip_bad,
         "Skip malformed input lines (with a warning) instead of stopping", NULL},
        {"jsonl", 'j', 0, G_OPTION_ARG_NONE, &o.jsonl,
         "Write JSON Lines whatever OUT is called (e.g. for '-')", NULL},
        {"compress", 'z', 0, G_OPTION_ARG_STRING, &o.compress,
         "Compress the output with gz, xz, zst or none (default: from OUT's extension)", "ALGO"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No progress line", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IN OUT");
    g_autoptr(GError) error = NULL;
    int ret = 1;

    g_option_context_set_summary(
        ctx, "Convert an mmiotrace between text and JSON Lines (.jsonl), plain or compressed\n"
             "(.gz, .xz, .zst). The input's format and compression are detected from its\n"
             "content; the output's from OUT's name. '-' is stdin or stdout.\n"
             "A regular OUT is replaced only once the conversion succeeded; a device or a FIFO\n"
             "is written directly; a symbolic link is followed (its target is written).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 3) {
        fprintf(stderr, "%s: expected IN and OUT (see --help)\n", argv[0]);
        return 2;
    }
    const char *in = argv[1], *out = argv[2];
    g_autofree char *compress = o.compress;

    enum mmiotrace_compression comp = mmiotrace_compression_from_name(out);
    if (compress) {
        if (!strcmp(compress, "gz") || !strcmp(compress, "gzip")) {
            comp = MMIOTRACE_COMP_GZIP;
        } else if (!strcmp(compress, "xz")) {
            comp = MMIOTRACE_COMP_XZ;
        } else if (!strcmp(compress, "zst") || !strcmp(compress, "zstd")) {
            comp = MMIOTRACE_COMP_ZSTD;
        } else if (!strcmp(compress, "none")) {
            comp = MMIOTRACE_COMP_NONE;
        } else {
            fprintf(stderr, "%s: unknown compression '%s' (gz, xz, zst or none)\n", argv[0],
                    compress);
            return 2;
        }
    }
    bool jsonl = o.jsonl || ends_with(out, ".jsonl") || ends_with(out, ".jsonl.gz") ||
                 ends_with(out, ".jsonl.xz") || ends_with(out, ".jsonl.zst");

    struct stat st_in;
    struct output dest;
    if (resolve_output(argv[0], in, out, &dest) < 0) {
        return 2;
    }

    struct mmiotrace_reader *r = mmiotrace_reader_open(in);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], in, strerror(errno));
        g_free(dest.path);
        return 1;
    }
    struct hvmmio_warn warned = {"hvmmio convert", 10, 0};
    mmiotrace_reader_set_policy(r, o.skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                hvmmio_warn_line, &warned);

    /*
     * A regular file is written to TARGET.tmp-XXXXXX and renamed over it on success: a failed
     * conversion leaves no half file. Anything else (a device, a FIFO, '-') is written
     * directly: it is never replaced.
     */
    g_autofree char *tmp = NULL;
    int fd = 1;
    if (dest.path && dest.regular) {
        tmp = g_strdup_printf("%s.tmp-XXXXXX", dest.path);
        fd = g_mkstemp(tmp);
        if (fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            mmiotrace_reader_free(r);
            g_free(dest.path);
            return 1;
        }
        fchmod(fd, dest.mode);
    } else if (dest.path) {
        fd = open(dest.path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            mmiotrace_reader_free(r);
            g_free(dest.path);
            return 1;
        }
    }
    struct mmiotrace_csink *cs = mmiotrace_csink_new(fd, comp);
    struct mmiotrace_writer *w =
        cs ? mmiotrace_writer_new(mmiotrace_csink_write, cs,
                                  jsonl ? mmiotrace_jsonl_format : mmiotrace_format,
                                  o.kernel_compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED)
           : NULL;
    if (!w) {
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        goto out;
    }

    struct progress prog = {.enabled = !o.quiet && isatty(2), .start = now()};
    prog.next = prog.start + 1.0;
    if (prog.enabled && strcmp(in, "-") && !stat(in, &st_in)) {
        prog.total = st_in.st_size;
    }
    struct mmiotrace_record rec;
    uint64_t n = 0;
    int got;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        if (o.kernel_compat) {
            if (rec.type == MMIOTRACE_CONFIG || rec.type == MMIOTRACE_IRQ) {
                continue;
            }
            rec.ext = 0;
        }
        if (mmiotrace_writer_write(w, &rec) < 0) {
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            goto out;
        }
        if (prog.enabled && !(++n & 0xffff)) {
            progress_update(&prog, r, n);
        }
    }
    if (prog.shown) {
        fprintf(stderr, "\n");
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], mmiotrace_reader_error(r));
        goto out;
    }
    if (warned.count > warned.max) {
        fprintf(stderr, "hvmmio convert: %u more malformed lines skipped\n",
                warned.count - warned.max);
    }
    int wret = mmiotrace_writer_free(w);
    w = NULL;
    int cret = mmiotrace_csink_finish(cs);
    cs = NULL;
    if (wret < 0 || cret < 0 || (tmp && fsync(fd) < 0)) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
        goto out;
    }
    if (tmp) {
        if (close(fd) < 0 || rename(tmp, dest.path) < 0) {
            fd = -1;
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            goto out;
        }
        fd = -1;
        g_clear_pointer(&tmp, g_free);
    }
    if (!tmp && fd > 2 && close(fd) < 0) {
        fd = -1;
        fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
        goto out;
    }
    if (!tmp && fd > 2) {
        fd = -1;
    }
    ret = 0;
out:
    if (w) {
        mmiotrace_writer_free(w);
    }
    if (cs) {
        mmiotrace_csink_finish(cs);
    }
    if (tmp) {
        if (fd >= 0) {
            close(fd);
        }
        unlink(tmp);
    } else if (fd > 2) {
        close(fd);
    }
    g_free(dest.path);
    mmiotrace_reader_free(r);
    return ret;
}
