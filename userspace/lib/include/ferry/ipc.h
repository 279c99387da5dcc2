/* ipc.h: user-space IPC stubs: Send, Recv, Call, Reply, ReplyRecv, NBSend,
 * NBRecv on endpoints; Signal, Wait, Poll on notifications; binding a
 * notification to a thread (ABI: uapi/ferry/syscall.h and fault.h). */
#ifndef FERRY_USER_IPC_H
#define FERRY_USER_IPC_H

#include <ferry/sys.h>
#include <ferry/fault.h>

/*
 * Every stub takes a struct sys_msg (ferry/sys.h): info = message info
 * (FERRY_MSGINFO(label, length, caps)), w[0..3] = the words that travel in
 * rdx r8 r9 r10; words 4.. are in the caller's IPC buffer mr[4..], the
 * cptrs of capabilities to grant in caps_or_badges[].  Receiving stubs
 * fill the same struct: info, w[], and badge (the sender's capability
 * badge, or for a signal the notification's bits).  They return the error
 * code in rax (0 = success).
 */

/* Call: send and wait for the reply (one-shot reply right to the receiver). */
static inline unsigned long ipc_call(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_CALL, ep, m);
}

/* Blocking Send; on a notification: Signal. */
static inline unsigned long ipc_send(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_SEND, ep, m);
}

/* Send only if a receiver waits; the message is dropped otherwise. */
static inline unsigned long ipc_nbsend(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_NBSEND, ep, m);
}

/* Blocking Recv; on a notification: Wait (badge = the bits). */
static inline unsigned long ipc_recv(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_RECV, ep, m);
}

/* Recv that never blocks: nobody sending gives success with badge 0 and
 * an empty message (info 0); on a notification: Poll. */
static inline unsigned long ipc_nbrecv(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_NBRECV, ep, m);
}

/* Answer the last Call received (silently nothing when the caller is gone). */
static inline unsigned long ipc_reply(struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_REPLY, 0, m);
}

/* Reply to the last Call, then Recv on ep: the server's loop in one call. */
static inline unsigned long ipc_reply_recv(unsigned long ep, struct sys_msg *m)
{
    return sys_raw(FERRY_SYS_REPLY_RECV, ep, m);
}

/* Register-only Call with one word each way: what the fast path takes. */
static inline unsigned long ipc_call1(unsigned long ep, unsigned long label, unsigned long *w0)
{
    unsigned long rax = FERRY_SYS_CALL, rdi = ep, rsi = FERRY_MSGINFO(label, 1, 0), rdx = *w0;
    __asm__ __volatile__("syscall"
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx)
                         :
                         : "rcx", "r11", "r8", "r9", "r10", "memory");
    *w0 = rdx;
    return rax;
}

static inline unsigned long ntfn_signal(unsigned long ntfn)
{
    struct sys_msg m = { 0 };
    return sys_raw(FERRY_SYS_SEND, ntfn, &m);
}

/* Wait: blocks until signalled; *bits = the OR of the badges signalled. */
static inline unsigned long ntfn_wait(unsigned long ntfn, unsigned long *bits)
{
    struct sys_msg m = { 0 };
    unsigned long err = sys_raw(FERRY_SYS_RECV, ntfn, &m);
    *bits = m.badge;
    return err;
}

/* Poll: *bits = what was pending (0: nothing), without blocking. */
static inline unsigned long ntfn_poll(unsigned long ntfn, unsigned long *bits)
{
    struct sys_msg m = { 0 };
    unsigned long err = sys_raw(FERRY_SYS_NBRECV, ntfn, &m);
    *bits = m.badge;
    return err;
}

/* TCB invocations (userspace/lib/ipc.c). */
unsigned long tcb_bind_notification(unsigned long tcb, unsigned long ntfn);
unsigned long tcb_unbind_notification(unsigned long tcb);

#endif
