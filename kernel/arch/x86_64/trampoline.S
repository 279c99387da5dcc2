/* trampoline.S: the application processors' first code: real mode to long
 * mode, copied below 1 MiB (smp.c) and started there by a start-up IPI.
 *
 * The copy runs at any page-aligned physical address P below 1 MiB: real
 * mode finds P from CS (the SIPI sets CS = P >> 4, IP = 0), protected and
 * long mode address their data through ESI/RSI = P.  smp.c fills in the
 * block at the end before each start-up: the GDT pointer and the far
 * pointers (linear addresses, P-relative), CR3 (the boot page tables of
 * boot32.S, which map this page 1:1 and the kernel at -2 GiB), the EFER
 * bits (LME, NXE where the kernel's tables use NX), the stack and the
 * kernel entry, ap_entry (smp.c), called with no arguments. */

#define OFF(x) ((x) - ap_trampoline_start)

    .section .rodata, "a"
    .balign 16
    .global ap_trampoline_start, ap_trampoline_end
    .global ap_tr_gdtr, ap_tr_pm_ptr, ap_tr_lm_ptr, ap_tr_cr3, ap_tr_efer, ap_tr_stack, ap_tr_entry
    .global ap_tr_gdt, ap_tr_pm32, ap_tr_lm64
    .code16
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movzwl %ax, %esi
    shll $4, %esi                   /* esi = P */
    lgdtl OFF(ap_tr_gdtr)
    movl %cr0, %eax
    orl $1, %eax                    /* PE */
    movl %eax, %cr0
    ljmpl *OFF(ap_tr_pm_ptr)

    .code32
ap_tr_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl OFF(ap_tr_cr3)(%esi), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl OFF(ap_tr_efer)(%esi), %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax           /* PG */
    movl %eax, %cr0
    ljmpl *OFF(ap_tr_lm_ptr)(%esi)

    .code64
ap_tr_lm64:
    movl %esi, %esi
    movq OFF(ap_tr_stack)(%rsi), %rsp
    movq OFF(ap_tr_entry)(%rsi), %rax
    xorl %ebp, %ebp
    jmp *%rax

    .balign 8
ap_tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
ap_tr_gdtr:
    .word 31
    .long 0                         /* P + OFF(ap_tr_gdt) */
ap_tr_pm_ptr:
    .long 0                         /* P + OFF(ap_tr_pm32) */
    .word 0x08
ap_tr_lm_ptr:
    .long 0                         /* P + OFF(ap_tr_lm64) */
    .word 0x18
    .balign 8
ap_tr_cr3:   .quad 0
ap_tr_efer:  .quad 0
ap_tr_stack: .quad 0
ap_tr_entry: .quad 0
ap_trampoline_end:
