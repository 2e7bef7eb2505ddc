/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: the record model's helpers (libc only). */
#include <string.h>

#include "mmiotrace.h"

static const char *const type_names[MMIOTRACE_TYPE_COUNT] = {
    [MMIOTRACE_NONE] = "NONE", [MMIOTRACE_VERSION] = "VERSION", [MMIOTRACE_PCIDEV] = "PCIDEV",
    [MMIOTRACE_READ] = "R",    [MMIOTRACE_WRITE] = "W",         [MMIOTRACE_UNKNOWN] = "UNKNOWN",
    [MMIOTRACE_MAP] = "MAP",   [MMIOTRACE_UNMAP] = "UNMAP",     [MMIOTRACE_MARK] = "MARK",
    [MMIOTRACE_LOST] = "LOST", [MMIOTRACE_CONFIG] = "PCICFG",   [MMIOTRACE_IRQ] = "IRQ",
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

const char *mmiotrace_record_check(const struct mmiotrace_record *rec)
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
        break;
    }
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
