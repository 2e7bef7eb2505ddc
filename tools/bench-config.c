/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: the configurations (docs/benchmarks.md) and their boots. a-g alternate within
 * each repetition, one boot each, and give the guest-timed ns per access of each device; h
 * boots twice (drop and lossless mode under a burst larger than the ring) and checks that the
 * losses add up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "bench.h"

const char *const bench_dev_key[DEV_COUNT] = {"emu", "vfio", "bar2"};
const char *const bench_dev_label[DEV_COUNT] = {
    "e1000e BAR0 (emulated)", "testdev BAR0 (vfio-user)", "testdev BAR2 page 0 (mmap)"};

const struct config bench_configs[NCONFIGS] = {
    {'a', "untraced (bare trap)", "", "", FALSE, FALSE, TRUE, TRUE, TRUE},
    {'b', "hvmmio, kernel-compatible lines",
     "mmiotrace=on,mmiotrace-compat=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-compat=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'c', "hvmmio with PC", "mmiotrace=on,mmiotrace-pc=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-pc=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'d', "hvmmio with PC and instruction", "mmiotrace=on,mmiotrace-insn=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-insn=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'e', "stock QEMU -trace memory_region_ops_*", "", "", FALSE, TRUE, FALSE, TRUE, TRUE},
    {'f', "guest's own mmiotrace", "", "", TRUE, FALSE, FALSE, TRUE, TRUE},
    /* g's reference: the same page with tracing off entirely, in a boot of its own (run with g) */
    {'G', "BAR2 page, tracing off entirely", NULL, "", FALSE, FALSE, TRUE, FALSE, FALSE},
    {'g', "untraced page, BAR2 page 1 trapped", NULL,
     "mmiotrace=on,mmiotrace-ranges=2:0x1000+0x1000,mmiotrace-file=vfio.txt", FALSE, FALSE, TRUE,
     FALSE, FALSE},
};
G_STATIC_ASSERT(G_N_ELEMENTS(bench_configs) == NCONFIGS);

int bench_cfg_index(char id)
{
    for (unsigned i = 0; i < NCONFIGS; i++) {
        if (bench_configs[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

static void add_sample(GArray **a, double v)
{
    if (!*a) {
        *a = g_array_new(FALSE, FALSE, sizeof(double));
    }
    g_array_append_val(*a, v);
}

/* The bench scenario's arguments for a configuration: the devices to time and how often. */
static char *config_args(const struct params *P, const struct config *cf)
{
    uint64_t ne = cf->stock ? P->n_stock[0] : cf->gtrace ? P->n_gtrace[0] : P->n[DEV_EMU];
    uint64_t nv = cf->stock ? P->n_stock[1] : cf->gtrace ? P->n_gtrace[1] : P->n[DEV_VFIO];
    GString *args = g_string_new(cf->gtrace ? "gtrace," : "");
    if (cf->emu) {
        g_string_append_printf(args, "emu:%" PRIu64 ",", ne);
    }
    if (cf->vfio) {
        g_string_append_printf(args, "vfio:%" PRIu64 ",", nv);
    }
    for (int k = 0; cf->bar2 && k < BAR2_LOADS; k++) {
        g_string_append_printf(args, "bar2:%" PRIu64 ",", P->n[DEV_BAR2]);
    }
    g_string_truncate(args, args->len - 1);
    return g_string_free(args, FALSE);
}

/* The traces of a-e are large and checked elsewhere: keep their sizes only. */
static void keep_sizes(const char *dir, const struct config *cf)
{
    if (cf->stock) {
        goffset sz = bench_file_size(dir, "qemu-trace.log");
        g_autofree char *sp = g_build_filename(dir, "qemu-trace.size", NULL);
        g_autofree char *szs = g_strdup_printf("%" G_GOFFSET_FORMAT "\n", sz);
        g_file_set_contents(sp, szs, -1, NULL);
        bench_remove_file(dir, "qemu-trace.log"); /* hundreds of MB */
    }
    for (int i = 0; i < 2; i++) {
        const char *names[] = {"emu.txt", "vfio.txt"};
        goffset sz = bench_file_size(dir, names[i]);
        if (sz > 0) {
            g_autofree char *sp = g_strdup_printf("%s/%s.size", dir, names[i]);
            g_autofree char *szs = g_strdup_printf("%" G_GOFFSET_FORMAT "\n", sz);
            g_file_set_contents(sp, szs, -1, NULL);
            bench_remove_file(dir, names[i]);
        }
    }
}

/* One boot of configuration c: its samples, its boot time. */
static void run_config(struct bench *B, unsigned c, int rep)
{
    const struct config *cf = &bench_configs[c];
    g_autofree char *args = config_args(&B->P, cf);
    const char *stock[] = {"-trace", "memory_region_ops_*", "-D", "qemu-trace.log", NULL};
    g_autofree char *dir = g_strdup_printf("%s/%c%d", B->outdir, cf->id, rep + 1);
    struct boot_spec spec = {
        .emu_props = cf->emu ? cf->emu_props : NULL,
        .vfio_props = cf->vfio_props,
        .args = args,
        .qemu_extra = cf->stock ? stock : NULL,
    };
    struct boot b = {0};
    fprintf(stderr, "[%5.0f s] %c rep %d: %s ... ", bench_now() - B->t_start, cf->id, rep + 1,
            cf->name);
    if (!bench_boot(B, dir, &spec, &b)) {
        B->failures++;
        return;
    }
    struct meas m[DEV_COUNT];
    bench_parse_results(dir, m);
    for (int d = 0; d < DEV_COUNT; d++) {
        if (m[d].have) {
            /* the BAR2 page: every module load is a sample */
            for (int k = 0; k < m[d].loads; k++) {
                add_sample(&B->samples[c][d][0], m[d].load_ns[0][k]);
                add_sample(&B->samples[c][d][1], m[d].load_ns[1][k]);
            }
            fprintf(stderr, "%s %.0f/%.0f ns  ", bench_dev_key[d], m[d].read_ns, m[d].write_ns);
        }
    }
    add_sample(&B->walls[c], b.wall);
    fprintf(stderr, "(boot %.1f s)\n", b.wall);
    keep_sizes(dir, cf);
}

/* a-g, alternating within each repetition (G runs with g) */
void bench_run_configs(struct bench *B)
{
    for (int rep = 0; rep < B->P.reps; rep++) {
        for (unsigned c = 0; c < NCONFIGS; c++) {
            const struct config *cf = &bench_configs[c];
            if (strchr(B->only, cf->id == 'G' ? 'g' : cf->id)) {
                run_config(B, c, rep);
            }
        }
    }
}

/* h: what one drop or lossless boot counted. */
struct loss {
    unsigned ring;
    uint64_t acc, rw, lost, markers, q_dropped, q_records;
    gboolean exact;
};

/* query-mmiotrace's dropped and records of nic0: FALSE if it has no dropped count. */
static gboolean query_counts(json_object *query, struct loss *l)
{
    gboolean have_q = FALSE;
    if (!query || !json_object_is_type(query, json_type_array)) {
        return FALSE;
    }
    for (size_t i = 0; i < json_object_array_length(query); i++) {
        json_object *d = json_object_array_get_idx(query, i), *v;
        if (json_object_object_get_ex(d, "device", &v) &&
            !strcmp(json_object_get_string(v), "nic0")) {
            if (json_object_object_get_ex(d, "dropped", &v)) {
                l->q_dropped = json_object_get_uint64(v);
                have_q = TRUE;
            }
            if (json_object_object_get_ex(d, "records", &v)) {
                l->q_records = json_object_get_uint64(v);
            }
        }
    }
    return have_q;
}

static json_object *loss_json(const struct loss *l, const struct meas *m, double wall)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ring", json_object_new_int(l->ring));
    json_object_object_add(o, "accesses", json_object_new_uint64(l->acc));
    json_object_object_add(o, "records_in_file", json_object_new_uint64(l->rw));
    json_object_object_add(o, "lost_markers", json_object_new_uint64(l->markers));
    json_object_object_add(o, "lost_in_markers", json_object_new_uint64(l->lost));
    json_object_object_add(o, "query_dropped", json_object_new_uint64(l->q_dropped));
    json_object_object_add(o, "query_records", json_object_new_uint64(l->q_records));
    json_object_object_add(o, "read_ns", json_object_new_double(m->read_ns));
    json_object_object_add(o, "write_ns", json_object_new_double(m->write_ns));
    json_object_object_add(o, "boot_s", json_object_new_double(wall));
    json_object_object_add(o, "exact", json_object_new_boolean(l->exact));
    return o;
}

/* One h boot: the trace's records and Lost markers against the accesses and QMP's count. */
static void loss_run(struct bench *B, int lossless)
{
    struct loss l = {.ring = lossless ? B->P.lossless_ring : B->P.drop_ring};
    g_autofree char *props =
        g_strdup_printf("id=nic0,mmiotrace=on,mmiotrace-compat=on,mmiotrace-mode=%s,"
                        "mmiotrace-ring=%u,mmiotrace-file=emu.txt",
                        lossless ? "lossless" : "drop", l.ring);
    g_autofree char *args = g_strdup_printf("emu:%" PRIu64 ",hold:4", B->P.burst);
    g_autofree char *dir = g_strdup_printf("%s/h-%s", B->outdir, lossless ? "lossless" : "drop");
    struct boot_spec spec = {.emu_props = props, .args = args, .qmp_query = TRUE};
    struct boot b = {0};
    fprintf(stderr, "[%5.0f s] h: %s mode, ring %u, %" PRIu64 " reads + writes ... ",
            bench_now() - B->t_start, lossless ? "lossless" : "drop", l.ring, B->P.burst);
    gboolean ok = bench_boot(B, dir, &spec, &b);
    struct meas m[DEV_COUNT];
    bench_parse_results(dir, m);
    g_autofree char *tpath = g_build_filename(dir, "emu.txt", NULL);
    gboolean counted = ok && bench_count_trace(tpath, &l.rw, &l.lost, &l.markers);
    if (b.query) {
        g_autofree char *qp = g_build_filename(dir, "query-mmiotrace.json", NULL);
        json_object_to_file_ext(qp, b.query, JSON_C_TO_STRING_PRETTY);
    } else {
        fprintf(stderr, "(no query-mmiotrace answer) ");
    }
    gboolean have_q = query_counts(b.query, &l);
    l.acc = m[DEV_EMU].accesses;
    l.exact = counted && have_q && m[DEV_EMU].have && l.lost == l.q_dropped &&
              l.rw + l.lost == l.acc && (!lossless || (l.lost == 0 && l.rw == l.acc));
    if (!l.exact) {
        B->failures++;
    }
    fprintf(stderr, "%s\n", l.exact ? "exact" : "MISMATCH");
    json_object_object_add(B->loss, lossless ? "lossless" : "drop",
                           loss_json(&l, &m[DEV_EMU], b.wall));
    if (b.query) {
        json_object_put(b.query);
    }
    goffset sz = bench_file_size(dir, "emu.txt");
    if (sz > 0) {
        bench_remove_file(dir, "emu.txt");
    }
}

/* h: drop mode under a burst larger than the ring; lossless at the same rate */
void bench_run_loss(struct bench *B)
{
    if (strchr(B->only, 'h')) {
        for (int lossless = 0; lossless < 2; lossless++) {
            loss_run(B, lossless);
        }
    }
}
