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

struct convert_opts {
    gboolean kernel_compat;
    gboolean skip_bad;
    gboolean jsonl;
    gboolean quiet;
    char *compress;
};

static void warn_line(void *opaque, const char *message)
{
    unsigned *warned = opaque;

    if (++*warned <= 10) {
        fprintf(stderr, "hvmmio convert: warning: %s (line skipped)\n", message);
    }
}

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

int hvmmio_cmd_convert(int argc, char **argv)
{
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
             "content; the output's from OUT's name. '-' is stdin or stdout.");
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

    struct stat st_in, st_out;
    if (strcmp(in, "-") && strcmp(out, "-") && !stat(in, &st_in) && !stat(out, &st_out) &&
        st_in.st_dev == st_out.st_dev && st_in.st_ino == st_out.st_ino) {
        fprintf(stderr, "%s: IN and OUT are the same file\n", argv[0]);
        return 2;
    }

    struct mmiotrace_reader *r = mmiotrace_reader_open(in);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], in, strerror(errno));
        return 1;
    }
    unsigned warned = 0;
    mmiotrace_reader_set_policy(r, o.skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                warn_line, &warned);

    /* Write to OUT.tmp-XXXXXX and rename on success: a failed conversion leaves no half file. */
    g_autofree char *tmp = NULL;
    int fd = 1;
    if (strcmp(out, "-")) {
        tmp = g_strdup_printf("%s.tmp-XXXXXX", out);
        fd = g_mkstemp(tmp);
        if (fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            mmiotrace_reader_free(r);
            return 1;
        }
        fchmod(fd, 0644);
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
    if (warned > 10) {
        fprintf(stderr, "hvmmio convert: %u more malformed lines skipped\n", warned - 10);
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
        if (close(fd) < 0 || rename(tmp, out) < 0) {
            fd = -1;
            fprintf(stderr, "%s: %s: %s\n", argv[0], out, strerror(errno));
            goto out;
        }
        fd = -1;
        g_clear_pointer(&tmp, g_free);
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
    }
    mmiotrace_reader_free(r);
    return ret;
}
