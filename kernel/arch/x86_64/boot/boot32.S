/* boot32.S: Multiboot 1 and 2 headers and the 32-bit entry that enters long
 * mode and jumps to the higher-half kernel.
 *
 * C prototype of what it calls: void kmain(uint32_t magic, uint32_t info_phys);
 *
 * The boot page tables map the first 1 GiB three times with 2 MiB pages:
 * identity (to survive the switch), at KERNEL_PHYSMAP_BASE (the direct map)
 * and at KERNEL_VIRT_BASE (the kernel image).  paging_init replaces them. */
#include <arch/kstack.h>
#include <ferry/bench_format.h>

#define MB1_MAGIC      0x1BADB002
#define MB1_FLAGS      0x00000003          /* page-align modules, want memory map */
#define MB2_MAGIC      0xE85250D6
#define KERNEL_VIRT_BASE 0xffffffff80000000

#define CR0_PE  (1 << 0)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define COM1 0x3f8

    .section .multiboot1, "a"
    .balign 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long 0                                 /* i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
    .word 0, 0                              /* end tag */
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    movl %eax, %edi                 /* magic, kept for kmain */
    movl %ebx, %esi                 /* info structure, physical */
    movl $boot_stack32_top, %esp

    /* Long mode present?  Otherwise say so on COM1 and stop. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx
    jz no_long_mode

    /* Boot page tables: one PD of 512 x 2 MiB pages, shared by all three maps. */
    movl $boot_pd, %ebx
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                 /* present, writable, 2 MiB page */
    movl %eax, (%ebx, %ecx, 8)
    movl $0, 4(%ebx, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jb 1b
    movl $(boot_pd + 3), boot_pdpt_low
    movl $(boot_pd + 3), boot_pdpt_high + 510 * 8
    movl $(boot_pdpt_low + 3), boot_pml4
    movl $(boot_pdpt_low + 3), boot_pml4 + 256 * 8
    movl $(boot_pdpt_high + 3), boot_pml4 + 511 * 8

    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $start64_low

no_long_mode:
    movl $no_lm_msg, %esi
2:  lodsb
    testb %al, %al
    jz 3f
    movw $COM1, %dx
    outb %al, %dx
    jmp 2b
3:  movb $0x11, %al                 /* FERRY_EXIT_FAILURE via isa-debug-exit */
    movw $0xf4, %dx
    outb %al, %dx
4:  hlt
    jmp 4b

    .code64
start64_low:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabs $start64_high, %rax
    jmp *%rax

    .section .boot.data, "aw"
no_lm_msg:
    .ascii FERRY_CONSOLE_PANIC
    .asciz "this CPU has no long mode; Ferry needs x86-64\n"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .balign 16
boot_stack32:
    .fill 256, 1, 0
boot_stack32_top:
    .balign 4096
    .global boot_pml4
boot_pml4:      .fill 4096, 1, 0
boot_pdpt_low:  .fill 4096, 1, 0
boot_pdpt_high: .fill 4096, 1, 0
boot_pd:        .fill 4096, 1, 0

    .text
start64_high:
    movabs $(ks_boot_stack + KSTACK_GUARD + KSTACK_SIZE), %rsp
    xorl %ebp, %ebp
    movl %edi, %edi                 /* upper halves are undefined after the mode switch */
    movl %esi, %esi
    call kmain
5:  cli
    hlt
    jmp 5b
