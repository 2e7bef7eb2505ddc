/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reverse-engineering workbench's commands, run through the hvmmio binary ($HVMMIO) on a
 * hand-written trace: hvmmio decode, symbolize, convert --to perfetto (parsed back with
 * json-c) and stat --regs/--top-functions. Expected names and values come from the
 * datasheets and the fixtures, never from the code under test.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "test-regmap.h"

static const char trace_text[] =
    "VERSION 20070824\n"
    "PCIDEV 0008 808610d3 a feba0000 febc0000 c041 febe0000 0 0 0 20000 20000 20 4000 0 0 0  "
    "dev=nic0\n"
    "MAP 0.010000 1 0xfeba0000 0x0 0x20000 0x0 0 ns=10000000 dev=nic0 bar=0 off=0x0\n"
    "W 4 0.020000 1 0xfeba0000 0xc000040 0xffffffffc0a0109a 0 ns=20000000 vcpu=0 dev=nic0 bar=0 "
    "off=0x0\n"
    "R 4 0.020100 1 0xfeba0008 0x80283 0xffffffffc0a010a0 0 ns=20100000 vcpu=0 dev=nic0 bar=0 "
    "off=0x8\n"
    "W 4 0.020200 1 0xfeba5418 0x12345678 0xffffffff81000123 0 ns=20200000 vcpu=1 dev=nic0 "
    "bar=0 off=0x5418\n"
    "MARK 0.020300 phase two\n"
    "R 4 0.020400 1 0xfeba0008 0x80281 0x0 0 ns=20400000 vcpu=0 dev=nic0 bar=0 off=0x8\n"
    "IRQ 0.020500 MSIX 0 0xfee01004 0xef dev=nic0\n"
    "R 4 0.020600 1 0xfeba0004 0x0 0xffffffffc0b02004 0 ns=20600000 vcpu=0 dev=nic0 bar=0 "
    "off=0x4\n";

static char *write_trace(const char *dir)
{
    char *path = g_build_filename(dir, "trace.txt", NULL);
    g_assert_true(g_file_set_contents(path, trace_text, -1, NULL));
    return path;
}

static int run(char **argv, char **out, char **err)
{
    int status;
    g_autoptr(GError) e = NULL;
    g_assert_true(
        g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &e));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_decode_cmd(void)
{
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *trace = write_trace(dir);
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    g_autofree char *syms = test_src("tests/unit/regmap/kallsyms.txt");
    g_autofree char *out = NULL, *err = NULL;
    char *argv[] = {
        (char *)g_getenv("HVMMIO"), "decode", trace, "--regs", map, "--symbols", syms, NULL};
    g_assert_cmpint(run(argv, &out, &err), ==, 0);
    g_test_message("%s", out);
    g_assert_nonnull(strstr(out, "W 4 0.020000000 nic0 BAR0+0x0 CTRL = 0x0c000040 {SLU, "
                                 "SPEED=10M, RST, RFCE}  e1000e_probe+0x1a [e1000e]\n"));
    g_assert_nonnull(strstr(out, "R 4 0.020100000 nic0 BAR0+0x8 STATUS = 0x00080283 {FD, LU, "
                                 "SPEED=1000M, ASDV=2, GIO_MASTER_ENABLE}  e1000e_probe+0x20 "
                                 "[e1000e]\n"));
    g_assert_nonnull(strstr(out, "RAL[3] = 0x12345678  helper_fn+0x23\n"));
    g_assert_nonnull(strstr(out, "BAR0+0x4 ? = 0x00000000  pc=0xffffffffc0b02004\n"));
    g_assert_nonnull(strstr(out, "MARK 0.020300 phase two\n"));
    /* DEV=MAP binds by name: a map bound to another device names nothing */
    g_autofree char *bound = g_strconcat("other=", map, NULL);
    char *argv2[] = {(char *)g_getenv("HVMMIO"), "decode", trace, "--regs", bound, NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv2, &out, &err), ==, 0);
    g_assert_null(strstr(out, "CTRL"));
    g_assert_nonnull(strstr(out, "BAR0+0x0 ? = 0x0c000040"));
    /* a bad map: FILE:LINE, exit 2, no output */
    g_autofree char *badmap = g_build_filename(dir, "bad.yaml", NULL);
    g_assert_true(g_file_set_contents(badmap, "registers:\n  A: {offset: zero}\n", -1, NULL));
    char *argv3[] = {(char *)g_getenv("HVMMIO"), "decode", trace, "--regs", badmap, NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv3, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "bad.yaml:2: offset: 'zero' is not a number"));
    g_assert_cmpstr(out, ==, "");
    char *argv4[] = {
        (char *)g_getenv("HVMMIO"), "decode", trace, "--symbols", "/nonexistent", NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv4, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "/nonexistent"));
}

static void test_symbolize_cmd(void)
{
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *trace = write_trace(dir);
    g_autofree char *syms = test_src("tests/unit/regmap/kallsyms.txt");
    g_autofree char *outp = g_build_filename(dir, "sym.txt", NULL);
    g_autofree char *out = NULL, *err = NULL;
    char *argv[] = {
        (char *)g_getenv("HVMMIO"), "symbolize", trace, "--symbols", syms, "-o", outp, NULL};
    g_assert_cmpint(run(argv, &out, &err), ==, 0);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(outp, &text, NULL, NULL));
    g_test_message("%s", text);
    g_assert_nonnull(strstr(text, " off=0x0 sym=\"e1000e_probe+0x1a [e1000e]\"\n"));
    g_assert_nonnull(strstr(text, " off=0x5418 sym=helper_fn+0x23\n"));
    g_assert_nonnull(strstr(err, "3 accesses named, 1 with a PC no symbol covers"));
    /* the result is still a trace: the reader takes it, and decode as well (sym= is replaced
     * on a second run, not doubled) */
    g_autofree char *again = g_build_filename(dir, "sym2.txt", NULL);
    char *argv2[] = {
        (char *)g_getenv("HVMMIO"), "symbolize", outp, "--symbols", syms, "-o", again, NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv2, &out, &err), ==, 0);
    g_autofree char *text2 = NULL;
    g_assert_true(g_file_get_contents(again, &text2, NULL, NULL));
    g_assert_cmpstr(text, ==, text2);
}

/* Equally busy registers: the counter track goes to the first by BAR and offset, every run
 * (the choice once followed the hash table's order). */
static void test_perfetto_ties(void)
{
    static const char ties[] =
        "VERSION 20070824\n"
        "R 4 0.020000 1 0xfeba0008 0x1 0x0 0 ns=20000000 vcpu=0 dev=nic0 bar=0 off=0x8\n"
        "R 4 0.020100 1 0xfeba5418 0x2 0x0 0 ns=20100000 vcpu=0 dev=nic0 bar=0 off=0x5418\n"
        "R 4 0.020200 1 0xfeba0000 0x3 0x0 0 ns=20200000 vcpu=0 dev=nic0 bar=0 off=0x0\n"
        "R 4 0.020300 1 0xfeba0008 0x4 0x0 0 ns=20300000 vcpu=0 dev=nic0 bar=0 off=0x8\n"
        "R 4 0.020400 1 0xfeba5418 0x5 0x0 0 ns=20400000 vcpu=0 dev=nic0 bar=0 off=0x5418\n"
        "R 4 0.020500 1 0xfeba0000 0x6 0x0 0 ns=20500000 vcpu=0 dev=nic0 bar=0 off=0x0\n";
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *trace = g_build_filename(dir, "ties.txt", NULL);
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    g_autofree char *json = g_build_filename(dir, "ties.json", NULL);
    g_autofree char *out = NULL, *err = NULL, *text = NULL;
    char *argv[] = {(char *)g_getenv("HVMMIO"),
                    "convert",
                    trace,
                    json,
                    "--to",
                    "perfetto",
                    "--regs",
                    map,
                    "--counters",
                    "1",
                    NULL};

    g_assert_true(g_file_set_contents(trace, ties, -1, NULL));
    g_assert_cmpint(run(argv, &out, &err), ==, 0);
    g_assert_true(g_file_get_contents(json, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\"ph\":\"C\",\"name\":\"CTRL\""));
    g_assert_null(strstr(text, "\"ph\":\"C\",\"name\":\"STATUS\""));
}

static void test_perfetto_cmd(void)
{
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *trace = write_trace(dir);
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    g_autofree char *syms = test_src("tests/unit/regmap/kallsyms.txt");
    g_autofree char *json = g_build_filename(dir, "out.json", NULL);
    g_autofree char *out = NULL, *err = NULL;
    char *argv[] = {(char *)g_getenv("HVMMIO"),
                    "convert",
                    trace,
                    json,
                    "--to",
                    "perfetto",
                    "--regs",
                    map,
                    "--symbols",
                    syms,
                    "--counters",
                    "1",
                    NULL};
    g_assert_cmpint(run(argv, &out, &err), ==, 0);
    json_object *root = json_object_from_file(json);
    g_assert_nonnull(root);
    json_object *events;
    g_assert_true(json_object_object_get_ex(root, "traceEvents", &events));
    unsigned counts[128] = {0}, counters = 0, status_counter = 0, names = 0;
    bool ctrl_ok = false;
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        json_object *ev = json_object_array_get_idx(events, i), *ph, *cat, *name, *args, *x;
        g_assert_true(json_object_object_get_ex(ev, "ph", &ph));
        const char *p = json_object_get_string(ph);
        if (!strcmp(p, "M")) {
            names++;
            continue;
        }
        g_assert_true(json_object_object_get_ex(ev, "ts", &x));
        g_assert_true(json_object_object_get_ex(ev, "name", &name));
        if (!strcmp(p, "C")) {
            counters++;
            status_counter += !strcmp(json_object_get_string(name), "STATUS");
            continue;
        }
        g_assert_cmpstr(p, ==, "i");
        g_assert_true(json_object_object_get_ex(ev, "cat", &cat));
        counts[(unsigned char)json_object_get_string(cat)[0]]++;
        if (!strcmp(json_object_get_string(name), "W CTRL")) {
            g_assert_true(json_object_object_get_ex(ev, "args", &args));
            g_assert_true(json_object_object_get_ex(args, "fields", &x));
            g_assert_cmpstr(json_object_get_string(x), ==, "{SLU, SPEED=10M, RST, RFCE}");
            g_assert_true(json_object_object_get_ex(args, "function", &x));
            g_assert_cmpstr(json_object_get_string(x), ==, "e1000e_probe+0x1a [e1000e]");
            g_assert_true(json_object_object_get_ex(args, "value", &x));
            g_assert_cmpstr(json_object_get_string(x), ==, "0x0c000040");
            g_assert_true(json_object_object_get_ex(ev, "ts", &x));
            g_assert_cmpfloat(json_object_get_double(x), ==, 20000.0); /* µs */
            ctrl_ok = true;
        }
    }
    g_assert_true(ctrl_ok);
    g_assert_cmpuint(counts['R'], ==, 3); /* R accesses */
    g_assert_cmpuint(counts['W'], ==, 2);
    g_assert_cmpuint(counts['I'], ==, 1); /* IRQ */
    g_assert_cmpuint(counts['M'], ==, 2); /* MARK and MAP */
    /* the busiest register (STATUS: 2 reads) has the one counter track */
    g_assert_cmpuint(counters, ==, 2);
    g_assert_cmpuint(status_counter, ==, 2);
    g_assert_cmpuint(names, >=, 3); /* process nic0, threads BAR0, interrupts, mappings */
    json_object_put(root);
    /* one pass: stdin works (the counter samples wait in a temporary file), same events */
    g_autofree char *cmd = g_strdup_printf(
        "'%s' convert - - --to perfetto --regs '%s' --symbols '%s' --counters 1 <'%s' >'%s.2'",
        g_getenv("HVMMIO"), map, syms, trace, json);
    g_autofree char *a = NULL, *b = NULL;
    g_assert_cmpint(system(cmd), ==, 0);
    g_autofree char *json2 = g_strdup_printf("%s.2", json);
    g_assert_true(g_file_get_contents(json, &a, NULL, NULL));
    g_assert_true(g_file_get_contents(json2, &b, NULL, NULL));
    g_assert_cmpstr(a, ==, b);
}

static void test_stat_cmd(void)
{
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *trace = write_trace(dir);
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    g_autofree char *syms = test_src("tests/unit/regmap/kallsyms.txt");
    g_autofree char *out = NULL, *err = NULL;
    char *argv[] = {(char *)g_getenv("HVMMIO"),
                    "stat",
                    trace,
                    "--regs",
                    map,
                    "--symbols",
                    syms,
                    "-n",
                    "3",
                    NULL};
    g_assert_cmpint(run(argv, &out, &err), ==, 0);
    g_test_message("%s", out);
    /* STATUS: 2 reads; its row ends with its name */
    g_autoptr(GRegex) row =
        g_regex_new("^  nic0 +BAR0 +0x8 +2 +0 .* STATUS$", G_REGEX_MULTILINE, 0, NULL);
    g_assert_true(g_regex_match(row, out, 0, NULL));
    /* 4 accesses with a PC: 2 in e1000e_probe, 1 in helper_fn, 1 outside every symbol */
    g_assert_nonnull(strstr(out, "busiest functions (3 of 3; 4 accesses with a PC, 1 of them "
                                 "outside every symbol):\n"
                                 "           2  e1000e_probe [e1000e]\n"));
    g_assert_nonnull(strstr(out, "           1  helper_fn\n"));
    g_assert_nonnull(strstr(out, "           1  0xffffffffc0b02004\n"));
    /* JSON: the register's name and the functions */
    char *argv2[] = {(char *)g_getenv("HVMMIO"), "stat",   trace, "--regs", map,
                     "--top-functions",          "--json", NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv2, &out, &err), ==, 0);
    json_object *root = json_tokener_parse(out), *x, *regs, *funcs;
    g_assert_nonnull(root);
    g_assert_true(json_object_object_get_ex(root, "total", &x));
    g_assert_true(json_object_object_get_ex(x, "registers", &regs));
    g_assert_true(json_object_object_get_ex(json_object_array_get_idx(regs, 0), "name", &x));
    g_assert_cmpstr(json_object_get_string(x), ==, "STATUS");
    g_assert_true(json_object_object_get_ex(root, "functions", &funcs));
    g_assert_cmpuint(json_object_array_length(funcs), ==, 4); /* PCs: no --symbols */
    json_object_put(root);
    /* a bad map stops stat before it reads anything */
    char *argv3[] = {(char *)g_getenv("HVMMIO"), "stat", trace, "--regs",
                     "/nonexistent.yaml",        NULL};
    g_free(out);
    g_free(err);
    g_assert_cmpint(run(argv3, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "/nonexistent.yaml"));
}

void regmap_add_cmd_tests(void)
{
    g_test_add_func("/regmap/decode-cmd", test_decode_cmd);
    g_test_add_func("/regmap/symbolize-cmd", test_symbolize_cmd);
    g_test_add_func("/regmap/perfetto-cmd", test_perfetto_cmd);
    g_test_add_func("/regmap/perfetto-ties", test_perfetto_ties);
    g_test_add_func("/regmap/stat-cmd", test_stat_cmd);
}
