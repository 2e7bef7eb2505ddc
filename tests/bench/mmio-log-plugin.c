/*
 * mmio-log: the minimal value-logging MMIO tracer a user would write as a TCG plugin, the
 * peer of hvmmio's tracing in the benchmark of issue 16 (tests/bench/plugin-peer.sh).
 *
 * Every guest load and store gets a memory callback (plugins cannot ask for I/O accesses
 * only: whether an access is I/O is known when it is made); accesses in the physical
 * range [lo, hi) (a device's BARs, or the PCI hole) are written one line each, in
 * mmiotrace's R/W shape: direction, width, host nanoseconds, vCPU, physical address,
 * value, guest PC. Without a range, the accesses qemu_plugin_hwaddr_is_io() calls I/O
 * are written; in QEMU 10.2's system emulation that is none (tlb_plugin_lookup tests
 * TLB_MMIO in the fast TLB word, where 10.2 no longer keeps it: hwprofile prints no
 * device either), hence the range.
 *
 *   -plugin libmmio-log.so,lo=0x80000000,hi=0xfec00000,out=trace.txt
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t lo, hi = UINT64_MAX;
static bool ranged;
static FILE *out;
static GMutex lock;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
    qemu_plugin_mem_value v;
    uint64_t pa, val;

    if (!hw || (!ranged && !qemu_plugin_hwaddr_is_io(hw))) {
        return;
    }
    pa = qemu_plugin_hwaddr_phys_addr(hw);
    if (pa < lo || pa >= hi) {
        return;
    }
    v = qemu_plugin_mem_get_value(info);
    val = v.type == QEMU_PLUGIN_MEM_VALUE_U8    ? v.data.u8
          : v.type == QEMU_PLUGIN_MEM_VALUE_U16 ? v.data.u16
          : v.type == QEMU_PLUGIN_MEM_VALUE_U32 ? v.data.u32
                                                : v.data.u64;
    g_mutex_lock(&lock);
    fprintf(out, "%c %u %" PRIu64 " %u 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n",
            qemu_plugin_mem_is_store(info) ? 'W' : 'R', 1u << qemu_plugin_mem_size_shift(info),
            now_ns(), vcpu, pa, val, (uint64_t)(uintptr_t)udata);
    g_mutex_unlock(&lock);
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);

    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
                                         (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    const char *path = "mmio-log.txt";

    for (int i = 0; i < argc; i++) {
        if (g_str_has_prefix(argv[i], "lo=")) {
            lo = g_ascii_strtoull(argv[i] + 3, NULL, 0);
            ranged = true;
        } else if (g_str_has_prefix(argv[i], "hi=")) {
            hi = g_ascii_strtoull(argv[i] + 3, NULL, 0);
            ranged = true;
        } else if (g_str_has_prefix(argv[i], "out=")) {
            path = argv[i] + 4;
        } else {
            fprintf(stderr, "mmio-log: unknown option '%s' (lo=, hi=, out=)\n", argv[i]);
            return -1;
        }
    }
    out = fopen(path, "w");
    if (!out) {
        perror(path);
        return -1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
