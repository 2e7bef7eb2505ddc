/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register maps (docs/regmap.md): named registers, arrays, bitfields and enum values of a
 * device's BARs, loaded from hvmmio's YAML format (libyaml) or imported from envytools'
 * rules-ng-ng XML (libxml2), and used to name the accesses of a trace.
 *
 * A map is a tree: a BAR holds nodes; a node is a register (offset, width, fields; with a
 * count and stride it is an array of registers) or a group (offset, count, stride, child
 * nodes: rules-ng-ng's array and stripe). Lookups walk the tree once per distinct offset and
 * remember the answer, so a long trace costs one hash lookup per access.
 */
#ifndef HVMMIO_TOOLS_REGMAP_H
#define HVMMIO_TOOLS_REGMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "mmiotrace.h"

#define REGMAP_BARS 7 /* BAR0-5 and the ROM, as mmiotrace numbers them */

struct regmap_enum {
    uint64_t value;
    char *name;
};

struct regmap_field {
    char *name;
    unsigned lo, hi; /* bit positions, lo <= hi < 64 */
    unsigned shr;    /* rules-ng-ng's shr: the field holds value >> shr (shown shifted back) */
    GArray *values;  /* struct regmap_enum, or NULL */
};

enum regmap_node_kind { REGMAP_REG, REGMAP_GROUP };

struct regmap_node {
    enum regmap_node_kind kind;
    char *name;      /* NULL: an unnamed group (a rules-ng-ng stripe) adds no name */
    uint64_t offset; /* from the enclosing group's (or BAR's) start */
    uint64_t count;  /* 1: not an array */
    uint64_t stride;
    unsigned width;      /* REGMAP_REG: bytes, 1/2/4/8 */
    char access[8];      /* REGMAP_REG: "rw", "r", "w", "rc", "w1c", ... ("" unknown) */
    GArray *fields;      /* REGMAP_REG: struct regmap_field (may be empty) */
    GArray *values;      /* REGMAP_REG: whole-register enum values (struct regmap_enum) */
    GPtrArray *children; /* REGMAP_GROUP: struct regmap_node * */
    unsigned line;       /* where it was defined */
};

struct regmap {
    char *file;
    char *name;                   /* the map's name (the device) */
    GArray *pci_ids;              /* uint32_t vendor << 16 | device; the devices it describes */
    GPtrArray *bars[REGMAP_BARS]; /* struct regmap_node *, or NULL: no registers there */
    GHashTable *cache;            /* (bar, offset) -> struct regmap_hit * */
};

/* What an access at (bar, offset) hits. */
struct regmap_hit {
    const struct regmap_node *reg; /* NULL: no register there */
    char *name;                    /* "CTRL", "RAL[3]", "PMC.INTR[1]" */
    uint64_t delta;                /* bytes into the register (a partial access) */
    /* regmap_format's last text for this register (a register polled for one value is
     * formatted once) */
    uint64_t memo_value;
    unsigned memo_width;
    unsigned memo_len; /* 0: none */
    char memo[120];
};

/* Load a map: a rules-ng-ng database if the file is XML (".xml"; "FILE.xml#DOMAIN" picks a
 * domain, "...@VARIANT" a chipset variant), else hvmmio's YAML. NULL + error
 * "FILE:LINE: what is wrong". */
struct regmap *regmap_load(const char *spec, GError **error);
/* The YAML format from memory (name is used in messages); for tests and the fuzzer. */
struct regmap *regmap_load_yaml_mem(const char *data, size_t len, const char *name, GError **error);
/* rules-ng-ng from a file; domain/variant may be NULL (the first domain; every variant). */
struct regmap *regmap_load_rnn(const char *path, const char *domain, const char *variant,
                               GError **error);
void regmap_free(struct regmap *m);

/* The register at (bar, offset); never NULL (hit->reg NULL when nothing is there). */
const struct regmap_hit *regmap_lookup(struct regmap *m, unsigned bar, uint64_t offset);
/* Append "NAME = 0xVALUE {FIELD, FIELD=ENUM, ...}" for an access of width bytes. */
void regmap_format(GString *out, const struct regmap_hit *hit, uint64_t value, unsigned width);
/* Append only the " {...}" (or " (ENUM)") part; nothing when the register has no fields. */
void regmap_format_fields(GString *out, const struct regmap_node *reg, uint64_t value);

/* ---- several maps and a trace's devices ---- */

/*
 * Which map names which device: "--regs FILE" maps apply to the devices whose PCI ids they
 * list (or, with no ids, to every device); "--regs DEV=FILE" binds one to the device named
 * DEV (the dev= fact). Feed every record to regmap_set_track (PCIDEV, MAP); then
 * regmap_set_resolve names an R/W/UNKNOWN access.
 */
struct regmap_set;
struct regmap_set *regmap_set_new(void);
/* Add "FILE" or "DEV=FILE". false + error on a bad map. */
bool regmap_set_add(struct regmap_set *s, const char *arg, GError **error);
/* Add every "FILE" or "DEV=FILE" of a NULL-terminated list (NULL: none). */
bool regmap_set_add_all(struct regmap_set *s, char **args, GError **error);
/* Forget the devices and mappings seen so far (a second pass over a trace); keep the maps. */
void regmap_set_reset(struct regmap_set *s);
unsigned regmap_set_size(const struct regmap_set *s);
void regmap_set_track(struct regmap_set *s, const struct mmiotrace_record *rec);
/* The register an access hits (NULL: no map for its device, or no BAR/offset known).
 * The BAR and offset are set when known, whatever the return value. */
const struct regmap_hit *regmap_set_resolve(struct regmap_set *s,
                                            const struct mmiotrace_record *rec, int *bar,
                                            uint64_t *offset);
void regmap_set_free(struct regmap_set *s);

/* ---- for the loaders (regmap-yaml.c, regmap-rnn.c) ---- */
struct regmap *regmap_new(const char *file);
struct regmap_node *regmap_node_new(enum regmap_node_kind kind, unsigned line);
GPtrArray *regmap_nodes_new(void);
/* Fields in bit order (what regmap_format prints). */
void regmap_sort_fields(struct regmap_node *reg);
/* The name of value v in values (NULL: none, or no values). */
const char *regmap_enum_name(const GArray *values, uint64_t v);
/* Bits lo..hi set. */
uint64_t regmap_bits_mask(unsigned lo, unsigned hi);
GQuark regmap_error_quark(void);

#endif
