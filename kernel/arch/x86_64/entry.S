/* entry.S: the ways into the kernel from user space and back out.
 *
 * syscall_entry and int80_entry save the user registers straight into the
 * current thread's struct user_context (RSP is pointed at its end and the
 * registers are pushed), switch to the kernel stack and call
 *     void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno);
 * which never returns (with the fast path built, Call and ReplyRecv first
 * jump to
 *     _Noreturn void fastpath_call(word_t cptr, word_t msginfo);  (and fastpath_reply_recv)
 * which leave by sysret, or jump to fastpath_miss_call / _reply_recv when
 * the slow path must do the work);
 * C leaves through one of the restore functions:
 *     void restore_user_sysret(struct user_context *ctx);  (RIP canonical!)
 *     void restore_user_iret(struct user_context *ctx);
 *
 * Every entry establishes the same kernel state before any C runs:
 * IF, TF, DF, AC and NT clear (syscall: by MSR_FMASK, thread.c; int 0x80
 * and the exception stubs: by loading RFLAGS with only its fixed bit), the
 * kernel's GS base, the kernel stack.  A `syscall` from compatibility mode
 * (possible on AMD CPUs only, and only with a 32-bit code segment, which
 * the GDT does not offer) enters at syscall_compat_entry and faults the
 * thread.
 */
#include <arch/context.h>
#include <arch/fastpath_asm.h>
#include <arch/gdt.h>
#include <arch/kpti.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <ferry/syscall.h>

/* The end of a TCB's saved registers (its ctx is at its start, and
 * PERCPU_CUR points there): the stubs that push them start here. */
#define CTX_TOP (CTX_RFLAGS_OFF + 8)

/* Saves R15..RBX below the RCX and R11 slots (arch/context.h's order);
 * RAX, at regs[0], is the caller's to push last. */
/* Flags of the kernel's C code: everything clear but the fixed bit 1
 * (DF = 0 as the C ABI requires, AC = 0 so SMAP stays in force, NT = 0 so
 * iretq does not attempt a task return, IF = 0: the kernel is not
 * interruptible).  Used where the CPU did not clear them on entry. */
.macro KERNEL_FLAGS
    pushq $2
    popfq
.endm

.macro SAVE_GPRS_BUT_RAX_RCX_R11
    pushq %r15
    pushq %r14
    pushq %r13
    pushq %r12
    pushq %r10
    pushq %r9
    pushq %r8
    pushq %rbp
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rbx
.endm

/* The big kernel lock (smp.c, docs/smp.md), a ticket lock: take a
 * ticket, and the lock is ours when the owner field shows it.  Only ECX
 * changes on the uncontended path; the contended one calls bkl_wait
 * (which runs other CPUs' requests while it spins) with every register
 * the entry still needs kept, and leaves the entry for kernel_exit when
 * the current thread was taken from this CPU meanwhile.  kind: how the
 * entry came in (smp.c's WAIT_*). */
/* The lock is ours: wait until no other CPU runs the IPC fast path, which
 * runs without the lock as a reader (FASTPATH_ENTER; docs/smp.md, "The
 * fast path without the lock").  Our ticket was taken by a locked
 * instruction (a full fence) before the flags are read, and a reader sets
 * its flag by one before it reads the lock: either it sees the lock taken
 * (and falls back to the lock) or we see its flag.  This CPU's own flag is
 * clear (the fast path clears it before it takes the lock).  RCX only. */
.macro BKL_DRAIN
    leaq ks_percpu_of+PERCPU_IN_FASTPATH(%rip), %rcx
7:  cmpb $0, (%rcx)
    jne 6f
    addq $PERCPU_SIZE, %rcx
    cmpq ks_percpu_end(%rip), %rcx
    jb 7b
    jmp 5f
6:  pause
    jmp 7b
5:
.endm

.macro BKL_ACQUIRE kind
#if FERRY_LOCKDEBUG
    /* LOCKDEBUG=1 (smp.h's ks_bkl_holder): not held by this CPU already. */
    movl %gs:PERCPU_CPU, %ecx
    incl %ecx
    cmpl %ecx, ks_bkl_holder(%rip)
    je lockdebug_reentry
#endif
    movl $1, %ecx
    lock xaddl %ecx, ks_bkl+BKL_NEXT(%rip)
    cmpl %ecx, ks_bkl+BKL_OWNER(%rip)
    je 8f
    pushq %rax
    pushq %rdx
    pushq %rsi
    pushq %rdi
    movl %ecx, %edi
    movl $\kind, %esi
    call bkl_wait
    testb %al, %al
    jnz bkl_stalled
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rax
8:
    BKL_DRAIN
#if FERRY_LOCKDEBUG
    /* Ours now: record it (bkl_wait has, on the contended path). */
    movl %gs:PERCPU_CPU, %ecx
    incl %ecx
    cmpl %ecx, ks_bkl_holder(%rip)
    je 9f
    cmpl $0, ks_bkl_holder(%rip)
    jne lockdebug_taken
    movl %ecx, ks_bkl_holder(%rip)
9:
#endif
.endm

/* The lock's release on the way out: only the holder writes the owner
 * field, so a plain increment (x86 stores are released in order). */
.macro BKL_RELEASE
#if FERRY_LOCKDEBUG
    /* Every register but RCX may hold the user's value: RCX goes to the
     * scratch slot (unused on the way out); we must be the holder. */
    movq %rcx, %gs:PERCPU_SCRATCH
    movl %gs:PERCPU_CPU, %ecx
    incl %ecx
    cmpl %ecx, ks_bkl_holder(%rip)
    jne lockdebug_exit
    movl $0, ks_bkl_holder(%rip)
    movq %gs:PERCPU_SCRATCH, %rcx
#endif
    incl ks_bkl+BKL_OWNER(%rip)
.endm

/* The message registers of a system call (RAX the number, RDI the cptr,
 * RSI the message info, RDX R8 R9 R10 words 0-3) into, or back from, the
 * saved registers of the TCB in \tcb (PERCPU_CUR). */
.macro SAVE_MSG_REGS tcb
    movq %rax, CTX_RAX_OFF(\tcb)
    movq %rdi, CTX_RDI_OFF(\tcb)
    movq %rsi, CTX_RSI_OFF(\tcb)
    movq %rdx, CTX_RDX_OFF(\tcb)
    movq %r8, CTX_R8_OFF(\tcb)
    movq %r9, CTX_R9_OFF(\tcb)
    movq %r10, CTX_R10_OFF(\tcb)
.endm
.macro LOAD_MSG_REGS tcb
    movq CTX_RAX_OFF(\tcb), %rax
    movq CTX_RDI_OFF(\tcb), %rdi
    movq CTX_RSI_OFF(\tcb), %rsi
    movq CTX_RDX_OFF(\tcb), %rdx
    movq CTX_R8_OFF(\tcb), %r8
    movq CTX_R9_OFF(\tcb), %r9
    movq CTX_R10_OFF(\tcb), %r10
.endm

#if FERRY_FASTPATH
/* The IPC fast path's entry as a reader of the big kernel lock: set this
 * CPU's in_fastpath flag by a locked instruction (a full fence: the flag
 * is visible before the lock's words are read), then go on only if the
 * lock is free; else to busy (which clears the flag and waits, see
 * syscall_fast_busy).
 * A CPU that takes the lock waits for the flag to clear (BKL_DRAIN), so
 * no fast path overlaps a slow path, an interrupt, the idle loop's locked
 * part or a request.  Only ECX changes. */
.macro FASTPATH_ENTER busy
#if FERRY_LOCKDEBUG
    /* Neither holding the lock nor inside the fast path already. */
    movl %gs:PERCPU_CPU, %ecx
    incl %ecx
    cmpl %ecx, ks_bkl_holder(%rip)
    je lockdebug_reentry
    cmpb $0, %gs:PERCPU_IN_FASTPATH
    jne lockdebug_fp_reentry
#endif
    lock orb $1, %gs:PERCPU_IN_FASTPATH
    movl ks_bkl+BKL_NEXT(%rip), %ecx
    cmpl %ecx, ks_bkl+BKL_OWNER(%rip)
    jne \busy
.endm
#endif

/* FASTPATH_LEAVE: arch/fastpath_asm.h (the assembly fast path uses it too). */

/* After `syscall`: the user registers into the current TCB, then the
 * kernel stack.  With the fast path built, all but the message registers
 * (SAVE_MSG_REGS) other than the cptr and msginfo: a Call or ReplyRecv that the fast path completes hands
 * them to the receiver where they are, and its caller gets its own from
 * the reply, so they are saved only on the way to the slow path (the
 * entry's fall-through, fastpath_miss_*, syscall_fast_busy: every way
 * to syscall_lock, so BKL_ACQUIRE finds them saved); what this
 * changes for a blocked thread's saved registers is in docs/design.md
 * ("Message registers"). */
.macro SAVE_SYSCALL_FRAME
    swapgs
    movq %rsp, %gs:PERCPU_SCRATCH
    KPTI_SWITCH_TO_KERNEL_CR3 %rsp  /* KPTI=1: before the TCB is touched */
    movq %gs:PERCPU_CUR, %rsp       /* the current TCB: its saved registers first */
#if FERRY_FASTPATH
    /* Stored through RSP = the TCB, which the assembly fast path keeps
     * (one instruction more than pushing RFLAGS, RSP, RIP down from the
     * registers' end, and no per-CPU pointer to that end to keep at each
     * switch: two fewer); R11 and RCX are not saved: the CPU put RFLAGS
     * and RIP there (context.h). */
    movq %r11, CTX_RFLAGS_OFF(%rsp) /* RFLAGS, as syscall left it */
    movq %rcx, CTX_RIP_OFF(%rsp)
    movq %gs:PERCPU_SCRATCH, %rcx
    movq %rcx, CTX_RSP_OFF(%rsp)
    movq %r15, CTX_R15_OFF(%rsp)
    movq %r14, CTX_R14_OFF(%rsp)
    movq %r13, CTX_R13_OFF(%rsp)
    movq %r12, CTX_R12_OFF(%rsp)
    movq %rbp, CTX_RBP_OFF(%rsp)
    movq %rbx, CTX_RBX_OFF(%rsp)
#if !FERRY_FASTPATH_ASM
    movq %rdi, CTX_RDI_OFF(%rsp)    /* cptr and msginfo: the fast path's C */
    movq %rsi, CTX_RSI_OFF(%rsp)    /* may use rdi and rsi (FP_MISS) */
#endif
#else
    leaq CTX_TOP(%rsp), %rsp
    pushq %r11                      /* RFLAGS, as syscall left it */
    pushq %gs:PERCPU_SCRATCH        /* RSP */
    pushq %rcx                      /* RIP */
    subq $16, %rsp                  /* R11, RCX: the CPU put RFLAGS and RIP there (context.h) */
    SAVE_GPRS_BUT_RAX_RCX_R11
    pushq %rax
#endif
#if !FERRY_FASTPATH_ASM
    movq %gs:PERCPU_KERNEL_RSP, %rsp
#endif
    /* (FASTPATH_ASM: the assembly fast path (fastpath_asm.S) runs with
     * RSP here, at the TCB, and reaches its fields through it: no
     * kernel stack, and the cptr and msginfo stay in RDI and RSI, saved
     * by whatever needs them: a hand-over to the C fast path, the slow
     * path's SAVE_MSG_REGS, the ReplyRecv's commit.  Every other way on
     * loads the kernel stack itself: KERNEL_STACK_IF_ASM.) */
.endm

/* The kernel stack, where the assembly fast path's entry left RSP at
 * the saved registers (SAVE_SYSCALL_FRAME). */
.macro KERNEL_STACK_IF_ASM
#if FERRY_FASTPATH_ASM
    movq %gs:PERCPU_KERNEL_RSP, %rsp
#endif
.endm

    ENTRY_TEXT
    .global syscall_entry
syscall_entry:
    SAVE_SYSCALL_FRAME
#if FERRY_FASTPATH
    /* Call (1) and ReplyRecv (2) try the IPC fast path first
     * (arch/x86_64/fastpath.c), with rdi = cptr and rsi = msginfo as the
     * user left them.  The fast path runs without the big kernel lock, as
     * a reader (FASTPATH_ENTER, docs/smp.md "The fast path without the
     * lock"): every system call sets the flag first, so that Call and
     * ReplyRecv need no compare before it, and any other number clears it
     * again on its way to the lock.  Then a compare and a direct jump each:
     * no indirect call (under TCG an indirect branch costs a
     * translation-block lookup, about as much as ten plain instructions:
     * floor_insn/jmpind in docs/design.md).  The fast path runs on the
     * kernel stack as a call would (-mgeneral-regs-only: no alignment to
     * keep), leaves by sysret, or jumps to fastpath_miss_* having
     * changed nothing. */
syscall_fast:
    FASTPATH_ENTER syscall_fast_busy
#if FERRY_FASTPATH_ASM
    /* The assembly fast path (fastpath_asm.S), which hands what it does
     * not take to the C one. */
    cmpq $FERRY_SYS_CALL, %rax
    je fastpath_asm_call
    cmpq $FERRY_SYS_REPLY_RECV, %rax
    je fastpath_asm_reply_recv
#else
    cmpq $FERRY_SYS_CALL, %rax
    je fastpath_call
    cmpq $FERRY_SYS_REPLY_RECV, %rax
    je fastpath_reply_recv
#endif
    FASTPATH_LEAVE
    /* Any other call: the slow path reads its registers from the TCB
     * (RSP is the TCB only with FASTPATH_ASM: the C fast path's builds
     * are on the kernel stack here). */
    movq %gs:PERCPU_CUR, %rcx
    SAVE_MSG_REGS %rcx
    KERNEL_STACK_IF_ASM
#endif
syscall_lock:
    BKL_ACQUIRE 1
syscall_slow:                       /* rax = number, rdi = cptr, rsi = msginfo */
    movq %rax, %rdx
    xorl %ebp, %ebp                 /* the end of the kernel's frame chain (panic.c) */
    call syscall_dispatch
    ud2
#if FERRY_FASTPATH
    /* Not for the fast path: the slow path, once the message registers
     * are saved.  The fast path's C leaves the words untouched (FP_MISS);
     * cptr and msginfo were saved on entry; rax, which the C may have
     * used, is the number that the entry point says. */
    .global fastpath_miss_call, fastpath_miss_reply_recv
fastpath_miss_call:
    movl $FERRY_SYS_CALL, %eax
    jmp 1f
fastpath_miss_reply_recv:
    movl $FERRY_SYS_REPLY_RECV, %eax
1:  movq %gs:PERCPU_CUR, %rcx
    movq %rax, CTX_RAX_OFF(%rcx)
    movq %rdx, CTX_RDX_OFF(%rcx)
    movq %r8, CTX_R8_OFF(%rcx)
    movq %r9, CTX_R9_OFF(%rcx)
    movq %r10, CTX_R10_OFF(%rcx)
    movq CTX_RDI_OFF(%rcx), %rdi
    movq CTX_RSI_OFF(%rcx), %rsi
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    FASTPATH_LEAVE
    jmp syscall_lock
/* The lock is held, or another CPU waits for it.  Call and ReplyRecv wait
 * until it is free, holding no ticket, then try the fast path again: had
 * they queued for the lock, it would stay wanted, the other CPU's next
 * fast path would find it so and queue too, and the CPUs would hand the
 * lock to each other for good, every IPC on the slow path (a convoy;
 * docs/smp.md).  Other numbers queue for the lock (first come, first
 * served). */
syscall_fast_busy:
    FASTPATH_LEAVE
    /* The message registers into the TCB first: bkl_wait_free is C, and
     * a thread taken from this CPU meanwhile restarts from its TCB. */
    movq %gs:PERCPU_CUR, %rcx
    SAVE_MSG_REGS %rcx
    KERNEL_STACK_IF_ASM
    cmpq $FERRY_SYS_CALL, %rax
    je 1f
    cmpq $FERRY_SYS_REPLY_RECV, %rax
    jne syscall_lock
1:  movl $1, %edi                   /* WAIT_SYSCALL, as BKL_ACQUIRE 1 */
    call bkl_wait_free
    testb %al, %al
    jnz bkl_stalled
    movq %gs:PERCPU_CUR, %rcx
    LOAD_MSG_REGS %rcx
#if FERRY_FASTPATH_ASM
    movq %rcx, %rsp                 /* where SAVE_SYSCALL_FRAME left it */
#endif
    jmp syscall_fast
#endif

/* MSR_CSTAR: `syscall` from compatibility mode.  Ferry has no 32-bit
 * user code, so the thread only gets here by a bug or an attack: save it
 * like a syscall (RSP is still the user's) and fault it.
 *     void syscall_compat_fault(void);  (traps.c, never returns) */
    .global syscall_compat_entry
syscall_compat_entry:
    SAVE_SYSCALL_FRAME
#if FERRY_FASTPATH
    movq %gs:PERCPU_CUR, %rcx       /* all of them: the fault's handler may read them */
    SAVE_MSG_REGS %rcx
    KERNEL_STACK_IF_ASM
#endif
    BKL_ACQUIRE 0
    xorl %ebp, %ebp
    call syscall_compat_fault
    ud2

/* The second entry: int 0x80 from ring 3, same ABI.  The CPU pushed an
 * interrupt frame on the kernel stack (TSS.rsp0); copy it into the TCB.
 * The interrupt gate cleared IF, TF and NT but not DF or AC. */
    .global int80_entry
int80_entry:
    KERNEL_FLAGS
    swapgs
    movq %rax, %gs:PERCPU_SCRATCH
    KPTI_SWITCH_TO_KERNEL_CR3 %rax  /* KPTI=1: the frame is on the window's entry stack */
    movq %rsp, %rax                 /* the interrupt frame: RIP CS RFLAGS RSP SS */
    movq %gs:PERCPU_CUR, %rsp
    leaq CTX_TOP(%rsp), %rsp        /* the registers' end: pushed down from here */
    pushq 16(%rax)                  /* RFLAGS */
    pushq 24(%rax)                  /* RSP */
    pushq (%rax)                    /* RIP */
    pushq %r11
    pushq %rcx
    SAVE_GPRS_BUT_RAX_RCX_R11
    pushq %gs:PERCPU_SCRATCH        /* RAX */
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    BKL_ACQUIRE 2
    movq %gs:PERCPU_SCRATCH, %rdx
    xorl %ebp, %ebp
    call int80_dispatch
    ud2

#if FERRY_BENCHMARK
/* The hardware floor: while the floor benchmark's thread runs, LSTAR points here,
 * so a syscall costs syscall + sysret and nothing else (RCX and R11 still
 * hold the return RIP and RFLAGS).  FLOOR_END goes the normal way. */
    .global floor_syscall_entry
floor_syscall_entry:
    cmpq $FERRY_SYS_FLOOR_END, %rax
    je syscall_entry
    sysretq

/* The IPC floor (FERRY_FLOOR_IPC): one CR3 write per syscall, alternating
 * between the caller's address space and a copy (floor.c), so two
 * syscalls are the floor of an IPC round trip.  RAX is the only register
 * used (the result register); it is cleared, not left holding a CR3. */
    .global floor_ipc_entry
floor_ipc_entry:
    cmpq $FERRY_SYS_FLOOR_END, %rax
    je syscall_entry
    movq floor_cr3_next(%rip), %rax
    movq %rax, %cr3
    xorq floor_cr3_flip(%rip), %rax
    movq %rax, floor_cr3_next(%rip)
    xorl %eax, %eax
    sysretq
#endif

/* The current thread was taken from this CPU while it waited for the
 * lock (smp.c's stall_fn fixed up its registers to restart): the lock is
 * held now; leave through the scheduler on a fresh stack. */
bkl_stalled:
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    xorl %ebp, %ebp
    call kernel_exit
    ud2

#if FERRY_LOCKDEBUG
/* The checks of BKL_ACQUIRE / BKL_RELEASE failed: smp.c panics. */
lockdebug_reentry:
    xorl %edi, %edi
    jmp 1f
lockdebug_taken:
    movl $1, %edi
    jmp 1f
    .global lockdebug_exit          /* (FASTPATH_LEAVE in fastpath_asm.S too) */
lockdebug_exit:
    movl $2, %edi
    jmp 1f
lockdebug_fp_reentry:
    movl $3, %edi
1:  movq %gs:PERCPU_KERNEL_RSP, %rsp
    xorl %ebp, %ebp
    call lockdebug_fail
    ud2
#endif

    .global restore_user_sysret
restore_user_sysret:
    movq %rdi, %rsp
    popq %rax
    popq %rbx
    popq %rdx
    popq %rsi
    popq %rdi
    popq %rbp
    popq %r8
    popq %r9
    popq %r10
    popq %r12
    popq %r13
    popq %r14
    popq %r15
    addq $16, %rsp                  /* RCX, R11: sysret takes RIP and RFLAGS from them */
    popq %rcx                       /* RIP */
    movq 8(%rsp), %r11              /* RFLAGS */
    movq (%rsp), %rsp               /* user RSP: no kernel stack from here on */
#if FERRY_FASTPATH
    /* The fast path's rarer exits come here too (a PCID that needs work,
     * arch_fastpath_switch_exit_pcid): a reader, without the lock. */
    cmpb $0, %gs:PERCPU_IN_FASTPATH
    jne 1f
#endif
    BKL_RELEASE                     /* after the last read of the TCB */
#if FERRY_FASTPATH
    jmp 2f
1:  FASTPATH_LEAVE
2:
#endif
    KPTI_SWITCH_TO_USER_CR3 %rsp
    swapgs
    sysretq

#if FERRY_FASTPATH
/* The IPC fast path's exit (arch/fastpath.h): r11 = &next->ctx, rsi = the
 * message info, rdi = the badge, rcx = the length (0..4); rdx r8 r9 r10
 * hold the sender's message words.  Only what next's saved registers must
 * give is loaded (callee-saved, RIP, RFLAGS, RSP); the words beyond the
 * length are zeroed, so that no register leaves with anything that is not
 * next's own, the message, or zero.  RAX = FERRY_OK (0).  The context
 * comes in r11, which sysret takes RFLAGS from anyway, so nothing moves
 * before the loads (RSP is the last thing loaded from it). */
    .global fastpath_sysret
fastpath_sysret:
    movq CTX_RBX_OFF(%r11), %rbx
    movq CTX_RBP_OFF(%r11), %rbp
    movq CTX_R12_OFF(%r11), %r12
    movq CTX_R13_OFF(%r11), %r13
    movq CTX_R14_OFF(%r11), %r14
    movq CTX_R15_OFF(%r11), %r15
    /* Each message register ANDed with its mask for this length (all
     * ones below it, zero from it on): four instructions whatever the
     * length, and no indirect jump (under TCG an indirect branch costs a
     * translation-block lookup, floor_insn/jmpind in docs/design.md). */
    andq fastpath_mask_rdx(, %rcx, 8), %rdx
    andq fastpath_mask_r8(, %rcx, 8), %r8
    andq fastpath_mask_r9(, %rcx, 8), %r9
    andq fastpath_mask_r10(, %rcx, 8), %r10
    xorl %eax, %eax                 /* FERRY_OK */
    movq CTX_RIP_OFF(%r11), %rcx
    movq CTX_RSP_OFF(%r11), %rsp    /* user RSP: no kernel stack from here on */
    movq CTX_RFLAGS_OFF(%r11), %r11
    FASTPATH_LEAVE                  /* after the last read of the TCB (no lock held) */
    KPTI_SWITCH_TO_USER_CR3 %rsp    /* the fast path's exit hook (arch/kpti.h) */
    swapgs
    sysretq

    .section .rodata
    .balign 8
    /* By length 0..4: word k of the message survives when k < length
     * (fastpath_asm.S's exit too). */
    .global fastpath_mask_rdx, fastpath_mask_r8, fastpath_mask_r9, fastpath_mask_r10
fastpath_mask_rdx:
    .quad 0, -1, -1, -1, -1
fastpath_mask_r8:
    .quad 0, 0, -1, -1, -1
fastpath_mask_r9:
    .quad 0, 0, 0, -1, -1
fastpath_mask_r10:
    .quad 0, 0, 0, 0, -1
    ENTRY_TEXT
#endif

    .global restore_user_iret
restore_user_iret:
    /* In user mode a thread's entry reads CTX_ENTRY_SYSCALL (0): every
     * way in but `syscall` writes its own (arch/context.h), so the IPC
     * fast path need not.  32 bits: the high half is fp_home, which no
     * entry or exit writes (arch/context.h). */
    movl $0, CTX_ENTRY_OFF(%rdi)
    /* Build the interrupt frame on the kernel stack (KPTI=1: on the
     * window's entry stack, which iretq reads with the user table
     * loaded), then load registers. */
#if FERRY_KPTI
    movq %gs:PERCPU_KPTI_ENTRY_RSP, %rsp
#else
    movq %gs:PERCPU_KERNEL_RSP, %rsp
#endif
    pushq $SEL_UDATA
    pushq CTX_RSP_OFF(%rdi)
    pushq CTX_RFLAGS_OFF(%rdi)
    pushq $SEL_UCODE
    pushq CTX_RIP_OFF(%rdi)
    movq CTX_RAX_OFF(%rdi), %rax
    movq CTX_RBX_OFF(%rdi), %rbx
    movq CTX_RCX_OFF(%rdi), %rcx
    movq CTX_RDX_OFF(%rdi), %rdx
    movq CTX_RSI_OFF(%rdi), %rsi
    movq CTX_RBP_OFF(%rdi), %rbp
    movq CTX_R8_OFF(%rdi), %r8
    movq CTX_R9_OFF(%rdi), %r9
    movq CTX_R10_OFF(%rdi), %r10
    movq CTX_R11_OFF(%rdi), %r11
    movq CTX_R12_OFF(%rdi), %r12
    movq CTX_R13_OFF(%rdi), %r13
    movq CTX_R14_OFF(%rdi), %r14
    movq CTX_R15_OFF(%rdi), %r15
    movq CTX_RDI_OFF(%rdi), %rdi
    BKL_RELEASE                     /* after the last read of the TCB */
    KPTI_SWITCH_TO_USER_CR3 %rax
    swapgs
    iretq
