/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scale test of `hvmmio compare`: generate a guest/host pair of N accesses on the fly (two
 * writer processes through FIFOs, with libmmiotrace's writer: nothing is stored on disk), run
 * compare on it and report its CPU time, records/s and peak RSS (getrusage of the child).
 *
 * The pair: the host starts earlier and ends later than the guest (tracer off), has accesses
 * outside the guest's mapping and accesses by QEMU itself (vcpu=none); every 10000th guest access
 * is an UNKNOWN rep movsl whose host run is 8 writes with one PC. compare must PASS.
 *
 * Usage: compare-scale HVMMIO N [MAX_RSS_MB]   (exit 1 if compare fails or RSS > MAX_RSS_MB)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmiotrace.h"

#define BASE 0xfe000000ull
#define PRE 1000 /* host accesses before the guest log starts and after it ends */

static void put(struct mmiotrace_writer *w, const struct mmiotrace_record *r)
{
    if (mmiotrace_writer_write(w, r) < 0) {
        _exit(errno == EPIPE ? 0 : 3);
    }
}

static void rw(struct mmiotrace_record *r, bool host, uint64_t i, enum mmiotrace_type t,
               uint64_t phys, uint64_t value, uint64_t pc)
{
    mmiotrace_record_init(r, t);
    r->ts_ns = 1000000000ull + i * 1000;
    r->rw.width = 4;
    r->rw.map_id = 1;
    r->rw.phys = phys;
    r->rw.value = value;
    if (host) {
        r->rw.pc = pc;
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU;
        r->vcpu = 0;
    }
}

/* One log: host = true writes the host's view of the same run. */
static void generate(const char *path, bool host, uint64_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        perror(path);
        _exit(3);
    }
    struct mmiotrace_writer *w =
        mmiotrace_writer_new_fd(fd, host ? MMIOTRACE_FMT_EXTENDED : MMIOTRACE_FMT_KERNEL);
    struct mmiotrace_record r;

    mmiotrace_record_init(&r, MMIOTRACE_MAP);
    r.map.map_id = 1;
    r.map.phys = BASE;
    r.map.len = 0x20000;
    r.map.virt = host ? 0 : 0xffffc90000000000ull;
    put(w, &r);
    if (host) {
        for (uint64_t i = 0; i < PRE; i++) { /* firmware and PCI probing */
            rw(&r, true, i, MMIOTRACE_READ, BASE + 8, i, 0xfff0);
            put(w, &r);
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = i * 0x9e3779b97f4a7c15ull;
        uint64_t pc = 0xffffffff81000000ull + ((x >> 30) & 0xfff0);
        if (i % 10000 == 9999) {
            uint64_t p = BASE + 0x1000 + ((x >> 40) & 0xf00);
            if (host) {
                for (int k = 0; k < 8; k++) {
                    rw(&r, true, i, MMIOTRACE_WRITE, p + 4 * k, k, 0xffffffff81234567ull);
                    put(w, &r);
                }
            } else {
                mmiotrace_record_init(&r, MMIOTRACE_UNKNOWN);
                r.ts_ns = 1000000000ull + i * 1000;
                r.unknown.map_id = 1;
                r.unknown.phys = p;
                r.unknown.opcode[0] = 0xf3;
                r.unknown.opcode[1] = 0xa5;
                put(w, &r);
            }
            continue;
        }
        if (host && i % 1000 == 500) { /* a user-space mmap of another BAR; QEMU itself */
            rw(&r, true, i, MMIOTRACE_READ, BASE + 0x40000, i, pc);
            put(w, &r);
            rw(&r, true, i, MMIOTRACE_WRITE, BASE + 0x10, i, 0);
            r.vcpu = MMIOTRACE_VCPU_NONE;
            put(w, &r);
        }
        rw(&r, host, i, (x >> 20) & 1 ? MMIOTRACE_READ : MMIOTRACE_WRITE,
           BASE + ((x >> 40) & 0xfffc), (x >> 8) & 0xffffffff, pc);
        put(w, &r);
    }
    if (host) {
        for (uint64_t i = 0; i < PRE; i++) { /* the watchdog after the guest tracer stopped */
            rw(&r, true, n + i, MMIOTRACE_READ, BASE + 8, i, 0xffffffff81000100ull);
            put(w, &r);
        }
    }
    if (mmiotrace_writer_free(w) < 0) {
        _exit(3);
    }
    close(fd);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HVMMIO N [MAX_RSS_MB]\n", argv[0]);
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 0);
    long max_mb = argc > 3 ? atol(argv[3]) : 0;
    char dir[] = "/tmp/compare-scale.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char g[64], h[64];
    snprintf(g, sizeof(g), "%s/guest", dir);
    snprintf(h, sizeof(h), "%s/host", dir);
    if (mkfifo(g, 0600) < 0 || mkfifo(h, 0600) < 0) {
        perror("mkfifo");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pg = fork();
    if (pg == 0) {
        generate(g, false, n);
    }
    pid_t ph = fork();
    if (ph == 0) {
        generate(h, true, n);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pc = fork();
    if (pc == 0) {
        if (!getenv("COMPARE_SCALE_SHOW")) { /* set it to see compare's output */
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
        }
        execl(argv[1], argv[1], "compare", g, h, (char *)NULL);
        perror(argv[1]);
        _exit(2);
    }
    int status;
    struct rusage ru;
    if (wait4(pc, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int sg, sh;
    waitpid(pg, &sg, 0);
    waitpid(ph, &sh, 0);
    unlink(g);
    unlink(h);
    rmdir(dir);

    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    double wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t guest_records = n + 1, host_records = n + n / 1000 * 2 + n / 10000 * 7 + 2 * PRE + 1;
    long rss_mb = ru.ru_maxrss / 1024;
    printf("compare %" PRIu64 " guest + %" PRIu64 " host records: %.2f s CPU (%.2f s wall), "
           "%.2f M records/s (guest+host, per CPU second), peak RSS %ld MB\n",
           guest_records, host_records, cpu, wall, (guest_records + host_records) / cpu / 1e6,
           rss_mb);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code != 0) {
        printf("FAIL: compare exited with status %d (expected 0: the generated pair agrees)\n", code);
        return 1;
    }
    if (max_mb && rss_mb >= max_mb) {
        printf("FAIL: peak RSS %ld MB >= %ld MB\n", rss_mb, max_mb);
        return 1;
    }
    return 0;
}
