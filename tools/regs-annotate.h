/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register names in the output of the commands that print accesses as text of their own
 * (compare, replay): an access named by the maps of --regs the way hvmmio decode names it
 * ("CTRL = 0x0c000040 {SLU, ...}"), and the replay device's report annotated line by line.
 */
#ifndef HVMMIO_TOOLS_REGS_ANNOTATE_H
#define HVMMIO_TOOLS_REGS_ANNOTATE_H

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"

/* Append "BARb+0xOFF NAME = 0xVALUE {FIELDS}" for an R/W access (hit: regmap_set_resolve's;
 * "? = 0xVALUE" where the map names nothing), "BARb+0xOFF NAME" for an UNKNOWN, or just the
 * name part without the BAR (bar < 0). value_known: false for a read whose value is not
 * known (the name only). */
void regs_annotate_access(GString *out, const struct regmap_hit *hit, int bar, uint64_t off,
                          const struct mmiotrace_record *rec, bool value_known);

/*
 * The report of QEMU's mmiotrace-replay device with every access ("W 4 bar=0 off=0x0
 * 0x140245") followed by "  CTRL = 0x00140245 {...}". The recorded device is the report's
 * "(device NAME)"; maps has the recording's PCIDEV header tracked (regmap_set_track) so that
 * its PCI ids choose the map, or binds a map to NAME. A "got R ..." (the driver's read: its
 * value is not known) is named without a value. Returns a new string.
 */
char *regs_annotate_replay(const char *report, struct regmap_set *maps);

#endif
