/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: the record model's helpers (libc only). */
#include <string.h>

#include "internal.h"

static const char *const type_names[MMIOTRACE_TYPE_COUNT] = {
    [MMIOTRACE_NONE] = "NONE", [MMIOTRACE_VERSION] = "VERSION", [MMIOTRACE_PCIDEV] = "PCIDEV",
    [MMIOTRACE_READ] = "R",    [MMIOTRACE_WRITE] = "W",         [MMIOTRACE_UNKNOWN] = "UNKNOWN",
    [MMIOTRACE_MAP] = "MAP",   [MMIOTRACE_UNMAP] = "UNMAP",     [MMIOTRACE_MARK] = "MARK",
    [MMIOTRACE_LOST] = "LOST", [MMIOTRACE_CONFIG] = "PCICFG",   [MMIOTRACE_IRQ] = "IRQ",
    [MMIOTRACE_DMA] = "DMA",   [MMIOTRACE_DMAMAP] = "DMAMAP",
};

const char *mmiotrace_type_name(enum mmiotrace_type type)
{
    if ((unsigned)type >= MMIOTRACE_TYPE_COUNT) {
        return "?";
    }
    return type_names[type];
}

enum mmiotrace_type mmiotrace_type_from_name(const char *name, size_t len)
{
    for (int t = MMIOTRACE_VERSION; t < MMIOTRACE_TYPE_COUNT; t++) {
        if (strlen(type_names[t]) == len && !memcmp(type_names[t], name, len)) {
            return t;
        }
    }
    return MMIOTRACE_NONE;
}

void mmiotrace_record_init(struct mmiotrace_record *rec, enum mmiotrace_type type)
{
    memset(rec, 0, sizeof(*rec));
    rec->type = type;
}

/* A token of the text format: non-empty, no blanks or control characters. */
static bool is_token(const char *s, size_t len)
{
    if (!len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

/* The replay annotations' rules (R/W records only). */
static const char *check_annotations(const struct mmiotrace_record *rec)
{
    unsigned ext = rec->ext;

    if (!(ext & MMIOTRACE_EXT_ANNOT)) {
        return NULL;
    }
    if (rec->type != MMIOTRACE_READ && rec->type != MMIOTRACE_WRITE) {
        return "match=, rel=, poll= and opt= are for R and W records only";
    }
    if ((ext & MMIOTRACE_EXT_MATCH) && rec->type != MMIOTRACE_WRITE) {
        return "match= is for W records only";
    }
    if ((ext & MMIOTRACE_EXT_POLL) && rec->type != MMIOTRACE_READ) {
        return "poll= is for R records only";
    }
    if ((ext & MMIOTRACE_EXT_MATCH) && rec->rw.width < 8 &&
        rec->match_mask >> (8 * rec->rw.width)) {
        return "match= has bits beyond the access's width";
    }
    if ((ext & MMIOTRACE_EXT_REL) && rec->rel_bar > 5) {
        return "rel= BAR is not 0-5";
    }
    return NULL;
}

static const char *check_dma(const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_DMAMAP) {
        return NULL;
    }
    if (rec->dma.dir != MMIOTRACE_DMA_TO_DEVICE && rec->dma.dir != MMIOTRACE_DMA_FROM_DEVICE) {
        return "DMA direction is not TO or FROM";
    }
    if (rec->dma.nbytes > MMIOTRACE_DMA_BYTES_MAX || rec->dma.nbytes > rec->dma.len) {
        return "DMA data is longer than the DMA or than 4096 bytes";
    }
    if (rec->dma.nbytes && !rec->dma.data) {
        return "DMA data missing";
    }
    return NULL;
}

/* The facts' rules (any record). */
static const char *check_facts(const struct mmiotrace_record *rec)
{
    if (rec->ext & ~MMIOTRACE_EXT_ALL) {
        return "unknown ext bits";
    }
    if ((rec->ext & MMIOTRACE_EXT_DEV) && (rec->dev_len > MMIOTRACE_DEV_MAX || !rec->dev_len)) {
        return "dev must be 1 to 64 bytes";
    }
    if ((rec->ext & MMIOTRACE_EXT_ASM) && rec->asm_len > MMIOTRACE_ASM_MAX) {
        return "asm text is longer than 256 bytes";
    }
    if ((rec->ext & MMIOTRACE_EXT_INSN) && (!rec->insn_len || rec->insn_len > MMIOTRACE_INSN_MAX)) {
        return "insn must be 1 to 16 bytes";
    }
    if ((rec->ext & MMIOTRACE_EXT_BAR) && rec->bar > 6) {
        return "bar is not 0-6";
    }
    if ((rec->ext & MMIOTRACE_EXT_VCPU) && rec->vcpu < MMIOTRACE_VCPU_NONE) {
        return "vcpu is negative";
    }
    return check_annotations(rec);
}

const char *mmiotrace_record_check(const struct mmiotrace_record *rec)
{
    const char *why = check_facts(rec);

    if (why) {
        return why;
    }
    if (rec->ts_ns > MMIOTRACE_TS_MAX_NS && rec->type != MMIOTRACE_VERSION &&
        rec->type != MMIOTRACE_PCIDEV) {
        return "timestamp is beyond 4294967295.999999 s";
    }
    switch (rec->type) {
    case MMIOTRACE_VERSION:
        if (!is_token(rec->version.text, rec->version.len) || rec->version.len > 64) {
            return "version must be one word of at most 64 bytes";
        }
        break;
    case MMIOTRACE_PCIDEV:
        if (rec->pcidev.driver_len &&
            (!is_token(rec->pcidev.driver, rec->pcidev.driver_len) || rec->pcidev.driver_len > 64 ||
             memchr(rec->pcidev.driver, '=', rec->pcidev.driver_len))) {
            return "driver must be one word of at most 64 bytes without '='";
        }
        break;
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE: {
        unsigned w = rec->rw.width;
        if (w != 1 && w != 2 && w != 4 && w != 8) {
            return "width is not 1, 2, 4 or 8";
        }
        if ((rec->ext & MMIOTRACE_EXT_PC_UNKNOWN) && rec->rw.pc) {
            return "pc=unknown with a non-zero PC";
        }
        break;
    }
    case MMIOTRACE_DMA:
    case MMIOTRACE_DMAMAP:
        return check_dma(rec);
    case MMIOTRACE_UNKNOWN:
    case MMIOTRACE_MAP:
    case MMIOTRACE_UNMAP:
    case MMIOTRACE_LOST:
        break;
    case MMIOTRACE_MARK:
        if (rec->mark.len > MMIOTRACE_TEXT_MAX) {
            return "MARK text is longer than 4096 bytes";
        }
        break;
    case MMIOTRACE_CONFIG:
        if (!rec->config.len || rec->config.len > MMIOTRACE_CONFIG_MAX) {
            return "config space must be 1 to 4096 bytes";
        }
        break;
    case MMIOTRACE_IRQ:
        if (rec->irq.kind == MMIOTRACE_IRQ_INTX) {
            if (rec->irq.vector > 3 || rec->irq.data > 1) {
                return "INTX pin must be 0-3 and level 0 or 1";
            }
        } else if (rec->irq.kind != MMIOTRACE_IRQ_MSI && rec->irq.kind != MMIOTRACE_IRQ_MSIX) {
            return "unknown interrupt kind";
        }
        break;
    default:
        return "unknown record type";
    }
    return NULL;
}

/* ---- What a line of the text format is, from its first word (reader and writer agree) ---- */

static const struct {
    const char *word;
    size_t len;
    enum keyword kw;
} keywords[] = {
    {"VERSION", 7, KW_VERSION}, {"PCIDEV", 6, KW_PCIDEV}, {"UNKNOWN", 7, KW_UNKNOWN},
    {"MAP", 3, KW_MAP},         {"UNMAP", 5, KW_UNMAP},   {"MARK", 4, KW_MARK},
    {"MARKX", 5, KW_MARKX},     {"LOST", 4, KW_LOST},     {"PCICFG", 6, KW_PCICFG},
    {"IRQ", 3, KW_IRQ},         {"LSPCI", 5, KW_SKIP},    {"DMA", 3, KW_DMA},
    {"DMAMAP", 6, KW_DMAMAP},
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

enum keyword mmiotrace_classify_line(const char *line, size_t len)
{
    if (len >= 2 && line[1] == ' ') {
        if (line[0] == 'R') {
            return KW_R;
        }
        if (line[0] == 'W') {
            return KW_W;
        }
    }
    if (!len) {
        return KW_BLANK;
    }
    if (line[0] == '#') {
        return KW_SKIP;
    }
    if ((len >= 8 && !memcmp(line, "rw what?", 8)) || (len >= 9 && !memcmp(line, "map what?", 9))) {
        return KW_SKIP;
    }
    size_t w = 0;
    while (w < len && !is_blank(line[w])) {
        w++;
    }
    if (!w) {
        size_t i = 0;
        while (i < len && is_blank(line[i])) {
            i++;
        }
        return i == len ? KW_BLANK : KW_OTHER;
    }
    if (w == 1 && (line[0] == 'R' || line[0] == 'W')) {
        return line[0] == 'R' ? KW_R : KW_W;
    }
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (keywords[i].len == w && !memcmp(line, keywords[i].word, w)) {
            return keywords[i].kw;
        }
    }
    return KW_OTHER;
}

bool mmiotrace_lost_text(const char *text, size_t len, uint64_t *count)
{
    uint64_t v = 0;

    if (len < 14 || memcmp(text, "Lost ", 5) || memcmp(text + len - 8, " events.", 8) ||
        text[5] == '0') {
        return false;
    }
    for (const char *p = text + 5; p < text + len - 8; p++) {
        unsigned d = (unsigned char)*p - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *count = v;
    return true;
}
