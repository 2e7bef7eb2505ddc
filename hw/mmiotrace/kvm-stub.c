/*
 * hvmmio: no KVM in this QEMU binary (kvm.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "mmiotrace-int.h"

bool mmiotrace_kvm_access_pc(CPUState *cpu, bool is_write, uint64_t gpa, unsigned len,
                             MmioTraceEvent *ev, uint8_t *insn, bool want_insn)
{
    return false;
}
