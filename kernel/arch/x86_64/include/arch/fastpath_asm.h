/* fastpath_asm.h: the build switch and the constants of the assembly IPC fast path (arch/x86_64/fastpath_asm.S); fastpath.c checks each constant against the C definitions. */
#ifndef FERRY_ARCH_FASTPATH_ASM_H
#define FERRY_ARCH_FASTPATH_ASM_H

/* FASTPATH_ASM=0 (Makefile) keeps the C fast path alone.  The assembly
 * takes the common case of the default build and hands everything else
 * to the C fast path; KPTI=1 (the user-table switch on the exit) and
 * LAZYFPU=0 (the eager FPU move) keep the C fast path only, which has
 * their hooks. */
#ifndef FERRY_FASTPATH_ASM
#if FERRY_FASTPATH && !FERRY_KPTI && FERRY_LAZY_FPU
#define FERRY_FASTPATH_ASM 1
#else
#define FERRY_FASTPATH_ASM 0
#endif
#endif
#if FERRY_FASTPATH_ASM && (!FERRY_FASTPATH || FERRY_KPTI || !FERRY_LAZY_FPU)
#error "FASTPATH_ASM=1 needs FASTPATH=1, KPTI=0 and LAZYFPU=1"
#endif

/* struct tcb (object/tcb.h): its saved registers (ctx) are its first
 * member, so the CTX_*_OFF of arch/context.h are TCB offsets too. */
#define FPA_TCB_CSPACE      704     /* slots[TCB_SLOT_CSPACE].cap */
#define FPA_TCB_VSPACE      768     /* slots[TCB_SLOT_VSPACE].cap */
#define FPA_TCB_STATE_FLAGS 896     /* state (32 bits), then ipc_flags (32 bits) */
#define FPA_TCB_STATE       896
#define FPA_TCB_IPC_FLAGS   900
#define FPA_TCB_PRIO        904     /* one byte */
#define FPA_TCB_AFFINITY    907     /* one byte */
#define FPA_TCB_BLOCKED_ON  936
#define FPA_TCB_IPC_NEXT    944
#define FPA_TCB_IPC_PREV    952
#define FPA_TCB_BOUND       976     /* bound_notification */
#define FPA_TCB_REPLY_TO    984
#define FPA_TCB_CTX_ENTRY   160     /* ctx.entry_home: entry (32 bits), then fp_home (32 bits) */
#define FPA_TCB_FS_BASE     144     /* ctx.regs[CTX_FS_BASE] */
#define FPA_TCB_GS_BASE     152     /* ctx.regs[CTX_GS_BASE] */
#define FPA_TCB_CTX_BASES   184     /* ctx.bases */
#define FPA_TCB_FP_CS_LO    1024    /* fp_cs_lo, fp_cs_size, fp_cs_slot0 */
#define FPA_TCB_FP_CS_SIZE  1032
#define FPA_TCB_FP_CS_SLOT0 1040

/* struct cap (object/cap.h) */
#define FPA_CAP_TYPE        0       /* one byte, then rights (one byte), then size_bits */
#define FPA_CAP_RIGHTS      1
#define FPA_CAP_SIZE_BITS   2
#define FPA_CAP_PADDR       8
#define FPA_CAP_GUARD       16      /* u.cnode.guard */
#define FPA_CAP_FP_BASE     24      /* u.cnode.fp_base */
#define FPA_CAP_BADGE       16      /* u.ep.badge */

/* struct endpoint (object/endpoint.h), struct notification */
#define FPA_EP_HEAD         0
#define FPA_EP_TAIL         8
#define FPA_EP_STATE        16      /* 4 bytes */
#define FPA_EP_LOCK         20      /* fp_lock, 4 bytes */
#define FPA_EP_STATE_LOCK   16      /* both: a 64-bit store of a state releases the lock */
#define FPA_NTFN_STATE      16

/* struct percpu (arch/percpu.h) */
#define FPA_PC_SCHED        136     /* this CPU's ready queues: struct sched_bitmap first */
#define FPA_PC_CUR          16      /* PERCPU_CUR */
#define FPA_PC_FPU_OWNER    4280
#define FPA_PC_FPU_TS       4288
#define FPA_PC_FPU_CLEAR_LEFT 4300
#define FPA_PC_CR0_TS       4304
#define FPA_PC_CUR_VSPACE   4312
#define FPA_PC_SWITCH_WORK  4296    /* bases_live, pcid_on (bytes), pad, fpu_clear_left (32 bits) */
#define FPA_PC_BASES_LIVE   4296    /* the low byte: next's ctx.bases ORs into it */
#define FPA_PC_PCID_ON      4297
#define FPA_SW_PCID_ALONE   0x100   /* switch_work | next's bases with pcid_on (1) alone: the PCID quiet copy */
#define FPA_PC_FP_HOME_WANT 4336    /* what a ready partner's entry_home reads here */
#define FPA_PC_ASID_DIRTY   179       /* asid_dirty[ASID_COUNT]: bytes, per CPU */

/* Values (enums and UL constants the assembler cannot read). */
#define FPA_OBJ_ENDPOINT    3
#define FPA_OBJ_CNODE       5
#define FPA_OBJ_VSPACE      11
#define FPA_RIGHT_READ      1
#define FPA_RIGHT_WRITE     2
#define FPA_EP_IDLE         0
#define FPA_EP_SEND         1
#define FPA_EP_RECV         2
#define FPA_NTFN_ACTIVE     2
#define FPA_ST_RUNNABLE     1
#define FPA_ST_BLOCKED_RECV 3
#define FPA_ST_BLOCKED_REPLY 4
#define FPA_IPC_CALL        0x1
#define FPA_IPC_GRANTS      0xc     /* TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY */
#define FPA_IPC_FAULT_XCPU  0x30    /* TCB_IPC_FAULT | TCB_IPC_XCPU */
#define FPA_CTE_BITS        6       /* FERRY_CTE_BITS: one slot, 64 bytes */
#define FPA_MSG_REG_WORDS   4       /* FERRY_MSG_REG_WORDS */
#define FPA_BASE_FS         1       /* CTX_BASE_FS */
#define FPA_BASE_GS         2       /* CTX_BASE_GS */
#define FPA_MSR_FS_BASE     0xC0000100
#define FPA_MSR_KERNEL_GS_BASE 0xC0000102
#define FPA_PHYSMAP         0xffff800000000000   /* KERNEL_PHYSMAP_BASE: phys_to_virt(0) */
#define FPA_PML4_ASID_OFF   2040    /* PML4_ASID_INDEX * 8: the VSpace's ASID entry */

#ifdef __ASSEMBLER__
#include <arch/percpu.h>     /* PERCPU_IN_FASTPATH */

/* The fast path is over on this CPU (its exit to user space, or a fall
 * back to the slow path before the lock is taken): a plain store, after
 * every write the fast path made (x86 stores are seen in order).  Flags
 * only change under LOCKDEBUG, which checks the flag was set (entry.S's
 * lockdebug_exit). */
.macro FASTPATH_LEAVE
#if FERRY_LOCKDEBUG
    cmpb $0, %gs:PERCPU_IN_FASTPATH
    je lockdebug_exit
#endif
    movb $0, %gs:PERCPU_IN_FASTPATH
.endm
#endif

#endif
