/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Generated guest and host logs of the same N accesses (trace-gen.h). */
#include "trace-gen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "mmiotrace.h"

static void put(struct mmiotrace_writer *w, const struct mmiotrace_record *r)
{
    if (mmiotrace_writer_write(w, r) < 0) {
        _exit(errno == EPIPE ? 0 : 3);
    }
}

static void rw(struct mmiotrace_record *r, bool host, uint64_t i, enum mmiotrace_type t,
               uint64_t phys, uint64_t value, uint64_t pc)
{
    mmiotrace_record_init(r, t);
    r->ts_ns = 1000000000ull + i * 1000;
    r->rw.width = 4;
    r->rw.map_id = 1;
    r->rw.phys = phys;
    r->rw.value = value;
    if (host) {
        r->rw.pc = pc;
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU;
        r->vcpu = 0;
    }
}

void trace_gen_write(const char *path, bool host, uint64_t n, bool extras)
{
    const uint64_t base = TRACE_GEN_BASE;
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        perror(path);
        _exit(3);
    }
    struct mmiotrace_writer *w =
        mmiotrace_writer_new_fd(fd, host ? MMIOTRACE_FMT_EXTENDED : MMIOTRACE_FMT_KERNEL);
    struct mmiotrace_record r;

    mmiotrace_record_init(&r, MMIOTRACE_MAP);
    r.map.map_id = 1;
    r.map.phys = base;
    r.map.len = 0x20000;
    r.map.virt = host ? 0 : 0xffffc90000000000ull;
    put(w, &r);
    if (host && extras) {
        for (uint64_t i = 0; i < TRACE_GEN_PRE; i++) { /* firmware and PCI probing */
            rw(&r, true, i, MMIOTRACE_READ, base + 8, i, 0xfff0);
            put(w, &r);
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = i * 0x9e3779b97f4a7c15ull;
        uint64_t pc = 0xffffffff81000000ull + ((x >> 30) & 0xfff0);
        if (extras && i % 10000 == 9999) {
            uint64_t p = base + 0x1000 + ((x >> 40) & 0xf00);
            if (host) {
                for (int k = 0; k < 8; k++) {
                    rw(&r, true, i, MMIOTRACE_WRITE, p + 4 * k, k, 0xffffffff81234567ull);
                    put(w, &r);
                }
            } else {
                mmiotrace_record_init(&r, MMIOTRACE_UNKNOWN);
                r.ts_ns = 1000000000ull + i * 1000;
                r.unknown.map_id = 1;
                r.unknown.phys = p;
                r.unknown.opcode[0] = 0xf3;
                r.unknown.opcode[1] = 0xa5;
                put(w, &r);
            }
            continue;
        }
        if (extras && host && i % 1000 == 500) { /* a user-space mmap of another BAR; QEMU */
            rw(&r, true, i, MMIOTRACE_READ, base + 0x40000, i, pc);
            put(w, &r);
            rw(&r, true, i, MMIOTRACE_WRITE, base + 0x10, i, 0);
            r.vcpu = MMIOTRACE_VCPU_NONE;
            put(w, &r);
        }
        rw(&r, host, i, (x >> 20) & 1 ? MMIOTRACE_READ : MMIOTRACE_WRITE,
           base + ((x >> 40) & 0xfffc), (x >> 8) & 0xffffffff, pc);
        put(w, &r);
    }
    if (host && extras) {
        for (uint64_t i = 0; i < TRACE_GEN_PRE; i++) { /* the watchdog after the guest stopped */
            rw(&r, true, n + i, MMIOTRACE_READ, base + 8, i, 0xffffffff81000100ull);
            put(w, &r);
        }
    }
    if (mmiotrace_writer_free(w) < 0) {
        _exit(3);
    }
    close(fd);
    _exit(0);
}
