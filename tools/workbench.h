/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the workbench commands (decode, symbolize, report, convert --to perfetto) share: their
 * common options, parsing the command line, loading the register maps and symbols, the output
 * file, and opening a trace with the --skip-bad policy (these print why they failed as
 * "PROG: ..." on stderr); the key of a register's table; JSON strings.
 */
#ifndef HVMMIO_TOOLS_WORKBENCH_H
#define HVMMIO_TOOLS_WORKBENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "warn.h"

struct wb_opts {
    char **regs, **symbols; /* --regs, --symbols (NULL: none) */
    char *output;           /* -o FILE (NULL: stdout) */
    gboolean skip_bad;      /* --skip-bad */
};

/* Free and zero (a second parse starts afresh). */
void wb_opts_free(struct wb_opts *o);
/* The command line with entries (params: "TRACE"; summary may be NULL): false on a bad one. */
bool wb_parse(int *argc, char ***argv, const char *params, const char *summary,
              const GOptionEntry *entries);
/* Add o's --regs to maps and load its --symbols (*syms stays NULL without). */
bool wb_load(const char *prog, const struct wb_opts *o, struct regmap_set *maps,
             struct symtab **syms);
/* path for writing (NULL: stdout), with a 64 KiB buffer; NULL on failure. */
FILE *wb_output_open(const char *prog, const char *path);
/* Flush out and close it (not stdout): 0, or -1 (name: the file as the message names it). */
int wb_output_close(const char *prog, const char *name, FILE *out);
/* The trace at path: stop at a malformed line, or skip it (skip_bad) naming it through warned
 * (NULL: silently). NULL on failure. */
struct mmiotrace_reader *wb_reader_open(const char *prog, const char *path, bool skip_bad,
                                        struct hvmmio_warn *warned);

/* A register of a trace, a hash table key: its device (interned: compared by pointer), BAR
 * (-1: unknown) and offset (the address when the BAR is unknown). */
struct wb_reg_key {
    const char *dev;
    int bar;
    uint64_t off;
};
guint wb_reg_key_hash(gconstpointer key);
gboolean wb_reg_key_equal(gconstpointer a, gconstpointer b);
/* A fixed order of keys (device name, BAR, offset): ties broken the same in every run. */
int wb_reg_key_cmp(const struct wb_reg_key *a, const struct wb_reg_key *b);

/* s[0..len) as a JSON string. html: also <, > and & and every byte outside printable ASCII
 * escaped (safe inside a <script>); else valid UTF-8 is kept and other bytes are \u00XX. */
void wb_json_string(GString *o, const char *s, size_t len, bool html);

#endif
