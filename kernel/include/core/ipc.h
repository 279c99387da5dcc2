/* ipc.h: the IPC operations the syscall layer and the fault path call (slow path, core/ipc.c; fast path, arch/x86_64/fastpath.c). */
#ifndef FERRY_CORE_IPC_H
#define FERRY_CORE_IPC_H

#include <types.h>

struct tcb;
struct endpoint;
struct notification;

/*
 * Each operation works on the current thread cur with its capability
 * already resolved and its rights and message checked by the syscall
 * layer.  Results go straight into the saved registers of the threads
 * concerned (cur and/or its partner): rax = 0, rdi = badge, rsi = message
 * info, rdx r8 r9 r10 = words 0..3, the rest in the IPC buffer.  A thread
 * that blocks keeps its syscall number in rax, so that a suspend while it
 * waits can restart the call (tcb_cancel_ipc).
 *
 * flags are TCB_IPC_* (object/tcb.h): CALL, the grant rights of the
 * capability used, FAULT for a fault message.
 */
/* Bracket every IPC system call: begin before the operations, and
 * switch_direct after them (when cur blocked, the thread its Call or
 * reply woke runs next if no ready thread has a higher priority: the
 * fast path's choice, made the same way on the slow path). */
void ipc_begin(void);
void ipc_switch_direct(struct tcb *cur);

void ipc_send(struct tcb *cur, struct endpoint *ep, word_t badge, word_t msginfo, word_t flags,
              bool blocking);
void ipc_recv(struct tcb *cur, struct endpoint *ep, bool blocking);
/* Answer cur's caller, if it still waits (no caller: silently nothing, as in seL4). */
void ipc_reply(struct tcb *cur, word_t msginfo);

/* ReplyRecv whose reply carries capabilities (the name service's answer
 * with the endpoint it found), the "medium path": the slow path's steps,
 * ipc_reply, then ipc_recv blocking cur, then the direct switch to the
 * caller, without the syscall layer's general glue or a trip through the
 * ready queue.  The capability moves exactly as on the slow path
 * (deliver and transfer_caps: an occupied or absent receive slot, an
 * untyped or a bad cptr give a reply without it).  Returns false, having
 * changed nothing, in every case the slow path might treat differently
 * (no caller, a fault reply, a caller on another CPU or without a grant
 * right, a message the syscall layer would refuse, a missing IPC buffer,
 * any lookup error, a sender queued, a pending bound notification, a
 * ready thread above the caller).  true: cur is blocked and the caller
 * is current (kernel_exit leaves into it). */
bool ipc_reply_recv_caps(struct tcb *cur, word_t cptr, word_t msginfo);

void ipc_signal(struct notification *n, word_t badge);
void ipc_wait(struct tcb *cur, struct notification *n, bool blocking);

/* Deliver a fault of t (the current thread) to its fault endpoint as a
 * Call with the message of uapi/ferry/fault.h.  False when t has no
 * usable fault endpoint (the caller then suspends and reports it). */
bool ipc_fault(struct tcb *t, word_t label, word_t addr);

/* The system call dispatcher (core/syscall.c): the slow path. */
_Noreturn void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno);

#if FERRY_FASTPATH
/* The fast paths (arch/x86_64/fastpath.c), called by syscall_entry with the
 * caller's registers saved: they leave the kernel into the partner, or
 * return having changed nothing, and syscall_entry calls
 * syscall_dispatch. */
void fastpath_call(word_t cptr, word_t msginfo);
void fastpath_reply_recv(word_t cptr, word_t msginfo);
/* Call with words beyond the registers: fastpath_call jumps here. */
void fastpath_call_long(word_t cptr, word_t msginfo);
/* ReplyRecv with words beyond the registers or one capability:
 * fastpath_reply_recv jumps here. */
void fastpath_reply_recv_long(word_t cptr, word_t msginfo);
/* The fast path's lock on the derivation tree (a reply carrying a
 * capability): free whenever the big kernel lock is held. */
extern volatile word_t ks_fp_cdt_lock;
#endif

/* The fast path's fall-back counters by reason (enum ferry_fp_miss),
 * in kernels built with both the fast path and BENCHMARK=1. */
extern word_t ks_fastpath_miss[];

#endif
