/* fastpath_asm.S: the IPC fast path's common case (Call and ReplyRecv of at most four words, no capability) as one straight line of assembly; anything else goes on to the C fast path (fastpath.c). */
#include <arch/context.h>
#include <arch/percpu.h>
#include <arch/fastpath_asm.h>

#if FERRY_FASTPATH_ASM
/*
 * Why assembly: the C fast path (fastpath.c) pays for being C, about 8
 * instructions a leg: a kernel stack to load, a frame register pushed,
 * the arguments moved into the registers the exit wants and a jump to it,
 * the current thread loaded from the per-CPU block, the cptr and message
 * info stored for a miss that usually does not come.  Here the checks
 * are those of fastpath.c in the same order, and on any of them failing
 * the path hands the system call, unchanged, to the C fast path
 * (fastpath_call / fastpath_reply_recv, as syscall_entry did before),
 * which decides again and takes the rarer cases itself or falls back to
 * the slow path, counting why.  So this file needs no rule of its own:
 * what it completes is exactly what fastpath.c would have completed, and
 * what it does not complete is fastpath.c's.
 *
 * What the assembly takes: a message of 0..4 words and no capability;
 * a single-level CSpace (fastpath.c's lookup_fp); a partner on this CPU
 * that entered by syscall and has a VSpace; a partner below the current
 * thread's priority when no ready thread is above it; an idle bound
 * notification; a queue with other waiters; a CR3 switch (with PCIDs,
 * to a clean PCID: the PCID quiet copy when nothing else is to do); the
 * lazy FPU's trap state; FS/GS bases.  What it gives to C: longer
 * messages and capabilities, a PCID without its ASID or with stale
 * entries, a receiver that is not waiting or is on another CPU, a
 * caller that faulted, a pending notification, a ready thread above the
 * partner.
 *
 * State on entry (syscall_entry, entry.S): the user's RIP, RSP, RFLAGS
 * and callee-saved registers saved in the current TCB, RSP pointing at
 * it (so the TCB's fields are RSP-relative: CUR below), this
 * CPU's in_fastpath flag set with the big kernel lock free (the fast
 * path runs as a reader, docs/smp.md), RDI = cptr, RSI = message info,
 * RDX R8 R9 R10 = message words 0-3, RAX = the system call number.
 * The message words are never touched until the exit masks them; RSI
 * keeps the message info up to the point of no return, and RDI the
 * cptr until the lookup turns it into the capability's address (each
 * miss after that restores it), so that a hand-over to C has both.
 *
 * Registers: RDI the capability (after the lookup; the cptr before),
 * RBP the endpoint, R12 the partner (next), R13 the length, R14 the
 * partner's PML4; RAX, RBX, RCX, R11, R15 scratch.  All callee-saved
 * ones are in the TCB already.
 */

/* A field of the current thread's TCB (RSP = cur: SAVE_SYSCALL_FRAME). */
#define CUR(off) (off)(%rsp)

    .text

/* cspace_lookup_cap for a single-level CNode (fastpath.c's lookup_fp,
 * precomputed in the TCB: fp_cs_*, object/tcb.h) and the capability's
 * type and one right (cap_is_fp): an endpoint with \right, else to a
 * miss.  RDI goes from the cptr to the capability's address: \miss_sub
 * after the subtraction (RDI = cptr - lo), \miss_cap after (RDI = the
 * slot); each of these restores the cptr.  No test of the CSpace slot's
 * type: whatever takes the CNode out of it (deletion, a move, its Zombie)
 * clears fp_cs_size first (cnode.c's root_slot_leaving), so the bound
 * test misses then. */
.macro LOOKUP_EP right, miss_sub, miss_cap
    subq CUR(FPA_TCB_FP_CS_LO), %rdi
    cmpq CUR(FPA_TCB_FP_CS_SIZE), %rdi  /* 0 unless single-level */
    jae \miss_sub
    shlq $FPA_CTE_BITS, %rdi
    addq CUR(FPA_TCB_FP_CS_SLOT0), %rdi
    /* Type and rights as one 16-bit load (x86 loads are acquire loads: a
     * slot another CPU's fast path fills is seen empty or whole). */
    movzwl FPA_CAP_TYPE(%rdi), %ecx
    andl $(0xff | \right << 8), %ecx
    cmpl $(FPA_OBJ_ENDPOINT | \right << 8), %ecx
    jne \miss_cap
    /* The endpoint: cap_endpoint, phys_to_virt(paddr). */
    movabsq $FPA_PHYSMAP, %rbp
    addq FPA_CAP_PADDR(%rdi), %rbp
.endm

/* The endpoint's fast-path lock (fastpath.c's ep_lock_fp): one locked
 * bit-test-and-set when free; spins out of line. */
.macro EP_LOCK
1:  lock btsl $0, FPA_EP_LOCK(%rbp)
    jc 2f
    .pushsection .text.unlikely, "ax"
2:  pause
    cmpl $0, FPA_EP_LOCK(%rbp)
    jne 2b
    jmp 1b
    .popsection
.endm

/* sched_ready_above(p) (core/sched.h) for p in ECX: to \ready when a
 * ready thread of this CPU is above p, else on.  R11, R15 and RCX. */
.macro READY_ABOVE ready
    movq %gs:FPA_PC_SCHED, %r11
    movl %ecx, %r15d
    shrl $6, %ecx                   /* w = p / 64 */
    movq (%r11), %r14               /* l1 >> w >> 1 */
    shrq %cl, %r14
    shrq $1, %r14
    jnz \ready
    movq 8(%r11,%rcx,8), %r14       /* l2[w] >> (p % 64) >> 1 */
    movl %r15d, %ecx                /* (shrq takes the count mod 64) */
    shrq %cl, %r14
    shrq $1, %r14
    jnz \ready
.endm

/* To the C fast path \target, nothing changed: RDI and RSI into the TCB
 * (its misses reload them from there: fastpath_miss_call), the kernel
 * stack. */
.macro TO_C target
    movq %rdi, CUR(CTX_RDI_OFF)
    movq %rsi, CUR(CTX_RSI_OFF)
    movq %gs:PERCPU_KERNEL_RSP, %rsp
    jmp \target
.endm

/* Load the partner's address space (R14 = its PML4) before the point of
 * no return (nothing in the commit touches user memory).  QUIET: the
 * per-CPU switch_work word was zero, so PCIDs are off and CR3 is the
 * PML4 itself.  PCID: with PCIDs, vspace_cr3_clean's case (arch/
 * vspace.h) in line: the VSpace has its ASID (in its PML4's entry 255,
 * not present, which holds exactly ASID << 1: the kernel's invariant
 * walk checks it) and this CPU's PCID for it holds no stale
 * translations, so CR3 = PML4 | ASID | the no-flush bit; any other case
 * (no ASID, a stale PCID) needs vspace_activate's bookkeeping: to \miss,
 * for the C fast path.  One test covers both: with PCIDs every CPU's
 * asid_dirty[0] stays set (ASID 0 is "none": pcid.c's vspace_init).  The
 * ASID is read from the VSpace at every switch, never cached (in a TCB,
 * a capability): a pool's deletion takes a VSpace's ASID and may give it
 * to another.  GENERAL: either, by pcid_on.  Before the assembly took
 * PCIDs, every switch with them (every x86 CPU since about 2010) went to
 * C after all of this file's checks: 364 instead of 209 instructions a
 * round trip under Bochs with PCIDs.  RAX, RCX scratch. */
.macro CR3_QUIET
    cmpq %gs:FPA_PC_CUR_VSPACE, %r14
    je 1f
    movq %r14, %gs:FPA_PC_CUR_VSPACE
    movq %r14, %cr3
1:
.endm
.macro CR3_PCID miss
    cmpq %gs:FPA_PC_CUR_VSPACE, %r14
    je 1f
    movabsq $FPA_PHYSMAP, %rcx
    movq FPA_PML4_ASID_OFF(%rcx, %r14), %rcx
    shrq $1, %rcx                       /* the ASID, 0 if none */
    cmpb $0, %gs:FPA_PC_ASID_DIRTY(%rcx)
    jne \miss                           /* no ASID, or a stale PCID (vspace_activate flushes it) */
    leaq (%r14, %rcx), %rax             /* PML4 | ASID (the PML4 is page-aligned) */
    btsq $63, %rax                      /* no flush: the PCID's entries are current */
    movq %r14, %gs:FPA_PC_CUR_VSPACE
    movq %rax, %cr3
1:
.endm
.macro CR3_GENERAL miss
    cmpb $0, %gs:FPA_PC_PCID_ON
    je 2f
    CR3_PCID \miss
    jmp 3f
2:  CR3_QUIET
3:
.endm

/* The last of the exit: into R12 = next by sysret (entry.S's
 * fastpath_sysret).  R13 = the length (0..4), RSI = the message info,
 * RDI = the badge. */
.macro EXIT_SYSRET
    /* Each message register ANDed with its mask for this length: the
     * words beyond it leave as zero. */
    andq fastpath_mask_rdx(, %r13, 8), %rdx
    andq fastpath_mask_r8(, %r13, 8), %r8
    andq fastpath_mask_r9(, %r13, 8), %r9
    andq fastpath_mask_r10(, %r13, 8), %r10
    /* next's own registers: callee-saved, RIP (RCX), RFLAGS (R11), RSP;
     * R12 last, as it addresses the rest. */
    movq CTX_RBX_OFF(%r12), %rbx
    movq CTX_RBP_OFF(%r12), %rbp
    movq CTX_R13_OFF(%r12), %r13
    movq CTX_R14_OFF(%r12), %r14
    movq CTX_R15_OFF(%r12), %r15
    movq CTX_RIP_OFF(%r12), %rcx
    movq CTX_RFLAGS_OFF(%r12), %r11
    movq CTX_RSP_OFF(%r12), %rsp    /* user RSP: no kernel stack from here on */
    movq CTX_R12_OFF(%r12), %r12
    xorl %eax, %eax                 /* FERRY_OK */
    FASTPATH_LEAVE                  /* after the last read of a TCB */
    swapgs
    sysretq
.endm

/* FS alone (thread-local storage): FS = next's FS base (0 if it has
 * none: arch_user_bases_written), then bases_live = next's bases.  The
 * message word in RDX is kept in R11 around wrmsr; RAX, RCX, RDX, R11
 * scratch. */
.macro FS_TO_NEXT
    movq %rdx, %r11                 /* message word 0 around wrmsr */
    movl $FPA_MSR_FS_BASE, %ecx
    movl FPA_TCB_FS_BASE(%r12), %eax
    movl FPA_TCB_FS_BASE + 4(%r12), %edx
    wrmsr
    movq %r11, %rdx
    movzbl FPA_TCB_CTX_BASES(%r12), %ecx
    movb %cl, %gs:FPA_PC_BASES_LIVE
.endm

/* The FS/GS bases that next has or the registers may hold, RCX = which
 * (arch_switch_bases_live; non-zero), then bases_live = next's; on to
 * \back.  FS alone (thread-local storage) first. */
.macro BASES_WORK back
    cmpq $FPA_BASE_FS, %rcx
    jne 6f
    FS_TO_NEXT
    jmp \back
6:  movq %rcx, %rbx
    movq %rdx, %r11
    testb $FPA_BASE_FS, %bl
    jz 8f
    movl $FPA_MSR_FS_BASE, %ecx
    movl FPA_TCB_FS_BASE(%r12), %eax
    movl FPA_TCB_FS_BASE + 4(%r12), %edx
    wrmsr
8:  testb $FPA_BASE_GS, %bl
    jz 7f
    movl $FPA_MSR_KERNEL_GS_BASE, %ecx  /* the user's GS base after swapgs */
    movl FPA_TCB_GS_BASE(%r12), %eax
    movl FPA_TCB_GS_BASE + 4(%r12), %edx
    wrmsr
7:  movq %r11, %rdx
    movzbl FPA_TCB_CTX_BASES(%r12), %ecx
    movb %cl, %gs:FPA_PC_BASES_LIVE
    jmp \back
.endm

/* After the point of no return, switch_work | next's bases zero but
 * perhaps for pcid_on (no FPU trap-state work, no base live in the
 * registers nor one for next to load): the current thread, the exit. */
.macro EXIT_QUIET
    movq %r12, %gs:FPA_PC_CUR
    EXIT_SYSRET
.endm

/* The same with FS alone to switch (thread-local storage: next has an FS
 * base or the register may hold one, nothing else in switch_work): FS =
 * next's (0 if it has none: arch_user_bases_written), then bases_live =
 * next's bases, the exit.  Out of line. */
.macro EXIT_TLS
    movq %r12, %gs:FPA_PC_CUR
    FS_TO_NEXT
    EXIT_SYSRET
.endm

/* The same when switch_work was not zero (out of line): the lazy FPU's
 * trap state (arch_fpu_lazy_work), the current thread, the bases that
 * either side has, the exit. */
.macro EXIT_GENERAL
    cmpl $0, %gs:FPA_PC_FPU_CLEAR_LEFT
    je 1f
    /* Leaving the owner with TS clear sets it; coming back to the owner
     * while its count runs clears it. */
    cmpq $0, %gs:FPA_PC_FPU_TS
    jne 5f
    movq $1, %gs:FPA_PC_FPU_TS
    movq %gs:FPA_PC_CR0_TS, %rcx
    movq %rcx, %cr0
    jmp 1f
5:  cmpq %gs:FPA_PC_FPU_OWNER, %r12
    jne 1f
    subl $1, %gs:FPA_PC_FPU_CLEAR_LEFT
    jz 1f
    movq $0, %gs:FPA_PC_FPU_TS
    clts
1:  movq %r12, %gs:FPA_PC_CUR
    movzbl %gs:FPA_PC_BASES_LIVE, %ecx
    orq FPA_TCB_CTX_BASES(%r12), %rcx
    jz 2f
    BASES_WORK 2f
2:  EXIT_SYSRET
.endm

/* Call's commit: dequeue the receiver (the head; the usual server waits
 * alone), it runs; we wait for its reply. */
.macro CALL_COMMIT
    movq FPA_TCB_IPC_NEXT(%r12), %rcx
    movq %rcx, FPA_EP_HEAD(%rbp)
    testq %rcx, %rcx
    jnz 8f
    movq %rcx, FPA_EP_TAIL(%rbp)
    /* EP_IDLE (0) and the lock released, one store (dest is ours: off
     * the queue, on this CPU). */
    movq %rcx, FPA_EP_STATE_LOCK(%rbp)
9:
    /* The caller waits for the reply: TCB_IPC_CALL and the grant rights
     * of its capability; its message registers unsaved (it gets them
     * from the reply), and so are its cptr and message info (RDI, RSI:
     * docs/design.md, "The assembly fast path"). */
    movzbl FPA_CAP_RIGHTS(%rdi), %ecx
    movq FPA_CAP_BADGE(%rdi), %rdi      /* the receiver's badge */
    movq $FPA_ST_RUNNABLE, FPA_TCB_STATE_FLAGS(%r12)
    movq $0, FPA_TCB_BLOCKED_ON(%r12)
    andl $FPA_IPC_GRANTS, %ecx
    orl $FPA_IPC_CALL, %ecx
    movl $FPA_ST_BLOCKED_REPLY, CUR(FPA_TCB_STATE)
    movl %ecx, CUR(FPA_TCB_IPC_FLAGS)
    movq %r12, CUR(FPA_TCB_BLOCKED_ON)
    movq %rsp, FPA_TCB_REPLY_TO(%r12)   /* RSP = cur */
    .pushsection .text.fpa_rare, "ax"  /* (not .text.unlikely: the general copy is there) */
8:  movq $0, FPA_TCB_IPC_PREV(%rcx)     /* more receivers queued behind it */
    movq $0, FPA_TCB_IPC_NEXT(%r12)
    movl $0, FPA_EP_LOCK(%rbp)          /* (the state stays EP_RECV) */
    jmp 9b
    .popsection
.endm

/* ReplyRecv's commit: the caller runs; we wait at the tail of the
 * endpoint's queue (our links are NULL: a thread in no queue has none). */
.macro RR_COMMIT
    /* (The cptr is in the TCB already: before the lookup.) The reply (no
     * badge on replies). */
    movq $0, CUR(FPA_TCB_REPLY_TO)
    movq $FPA_ST_RUNNABLE, FPA_TCB_STATE_FLAGS(%r12)
    movq $0, FPA_TCB_BLOCKED_ON(%r12)
    movq $FPA_ST_BLOCKED_RECV, CUR(FPA_TCB_STATE_FLAGS)
    movq %rbp, CUR(FPA_TCB_BLOCKED_ON)
    movq FPA_EP_TAIL(%rbp), %rcx
    testq %rcx, %rcx
    jnz 8f
    movq %rsp, FPA_EP_HEAD(%rbp)        /* RSP = cur */
9:  movq %rsp, FPA_EP_TAIL(%rbp)
    movq $FPA_EP_RECV, FPA_EP_STATE_LOCK(%rbp)   /* EP_RECV, the lock released: one store */
    xorl %edi, %edi                     /* badge 0 */
    .pushsection .text.fpa_rare, "ax"  /* (not .text.unlikely: the general copy is there) */
8:  movq %rcx, CUR(FPA_TCB_IPC_PREV)    /* other receivers wait: behind the last */
    movq %rsp, FPA_TCB_IPC_NEXT(%rcx)
    jmp 9b
    .popsection
.endm

/* ---- Call (fastpath.c's call_fp) ---- */
    .global fastpath_asm_call
fastpath_asm_call:
    /* A message of at most four words and no capability: msginfo's low
     * 12 bits (length, then the capability count) at most 4. */
    movl %esi, %r13d
    andl $0xfff, %r13d
    cmpl $FPA_MSG_REG_WORDS, %r13d
    ja call_c_long
    /* An endpoint we may send to... */
    LOOKUP_EP FPA_RIGHT_WRITE, call_c_sub, call_c_cap
    EP_LOCK
    /* ...with a receiver waiting, who holds no other caller's reply
     * right... */
    cmpl $FPA_EP_RECV, FPA_EP_STATE(%rbp)
    jne call_c_unlock
    movq FPA_EP_HEAD(%rbp), %r12
    cmpq $0, FPA_TCB_REPLY_TO(%r12)
    jne call_c_unlock
    /* ...that entered by syscall, has a VSpace, runs on this CPU: one
     * compare of ctx.entry (CTX_ENTRY_SYSCALL, 0) and the ready word
     * fp_home beside it (FP_HOME_READY | affinity while it has a VSpace,
     * object/tcb.h) with this CPU's (FP_HOME_READY | cpu) << 32... */
    movq %gs:FPA_PC_FP_HOME_WANT, %rcx
    cmpq %rcx, FPA_TCB_CTX_ENTRY(%r12)
    jne call_c_unlock
    /* ...and that the scheduler would run now: at our priority or above,
     * or below with no ready thread above it (ipc_switch_direct's rule). */
    movzbl FPA_TCB_PRIO(%r12), %ecx
    cmpb CUR(FPA_TCB_PRIO), %cl
    jb call_lowprio
call_prio_ok:
    /* One OR for the quiet state of the switch (no FPU work, no PCIDs,
     * no base live nor one next has); else a copy out of line: the TLS
     * one (FS alone), the PCID one (PCIDs alone) or the general one. */
    movq FPA_TCB_VSPACE + FPA_CAP_PADDR(%r12), %r14
    movq %gs:FPA_PC_SWITCH_WORK, %r15
    orq FPA_TCB_CTX_BASES(%r12), %r15
    jnz call_switch_work
    CR3_QUIET

    /* ---- point of no return ---- */

    CALL_COMMIT
    EXIT_QUIET

    .pushsection .text.unlikely, "ax"
call_lowprio:
    READY_ABOVE call_c_unlock
    jmp call_prio_ok
call_switch_work:
    testq $~FPA_BASE_FS, %r15       /* anything but FS: FPU work, PCIDs, GS */
    jnz call_general
    CR3_QUIET
    CALL_COMMIT                         /* (the point of no return) */
    EXIT_TLS
call_general:
    /* The PCID quiet copy: PCIDs and nothing else to do (no FPU work, no
     * base live nor one next has): the quiet copy with the PCID's CR3.
     * Tested here, after the TLS test, so that the copies without PCIDs
     * pay nothing for it. */
    cmpq $FPA_SW_PCID_ALONE, %r15
    jne call_general_work
    CR3_PCID call_c_unlock
    CALL_COMMIT                         /* (the point of no return) */
    EXIT_QUIET
call_general_work:
    CR3_GENERAL call_c_unlock
    CALL_COMMIT                         /* (the point of no return) */
    EXIT_GENERAL
call_c_unlock:
    movl $0, FPA_EP_LOCK(%rbp)
call_c_cap:                             /* RDI = the slot: back to the cptr */
    subq CUR(FPA_TCB_FP_CS_SLOT0), %rdi
    shrq $FPA_CTE_BITS, %rdi
call_c_sub:
    addq CUR(FPA_TCB_FP_CS_LO), %rdi
call_c:
    TO_C fastpath_call
/* Longer messages: straight to the C fast path's general version, which
 * fastpath_call would jump to after the same test. */
call_c_long:
    TO_C fastpath_call_long
    .popsection

/* ---- ReplyRecv (fastpath.c's reply_recv_fp) ---- */
    .global fastpath_asm_reply_recv
fastpath_asm_reply_recv:
    movl %esi, %r13d
    andl $0xfff, %r13d
    cmpl $FPA_MSG_REG_WORDS, %r13d
    ja rr_c_long
    /* A caller that waits for our reply (not a faulted thread, nor one
     * on another CPU)... */
    movq CUR(FPA_TCB_REPLY_TO), %r12
    testq %r12, %r12
    jz rr_c
    testb $FPA_IPC_FAULT_XCPU, FPA_TCB_IPC_FLAGS(%r12)
    jnz rr_c
    /* ...that the scheduler would run once we block... */
    movzbl FPA_TCB_PRIO(%r12), %ecx
    cmpb CUR(FPA_TCB_PRIO), %cl
    jb rr_lowprio
rr_prio_ok:
    /* ...then a Recv on an endpoint with no sender queued, and no signal
     * pending on a bound notification (an idle one waits with us)... */
    /* The cptr: a cancelled wait restarts as Recv on it (tcb_cancel_ipc);
     * stored now, so that RDI is free for the lookup and a miss after it
     * reloads it from here. */
    movq %rdi, CUR(CTX_RDI_OFF)
    LOOKUP_EP FPA_RIGHT_READ, rr_c_cap, rr_c_cap
    EP_LOCK
    cmpl $FPA_EP_SEND, FPA_EP_STATE(%rbp)
    je rr_c_unlock
    cmpq $0, CUR(FPA_TCB_BOUND)
    jne rr_bound
rr_bound_ok:
    /* ...and a caller that entered by syscall and has a VSpace (the
     * Call's compare: it also asks for the caller's affinity to be this
     * CPU, which TCB_IPC_XCPU clear implies). */
    movq %gs:FPA_PC_FP_HOME_WANT, %rcx
    cmpq %rcx, FPA_TCB_CTX_ENTRY(%r12)
    jne rr_c_unlock
    movq FPA_TCB_VSPACE + FPA_CAP_PADDR(%r12), %r14
    movq %gs:FPA_PC_SWITCH_WORK, %r15   /* (as Call's) */
    orq FPA_TCB_CTX_BASES(%r12), %r15
    jnz rr_switch_work
    CR3_QUIET

    /* ---- point of no return ---- */

    RR_COMMIT
    EXIT_QUIET

    .pushsection .text.unlikely, "ax"
rr_lowprio:
    READY_ABOVE rr_c
    jmp rr_prio_ok
rr_bound:
    movq CUR(FPA_TCB_BOUND), %r15
    cmpq $FPA_NTFN_ACTIVE, FPA_NTFN_STATE(%r15)
    je rr_c_unlock
    jmp rr_bound_ok
rr_switch_work:
    testq $~FPA_BASE_FS, %r15
    jnz rr_general
    CR3_QUIET
    RR_COMMIT                           /* (the point of no return) */
    EXIT_TLS
rr_general:
    cmpq $FPA_SW_PCID_ALONE, %r15       /* (as Call's) */
    jne rr_general_work
    CR3_PCID rr_c_unlock
    RR_COMMIT                           /* (the point of no return) */
    EXIT_QUIET
rr_general_work:
    CR3_GENERAL rr_c_unlock
    RR_COMMIT                           /* (the point of no return) */
    EXIT_GENERAL
rr_c_unlock:
    movl $0, FPA_EP_LOCK(%rbp)
rr_c_cap:                               /* RDI not the cptr: stored above */
    movq CUR(CTX_RDI_OFF), %rdi
rr_c:
    TO_C fastpath_reply_recv
rr_c_long:                              /* (as call_c_long) */
    TO_C fastpath_reply_recv_long
    .popsection
#endif
