/* SPDX-License-Identifier: GPL-2.0-or-later */
/* End-to-end tests of `hvmmio stat` and `hvmmio convert` (the built binary, $HVMMIO). */
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

static const char *hvmmio;
static char *tmpdir;
static char *fixture;

struct run {
    int status; /* exit status */
    char *out, *err;
};

static struct run run_argv(const char *input, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    struct run r = {0};

    g_ptr_array_add(argv, (char *)hvmmio);
    for (int i = 0; args[i]; i++) {
        g_ptr_array_add(argv, (char *)args[i]);
    }
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocess) p =
        g_subprocess_newv((const char *const *)argv->pdata,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          &error);
    g_assert_no_error(error);
    g_autoptr(GBytes) in = g_bytes_new(input ? input : "", input ? strlen(input) : 0);
    g_autoptr(GBytes) out = NULL, err = NULL;
    g_assert_true(g_subprocess_communicate(p, in, NULL, &out, &err, &error));
    g_assert_no_error(error);
    r.status = g_subprocess_get_exit_status(p);
    /* stdout may hold binary (compressed) data: keep it whole, NUL-terminated */
    gsize n;
    const void *d = g_bytes_get_data(out, &n);
    r.out = g_malloc0(n + 1);
    if (n) {
        memcpy(r.out, d, n);
    }
    d = g_bytes_get_data(err, &n);
    r.err = g_malloc0(n + 1);
    if (n) {
        memcpy(r.err, d, n);
    }
    g_ptr_array_free(argv, TRUE);
    return r;
}

#define RUN(input, ...) run_argv(input, (const char *const[]){__VA_ARGS__, NULL})

static void run_free(struct run *r)
{
    g_free(r->out);
    g_free(r->err);
}

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static char *write_tmp(const char *name, const char *content)
{
    char *p = tmp_path(name);
    g_assert_true(g_file_set_contents(p, content, -1, NULL));
    return p;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    g_assert_true(g_file_get_contents(path, &s, NULL, NULL));
    return s;
}

static void test_stat_fixture(void)
{
    struct run r = RUN(NULL, "stat", fixture);

    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "records: 6 (VERSION 1, PCIDEV 1, R 1, W 1, MAP 1, MARK 1)\n"));
    g_assert_nonnull(strstr(r.out, "lost events: none\n"));
    /* 2.766196 (MARK) .. 2.858352 (W) */
    g_assert_nonnull(strstr(r.out, "time: 2.766196 .. 2.858352 s (span 0.092156 s)"));
    /* the R at 0xfebf000c lies in the header's BAR3 (febf0000, size 4000) of 00:03.0 */
    g_assert_nonnull(strstr(r.out, "0000:00:03.0 8086:10d3"));
    g_assert_true(g_regex_match_simple("BAR3 +0xc +1 +0 +1 4\n", r.out, 0, 0));
    g_assert_true(g_regex_match_simple("BAR3 +0x0 +0 +1 +1 4\n", r.out, 0, 0));
    g_assert_cmpstr(r.err, ==, "");
    run_free(&r);
}

static void test_stat_json(void)
{
    struct run r = RUN(NULL, "stat", "--json", fixture, fixture);
    g_assert_cmpint(r.status, ==, 0);
    json_object *o = json_tokener_parse(r.out), *files, *f, *v, *total, *regs;
    g_assert_nonnull(o);
    g_assert_true(json_object_object_get_ex(o, "files", &files));
    g_assert_cmpint(json_object_array_length(files), ==, 2);
    f = json_object_array_get_idx(files, 0);
    g_assert_true(json_object_object_get_ex(f, "by_type", &v));
    g_assert_cmpint(json_object_get_int(json_object_object_get(v, "R")), ==, 1);
    g_assert_cmpint(json_object_get_int(json_object_object_get(v, "W")), ==, 1);
    g_assert_cmpint(json_object_get_int(json_object_object_get(v, "UNKNOWN")), ==, 0);
    g_assert_cmpint(json_object_get_int(json_object_object_get(f, "lost_events")), ==, 0);
    g_assert_true(json_object_object_get_ex(o, "total", &total));
    g_assert_cmpint(json_object_get_int(json_object_object_get(total, "accesses")), ==, 4);
    g_assert_true(json_object_object_get_ex(total, "registers", &regs));
    g_assert_cmpint(json_object_array_length(regs), ==, 2);
    json_object *reg = json_object_array_get_idx(regs, 0);
    /* both registers have 2 accesses in the total; ties sort by offset */
    g_assert_cmpstr(json_object_get_string(json_object_object_get(reg, "region")), ==, "BAR3");
    g_assert_cmpstr(json_object_get_string(json_object_object_get(reg, "offset")), ==, "0x0");
    g_assert_cmpint(json_object_get_int(json_object_object_get(reg, "writes")), ==, 2);
    g_assert_cmpint(json_object_get_int(json_object_object_get(reg, "distinct_values")), ==, 1);
    json_object_put(o);
    run_free(&r);
}

static void test_stat_malformed(void)
{
    GString *s = g_string_new("VERSION 20070824\n");
    for (int i = 0; i < 7; i++) {
        g_string_append(s, "R 3 1.0 1 0x10 0x1 0x0 0\nW 4 1.5 1 0x10 0x1 0x0 0\n");
    }
    g_autofree char *bad = write_tmp("bad.txt", s->str);
    g_string_free(s, TRUE);

    struct run r = RUN(NULL, "stat", bad);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *w1 =
        g_strdup_printf("%s:2: R record: width 3 is not 1, 2, 4 or 8 (line skipped)", bad);
    g_autofree char *w5 = g_strdup_printf("%s:10: R record: width 3", bad);
    g_autofree char *w6 = g_strdup_printf("%s:12: R record", bad);
    g_assert_nonnull(strstr(r.err, w1));
    g_assert_nonnull(strstr(r.err, w5));
    g_assert_null(strstr(r.err, w6)); /* only the first five are named */
    g_assert_nonnull(strstr(r.err, "2 more malformed lines skipped"));
    g_assert_nonnull(strstr(r.out, "malformed lines skipped: 7\n"));
    g_assert_nonnull(strstr(r.out, "records: 8 (VERSION 1, W 7)"));
    run_free(&r);

    r = RUN(NULL, "stat", "--strict", bad);
    g_assert_cmpint(r.status, ==, 1);
    g_autofree char *e =
        g_strdup_printf("hvmmio stat: %s:2: R record: width 3 is not 1, 2, 4 or 8\n", bad);
    g_assert_nonnull(strstr(r.err, e));
    run_free(&r);
}

static void test_stat_lost_unknown(void)
{
    g_autofree char *p =
        write_tmp("lost.txt", "MAP 1.0 1 0xfeba0000 0xffffc90000000000 0x20000 0x0 0\n"
                              "R 4 1.1 1 0xfeba0008 0x80000000 0x0 0\n"
                              "R 4 1.2 1 0xfeba0008 0x80000001 0x0 0\n"
                              "R 4 1.3 1 0xfeba0008 0xffffffff80000001 0x0 0\n"
                              "R 2 1.4 1 0xfeba0008 0x1 0x0 0\n"
                              "MARK 0.000000 Lost 5 events.\n"
                              "UNKNOWN 1.5 1 0xfeba0100 0f,c7,0e 0x0 0\n"
                              "UNMAP 2.0 1 0x0 0\n");
    struct run r = RUN(NULL, "stat", "--top", "1", p);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(
        strstr(r.out, "LOST EVENTS: 5 events lost in 1 reports: the trace is incomplete\n"));
    g_assert_nonnull(strstr(
        r.out,
        "UNKNOWN: 1 accesses the guest kernel could not decode (no value): opcode 0f,c7,0e x1\n"));
    /* no header: the MAP gives the region; values are masked by width (movsx), so 3 distinct */
    g_assert_true(g_regex_match_simple("map 1 +0xfeba0000\\+0x20000 +reads 4 ", r.out, 0, 0));
    g_assert_true(g_regex_match_simple("map 1 +0x8 +4 +0 +3 2,4\n", r.out, 0, 0));
    g_assert_nonnull(strstr(r.out, "busiest registers (1 of 1)"));
    run_free(&r);
}

static void test_stat_dev_names(void)
{
    /* a header device named with dev= and accesses with and without dev= are one device */
    g_autofree char *p = write_tmp(
        "dev.txt", "PCIDEV 0018 808610d3 b feba0000 0 0 0 0 0 0 20000 0 0 0 0 0 0  dev=nic0\n"
                   "R 4 1.0 9 0xfeba0008 0x1 0x0 0\n"
                   "W 4 1.1 9 0xfeba0008 0x2 0x0 0 dev=nic0 bar=0 off=0x8\n");
    struct run r = RUN(NULL, "stat", p);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_regex_match_simple("devices:\n  nic0 +reads 1 +writes 1\n", r.out, 0, 0));
    g_assert_true(g_regex_match_simple("nic0 +BAR0 +0x8 +1 +1 +2 4\n", r.out, 0, 0));
    run_free(&r);
}

/* issue 18: DMA volume per device (bytes and records each way), IOMMU maps; text and JSON */
static const char dma_doc[] = "W 4 1.0 1 0xfeba0000 0x1 0x0 0 dev=nic0 bar=0 off=0x0\n"
                              "DMA 1.1 TO 0x1000 64 0x0 dev=nic0\n"
                              "DMA 1.2 TO 0x2000 4096 0x0 dev=nic0 data=00\n"
                              "DMA 1.3 FROM 0x3000 9 0xcbf43926 dev=nic0 data=313233343536373839\n"
                              "DMAMAP 1.4 MAP 0x100000 65536 ro=1 dev=vf0\n"
                              "DMAMAP 1.5 UNMAP 0x100000 65536 dev=vf0\n"
                              "DMA 1.6 FROM 0x4000 100 0x0\n";

static void test_stat_dma(void)
{
    g_autofree char *p = write_tmp("dma.txt", dma_doc);
    struct run r = RUN(NULL, "stat", p, p);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "DMA 4, DMAMAP 2"));
    /* the total of the two files: twice each figure */
    const char *total = strstr(r.out, "== total");
    g_assert_nonnull(total);
    g_assert_true(g_regex_match_simple(
        "\n  \\? +to 0 \\(0 bytes\\)  from 2 \\(200 bytes\\)\n"
        "  nic0 +to 4 \\(8320 bytes\\)  from 2 \\(18 bytes\\)\n"
        "  vf0 +to 0 \\(0 bytes\\)  from 0 \\(0 bytes\\)  iommu maps 2 unmaps 2\n",
        total, 0, 0));
    run_free(&r);
    r = RUN(NULL, "stat", "--json", p);
    g_assert_cmpint(r.status, ==, 0);
    json_object *o = json_tokener_parse(r.out), *files, *f, *dma, *nic, *x, *y;
    g_assert_true(json_object_object_get_ex(o, "files", &files));
    f = json_object_array_get_idx(files, 0);
    g_assert_true(json_object_object_get_ex(f, "dma", &dma));
    g_assert_cmpint(json_object_array_length(dma), ==, 3);
    nic = json_object_array_get_idx(dma, 1);
    g_assert_true(json_object_object_get_ex(nic, "to_device", &x));
    g_assert_true(json_object_object_get_ex(x, "bytes", &y));
    g_assert_cmpint(json_object_get_int64(y), ==, 4160);
    g_assert_true(json_object_object_get_ex(nic, "from_device", &x));
    g_assert_true(json_object_object_get_ex(x, "records", &y));
    g_assert_cmpint(json_object_get_int64(y), ==, 1);
    json_object_put(o);
    run_free(&r);
    /* convert passes them through; --kernel-compat drops them */
    g_autofree char *k = tmp_path("dma-kernel.txt");
    r = RUN(NULL, "convert", "--kernel-compat", p, k);
    g_assert_cmpint(r.status, ==, 0);
    g_autofree char *kt = slurp(k);
    g_assert_cmpstr(kt, ==, "W 4 1.000000 1 0xfeba0000 0x1 0x0 0\n");
    run_free(&r);
}

/* issue 18: compare ignores DMA and DMAMAP: the same result with a DMA record after every line */
static void test_compare_ignores_dma(void)
{
    const char *fixtures = g_getenv("FIXTURES");
    g_autofree char *guest = g_build_filename(fixtures, "compare-e1000e-guest-2.txt.gz", NULL);
    g_autofree char *host = g_build_filename(fixtures, "compare-e1000e-host-2.txt.gz", NULL);
    g_autofree char *cmd = g_strdup_printf("gzip -dc %s", host);
    g_autofree char *text = NULL;
    g_assert_true(g_spawn_command_line_sync(cmd, &text, NULL, NULL, NULL));
    GString *with = g_string_new(NULL);
    for (char *l = text, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        g_string_append_len(with, l, nl - l + 1);
        g_string_append(with, "DMA 9.0 FROM 0x1000 4 0x0 dev=nic0 data=00\n"
                              "DMAMAP 9.0 MAP 0x1000 4096 dev=nic0\n");
    }
    g_autofree char *host_dma = write_tmp("host-dma.txt", with->str);
    g_string_free(with, TRUE);
    struct run a = RUN(NULL, "compare", guest, host);
    struct run b = RUN(NULL, "compare", guest, host_dma);
    g_assert_cmpint(a.status, ==, 0);
    g_assert_cmpint(b.status, ==, 0);
    g_assert_nonnull(strstr(b.out, "RESULT: PASS"));
    /* the same figures: all but the first line (the file names) and the start's host line */
    g_autoptr(GRegex) drop = g_regex_new("^(hvmmio compare: .*|  host R/W before the start.*)\n",
                                         G_REGEX_MULTILINE, 0, NULL);
    g_autofree char *sa = g_regex_replace_literal(drop, a.out, -1, 0, "", 0, NULL);
    g_autofree char *sb = g_regex_replace_literal(drop, b.out, -1, 0, "", 0, NULL);
    g_assert_nonnull(strstr(sa, "guest R/W matched            3568 / 3568"));
    g_assert_cmpstr(sa, ==, sb);
    run_free(&a);
    run_free(&b);
}

static void test_stat_usage(void)
{
    struct run r = RUN(NULL, "stat", "--help");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "Usage:"));
    g_assert_nonnull(strstr(r.out, "--top"));
    run_free(&r);
    r = RUN(NULL, "stat");
    g_assert_cmpint(r.status, ==, 2);
    run_free(&r);
    r = RUN(NULL, "stat", "--bogus", fixture);
    g_assert_cmpint(r.status, ==, 2);
    run_free(&r);
    r = RUN(NULL, "stat", "/nonexistent/x.txt");
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "/nonexistent/x.txt: No such file or directory"));
    run_free(&r);
}

static void assert_magic(const char *path, const char *magic, size_t n)
{
    g_autofree char *s = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &s, &len, NULL));
    g_assert_cmpuint(len, >=, n);
    g_assert_true(!memcmp(s, magic, n));
}

static void test_convert_chain(void)
{
    g_autofree char *a = tmp_path("a.mmiotrace.gz"), *b = tmp_path("b.jsonl.zst"),
                    *c = tmp_path("c.jsonl"), *d = tmp_path("d.mmiotrace.xz"),
                    *e = tmp_path("e.mmiotrace");
    const char *steps[][2] = {{fixture, a}, {a, b}, {b, c}, {c, d}, {d, e}};
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        struct run r = RUN(NULL, "convert", steps[i][0], steps[i][1]);
        g_assert_cmpstr(r.err, ==, "");
        g_assert_cmpint(r.status, ==, 0);
        run_free(&r);
    }
    assert_magic(a, "\x1f\x8b", 2);
    assert_magic(b, "\x28\xb5\x2f\xfd", 4);
    assert_magic(c, "{\"type\":\"VERSION\",\"version\":\"20070824\"}\n", 40);
    assert_magic(d,
                 "\xfd"
                 "7zXZ",
                 5);
    g_autofree char *want = slurp(fixture), *got = slurp(e);
    g_assert_cmpstr(got, ==, want);
}

static const char ext_doc[] = "VERSION 20070824\n"
                              "PCICFG 0.000001 0018 8680d310\n"
                              "R 4 2.854035 1 0xfeba000c 0x1 0x0 0 ns=2854035123 vcpu=0 dev=nic0\n"
                              "IRQ 2.858501 MSI 0 0xfee01004 0x4021\n"
                              "MARKX 2.9 vcpu=none text=\"host mark\"\n"
                              "LOST 3.5 7 dev=nic0\n";

/* --kernel-compat: a newline in a MARK's text cannot start a line that reads as a record */
static void test_convert_kernel_mark(void)
{
    struct run r =
        RUN("VERSION 20070824\n"
            "MARKX 1.0 text=\"hi\\nW 4 1.0 1 0xfe000000 0x1 0x0 0\\rR 4 1 1 0x1 0x1 0x0 0\"\n"
            "W 4 1.000001 1 0xfe000000 0x2 0x0 0\n",
            "convert", "--kernel-compat", "-", "-");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==,
                    "VERSION 20070824\n"
                    "MARK 1.000000 hi\\nW 4 1.0 1 0xfe000000 0x1 0x0 0\\rR 4 1 1 0x1 0x1 0x0 0\n"
                    "W 4 1.000001 1 0xfe000000 0x2 0x0 0\n");
    run_free(&r);
}

static void test_convert_stdio(void)
{
    struct run r = RUN(ext_doc, "convert", "-", "-");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==,
                    "VERSION 20070824\n"
                    "PCICFG 0.000001 0018 8680d310\n"
                    "R 4 2.854035 1 0xfeba000c 0x1 0x0 0 ns=2854035123 vcpu=0 dev=nic0\n"
                    "IRQ 2.858501 MSI 0 0xfee01004 0x4021\n"
                    "MARKX 2.900000 vcpu=none text=\"host mark\"\n"
                    "LOST 3.500000 7 dev=nic0\n");
    run_free(&r);
    r = RUN(ext_doc, "convert", "--kernel-compat", "-", "-");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==,
                    "VERSION 20070824\n"
                    "R 4 2.854035 1 0xfeba000c 0x1 0x0 0\n"
                    "MARK 2.900000 host mark\n"
                    "MARK 0.000000 Lost 7 events.\n");
    run_free(&r);
    r = RUN(ext_doc, "convert", "--jsonl", "-", "-");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "{\"type\":\"R\",\"ts_ns\":2854035123,\"width\":4,\"map_id\":1,"
                                   "\"phys\":\"0xfeba000c\",\"value\":\"0x1\",\"pc\":\"0x0\","
                                   "\"vcpu\":0,\"dev\":\"nic0\"}\n"));
    /* and back from JSONL on stdin */
    struct run back = RUN(r.out, "convert", "-", "-");
    g_assert_cmpint(back.status, ==, 0);
    g_assert_nonnull(
        strstr(back.out, "R 4 2.854035 1 0xfeba000c 0x1 0x0 0 ns=2854035123 vcpu=0 dev=nic0\n"));
    run_free(&back);
    run_free(&r);
    /* compressed to stdout */
    r = RUN(ext_doc, "convert", "--compress", "zst", "-", "-");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(!memcmp(r.out, "\x28\xb5\x2f\xfd", 4));
    run_free(&r);
}

static void test_convert_errors(void)
{
    g_autofree char *bad =
        write_tmp("cbad.txt", "R 4 1.0 1 0x1 0x1 0x0 0\nR 4 1.0 1 0x1 0x1 0x0\n");
    g_autofree char *out = tmp_path("cbad-out.mmiotrace");
    struct run r = RUN(NULL, "convert", bad, out);
    g_autofree char *msg = g_strdup_printf("hvmmio convert: %s:2: R record: missing pid\n", bad);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpstr(r.err, ==, msg);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    run_free(&r);
    /* no temporary left behind either */
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name(d))) {
        g_assert_false(g_str_has_prefix(n, "cbad-out"));
    }
    g_dir_close(d);

    r = RUN(NULL, "convert", "--skip-bad", bad, out);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "R record: missing pid (line skipped)"));
    g_autofree char *got = slurp(out);
    g_assert_cmpstr(got, ==, "R 4 1.000000 1 0x1 0x1 0x0 0\n");
    run_free(&r);

    /* a truncated compressed input fails clearly */
    g_autofree char *zst = tmp_path("t.mmiotrace.zst");
    r = RUN(NULL, "convert", fixture, zst);
    g_assert_cmpint(r.status, ==, 0);
    run_free(&r);
    g_autofree char *z = NULL;
    gsize zlen;
    g_assert_true(g_file_get_contents(zst, &z, &zlen, NULL));
    g_assert_true(g_file_set_contents(zst, z, zlen - 3, NULL));
    r = RUN(NULL, "convert", zst, "-");
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "zstd stream is truncated"));
    run_free(&r);

    r = RUN(NULL, "convert", fixture);
    g_assert_cmpint(r.status, ==, 2);
    run_free(&r);
    r = RUN(NULL, "convert", "--compress", "bz2", fixture, "-");
    g_assert_cmpint(r.status, ==, 2);
    run_free(&r);
    r = RUN(NULL, "convert", fixture, fixture);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "IN and OUT are the same file"));
    run_free(&r);
    r = RUN(NULL, "convert", "--help");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "--kernel-compat"));
    run_free(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    hvmmio = g_getenv("HVMMIO");
    const char *fixtures = g_getenv("FIXTURES");
    if (!hvmmio || !fixtures) {
        g_printerr("set HVMMIO (the hvmmio binary) and FIXTURES\n");
        return 77;
    }
    fixture = g_build_filename(fixtures, "kernel-e1000e-sample.mmiotrace", NULL);
    tmpdir = g_dir_make_tmp("hvmmio-tools-XXXXXX", NULL);
    g_test_add_func("/tools/stat/fixture", test_stat_fixture);
    g_test_add_func("/tools/stat/json", test_stat_json);
    g_test_add_func("/tools/stat/malformed", test_stat_malformed);
    g_test_add_func("/tools/stat/lost-unknown", test_stat_lost_unknown);
    g_test_add_func("/tools/stat/dev-names", test_stat_dev_names);
    g_test_add_func("/tools/stat/usage", test_stat_usage);
    g_test_add_func("/tools/stat/dma", test_stat_dma);
    g_test_add_func("/tools/compare/ignores-dma", test_compare_ignores_dma);
    g_test_add_func("/tools/convert/chain", test_convert_chain);
    g_test_add_func("/tools/convert/stdio", test_convert_stdio);
    g_test_add_func("/tools/convert/kernel-mark", test_convert_kernel_mark);
    g_test_add_func("/tools/convert/errors", test_convert_errors);
    int ret = g_test_run();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(rm)) {
        ret = ret ? ret : 1;
    }
    g_free(fixture);
    g_free(tmpdir);
    return ret;
}
