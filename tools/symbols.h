/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest symbols for PCs (docs/trace-format.md, the sym= fact): /proc/kallsyms, a System.map,
 * or an ELF file with a symbol table (libelf): an executable as linked, or a kernel module
 * given with its .text address as FILE@ADDR (/sys/module/NAME/sections/.text).
 */
#ifndef HVMMIO_TOOLS_SYMBOLS_H
#define HVMMIO_TOOLS_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

struct symtab;

struct symtab *symtab_new(void);
/* Add a file's text symbols; false + "FILE:LINE: what is wrong" on bad input. */
bool symtab_add(struct symtab *t, const char *spec, GError **error);
/* A table of every spec of a NULL-terminated list; NULL + error on the first bad one. */
struct symtab *symtab_load(char **specs, GError **error);
/* Number of symbols loaded. */
unsigned symtab_size(const struct symtab *t);
/*
 * The function holding pc: its name, pc's offset into it and its module (NULL: the kernel or
 * the executable). false when no symbol covers pc. The strings live as long as the table.
 */
bool symtab_lookup(struct symtab *t, uint64_t pc, const char **name, uint64_t *off,
                   const char **module);
/*
 * Modules loaded and unloaded in turn (kallsyms files with "# hvmmio-module" headers, as the
 * guest saves them: docs/regmap.md) may have held the same addresses: lookups made in the
 * trace's order follow the guest, each PC that only one instance holds showing that the guest
 * got to its load. The answer for a PC changes only when this count changes: a caller that
 * remembers answers by PC forgets them then.
 */
unsigned symtab_epoch(const struct symtab *t);
/* Append "func+0xoff [module]" (or "func+0xoff"); false (nothing appended) if pc is unknown. */
bool symtab_format(struct symtab *t, GString *out, uint64_t pc);
void symtab_free(struct symtab *t);

/* Append value quoted as the trace format's facts are (docs/trace-format.md "Quoting"). */
void fact_quote(GString *out, const char *value, size_t len);

#endif
