/*
 * hvmmio seabios-boot: a boot sector. SeaBIOS reads it from the traced disk (NVMe or
 * virtio-blk) through its own driver, jumps to it at 0:0x7c00; it says so on the debug
 * console (port 0xe9) and leaves through isa-debug-exit (port 0xf4): QEMU exits 1.
 */
	.code16
	.text
	.globl _start
_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw $msg, %si
	cld
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, $0xe9
	jmp 1b
2:	movb $0, %al
	outb %al, $0xf4
3:	hlt
	jmp 3b
msg:	.asciz "hvmmio-mbr: booted from the traced disk\n"
	.org 510
	.byte 0x55, 0xaa
	.section .note.GNU-stack,"",@progbits
