/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The workbench tests: what test-regmap.c (maps, symbols, main) shares with
 * test-regmap-cmds.c (the commands through the hvmmio binary).
 */
#ifndef HVMMIO_TEST_REGMAP_H
#define HVMMIO_TEST_REGMAP_H

/* A file of the project's source tree ($SRCDIR), to g_free. */
char *test_src(const char *rel);
/* test-regmap-cmds.c: /regmap/...-cmd */
void regmap_add_cmd_tests(void);
/* test-regmap-annotate.c: /regmap/replay-... (tools/regs-annotate.c) */
void regmap_add_annotate_tests(void);

#endif
