/* syscall.h: system call numbers, the register ABI, the message-info word
 * and the IPC buffer layout (the kernel ABI, shared with user space). */
#ifndef FERRY_UAPI_SYSCALL_H
#define FERRY_UAPI_SYSCALL_H

#ifndef __ASSEMBLER__
#include <ferry/invocation.h>
#endif

/*
 * Register ABI (x86-64), the same for `syscall` and `int 0x80`:
 *
 *   in:   rax = syscall number
 *         rdi = capability pointer (destination / source)
 *         rsi = message info (FERRY_MSGINFO)
 *         rdx, r8, r9, r10 = message words 0..3
 *   out:  rax = error code (0 = success; enum ferry_error)
 *         on error: rdx = which argument was wrong (err_arg), r8 = cptr
 *         bits left unresolved (lookup errors)
 *         rdi = badge of the sender (receive operations)
 *         rsi = message info of the message received / the reply
 *         rdx, r8, r9, r10 = message words 0..3
 *
 * Message words 4 and up live in the thread's IPC buffer (mr[4..]).
 * On an IPC receive (Recv, the reply of a Call, ReplyRecv...) the message
 * registers beyond the message's length read as zero, never as the
 * sender's or the receiver's earlier values.  An IPC that ends in an error
 * after waiting (its object deleted, its reply dropped) returns rdi, rsi
 * and the message words zero.  A cancelled wait (Suspend + Resume,
 * WriteRegisters) restarts the call, except a Call already received and
 * waiting for its reply, which returns FERRY_E_INVALID_CAP (not sent
 * twice), and a ReplyRecv, which restarts as a Recv (docs/design.md).
 * `syscall` itself clobbers rcx and r11; every other register is preserved
 * unless listed above (the user stubs name rax rdi rsi rdx r8 r9 r10 as
 * in/out and rcx r11 as clobbered; rbx rbp r12-r15 and rsp survive).  These registers were chosen because `syscall`
 * leaves them alone and a C caller can load them without a stack frame.
 */
#define FERRY_MSG_REG_WORDS 4

/* System call numbers (#defines: the entry stubs use them too). */
#define FERRY_SYS_CALL            1  /* invoke a capability, or IPC Call on an endpoint */
#define FERRY_SYS_REPLY_RECV      2  /* IPC: reply to the caller, then wait on an endpoint */
#define FERRY_SYS_SEND            3  /* IPC Send (blocking); Signal on a notification */
#define FERRY_SYS_NBSEND          4  /* IPC Send that never blocks */
#define FERRY_SYS_RECV            5  /* IPC Recv (blocking); Wait on a notification */
#define FERRY_SYS_NBRECV          6  /* IPC Recv that never blocks; Poll on a notification */
#define FERRY_SYS_REPLY           7  /* IPC Reply */
#define FERRY_SYS_YIELD           8  /* give up the rest of the time slice */
#define FERRY_SYS_NULL            9  /* enter the kernel, dispatch, return: the null-syscall benchmark */

/* Debug and benchmark calls: rdi names the debug capability
 * (FERRY_OBJ_DEBUG, WRITE right; the root task's FERRY_CAP_DEBUG), without
 * which each fails with a lookup or type error and changes nothing.  The
 * floor calls exist only in a BENCHMARK=1 build (the default); in a
 * BENCHMARK=0 build they fail with FERRY_E_ILLEGAL_OP.  A floor measurement
 * changes only what its own thread's system calls do. */
#define FERRY_SYS_DEBUG_WRITE    10  /* write mr[0] bytes of the IPC buffer's mr[] area to the console */
#define FERRY_SYS_DEBUG_EXIT     11  /* end the run: mr[0] = 0 success, else failure */
#define FERRY_SYS_FLOOR_BEGIN    12  /* mr[0] = FERRY_FLOOR_*: the caller's syscalls become bare floor entries... */
#define FERRY_SYS_FLOOR_END      13  /* ...until this one (see entry.S) */
#define FERRY_SYS_KFLOOR         14  /* time one ring-0 floor operation (mr[0] = FERRY_KFLOOR_*): ticks in mr[0] */
#define FERRY_SYS_DEBUG_CHECK    15  /* verify the kernel's invariants (see invariants.h) */
#define FERRY_SYS_FASTPATH_STATS 16  /* the fast path's fall-back counters (FERRY_FP_*) into the IPC buffer's mr[]; mr[0] = how many */

#ifndef __ASSEMBLER__
/* Why the IPC fast path handed a Call or ReplyRecv to the slow path
 * (BENCHMARK=1 kernels with the fast path count each; a test that means to
 * exercise the fast path checks that none was counted meanwhile). */
enum ferry_fp_miss {
    FERRY_FP_CALL_CAP,          /* Call: not a single-level lookup of an endpoint with WRITE */
    FERRY_FP_CALL_NO_RECEIVER,  /* Call: nobody waits in Recv, or the receiver holds a reply right */
    FERRY_FP_CALL_PARTNER,      /* Call: the receiver did not enter by syscall or has no VSpace */
    FERRY_FP_CALL_PRIO,         /* Call: a ready thread is above the lower-priority receiver */
    FERRY_FP_CALL_MESSAGE,      /* Call: capabilities, or long words without both IPC buffers */
    FERRY_FP_RR_NO_CALLER,      /* ReplyRecv: no caller to reply to, or a faulted one */
    FERRY_FP_RR_PRIO,           /* ReplyRecv: a ready thread is above the lower-priority caller */
    FERRY_FP_RR_CAP,            /* ReplyRecv: not a single-level lookup of an endpoint with READ */
    FERRY_FP_RR_QUEUED,         /* ReplyRecv: a sender is queued, or a bound notification is signalled */
    FERRY_FP_RR_PARTNER,        /* ReplyRecv: the caller did not enter by syscall or has no VSpace */
    FERRY_FP_RR_MESSAGE,        /* ReplyRecv: more than one capability, or long words or a capability without both IPC buffers */
    FERRY_FP_RR_CAPS_SLOW,      /* ReplyRecv with capabilities: the medium path (core/ipc.c) handed it on too */
    FERRY_FP_RR_CAP_XFER,       /* ReplyRecv with one capability the fast path does not move itself (a lookup
                                 * not single-level at depth 64, a type other than endpoint, notification,
                                 * untyped): to the medium path */
    FERRY_FP_COUNT
};
#endif

/* The ring-0 hardware floors FERRY_SYS_KFLOOR can time. */
#define FERRY_KFLOOR_RDTSC     0     /* one rdtsc */
#define FERRY_KFLOOR_CR3_FLUSH 1     /* two CR3 writes that flush the TLB */
#define FERRY_KFLOOR_CR3_PCID  2     /* two CR3 writes with PCIDs and the no-flush bit */
#define FERRY_KFLOOR_FPU       3     /* fxsave + fxrstor: what a thread switch adds for the FPU */
#define FERRY_KFLOOR_IPI       4     /* an IPI to CPU 1 (idle) and its answer: the cross-core floor */
/* Ten of one instruction in ring 0 (the cost of each on the kernel's paths:
 * which are dear under an emulator; subtract FERRY_KFLOOR_NOP10). */
#define FERRY_KFLOOR_NOP10     5     /* ten nop: the probes' own baseline */
#define FERRY_KFLOOR_SWAPGS10  6     /* ten swapgs (an even count: GS ends as it was) */
#define FERRY_KFLOOR_WRMSR10   7     /* ten wrmsr of FS_BASE with its own value */
#define FERRY_KFLOOR_RDMSR10   8     /* ten rdmsr of FS_BASE */
#define FERRY_KFLOOR_CR0W10    9     /* ten writes of CR0 with its own value (TS clear) */
#define FERRY_KFLOOR_CLTS10    10    /* ten clts (TS already clear) */
#define FERRY_KFLOOR_XADD10    11    /* ten lock xadd (the big kernel lock's ticket) */
#define FERRY_KFLOOR_POPF10    12    /* ten pushfq + popfq pairs */
#define FERRY_KFLOOR_LFENCE10  13    /* ten lfence */
#define FERRY_KFLOOR_JMPIND10  14    /* ten indirect jumps through a table (the exits' dispatch) */
/* As FERRY_KFLOOR_IPI, with CPU 1 asleep in its idle halt (for some
 * microseconds: a halted vCPU's host thread sleeps), which a wake-up of a
 * halting CPU pays and FERRY_KFLOOR_IPI mostly does not; mr[0] = 0 when
 * CPU 1 is not halted yet: nothing timed, ask again later. */
#define FERRY_KFLOOR_IPI_HALT  15

/* The modes of FERRY_SYS_FLOOR_BEGIN: until FLOOR_END, every syscall is */
#define FERRY_FLOOR_SYSCALL    0     /* syscall + sysret, nothing else */
#define FERRY_FLOOR_IPC        1     /* syscall + one CR3 write + sysret, alternating between the
                                      * caller's address space and a copy of it (PCID no-flush where
                                      * the kernel uses PCIDs): two of them are an IPC round trip's
                                      * floor, two syscalls and two address-space switches */


/* The interrupt vector of the second entry, kept so the two can be compared. */
#define FERRY_INT_SYSCALL 0x80

/* Message info: label, length in words, number of extra capabilities. */
#define FERRY_MSGINFO(label, len, caps) \
    (((unsigned long)(label) << 12) | (((unsigned long)(caps) & 3) << 7) | ((unsigned long)(len) & 0x7f))
#define FERRY_MSGINFO_LABEL(mi) ((unsigned long)(mi) >> 12)
#define FERRY_MSGINFO_LEN(mi)   ((unsigned long)(mi) & 0x7f)
#define FERRY_MSGINFO_CAPS(mi)  (((unsigned long)(mi) >> 7) & 3)

#ifndef __ASSEMBLER__
/* The per-thread IPC buffer: 1 KiB, FERRY_IPC_BUFFER_ALIGN aligned inside a
 * frame.  As in seL4, a slot holds a capability to send or, on receipt,
 * the badge of a received one. */
struct ferry_ipc_buffer {
    unsigned long mr[FERRY_MSG_MAX_WORDS];          /* mr[0..3] travel in registers */
    unsigned long caps_or_badges[FERRY_MAX_EXTRA_CAPS];
    unsigned long recv_cnode, recv_index, recv_depth;  /* where a received capability goes */
    unsigned long user_data;                        /* free for the thread */
    unsigned long reserved;
};
#endif

#endif
