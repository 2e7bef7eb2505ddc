/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace benchmark: write and parse multi-million-record R/W traces (kernel-compatible
 * and extended), one thread; `wc -l` on the same file as the reference; and the reader's peak
 * RSS on a file and on one ten times larger (each parsed in a fresh process).
 *
 * Usage: bench [-n RECORDS] [-d DIR] [-k]   (-k keeps the generated files)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmiotrace.h"

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A plausible driver's access pattern: 4-byte R/W to a 128 KiB BAR, ~1.3 us apart. */
static void make_record(struct mmiotrace_record *r, uint64_t i, bool extended)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ull;
    uint32_t off = (x >> 40) & 0x1fffc;

    r->type = (x >> 20) & 1 ? MMIOTRACE_READ : MMIOTRACE_WRITE;
    r->ts_ns = 2849603000ull + i * 1337;
    r->rw.width = 4;
    r->rw.map_id = 1;
    r->rw.phys = 0xfeba0000 + off;
    r->rw.value = (x >> 8) & 0xffffffff;
    r->rw.pc = 0;
    r->ext = 0;
    if (extended) {
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_BAR;
        r->vcpu = 0;
        r->dev = "e1000e";
        r->dev_len = 6;
        r->bar = 0;
        r->bar_off = off;
    }
}

struct result {
    uint64_t records, bytes;
    double format_s, write_s, write_cpu_s, parse_s, parse_cpu_s, wc_s;
};

static int write_file(const char *path, uint64_t n, bool extended, struct result *res)
{
    struct mmiotrace_record r;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0) {
        perror(path);
        return -1;
    }
    memset(&r, 0, sizeof(r));
    struct mmiotrace_writer *w =
        mmiotrace_writer_new_fd(fd, extended ? MMIOTRACE_FMT_EXTENDED : MMIOTRACE_FMT_KERNEL);
    double t0 = now(), c0 = cpu_now();
    for (uint64_t i = 0; i < n; i++) {
        make_record(&r, i, extended);
        if (mmiotrace_writer_write(w, &r) < 0) {
            perror("write");
            return -1;
        }
    }
    res->bytes = mmiotrace_writer_bytes(w);
    if (mmiotrace_writer_free(w) < 0) {
        perror("flush");
        return -1;
    }
    res->write_s = now() - t0;
    res->write_cpu_s = cpu_now() - c0;
    close(fd);

    /* formatting alone, into a caller buffer (what QEMU's writer thread does) */
    static char buf[MMIOTRACE_FORMAT_MAX];
    uint64_t sum = 0;
    t0 = now();
    for (uint64_t i = 0; i < n; i++) {
        make_record(&r, i, extended);
        sum += mmiotrace_format(buf, sizeof(buf), &r, extended);
    }
    res->format_s = now() - t0;
    if (sum != res->bytes) {
        fprintf(stderr, "format-only produced %" PRIu64 " bytes, the writer %" PRIu64 "\n", sum,
                res->bytes);
        return -1;
    }
    return 0;
}

static int parse_file(const char *path, uint64_t *records)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    struct mmiotrace_record rec;
    uint64_t n = 0, check = 0;
    int got;

    if (!r) {
        perror(path);
        return -1;
    }
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        n++;
        check += rec.rw.value;
    }
    if (got < 0) {
        fprintf(stderr, "%s\n", mmiotrace_reader_error(r));
        mmiotrace_reader_free(r);
        return -1;
    }
    mmiotrace_reader_free(r);
    *records = n + (check & 0); /* keep the loop honest */
    return 0;
}

static double run_wc(const char *path)
{
    char *argv[] = {"wc", "-l", (char *)path, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = now();
    if (posix_spawnp(&pid, "wc", &fa, NULL, argv, environ)) {
        return -1;
    }
    waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    return now() - t0;
}

/* Peak RSS (KiB) of a fresh process that parses path: this program with --parse-rss. */
static long child_peak_rss(const char *self, const char *path)
{
    char *argv[] = {(char *)self, "--parse-rss", (char *)path, NULL};
    int pfd[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    char buf[64] = "";

    if (pipe(pfd) < 0) {
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ)) {
        return -1;
    }
    close(pfd[1]);
    ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
    close(pfd[0]);
    waitpid(pid, NULL, 0);
    posix_spawn_file_actions_destroy(&fa);
    return n > 0 ? atol(buf) : -1;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmHWM:", 6)) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

/* One mode (0 kernel, 1 extended): write, parse, wc -l; its row of the table.
 * -1: fatal; 1: the records parsed are not the records written; 0. */
static int bench_mode(int m, uint64_t n, const char *path)
{
    static const char *const modes[2] = {"kernel", "extended"};
    struct result res = {0};
    int ret = 0;
    if (write_file(path, n, m, &res) < 0) {
        return -1;
    }
    /* parse twice and keep the better run (the first may still be settling the cache) */
    double best = 1e9;
    for (int k = 0; k < 2; k++) {
        double t0 = now();
        if (parse_file(path, &res.records) < 0) {
            return -1;
        }
        double t = now() - t0;
        best = t < best ? t : best;
    }
    res.parse_s = best;
    if (res.records != n) {
        fprintf(stderr, "parsed %" PRIu64 " records, wrote %" PRIu64 "\n", res.records, n);
        ret = 1;
    }
    double wc1 = run_wc(path), wc2 = run_wc(path);
    res.wc_s = wc1 < wc2 ? wc1 : wc2;
    double mb = res.bytes / 1e6;
    printf("%-9s %9" PRIu64 " %10.1f | %12.0f %9.1f %12.0f | %12.0f %9.1f | %7.3f %7.1fx\n",
           modes[m], n, mb, n / res.write_s, mb / res.write_s, n / res.format_s, n / res.parse_s,
           mb / res.parse_s, res.wc_s, res.parse_s / res.wc_s);
    return ret;
}

/* Memory: small (n / 10 records, written here) and big (n), each parsed by a fresh process.
 * -1: fatal; 1: not flat; 0. */
static int bench_memory(const char *self, const char *small, const char *big, uint64_t n)
{
    struct result sres;
    if (write_file(small, n / 10, true, &sres) < 0) {
        return -1;
    }
    struct stat st_small, st_big;
    stat(small, &st_small);
    stat(big, &st_big);
    long rss_small = child_peak_rss(self, small), rss_big = child_peak_rss(self, big);
    printf("peak RSS of a process parsing a file (VmHWM):\n");
    printf("  %9.1f MB file (%" PRIu64 " records): %6ld KiB\n", st_small.st_size / 1e6, n / 10,
           rss_small);
    printf("  %9.1f MB file (%" PRIu64 " records): %6ld KiB\n", st_big.st_size / 1e6, n, rss_big);
    if (rss_small <= 0 || rss_big <= 0 || rss_big > rss_small + 1024) {
        printf("  memory is NOT flat\n");
        return 1;
    }
    printf("  flat: the larger file needs %+ld KiB\n", rss_big - rss_small);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = 5000000;
    const char *dir = NULL;
    bool keep = false;
    int opt;

    if (argc == 3 && !strcmp(argv[1], "--parse-rss")) {
        uint64_t recs;
        if (parse_file(argv[2], &recs) < 0) {
            return 1;
        }
        printf("%ld\n", vm_hwm_kib());
        return 0;
    }
    while ((opt = getopt(argc, argv, "n:d:k")) != -1) {
        switch (opt) {
        case 'n':
            n = strtoull(optarg, NULL, 0);
            break;
        case 'd':
            dir = optarg;
            break;
        case 'k':
            keep = true;
            break;
        default:
            fprintf(stderr, "usage: %s [-n RECORDS] [-d DIR] [-k]\n", argv[0]);
            return 2;
        }
    }
    if (!dir) {
        dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl < 0) {
        perror("readlink");
        return 1;
    }
    self[sl] = '\0';

    printf("libmmiotrace benchmark: %" PRIu64 " R/W records per file, one thread, files in %s\n\n",
           n, dir);
    printf("%-9s %9s %10s | %12s %9s %12s | %12s %9s | %7s %8s\n", "mode", "records", "MB",
           "write rec/s", "MB/s", "format rec/s", "parse rec/s", "MB/s", "wc -l s", "parse/wc");
    const char *modes[2] = {"kernel", "extended"};
    char paths[2][4096];
    int ret = 0;
    for (int m = 0; m < 2; m++) {
        snprintf(paths[m], sizeof(paths[m]), "%s/hvmmio-bench-%d-%s.mmiotrace", dir, (int)getpid(),
                 modes[m]);
        int r = bench_mode(m, n, paths[m]);
        if (r < 0) {
            return 1;
        }
        ret |= r;
    }
    printf(
        "\n(write = format + buffered write(2) to the file; format = into a caller buffer only;\n"
        " parse = mmiotrace_reader_next over the whole file; parse/wc = parse time / wc -l "
        "time)\n\n");

    char small[4096];
    snprintf(small, sizeof(small), "%s/hvmmio-bench-%d-small.mmiotrace", dir, (int)getpid());
    int r = bench_memory(self, small, paths[1], n);
    if (r < 0) {
        return 1;
    }
    ret |= r;
    if (!keep) {
        unlink(paths[0]);
        unlink(paths[1]);
        unlink(small);
    }
    return ret;
}
