/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat's register names (--regs) and busiest functions (--top-functions, --symbols):
 * kept out of the rest of stat (stat.h), which calls these at its stages (docs/regmap.md).
 */
#ifndef HVMMIO_TOOLS_STAT_WORKBENCH_H
#define HVMMIO_TOOLS_STAT_WORKBENCH_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

#include "mmiotrace.h"

extern GOptionEntry stat_wb_entries[];
/* Load the maps and symbols the options named: 0, or 2 after printing why. */
int stat_wb_init(const char *prog);
/* Every record, in order (the devices and mappings; the functions). */
void stat_wb_record(const struct mmiotrace_record *rec);
/* An access counted for stat's register (dev, region, offset): remember its name. */
void stat_wb_note(const char *dev, const char *region, uint64_t offset,
                  const struct mmiotrace_record *rec);
/* --regs was given. */
bool stat_wb_regs(void);
/* The register's name, "" if none (or no --regs). */
const char *stat_wb_name(const char *dev, const char *region, uint64_t offset);
/* The busiest functions over every file (--top-functions), as text or into root. */
void stat_wb_print(unsigned top);
void stat_wb_json(json_object *root, unsigned top);
void stat_wb_free(void);

#endif
