/* vectors.S: entry stubs for the 32 CPU exceptions.
 *
 * Each stub pushes a zero where the CPU pushes no error code, then its
 * vector, and joins trap_common, which saves the general registers as a
 * struct trap_frame and calls:  void trap_handler(struct trap_frame *tf);
 *
 * KPTI=1 (arch/kpti.h): from ring 3 the CPU pushed the frame on the entry
 * stack (TSS.rsp0), in the user table: the stub loads the kernel table
 * and moves the frame to the kernel stack (a trap from ring 3 never
 * returns here: the kernel leaves through the scheduler).  A trap in ring
 * 0 may come while the user table is loaded (an NMI or a debug exception
 * inside an entry or exit stub): it switches to the kernel's own table if
 * so and back before iretq. */
#include <arch/kpti.h>
#include <arch/percpu.h>

.macro VEC_NOERR n
    .global trap_vec\n
trap_vec\n:
    pushq $0
    pushq $\n
    jmp trap_common
.endm

.macro VEC_ERR n
    .global trap_vec\n
trap_vec\n:
    pushq $\n
    jmp trap_common
.endm

    ENTRY_TEXT
VEC_NOERR 0
VEC_NOERR 1
VEC_NOERR 2
VEC_NOERR 3
VEC_NOERR 4
VEC_NOERR 5
VEC_NOERR 6
VEC_NOERR 7
VEC_ERR   8
VEC_NOERR 9
VEC_ERR   10
VEC_ERR   11
VEC_ERR   12
VEC_ERR   13
VEC_ERR   14
VEC_NOERR 15
VEC_NOERR 16
VEC_ERR   17
VEC_NOERR 18
VEC_NOERR 19
VEC_NOERR 20
VEC_ERR   21
VEC_NOERR 22
VEC_NOERR 23
VEC_NOERR 24
VEC_NOERR 25
VEC_NOERR 26
VEC_NOERR 27
VEC_NOERR 28
VEC_ERR   29
VEC_ERR   30
VEC_NOERR 31

/* Device and timer interrupts, vectors 32..47, the inter-processor
 * interrupt (smp.c) and the spurious vector. */
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,240,255
VEC_NOERR \n
.endr

trap_common:
    /* The interrupt gate cleared IF, TF and NT but not DF or AC: give C
     * its flags (DF = 0, and AC = 0 so SMAP holds) before anything else.
     * iretq restores the interrupted code's own flags. */
    pushq $2
    popfq
    /* From ring 3 (CS at 24(%rsp), above vector and error code), GS is
     * still the user's: switch to the kernel's per-CPU GS. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
#if FERRY_KPTI
    movq %rax, %gs:PERCPU_SCRATCH
    KPTI_SWITCH_TO_KERNEL_CR3 %rax
    movq %rsp, %rax                 /* vector, error, RIP, CS, RFLAGS, RSP, SS */
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq 48(%rax)
    pushq 40(%rax)
    pushq 32(%rax)
    pushq 24(%rax)
    pushq 16(%rax)
    pushq 8(%rax)
    pushq (%rax)
    movq %gs:PERCPU_SCRATCH, %rax
#endif
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
#if FERRY_KPTI
    /* Ring 0 with a user table loaded?  (The user tables lie in one
     * array: ks_kpti_user_base and up.)  r12 = the CR3 to restore, or 0. */
    xorl %r12d, %r12d
    testb $3, 18*8(%rsp)            /* CS, above the registers, vector, error, RIP */
    jnz 3f
    movq %cr3, %rax
    andq $-4096, %rax
    subq ks_kpti_user_base(%rip), %rax
    cmpq $KPTI_USER_TABLES_BYTES, %rax
    jae 3f
    movq %cr3, %r12
    movq ks_kpti_kernel_cr3(%rip), %rax
    movq %rax, %cr3
3:
#endif
    movq %rsp, %rdi
    call trap_handler
#if FERRY_KPTI
    testq %r12, %r12
    jz 4f
    movq %r12, %cr3
4:
#endif
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp              /* vector and error code */
    iretq

    .section .rodata
    .global trap_vectors
trap_vectors:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_vec\n
    .endr
    .global irq_vectors
irq_vectors:
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad trap_vec\n
    .endr
    .global spurious_vector
spurious_vector:
    .quad trap_vec255
    .global ipi_vector
ipi_vector:
    .quad trap_vec240
