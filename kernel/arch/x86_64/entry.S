/* entry.S: the ways into the kernel from user space and back out.
 *
 * syscall_entry and int80_entry save the user registers straight into the
 * current thread's struct user_context (RSP is pointed at its end and the
 * registers are pushed), switch to the kernel stack and call
 *     void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno);
 * which never returns (with the fast path built, Call and ReplyRecv go to
 *     void fastpath_call(void);  and  void fastpath_reply_recv(void);
 * instead, which never return either); C leaves through one of the restore functions:
 *     void restore_user_sysret(struct user_context *ctx);  (RIP canonical!)
 *     void restore_user_iret(struct user_context *ctx);
 */
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <ferry/syscall.h>

#define CTX_RIP_OFF    (15 * 8)
#define CTX_RSP_OFF    (16 * 8)
#define CTX_RFLAGS_OFF (17 * 8)

/* Saves R15..RBX below the already pushed RIP; RAX last, at regs[0]. */
.macro SAVE_GPRS_BUT_RAX
    pushq %r15
    pushq %r14
    pushq %r13
    pushq %r12
    pushq %r11
    pushq %r10
    pushq %r9
    pushq %r8
    pushq %rbp
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %rbx
.endm

    .text
    .global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:PERCPU_SCRATCH
    movq %gs:PERCPU_CUR_CTX_TOP, %rsp
    pushq %r11                      /* RFLAGS, as syscall left it */
    pushq %gs:PERCPU_SCRATCH        /* RSP */
    pushq %rcx                      /* RIP */
    SAVE_GPRS_BUT_RAX
    pushq %rax
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    xorl %ebp, %ebp
#if FERRY_FASTPATH
    /* Call and ReplyRecv try the IPC fast path first (core/fastpath.c);
     * it leaves by sysret, or hands over to syscall_dispatch itself. */
    cmpq $FERRY_SYS_CALL, %rax
    je fastpath_call
    cmpq $FERRY_SYS_REPLY_RECV, %rax
    je fastpath_reply_recv
#endif
    movq %rax, %rdx                 /* rdi = cptr, rsi = msginfo already */
    call syscall_dispatch
    ud2

/* The second entry: int 0x80 from ring 3, same ABI.  The CPU pushed an
 * interrupt frame on the kernel stack (TSS.rsp0); copy it into the TCB. */
    .global int80_entry
int80_entry:
    swapgs
    movq %rax, %gs:PERCPU_SCRATCH
    movq %rsp, %rax                 /* the interrupt frame: RIP CS RFLAGS RSP SS */
    movq %gs:PERCPU_CUR_CTX_TOP, %rsp
    pushq 16(%rax)                  /* RFLAGS */
    pushq 24(%rax)                  /* RSP */
    pushq (%rax)                    /* RIP */
    SAVE_GPRS_BUT_RAX
    pushq %gs:PERCPU_SCRATCH        /* RAX */
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    movq %gs:PERCPU_SCRATCH, %rdx
    xorl %ebp, %ebp
    call int80_dispatch
    ud2

/* The hardware floor: while the floor benchmark runs, LSTAR points here,
 * so a syscall costs syscall + sysret and nothing else (RCX and R11 still
 * hold the return RIP and RFLAGS).  FLOOR_END goes the normal way. */
    .global floor_syscall_entry
floor_syscall_entry:
    cmpq $FERRY_SYS_FLOOR_END, %rax
    je syscall_entry
    sysretq

    .global restore_user_sysret
restore_user_sysret:
    movq %rdi, %rsp
    popq %rax
    popq %rbx
    addq $8, %rsp                   /* RCX: sysret takes RIP from it */
    popq %rdx
    popq %rsi
    popq %rdi
    popq %rbp
    popq %r8
    popq %r9
    popq %r10
    addq $8, %rsp                   /* R11: sysret takes RFLAGS from it */
    popq %r12
    popq %r13
    popq %r14
    popq %r15
    movq (%rsp), %rcx               /* RIP */
    movq 16(%rsp), %r11             /* RFLAGS */
    movq 8(%rsp), %rsp              /* user RSP: no kernel stack from here on */
    swapgs
    sysretq

    .global restore_user_iret
restore_user_iret:
    /* Build the interrupt frame on the kernel stack, then load registers. */
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $SEL_UDATA
    pushq CTX_RSP_OFF(%rdi)
    pushq CTX_RFLAGS_OFF(%rdi)
    pushq $SEL_UCODE
    pushq CTX_RIP_OFF(%rdi)
    movq 0(%rdi), %rax
    movq 8(%rdi), %rbx
    movq 16(%rdi), %rcx
    movq 24(%rdi), %rdx
    movq 32(%rdi), %rsi
    movq 48(%rdi), %rbp
    movq 56(%rdi), %r8
    movq 64(%rdi), %r9
    movq 72(%rdi), %r10
    movq 80(%rdi), %r11
    movq 88(%rdi), %r12
    movq 96(%rdi), %r13
    movq 104(%rdi), %r14
    movq 112(%rdi), %r15
    movq 40(%rdi), %rdi
    swapgs
    iretq
