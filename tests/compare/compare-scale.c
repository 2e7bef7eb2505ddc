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
#include "trace-gen.h"

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
        trace_gen_write(g, false, n, true);
    }
    pid_t ph = fork();
    if (ph == 0) {
        trace_gen_write(h, true, n, true);
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
    uint64_t guest_records = n + 1,
             host_records = n + n / 1000 * 2 + n / 10000 * 7 + 2 * TRACE_GEN_PRE + 1;
    long rss_mb = ru.ru_maxrss / 1024;
    printf("compare %" PRIu64 " guest + %" PRIu64 " host records: %.2f s CPU (%.2f s wall), "
           "%.2f M records/s (guest+host, per CPU second), peak RSS %ld MB\n",
           guest_records, host_records, cpu, wall, (guest_records + host_records) / cpu / 1e6,
           rss_mb);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code != 0) {
        printf("FAIL: compare exited with status %d (expected 0: the generated pair agrees)\n",
               code);
        return 1;
    }
    if (max_mb && rss_mb >= max_mb) {
        printf("FAIL: peak RSS %ld MB >= %ld MB\n", rss_mb, max_mb);
        return 1;
    }
    return 0;
}
