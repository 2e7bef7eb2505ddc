/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: the tools' throughput. hvmmio stat and hvmmio compare, each a process of its
 * own (for its CPU time and peak RSS), read generated traces (trace-gen.c) streamed through
 * FIFOs.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "bench.h"
#include "trace-gen.h"

struct tool_result {
    double cpu, wall, mrec_per_s;
    long rss_mb;
    int status;
    uint64_t records;
};

static gboolean run_tool(const char *tool, uint64_t n, struct tool_result *res)
{
    char dir[] = "/tmp/hvmmio-bench-tool.XXXXXX";
    if (!mkdtemp(dir)) {
        return FALSE;
    }
    g_autofree char *g = g_build_filename(dir, "guest", NULL);
    g_autofree char *h = g_build_filename(dir, "host", NULL);
    if (mkfifo(g, 0600) < 0 || mkfifo(h, 0600) < 0) {
        return FALSE;
    }
    gboolean cmp = !strcmp(tool, "compare");
    g_autofree char *self = bench_self_exe();
    fflush(NULL);
    pid_t pg = -1, ph;
    if (cmp && (pg = fork()) == 0) {
        trace_gen_write(g, false, n, false);
    }
    if ((ph = fork()) == 0) {
        trace_gen_write(h, true, n, false);
    }
    double t0 = bench_now();
    pid_t pc = fork();
    if (pc == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (cmp) {
            execl(self, self, "compare", g, h, (char *)NULL);
        } else {
            execl(self, self, "stat", h, (char *)NULL);
        }
        _exit(2);
    }
    int status, s;
    struct rusage ru;
    if (wait4(pc, &status, 0, &ru) < 0) {
        return FALSE;
    }
    res->wall = bench_now() - t0;
    if (pg > 0) {
        waitpid(pg, &s, 0);
    }
    waitpid(ph, &s, 0);
    g_unlink(g);
    g_unlink(h);
    g_rmdir(dir);
    res->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
    res->records = (n + 1) * (cmp ? 2 : 1);
    res->mrec_per_s = res->records / res->cpu / 1e6;
    res->rss_mb = ru.ru_maxrss / 1024;
    res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return TRUE;
}

static json_object *tool_json(const char *tool, uint64_t n, const struct tool_result *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tool", json_object_new_string(tool));
    json_object_object_add(o, "accesses", json_object_new_uint64(n));
    json_object_object_add(o, "records_read", json_object_new_uint64(r->records));
    json_object_object_add(o, "cpu_s", json_object_new_double(r->cpu));
    json_object_object_add(o, "wall_s", json_object_new_double(r->wall));
    json_object_object_add(o, "records_per_cpu_s", json_object_new_double(r->mrec_per_s * 1e6));
    json_object_object_add(o, "peak_rss_mb", json_object_new_int64(r->rss_mb));
    return o;
}

/* hvmmio stat, then hvmmio compare, on each of --tool-sizes records. */
void bench_run_tools(struct bench *B)
{
    if (!B->P.tools) {
        return;
    }
    g_auto(GStrv) sizes = g_strsplit(B->P.tool_sizes, ",", -1);
    for (char **s = sizes; *s; s++) {
        uint64_t n = g_ascii_strtoull(*s, NULL, 10);
        for (int t = 0; t < 2 && n; t++) {
            const char *tool = t ? "compare" : "stat";
            struct tool_result r = {0};
            fprintf(stderr, "[%5.0f s] hvmmio %s on %" PRIu64 " records ... ",
                    bench_now() - B->t_start, tool, n);
            if (!run_tool(tool, n, &r) || r.status) {
                fprintf(stderr, "FAILED (status %d)\n", r.status);
                B->failures++;
                continue;
            }
            fprintf(stderr, "%.2f M records/s, %ld MB\n", r.mrec_per_s, r.rss_mb);
            json_object_array_add(B->tools, tool_json(tool, n, &r));
        }
    }
}
