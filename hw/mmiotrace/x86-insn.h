/*
 * hvmmio: x86 guest state read without QEMU's CPU state (KVM exits).
 *
 * Under KVM, QEMU's copy of the vCPU registers is stale during an MMIO exit, and
 * synchronising it (cpu_synchronize_state) makes QEMU write every register back
 * before the next KVM_RUN, which discards the value KVM is about to complete a
 * read with. The tracer therefore reads the registers KVM reports for the exit
 * (kvm_run sync registers, or read-only KVM_GET_REGS/KVM_GET_SREGS) into this
 * structure and does its own page walk and decoding from it.
 *
 * This file has no QEMU dependencies: guest memory is read through a callback, so
 * tests/unit can check it with a fake guest.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_X86_INSN_H
#define HW_MMIOTRACE_X86_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The registers that locate and decode the instruction behind an access. */
typedef struct MmioTraceX86State {
    uint64_t gpr[16];       /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
    uint64_t rip, rflags;
    uint64_t cr0, cr3, cr4, efer;
    uint64_t seg_base[6];   /* es cs ss ds fs gs */
    bool cs_l, cs_db;       /* code segment: 64-bit, 32-bit default size */
} MmioTraceX86State;

enum { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS };

/* Read len bytes of guest-physical memory; false if they are not RAM. */
typedef bool (*MmioTraceReadPhys)(void *opaque, uint64_t pa, void *buf, size_t len);

/* 16, 32 or 64: the code segment's default operand mode. */
int mmiotrace_x86_code_bits(const MmioTraceX86State *s);

/* Linear address of the instruction at rip (CS base added outside 64-bit mode). */
uint64_t mmiotrace_x86_code_linear(const MmioTraceX86State *s, uint64_t rip);

/* Translate a linear address with the guest's paging mode; false if not mapped. */
bool mmiotrace_x86_translate(const MmioTraceX86State *s, uint64_t la, uint64_t *pa,
                             MmioTraceReadPhys read, void *opaque);

/*
 * Read len bytes at linear address la, page by page. Returns how many bytes could be
 * read from the start (fewer when a later page is not mapped).
 */
size_t mmiotrace_x86_read_linear(const MmioTraceX86State *s, uint64_t la, uint8_t *buf,
                                 size_t len, MmioTraceReadPhys read, void *opaque);

/*
 * The instruction that made a write KVM has already completed. KVM finishes a write
 * (and advances rip past the instruction) before it exits to QEMU, except in the
 * middle of a rep-prefixed string instruction, which is restarted at rip.
 *
 * `before` holds the nbefore (<= 15) bytes that precede rip, `at` the bytes at rip.
 * gpa and len are the access. On success *start is rip minus the length of the
 * instruction that made the write (0 when it is the instruction at rip) and the
 * function returns true; it returns false when the bytes admit no candidate, or
 * several that the access cannot tell apart: the PC is then unknown.
 */
bool mmiotrace_x86_write_insn(const MmioTraceX86State *s, const uint8_t *before,
                              size_t nbefore, const uint8_t *at, size_t nat,
                              uint64_t gpa, unsigned len, unsigned *back);

#endif
