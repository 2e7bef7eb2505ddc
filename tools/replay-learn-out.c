/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn (see replay-learn.h): the annotated copy of the first recording, the
 * summary, and the command line (cmd-replay.c hands --learn over).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mmiotrace.h"
#include "replay-learn-int.h"

/* Where an inserted access takes its time and map id: the first recording's access near it. */
struct rl_near {
    uint64_t ts_ns;
    unsigned ns; /* MMIOTRACE_EXT_NS or 0 */
    uint32_t map_id;
};

/* Write the inserted accesses that follow the first recording's access after (-1: none). */
static int write_inserts(struct rl_learner *l, struct mmiotrace_writer *w, guint *next,
                         int64_t after, const struct rl_near *near)
{
    for (; *next < l->inserts->len; (*next)++) {
        const struct rl_insert *in = &g_array_index(l->inserts, struct rl_insert, *next);
        if (in->after != after) {
            return 0;
        }
        const struct rl_access *a = &g_array_index(l->rec[in->k].acc, struct rl_access, in->access);
        struct mmiotrace_record rec;
        mmiotrace_record_init(&rec, a->type);
        rec.ts_ns = near->ts_ns;
        rec.ext = near->ns | MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_BAR | in->note.ext;
        rec.rw.width = a->width;
        rec.rw.map_id = near->map_id;
        rec.rw.phys = a->phys;
        rec.rw.value = a->value;
        rec.dev = l->device;
        rec.dev_len = strlen(l->device);
        rec.bar = a->bar;
        rec.bar_off = a->off;
        rec.match_mask = in->note.mask;
        if (mmiotrace_writer_write(w, &rec) < 0) {
            return -1;
        }
    }
    return 0;
}

static struct rl_near near_of(const struct mmiotrace_record *rec)
{
    return (struct rl_near){rec->ts_ns, rec->ext & MMIOTRACE_EXT_NS, rec->rw.map_id};
}

/*
 * Copy the first recording to w, its learned accesses annotated, the other recordings'
 * accesses it lacks inserted where they were made. 0, or -1 with err set.
 */
static int copy_annotated(struct rl_learner *l, struct mmiotrace_writer *w, GError **err)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(l->rec[0].path);
    const GArray *acc = l->rec[0].acc;
    struct mmiotrace_record rec;
    uint64_t ordinal = 0;
    guint next = 0, ins = 0;
    int got;

    if (!r) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", l->rec[0].path,
                    g_strerror(errno));
        return -1;
    }
    while ((got = mmiotrace_reader_next(r, &rec)) == 1) {
        bool mine =
            next < acc->len && g_array_index(acc, struct rl_access, next).ordinal == ordinal;
        struct rl_near near = near_of(&rec);
        int ret = 0;
        if (mine && !next) {
            ret = write_inserts(l, w, &ins, -1, &near);
        }
        if (mine) {
            const struct rl_note *note = &l->notes[next++];
            rec.ext = (rec.ext & ~MMIOTRACE_EXT_ANNOT) | note->ext;
            rec.match_mask = note->mask;
            rec.rel_bar = note->rel_bar;
            rec.rel_off = note->rel_off;
        }
        ordinal++;
        if (ret < 0 || mmiotrace_writer_write(w, &rec) < 0 ||
            (mine && write_inserts(l, w, &ins, next - 1, &near) < 0)) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "writing: %s",
                        g_strerror(errno));
            break;
        }
    }
    if (got < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", mmiotrace_reader_error(r));
    } else if (!*err && next != acc->len) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s changed while it was read",
                    l->rec[0].path);
    }
    mmiotrace_reader_free(r);
    return *err ? -1 : 0;
}

/* Write the annotated copy to output (compressed as its name says). 0, or -1 with err set. */
static int write_output(struct rl_learner *l, const char *output, GError **err)
{
    enum mmiotrace_compression comp = mmiotrace_compression_from_name(output);
    int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct mmiotrace_csink *cs = NULL;
    struct mmiotrace_writer *w;

    if (fd < 0) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", output,
                    g_strerror(errno));
        return -1;
    }
    if (comp != MMIOTRACE_COMP_NONE) {
        cs = mmiotrace_csink_new(fd, comp);
        w = cs ? mmiotrace_writer_new(mmiotrace_csink_write, cs, NULL, MMIOTRACE_FMT_EXTENDED)
               : NULL;
    } else {
        w = mmiotrace_writer_new_fd(fd, MMIOTRACE_FMT_EXTENDED);
    }
    int ret = w ? copy_annotated(l, w, err) : -1;
    if ((w && mmiotrace_writer_free(w) < 0) || (cs && mmiotrace_csink_finish(cs) < 0) ||
        close(fd) < 0 || !w) {
        if (!*err) {
            g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", output,
                        g_strerror(errno));
        }
        ret = -1;
    }
    if (ret < 0) {
        g_unlink(output);
    }
    return ret;
}

int rl_learn(int n, char **paths, const char *output, const char *device, struct rl_summary *s,
             GError **err)
{
    struct rl_learner l = {.n = n, .sum = s};

    memset(s, 0, sizeof(*s));
    s->unaligned = g_ptr_array_new_with_free_func(g_free);
    if (n < 2 || n > RL_MAX_RECORDINGS) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "--learn takes 2 to %d recordings, not %d", RL_MAX_RECORDINGS, n);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        if (g_file_test(output, G_FILE_TEST_EXISTS) && g_file_test(paths[k], G_FILE_TEST_EXISTS)) {
            GStatBuf a, b;
            if (!g_stat(output, &a) && !g_stat(paths[k], &b) && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino) {
                g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                            "the output %s is the recording %s", output, paths[k]);
                return -1;
            }
        }
    }
    int ret = rl_learner_run(&l, paths, device, err);
    if (!ret) {
        ret = write_output(&l, output, err);
    }
    rl_learner_free(&l);
    return ret;
}

void rl_summary_clear(struct rl_summary *s)
{
    if (s->unaligned) {
        g_ptr_array_free(s->unaligned, TRUE);
    }
    s->unaligned = NULL;
}

#define UNALIGNED_SHOWN 20

static void print_summary(const struct rl_summary *s, int n, char **paths, const char *output)
{
    printf("hvmmio replay --learn: %d recordings; %" PRIu64 " accesses of %s, %" PRIu64
           " aligned in every recording\n",
           n, s->accesses[0], paths[0], s->accesses[1]);
    printf("  match=          %" PRIu64 " writes whose values differ (the stable bits checked)\n",
           s->match_writes);
    printf("  rel=            %" PRIu64 " writes, %" PRIu64
           " reads (the value the guest wrote to another register)\n",
           s->rel_writes, s->rel_reads);
    printf("  poll=tolerant   %" PRIu64 " reads in %" PRIu64 " polls whose counts vary\n",
           s->poll_reads, s->polls);
    printf("  differing reads %" PRIu64 " (the first recording's value kept, %" PRIu64
           " of them rel=)\n",
           s->differing_reads, s->rel_reads);
    printf("  opt=1           %" PRIu64 " of the first recording's accesses not in every "
           "recording, %" PRIu64 " of the others' inserted, %" PRIu64
           " repeating a block whose count varies (%" PRIu64
           " writes given their register's match=)\n",
           s->optional, s->inserted, s->repeated, s->optional_match);
    if (s->approximate) {
        printf("  %u of the recordings too long and different from the first to align exactly: "
               "aligned by resynchronising after each difference\n",
               s->approximate);
    }
    printf("  not aligned     %u (made optional)\n", s->unaligned->len);
    for (guint i = 0; i < s->unaligned->len && i < UNALIGNED_SHOWN; i++) {
        printf("    %s\n", (const char *)s->unaligned->pdata[i]);
    }
    if (s->unaligned->len > UNALIGNED_SHOWN) {
        printf("    ... and %u more\n", s->unaligned->len - UNALIGNED_SHOWN);
    }
    printf("wrote %s\n", output);
}

/* ---- The command line ---- */

static gboolean learn;

static const GOptionEntry entries[] = {
    {"learn", 0, 0, G_OPTION_ARG_NONE, &learn,
     "Learn from several recordings of the same scenario (TRACE is REC1 REC2 ...) what may "
     "differ in a replay, and write the first annotated to --output FILE (match=, rel=, "
     "poll=tolerant, opt=1; docs/replay-learn.md) instead of replaying",
     NULL},
    {NULL},
};

const GOptionEntry *rl_option_entries(void)
{
    return entries;
}

bool rl_wanted(void)
{
    return learn;
}

int rl_check_args(int argc, const char *output, bool other_mode)
{
    const char *why = argc < 3     ? "--learn needs at least two recordings"
                      : !output    ? "--learn needs --output FILE for the annotated recording"
                      : other_mode ? "--learn runs no guest: no --scenario, --fuzz or --regs"
                                   : NULL;
    if (why) {
        fprintf(stderr, "hvmmio replay: %s (see --help)\n", why);
        return 2;
    }
    return 0;
}

int rl_main(int n, char **paths, const char *output, const char *device)
{
    g_autoptr(GError) err = NULL;
    struct rl_summary s;

    if (rl_learn(n, paths, output, device, &s, &err) < 0) {
        fprintf(stderr, "hvmmio replay: %s\n", err->message);
        rl_summary_clear(&s);
        return 1;
    }
    print_summary(&s, n, paths, output);
    rl_summary_clear(&s);
    return 0;
}
