/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Round trips: every fixture in $FIXTURES (*.mmiotrace, *.trace, *.txt, optionally .gz/.xz/.zst:
 * kernel traces and hvmmio's host traces) parsed and written again must give the same bytes
 * (extended mode; kernel mode too for kernel traces), also through JSON Lines;
 * an extended-format document with every record type and fact likewise; JSONL -> text -> JSONL.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"

static char line[MMIOTRACE_FORMAT_MAX];

/* Read everything from a reader and format it with fmt; fails the test on any error. */
static GString *reformat(struct mmiotrace_reader *rd, mmiotrace_format_fn fmt, unsigned mode)
{
    GString *out = g_string_new(NULL);
    struct mmiotrace_record rec;
    int got;

    while ((got = mmiotrace_reader_next(rd, &rec)) > 0) {
        int n = fmt(line, sizeof(line), &rec, mode);
        g_assert_cmpint(n, >=, 0);
        g_string_append_len(out, line, n);
    }
    if (got < 0) {
        g_error("%s", mmiotrace_reader_error(rd));
    }
    g_assert_cmpint(mmiotrace_reader_skipped(rd), ==, 0);
    mmiotrace_reader_free(rd);
    return out;
}

static GString *reformat_mem(const GString *in, const char *name, mmiotrace_format_fn fmt,
                             unsigned mode)
{
    return reformat(mmiotrace_reader_open_mem(in->str, in->len, name), fmt, mode);
}

static void assert_same(const GString *got, const GString *want, const char *what)
{
    if (g_string_equal(got, want)) {
        return;
    }
    /* name the first differing line */
    const char *a = got->str, *b = want->str;
    unsigned lineno = 1;
    while (*a && *a == *b) {
        lineno += *a == '\n';
        a++;
        b++;
    }
    g_error("%s: first difference on line %u:\n got: %.80s\nwant: %.80s", what, lineno,
            a - (a - got->str > 40 ? 40 : 0), b - (b - want->str > 40 ? 40 : 0));
}

/* The text the reader should reproduce: CRs before newlines and the skipped kinds of line
 * (comments, LSPCI, "rw what?", "map what?") removed, a final newline added. */
static GString *canonical(const char *data, size_t len)
{
    GString *out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

    (void)len;
    for (int i = 0; lines[i]; i++) {
        char *l = lines[i];
        size_t n = strlen(l);
        if (!lines[i + 1] && !n) {
            break; /* after the final newline */
        }
        if (n && l[n - 1] == '\r') {
            l[--n] = '\0';
        }
        if (l[0] == '#' || g_str_has_prefix(l, "LSPCI") || g_str_has_prefix(l, "rw what?") ||
            g_str_has_prefix(l, "map what?")) {
            continue;
        }
        g_string_append_len(out, l, n);
        g_string_append_c(out, '\n');
    }
    return out;
}

static void test_fixture(gconstpointer data)
{
    const char *path = data;
    g_autofree char *raw = NULL;
    gsize rawlen;
    g_autoptr(GError) err = NULL;

    if (!g_str_has_suffix(path, ".gz") && !g_str_has_suffix(path, ".xz") &&
        !g_str_has_suffix(path, ".zst")) {
        g_assert_true(g_file_get_contents(path, &raw, &rawlen, &err));
    } else {
        /* decompress with the command line tools: independent of libmmiotrace */
        const char *tool = g_str_has_suffix(path, ".gz")   ? "gzip"
                           : g_str_has_suffix(path, ".xz") ? "xz"
                                                           : "zstd";
        g_autofree char *prog = g_find_program_in_path(tool);
        if (!prog) {
            g_test_skip("no decompression tool");
            return;
        }
        const char *argv[] = {prog, "-dc", path, NULL};
        gint status;
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                   NULL, &raw, NULL, &status, &err));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        rawlen = strlen(raw);
    }
    g_assert_cmpuint(strlen(raw), ==, rawlen); /* fixtures are text */
    GString *want = canonical(raw, rawlen);
    g_test_message("%s: %zu bytes", path, want->len);

    GString *ext = reformat(mmiotrace_reader_open(path), mmiotrace_format, MMIOTRACE_FMT_EXTENDED);
    assert_same(ext, want, "extended mode");
    GString *kern = reformat(mmiotrace_reader_open(path), mmiotrace_format, MMIOTRACE_FMT_KERNEL);
    GString *kern2 = reformat_mem(kern, "kernel", mmiotrace_format, MMIOTRACE_FMT_KERNEL);
    assert_same(kern2, kern, "kernel mode twice");
    if (!strstr(want->str, "=") && !strstr(want->str, "\nIRQ ") &&
        !strstr(want->str, "\nPCICFG ")) {
        /* a kernel trace: kernel mode gives it back too */
        assert_same(kern, want, "kernel mode");
    }
    g_string_free(kern2, TRUE);
    GString *jsonl = reformat_mem(want, "fixture", mmiotrace_jsonl_format, 0);
    GString *back = reformat_mem(jsonl, "fixture.jsonl", mmiotrace_format, MMIOTRACE_FMT_EXTENDED);
    assert_same(back, want, "text -> JSONL -> text");
    GString *jsonl2 = reformat_mem(back, "back", mmiotrace_jsonl_format, 0);
    assert_same(jsonl2, jsonl, "JSONL -> text -> JSONL");
    g_string_free(want, TRUE);
    g_string_free(ext, TRUE);
    g_string_free(kern, TRUE);
    g_string_free(jsonl, TRUE);
    g_string_free(back, TRUE);
    g_string_free(jsonl2, TRUE);
}

/* Every record type and every fact, in hvmmio's extended format. */
static const char extended_doc[] =
    "VERSION 20070824\n"
    "PCIDEV 0018 808610d3 b feba0000 febc0000 c001 febf0000 0 0 0 20000 20000 20 4000 0 0 0  "
    "dev=nic0\n"
    "PCIDEV 0020 1af41000 a c000000c 0 0 0 0 0 fffc0000 4000 0 0 0 0 0 40000 virtio-pci "
    "dev=\"virtio net\"\n"
    "PCICFG 0.000001 0018 8680d310070410000000000200000000\n"
    "MARK 2.766196 MARK-START\n"
    "MARK 2.766197 two\nlines\n"
    "MARKX 2.766198 ns=2766197800 vcpu=0 text=\"host mark\\twith tab\"\n"
    "MAP 2.849603 1 0xfeba0000 0xffffcc2b406e0000 0x20000 0x0 0 ns=2849603001 dev=nic0 bar=0 "
    "off=0x0\n"
    "R 4 2.854035 1 0xfeba000c 0x1 0xffffffffc0a01234 0 ns=2854035123 vcpu=0 dev=nic0 bar=0 "
    "off=0xc insn=8b420c asm=\"mov eax, dword ptr [rdx + 0xc]\"\n"
    "W 2 2.858352 1 0xfeba0000 0xffff 0x0 0 ns=2858351999 vcpu=none dev=nic0 bar=0 off=0x0\n"
    "R 1 2.858353 1 0xfeba0001 0x7f 0x0 0\n"
    "W 8 2.858354 1 0xfeba0008 0xffffffffffffffff 0x0 0 vcpu=1\n"
    "UNKNOWN 2.858400 1 0xfeba0100 0f,c7,0e 0xffffffffc0123456 0 insn=0fc70e\n"
    "IRQ 2.858500 INTX 0 1 dev=nic0\n"
    "IRQ 2.858501 MSI 0 0xfee01004 0x4021 ns=2858500700\n"
    "IRQ 2.858502 MSIX 3 0xfee00000 0x4023 vcpu=none dev=nic0\n"
    "UNMAP 3.000000 1 0x0 0\n"
    "UNMAP 3.000001 -1 0x0 0\n"
    "MARK 0.000000 Lost 42 events.\n"
    "LOST 3.500000 7 dev=nic0\n"
    /* found by fuzzing: a lost-events record with a time but no facts keeps its time */
    "LOST 3.600000 8\n"
    /* Replay v2 (issue 18): DMA context and the replay annotations */
    "DMAMAP 3.700000 MAP 0x100000 65536 ro=1 dev=nic0\n"
    "DMA 3.700001 FROM 0x12340000 9 0xcbf43926 ns=3700000999 vcpu=none dev=nic0 "
    "data=313233343536373839\n"
    "DMA 3.700002 TO 0x12340000 4096 0x1 dev=nic0 data=00\n"
    "W 4 3.700003 1 0xfeba3800 0x12340000 0x0 0 bar=0 off=0x3800 match=0xfffff000\n"
    "W 4 3.700004 1 0xfeba3808 0x12340000 0x0 0 bar=0 off=0x3808 match=0x0 rel=0:0x3800\n"
    "R 4 3.700005 1 0xfeba0008 0x80080783 0x0 0 bar=0 off=0x8 rel=0:0x3800 poll=tolerant\n"
    "W 4 3.700006 1 0xfeba00d0 0x4 0x0 0 bar=0 off=0xd0 match=0xff opt=1\n"
    "DMAMAP 3.800000 UNMAP 0x100000 65536 dev=nic0\n";

static void test_extended_doc(void)
{
    GString *want = g_string_new(extended_doc);
    GString *ext = reformat_mem(want, "ext.txt", mmiotrace_format, MMIOTRACE_FMT_EXTENDED);
    assert_same(ext, want, "extended document");

    GString *jsonl = reformat_mem(want, "ext.txt", mmiotrace_jsonl_format, 0);
    GString *back = reformat_mem(jsonl, "ext.jsonl", mmiotrace_format, MMIOTRACE_FMT_EXTENDED);
    assert_same(back, want, "extended -> JSONL -> extended");
    GString *jsonl2 = reformat_mem(back, "back", mmiotrace_jsonl_format, 0);
    assert_same(jsonl2, jsonl, "JSONL -> text -> JSONL");

    /* kernel mode: facts dropped, PCICFG and IRQ gone, MARKX/LOST back to kernel lines */
    GString *kern = reformat_mem(want, "ext.txt", mmiotrace_format, MMIOTRACE_FMT_KERNEL);
    g_assert_null(strstr(kern->str, "="));
    g_assert_null(strstr(kern->str, "IRQ"));
    g_assert_null(strstr(kern->str, "PCICFG"));
    g_assert_null(strstr(kern->str, "DMA"));
    g_assert_nonnull(strstr(kern->str, "MARK 2.766198 host mark\twith tab\n"));
    g_assert_nonnull(strstr(kern->str, "MARK 0.000000 Lost 7 events.\n"));
    g_assert_nonnull(strstr(kern->str, "R 4 2.854035 1 0xfeba000c 0x1 0xffffffffc0a01234 0\n"));
    /* and a kernel-mode file is stable */
    GString *kern2 = reformat_mem(kern, "k.txt", mmiotrace_format, MMIOTRACE_FMT_KERNEL);
    assert_same(kern2, kern, "kernel mode twice");

    /* one JSONL line, spelled out (docs/trace-format.md's schema) */
    g_assert_nonnull(strstr(
        jsonl->str,
        "{\"type\":\"R\",\"ts_ns\":2854035123,\"width\":4,\"map_id\":1,\"phys\":\"0xfeba000c\","
        "\"value\":\"0x1\",\"pc\":\"0xffffffffc0a01234\",\"vcpu\":0,\"dev\":\"nic0\",\"bar\":0,"
        "\"offset\":\"0xc\",\"insn\":\"8b420c\",\"asm\":\"mov eax, dword ptr [rdx + 0xc]\"}\n"));
    g_assert_nonnull(
        strstr(jsonl->str, "{\"type\":\"MARK\",\"ts_us\":2766197,\"text\":\"two\\nlines\"}\n"));
    g_assert_nonnull(strstr(jsonl->str, "{\"type\":\"LOST\",\"ts_us\":0,\"count\":42}\n"));
    g_assert_nonnull(strstr(jsonl->str, "{\"type\":\"IRQ\",\"ts_us\":2858502,\"kind\":\"MSIX\","
                                        "\"vector\":3,\"addr\":\"0xfee00000\","
                                        "\"data\":\"0x4023\",\"vcpu\":null,\"dev\":\"nic0\"}\n"));
    GString *all[] = {want, ext, jsonl, back, jsonl2, kern, kern2};
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
        g_string_free(all[i], TRUE);
    }
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    const char *dir = g_getenv("FIXTURES");
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/roundtrip/extended-document", test_extended_doc);
    if (dir) {
        GDir *d = g_dir_open(dir, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            static const char *const kinds[] = {".mmiotrace", ".trace", ".txt"};
            static const char *const comps[] = {"", ".gz", ".xz", ".zst"};
            bool match = false;
            for (size_t k = 0; k < G_N_ELEMENTS(kinds) * G_N_ELEMENTS(comps); k++) {
                g_autofree char *suffix = g_strconcat(kinds[k / 4], comps[k % 4], NULL);
                match |= g_str_has_suffix(name, suffix);
            }
            if (match) {
                g_ptr_array_add(paths, g_build_filename(dir, name, NULL));
            }
        }
        if (d) {
            g_dir_close(d);
        }
        g_ptr_array_sort(paths, by_name);
    }
    for (guint i = 0; i < paths->len; i++) {
        g_autofree char *tname =
            g_strdup_printf("/roundtrip/fixture/%s", strrchr(paths->pdata[i], '/') + 1);
        g_test_add_data_func(tname, paths->pdata[i], test_fixture);
    }
    int ret = g_test_run();
    g_ptr_array_free(paths, TRUE);
    return ret;
}
