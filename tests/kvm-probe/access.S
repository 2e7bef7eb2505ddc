/*
 * hvmmio kvm-probe: every access form, one labelled instruction each (tests/kvm-probe/README.md).
 *
 * probe_accesses(ctx): ctx points at struct probe_ctx (probe.c): the BAR addresses and a
 * RAM buffer. Read values go to probe_results[] at fixed slots (R slot, reg): probe.c
 * checks them, and the test checks the host's records against the p_* labels. Each
 * labelled instruction is the one that touches the device.
 *
 * The test device (T, BAR0) and its memory BAR (M, BAR2), edu (E), e1000e (N) and, when
 * present, rtl8139's MMIO BAR (R).
 */
	.code32
	.set CTX_T, 0
	.set CTX_M, 4
	.set CTX_E, 8
	.set CTX_N, 12
	.set CTX_RAM, 16
	.set CTX_LOOPS, 20
	.set CTX_R, 24

	.macro R slot, reg
	movl \reg, probe_results + 4 * \slot
	.endm
	.macro R64 slot, mm
	movq \mm, probe_results + 4 * \slot
	.endm
	.macro AT name
	.globl p_\name
p_\name:
	.endm

	.section .rodata
	.balign 16
q8:	.quad 0x8877665544332211
q16:	.quad 0x1122334455667788, 0x99aabbccddeeff00
q_edu:	.quad 0x0000000012345000

	.text
	.globl probe_accesses
probe_accesses:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %ebp		/* ctx */

	/* without the test device (a guest that cannot serve vfio-user): edu and e1000e only */
	movl CTX_T(%ebp), %esi
	testl %esi, %esi
	jz no_testdev

	/* ---- 1. widths 1, 2, 4, 8 and 16 on the test device's SCRATCH (0x40-0x7f) ---- */
AT w1
	movb $0x11, 0x40(%esi)
AT w2
	movw $0x2233, 0x42(%esi)
AT w4
	movl $0x44556677, 0x44(%esi)
	xorl %eax, %eax
AT r1
	movb 0x40(%esi), %al
	R 0, %eax
	xorl %eax, %eax
AT r2
	movw 0x42(%esi), %ax
	R 1, %eax
AT r4
	movl 0x44(%esi), %eax
	R 2, %eax
	movq q8, %mm0
AT w8
	movq %mm0, 0x48(%esi)
AT r8
	movq 0x48(%esi), %mm1
	R64 3, %mm1
	movdqu q16, %xmm0
AT w16
	movdqu %xmm0, 0x50(%esi)
AT r16
	movdqu 0x50(%esi), %xmm1
	movdqu %xmm1, probe_results + 4 * 5

	/* ---- 2. the two 4-byte halves of the 64-bit REG64 (0x10) ---- */
AT half_lo_w
	movl $0x89abcdef, 0x10(%esi)
AT half_hi_w
	movl $0x01234567, 0x14(%esi)
AT half_r8
	movq 0x10(%esi), %mm2
	R64 9, %mm2
AT half_lo_r
	movl 0x10(%esi), %eax
	R 11, %eax
AT half_hi_r
	movl 0x14(%esi), %eax
	R 12, %eax

	/* ---- 3. straddling: two registers, and a page boundary ---- */
AT strad_w4
	movl $0xa1b2c3d4, 0x6a(%esi)	/* SCRATCH 0x6a-0x6d: two 2-byte halves */
AT strad_r4
	movl 0x6a(%esi), %eax
	R 13, %eax
AT inv_w
	movl $0x0f0f0f0f, 0x04(%esi)	/* INVERT */
AT s32_w
	movl $0x12345678, 0x08(%esi)	/* SCRATCH32 */
AT strad_r8
	movq 0x04(%esi), %mm3		/* INVERT and SCRATCH32 in one read */
	R64 14, %mm3
	movl CTX_M(%ebp), %edi
AT page_w
	movl $0xcafef00d, 0xffe(%edi)	/* BAR2 0xffe-0x1001: two pages */
AT page_r
	movl 0xffe(%edi), %eax
	R 16, %eax

	/* ---- 4. read-modify-write ---- */
AT rmw_init
	movl $0x100, 0x60(%esi)
AT rmw_init_hi
	movl $0, 0x64(%esi)
AT rmw_or
	orl $0x3, 0x60(%esi)
	movl $0x55, %ecx
AT rmw_xchg
	xchgl %ecx, 0x60(%esi)
	R 17, %ecx
	movl $0x55, %eax
	xorl %edx, %edx
	movl $0x22222222, %ebx
	movl $0x11111111, %ecx
AT rmw_cx8
	cmpxchg8b 0x60(%esi)
	setz %al
	movzbl %al, %eax
	R 18, %eax
AT rmw_r8
	movq 0x60(%esi), %mm4
	R64 19, %mm4

	/* ---- 5. string instructions: rep movs both ways, rep stos (TAIL 0x800) ---- */
	cld
	movl CTX_RAM(%ebp), %ebx
	movl $0x10203040, 0(%ebx)
	movl $0x50607080, 4(%ebx)
	movl $0x90a0b0c0, 8(%ebx)
	movl $0xd0e0f000, 12(%ebx)
	pushl %esi
	movl %esi, %edi
	addl $0x800, %edi
	movl %ebx, %esi
	movl $4, %ecx
AT movs_w
	rep movsl
	popl %esi
	pushl %esi
	addl $0x800, %esi
	leal 16(%ebx), %edi
	movl $4, %ecx
AT movs_r
	rep movsl
	popl %esi
	movl 16(%ebx), %eax
	R 21, %eax
	movl 28(%ebx), %eax
	R 22, %eax
	leal 0x810(%esi), %edi
	movl $0x5a5a5a5a, %eax
	movl $4, %ecx
AT stos
	rep stosl
AT stos_r
	movl 0x81c(%esi), %eax
	R 23, %eax

no_testdev:
	/* ---- 6. edu: ID, INVERT, the 8-byte DMA source, a 1-byte read it refuses ---- */
	movl CTX_E(%ebp), %edx
AT edu_id
	movl 0x0(%edx), %eax
	R 24, %eax
AT edu_inv_w
	movl $0x12345678, 0x4(%edx)
AT edu_inv_r
	movl 0x4(%edx), %eax
	R 25, %eax
	movq q_edu, %mm5
AT edu_w8
	movq %mm5, 0x80(%edx)
AT edu_r8
	movq 0x80(%edx), %mm6
	R64 26, %mm6
	movl $0xffffffff, %eax
AT edu_r1
	movb 0x0(%edx), %al		/* edu takes 4 and 8 bytes only: refused, reads 0 */
	R 28, %eax

	/* ---- 7. e1000e: RDBAL/RDBAH read back ---- */
	movl CTX_N(%ebp), %edx
AT e_rdbal_w
	movl $0x12345670, 0x2800(%edx)
AT e_rdbah_w
	movl $0x9, 0x2804(%edx)
AT e_rdbal_r
	movl 0x2800(%edx), %eax
	R 29, %eax
AT e_rdbah_r
	movl 0x2804(%edx), %eax
	R 30, %eax

	/* ---- 7b. rtl8139's MMIO BAR1: 256 bytes (a subpage) aliasing its I/O BAR; MAR0-7 ---- */
	movl CTX_R(%ebp), %edx
	testl %edx, %edx
	jz no_rtl
AT rtl_w4
	movl $0x44332211, 0x08(%edx)
AT rtl_w4b
	movl $0x88776655, 0x0c(%edx)
AT rtl_strad
	movl 0x0a(%edx), %eax		/* two 2-byte pieces, one access */
	R 33, %eax
	xorl %eax, %eax
AT rtl_r1
	movb 0x0f(%edx), %al
	R 34, %eax
no_rtl:

	/* ---- 8. timed loops: CTX_LOOPS reads of edu's ID, and writes of its INVERT ---- */
	movl CTX_E(%ebp), %edi		/* not edx: rdtsc writes edx:eax */
	movl CTX_LOOPS(%ebp), %ecx
	rdtsc
	movl %eax, %ebx
1:
AT loop_r
	movl 0x0(%edi), %eax
	decl %ecx
	jnz 1b
	rdtsc
	subl %ebx, %eax
	R 31, %eax
	movl CTX_LOOPS(%ebp), %ecx
	rdtsc
	movl %eax, %ebx
2:
AT loop_w
	movl %ecx, 0x04(%edi)		/* edu INVERT */
	decl %ecx
	jnz 2b
	rdtsc
	subl %ebx, %eax
	R 32, %eax

	emms
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.section .note.GNU-stack,"",@progbits
