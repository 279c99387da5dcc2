/* ipc.c: in-guest tests of IPC: every endpoint operation, badges, long
 * messages, capability transfer, notifications (also bound), fault IPC,
 * the robustness cases, and a cross-address-space stress test. */
#include "utest.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define RW (FERRY_MAP_READ | FERRY_MAP_WRITE)
#define ROOT_PRIO 255

/* ---- helpers ------------------------------------------------------------ */

/* Test threads: a stack page at va and their own IPC buffer page right
 * above it (so a thread finds its buffer from its stack pointer, and
 * long messages of different threads never share a buffer). */
#define THREAD_AREA 0x34000000UL
static unsigned long next_thread_va = THREAD_AREA;
static struct ferry_ipc_buffer *last_spawn_buf;   /* the IPC buffer of the last thread spawned */

static struct ferry_ipc_buffer *my_buf(void)
{
    unsigned long sp;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp));
    return (struct ferry_ipc_buffer *)((sp & ~0xfffUL) + 0x1000);
}

/* Start fn() at prio in the root task's address space with its own IPC
 * buffer, fault endpoint cptr fault_ep (0: none) and FS/GS bases.
 * Returns the TCB slot. */
static unsigned long spawn_with(void (*fn)(void), unsigned prio, unsigned long fault_ep,
                                unsigned long fs_base, unsigned long gs_base)
{
    unsigned long va = next_thread_va, err;
    next_thread_va += 0x2000;
    if (!table_ensure(va))
        return 0;
    unsigned long tcb = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    unsigned long buf = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    if (!tcb || !stack || !buf)
        return 0;
    if ((err = ferry_frame_map(stack, FERRY_CAP_INIT_VSPACE, va, RW)) ||
        (err = ferry_frame_map(buf, FERRY_CAP_INIT_VSPACE, va + 0x1000, RW)) ||
        (err = ferry_tcb_configure(tcb, FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, buf, va + 0x1000, fault_ep)) ||
        (err = ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, prio))) {
        printf("    spawn: %s\n", ferry_error_name(err));
        return 0;
    }
    last_spawn_buf = (struct ferry_ipc_buffer *)(va + 0x1000);
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = va + 0x1000 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    regs[FERRY_REG_FS_BASE] = fs_base;
    regs[FERRY_REG_GS_BASE] = gs_base;
    if ((err = ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs))) {
        printf("    spawn: %s\n", ferry_error_name(err));
        return 0;
    }
    return tcb;
}

static unsigned long spawn(void (*fn)(void), unsigned prio, unsigned long fault_ep)
{
    return spawn_with(fn, prio, fault_ep, 0, 0);
}

/* Let every ready thread of lower priority run until it blocks: the root
 * task waits on a notification nobody else signals, woken by a helper at
 * the lowest priority that runs only when all others are blocked. */
static unsigned long idle_ntfn, idle_tcb, park_ntfn;

/* A thread that is done blocks for good (a spinning one would keep
 * settle() from ever seeing everybody blocked). */
static void park(void)
{
    unsigned long bits;
    for (;;)
        ntfn_wait(park_ntfn, &bits);
}

static void idle_helper(void)
{
    for (;;) {
        ntfn_signal(idle_ntfn);
        sys_yield();
    }
}

static bool settle(void)
{
    unsigned long bits;
    if (!idle_ntfn) {
        idle_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        park_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        if (!idle_ntfn || !park_ntfn || !(idle_tcb = spawn(idle_helper, 1, 0)))
            return false;
    } else if (ferry_tcb_resume(idle_tcb)) {
        return false;
    }
    bool ok = ntfn_wait(idle_ntfn, &bits) == FERRY_OK;
    /* The helper is stopped again so it never competes with a test. */
    return ferry_tcb_suspend(idle_tcb) == FERRY_OK && ok;
}

static unsigned long mint(unsigned long src, unsigned long rights, unsigned long badge)
{
    unsigned long s = slot_alloc();
    return s && ferry_cnode_mint(s, src, rights, badge) == FERRY_OK ? s : 0;
}

/* ---- an echo server --------------------------------------------------------- */

/* Replies to each Call with label + 1, every word w[i] transformed to
 * w[i] * 3 + i, the badge it saw in the last word slot it was not sent
 * (so the caller can check it), over as many words as it received. */
static volatile unsigned long srv_ep, srv_calls, srv_last_badge, srv_last_err;
static volatile bool srv_in_process;   /* the server runs in its own address space */

static unsigned long echo_word(unsigned long w, unsigned long i)
{
    return w * 3 + i;
}

static void echo_server(void)
{
    struct ferry_ipc_buffer *buf = srv_in_process ? ulib_ipc : my_buf();
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(srv_ep, &m);
    for (;;) {
        srv_last_err = err;
        if (err) {
            m.info = 0;
            err = ipc_recv(srv_ep, &m);
            continue;
        }
        srv_calls++;
        srv_last_badge = m.badge;
        unsigned long len = FERRY_MSGINFO_LEN(m.info);
        for (unsigned long i = 0; i < len; i++) {
            if (i < FERRY_MSG_REG_WORDS)
                m.w[i] = echo_word(m.w[i], i);
            else
                buf->mr[i] = echo_word(buf->mr[i], i);
        }
        m.info = FERRY_MSGINFO(FERRY_MSGINFO_LABEL(m.info) + 1, len, 0);
        err = ipc_reply_recv(srv_ep, &m);
    }
}

static unsigned long start_echo(unsigned long ep, unsigned prio)
{
    srv_ep = ep;
    srv_calls = 0;
    srv_in_process = false;
    unsigned long t = spawn(echo_server, prio, 0);
    return t && settle() ? t : 0;
}

/* ---- tests ---------------------------------------------------------------- */

static bool ipc_call_reply(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    for (unsigned long len = 0; len <= FERRY_MSG_REG_WORDS; len++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(7, len, 0), .w = { 10, 20, 30, 40 } };
        CHECK_OK(ipc_call(ep, &m));
        CHECK(FERRY_MSGINFO_LABEL(m.info) == 8 && FERRY_MSGINFO_LEN(m.info) == len);
        for (unsigned long i = 0; i < len; i++)
            CHECK(m.w[i] == echo_word((i + 1) * 10, i));
        CHECK(m.badge == 0);
    }
    CHECK(srv_calls == FERRY_MSG_REG_WORDS + 1);
    /* Registers beyond the length are not message words: they read as
     * zero (both ways, on either path), never as the sender's values. */
    struct sys_msg m1 = { .info = FERRY_MSGINFO(7, 1, 0), .w = { 2, 0xa1, 0xa2, 0xa3 } };
    CHECK_OK(ipc_call(ep, &m1));
    CHECK(FERRY_MSGINFO_LEN(m1.info) == 1 && m1.w[0] == 6);
    CHECK(m1.w[1] == 0 && m1.w[2] == 0 && m1.w[3] == 0);
    /* The fast-path shaped stub. */
    unsigned long w = 5;
    CHECK_OK(ipc_call1(ep, 1, &w));
    CHECK(w == 15);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

static bool ipc_long_message(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    static const unsigned long lens[] = { 5, 8, 16, 64, FERRY_MSG_MAX_WORDS };
    for (unsigned k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        unsigned long len = lens[k];
        struct sys_msg m = { .info = FERRY_MSGINFO(100, len, 0) };
        for (unsigned long i = 0; i < len; i++) {
            if (i < FERRY_MSG_REG_WORDS)
                m.w[i] = 1000 + i;
            else
                ulib_ipc->mr[i] = 1000 + i;
        }
        CHECK_OK(ipc_call(ep, &m));
        CHECK(FERRY_MSGINFO_LEN(m.info) == len && FERRY_MSGINFO_LABEL(m.info) == 101);
        for (unsigned long i = 0; i < len; i++)
            CHECK((i < FERRY_MSG_REG_WORDS ? m.w[i] : ulib_ipc->mr[i]) == echo_word(1000 + i, i));
    }
    /* Longer than the maximum: refused before anything moves. */
    unsigned long before = srv_calls;
    struct sys_msg m = { .info = FERRY_MSGINFO(1, FERRY_MSG_MAX_WORDS + 1, 0) };
    CHECK_ERR(ipc_call(ep, &m), FERRY_E_RANGE);
    m.info = FERRY_MSGINFO(1, 127, 0);
    CHECK_ERR(ipc_send(ep, &m), FERRY_E_RANGE);
    CHECK(srv_calls == before);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

static bool ipc_badges(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long b1 = mint(ep, FERRY_RIGHTS_ALL, 0x11), b2 = mint(ep, FERRY_RIGHT_WRITE, 0xbeef);
    CHECK(b1 && b2);
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    struct sys_msg m = { .info = FERRY_MSGINFO(0, 0, 0) };
    CHECK_OK(ipc_call(b1, &m));
    CHECK(srv_last_badge == 0x11);
    CHECK_OK(ipc_call(b2, &m));
    CHECK(srv_last_badge == 0xbeef);
    CHECK_OK(ipc_call(ep, &m));
    CHECK(srv_last_badge == 0);
    /* A badged capability cannot be re-badged. */
    unsigned long s = slot_alloc();
    CHECK_ERR(ferry_cnode_mint(s, b1, FERRY_RIGHTS_ALL, 5), FERRY_E_ILLEGAL_OP);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* Senders that each send one message naming themselves. */
static volatile unsigned long snd_ep, snd_results[4], snd_ntfn;

static void sender(unsigned idx)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(idx, 2, 0), .w = { idx, idx * 100 } };
    if (idx == 2)
        ntfn_signal(snd_ntfn);          /* the others are queued by now */
    snd_results[idx] = ipc_send(snd_ep, &m) + 1;
    park();
}
static void sender0(void) { sender(0); }
static void sender1(void) { sender(1); }
static void sender2(void) { sender(2); }

static bool ipc_send_recv_fifo(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    snd_ep = ep;
    snd_ntfn = ntfn;
    unsigned long badged[3], t[3];
    void (*fns[3])(void) = { sender0, sender1, sender2 };
    for (unsigned i = 0; i < 3; i++)
        snd_results[i] = 0;
    /* Each sender uses its own badge (the ep slot is shared: mint per
     * sender and point snd_ep at the badged copy just before it runs). */
    for (unsigned i = 0; i < 3; i++) {
        badged[i] = mint(ep, FERRY_RIGHT_WRITE, 0x100 + i);
        CHECK(badged[i]);
    }
    snd_ep = badged[0];
    CHECK((t[0] = spawn(fns[0], 254, 0)));
    CHECK(settle());                    /* sender 0 blocks in Send */
    snd_ep = badged[1];
    CHECK((t[1] = spawn(fns[1], 254, 0)));
    CHECK(settle());
    snd_ep = badged[2];
    CHECK((t[2] = spawn(fns[2], 254, 0)));
    unsigned long bits;
    CHECK_OK(ntfn_wait(ntfn, &bits));   /* sender 2 signalled just before its Send */
    CHECK(snd_results[0] == 0 && snd_results[1] == 0);   /* still blocked */
    /* First in, first out: 0 and 1 waited; NBRecv takes the head. */
    struct sys_msg m = { 0 };
    CHECK_OK(ipc_nbrecv(ep, &m));
    CHECK(m.badge == 0x100 && FERRY_MSGINFO_LABEL(m.info) == 0 && m.w[0] == 0 && m.w[1] == 0);
    CHECK(FERRY_MSGINFO_LEN(m.info) == 2);
    CHECK_OK(ipc_recv(ep, &m));
    CHECK(m.badge == 0x101 && m.w[0] == 1 && m.w[1] == 100);
    CHECK_OK(ipc_recv(ep, &m));         /* blocks until sender 2 sends */
    CHECK(m.badge == 0x102 && m.w[0] == 2 && m.w[1] == 200 && FERRY_MSGINFO_LABEL(m.info) == 2);
    CHECK(settle());
    for (unsigned i = 0; i < 3; i++) {
        CHECK(snd_results[i] == FERRY_OK + 1);
        CHECK_OK(ferry_tcb_suspend(t[i]));
    }
    /* Nothing left: NBRecv returns an empty message with badge 0. */
    m.info = 77;
    m.badge = 77;
    CHECK_OK(ipc_nbrecv(ep, &m));
    CHECK(m.info == 0 && m.badge == 0);
    return true;
}

static bool ipc_nbsend_drops(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0), .w = { 9 } };
    CHECK_OK(ipc_nbsend(ep, &m));       /* nobody waits: dropped */
    CHECK_OK(ipc_nbrecv(ep, &m));
    CHECK(m.info == 0 && m.badge == 0);
    /* With a receiver waiting, NBSend delivers. */
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    unsigned long before = srv_calls;
    m.info = FERRY_MSGINFO(3, 1, 0);
    CHECK_OK(ipc_nbsend(ep, &m));
    CHECK(settle());
    CHECK(srv_calls == before + 1);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

static bool ipc_bad_caps_and_rights(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long ro = mint(ep, FERRY_RIGHT_READ, 0), wo = mint(ep, FERRY_RIGHT_WRITE, 0);
    unsigned long nro = mint(ntfn, FERRY_RIGHT_READ, 0);
    CHECK(ro && wo && nro);
    struct sys_msg m = { 0 };
    CHECK_ERR(ipc_send(ro, &m), FERRY_E_RIGHTS);
    CHECK_ERR(ipc_call(ro, &m), FERRY_E_RIGHTS);
    CHECK_ERR(ipc_recv(wo, &m), FERRY_E_RIGHTS);
    CHECK_ERR(ipc_nbrecv(wo, &m), FERRY_E_RIGHTS);
    CHECK_ERR(ipc_reply_recv(wo, &m), FERRY_E_RIGHTS);
    CHECK_ERR(ntfn_signal(nro), FERRY_E_RIGHTS);
    unsigned long empty = slot_alloc();
    CHECK(empty);
    CHECK_ERR(ipc_send(empty, &m), FERRY_E_INVALID_CAP);
    CHECK_ERR(ipc_recv(empty, &m), FERRY_E_INVALID_CAP);
    CHECK_ERR(ipc_reply_recv(empty, &m), FERRY_E_INVALID_CAP);
    CHECK_ERR(ipc_recv(FERRY_CAP_INIT_TCB, &m), FERRY_E_WRONG_TYPE);
    CHECK_ERR(ipc_send(FERRY_CAP_INIT_TCB, &m), FERRY_E_WRONG_TYPE);
    /* Capabilities need GRANT; words beyond the registers need no more. */
    m.info = FERRY_MSGINFO(0, 0, 1);
    ulib_ipc->caps_or_badges[0] = ep;
    CHECK_ERR(ipc_nbsend(wo, &m), FERRY_E_RIGHTS);
    /* A capability to grant must exist. */
    ulib_ipc->caps_or_badges[0] = empty;
    CHECK_ERR(ipc_nbsend(ep, &m), FERRY_E_INVALID_CAP);
    /* Reply with nobody to reply to: nothing happens. */
    m.info = 0;
    CHECK_OK(ipc_reply(&m));
    m.info = FERRY_MSGINFO(0, 121, 0);
    CHECK_ERR(ipc_reply(&m), FERRY_E_RANGE);
    return true;
}

/* Capability transfer: a receiver names a slot, a sender grants a frame. */
static volatile unsigned long xfer_ep, xfer_slot, xfer_info, xfer_badge0, xfer_err;

static void cap_receiver(void)
{
    struct ferry_ipc_buffer *buf = my_buf();
    struct sys_msg m = { 0 };
    xfer_err = ipc_recv(xfer_ep, &m) + 1;
    xfer_info = m.info;
    xfer_badge0 = buf->caps_or_badges[0];
    for (;;) {
        m.info = 0;
        xfer_err = ipc_reply_recv(xfer_ep, &m) + 1;
        xfer_info = m.info;
        xfer_badge0 = buf->caps_or_badges[0];
    }
}

static bool ipc_cap_transfer(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(other_ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long nogrant = mint(ep, FERRY_RIGHT_WRITE, 0);
    unsigned long badged = mint(other_ep, FERRY_RIGHTS_ALL, 0x77);
    CHECK(nogrant && badged);
    xfer_ep = ep;
    xfer_slot = slot_alloc();
    CHECK(xfer_slot);
    unsigned long t = spawn(cap_receiver, 254, 0);
    CHECK(t);
    /* The receive slot is named in the receiver's buffer (we can write it:
     * same address space); it is read when a message arrives. */
    struct ferry_ipc_buffer *rbuf = last_spawn_buf;
    rbuf->recv_cnode = FERRY_CAP_INIT_CNODE;
    rbuf->recv_index = xfer_slot;
    rbuf->recv_depth = 64;
    CHECK(settle());
    /* A frame goes into the receiver's slot... */
    struct sys_msg m = { .info = FERRY_MSGINFO(5, 1, 1), .w = { 42 } };
    ulib_ipc->caps_or_badges[0] = frame;
    CHECK_OK(ipc_call(ep, &m));
    CHECK(xfer_err == 1 && FERRY_MSGINFO_CAPS(xfer_info) == 1 && FERRY_MSGINFO_LABEL(xfer_info) == 5);
    CHECK(xfer_badge0 == 0);
    /* ...and is the same frame: map both, write through one, read the other. */
    unsigned long pa1, pa2;
    CHECK_OK(ferry_frame_address(frame, &pa1));
    CHECK_OK(ferry_frame_address(xfer_slot, &pa2));
    CHECK(pa1 == pa2);
    const unsigned long va = 0x36000000UL;
    CHECK(table_ensure(va));
    CHECK_OK(ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, va, RW));
    CHECK_OK(ferry_frame_map(xfer_slot, FERRY_CAP_INIT_VSPACE, va + 0x1000, RW));
    *(volatile unsigned long *)va = 0x5ca1ab1e;
    CHECK(*(volatile unsigned long *)(va + 0x1000) == 0x5ca1ab1e);
    /* An endpoint capability arrives with its badge reported. */
    xfer_slot = slot_alloc();
    rbuf->recv_index = xfer_slot;
    m.info = FERRY_MSGINFO(6, 0, 1);
    ulib_ipc->caps_or_badges[0] = badged;
    CHECK_OK(ipc_call(ep, &m));
    CHECK(FERRY_MSGINFO_CAPS(xfer_info) == 1 && xfer_badge0 == 0x77);
    /* The receive slot is occupied now: the message arrives, the cap does not. */
    m.info = FERRY_MSGINFO(7, 0, 1);
    ulib_ipc->caps_or_badges[0] = frame;
    CHECK_OK(ipc_call(ep, &m));
    CHECK(FERRY_MSGINFO_LABEL(xfer_info) == 7 && FERRY_MSGINFO_CAPS(xfer_info) == 0);
    /* Without GRANT the send is refused. */
    m.info = FERRY_MSGINFO(8, 0, 1);
    CHECK_ERR(ipc_call(nogrant, &m), FERRY_E_RIGHTS);
    CHECK(FERRY_MSGINFO_LABEL(xfer_info) == 7);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* Notifications: Signal, Wait, Poll. */
static volatile unsigned long nt_ntfn, nt_bits, nt_err;

static void ntfn_waiter(void)
{
    for (;;) {
        unsigned long bits;
        nt_err = ntfn_wait(nt_ntfn, &bits) + 1;
        nt_bits = bits;
    }
}

static bool ipc_notification(void)
{
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long n1 = mint(ntfn, FERRY_RIGHT_WRITE, 0x1), n4 = mint(ntfn, FERRY_RIGHT_WRITE, 0x4);
    unsigned long bits = 99;
    CHECK(n1 && n4);
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0);                   /* nothing pending */
    CHECK_OK(ntfn_signal(n1));
    CHECK_OK(ntfn_signal(n4));
    CHECK_OK(ntfn_signal(n1));
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0x5);                 /* OR-ed, then cleared */
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0);
    CHECK_OK(ntfn_signal(n4));
    CHECK_OK(ntfn_wait(ntfn, &bits));   /* pending: does not block */
    CHECK(bits == 0x4);
    /* A waiting thread is woken with the signal's badge. */
    nt_ntfn = ntfn;
    nt_err = 0;
    unsigned long t = spawn(ntfn_waiter, 254, 0);
    CHECK(t && settle());
    CHECK(nt_err == 0);
    CHECK_OK(ntfn_signal(n4));
    CHECK(settle());
    CHECK(nt_err == 1 && nt_bits == 0x4);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* A thread bound to a notification: one Recv waits for both. */
static volatile unsigned long bd_ep, bd_badge, bd_info, bd_w0, bd_count;

static void bound_receiver(void)
{
    for (;;) {
        struct sys_msg m = { 0 };
        if (ipc_recv(bd_ep, &m) == FERRY_OK) {
            bd_badge = m.badge;
            bd_info = m.info;
            bd_w0 = m.w[0];
            bd_count++;
        }
    }
}

static bool ipc_bound_notification(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long sig = mint(ntfn, FERRY_RIGHT_WRITE, 0x8), ep_b = mint(ep, FERRY_RIGHT_WRITE, 0x3);
    CHECK(sig && ep_b);
    bd_ep = ep;
    bd_count = 0;
    unsigned long t = spawn(bound_receiver, 254, 0);
    CHECK(t);
    CHECK_OK(tcb_bind_notification(t, ntfn));
    CHECK_ERR(tcb_bind_notification(t, ntfn), FERRY_E_ILLEGAL_OP);   /* already bound */
    CHECK(settle());                    /* blocked in Recv on ep */
    CHECK_OK(ntfn_signal(sig));
    CHECK(settle());
    CHECK(bd_count == 1 && bd_badge == 0x8 && bd_info == 0);
    struct sys_msg m = { .info = FERRY_MSGINFO(4, 1, 0), .w = { 1234 } };
    CHECK_OK(ipc_send(ep_b, &m));
    CHECK(settle());
    CHECK(bd_count == 2 && bd_badge == 0x3 && bd_w0 == 1234 && FERRY_MSGINFO_LABEL(bd_info) == 4);
    /* Pending bits are taken by the next Recv before any sender. */
    CHECK_OK(ferry_tcb_suspend(t));
    CHECK_OK(ntfn_signal(sig));
    CHECK_OK(ferry_tcb_resume(t));            /* restarts its Recv */
    CHECK(settle());
    CHECK(bd_count == 3 && bd_badge == 0x8);
    /* Only the bound thread receives from a bound notification. */
    unsigned long bits;
    CHECK_ERR(ntfn_wait(ntfn, &bits), FERRY_E_ILLEGAL_OP);
    CHECK_OK(tcb_unbind_notification(t));
    CHECK_ERR(tcb_unbind_notification(t), FERRY_E_ILLEGAL_OP);
    CHECK_OK(ntfn_signal(sig));         /* now just pending */
    CHECK(settle());
    CHECK(bd_count == 3);
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0x8);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* Faults as IPC. */
#define FAULT_VA 0x35000000UL
static volatile unsigned long ft_progress;

static void page_faulter(void)
{
    ft_progress = 1;
    *(volatile unsigned long *)FAULT_VA = 0xabcd;      /* not mapped yet */
    ft_progress = *(volatile unsigned long *)FAULT_VA;
    park();
}

static void ud_faulter(void)
{
    ft_progress = 1;
    __asm__ __volatile__("ud2");
    ft_progress = 2;                     /* after the handler skipped ud2 */
    volatile unsigned long zero = 0, x = 7;
    x /= zero;                           /* divide error: never fixed */
    ft_progress = 3;
    park();
}

static bool ipc_fault_handler(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long fep = mint(ep, FERRY_RIGHT_WRITE, 0xfa);
    CHECK(fep);
    ft_progress = 0;
    unsigned long t = spawn(page_faulter, 254, fep);
    CHECK(t);
    struct sys_msg m = { 0 };
    CHECK_OK(ipc_recv(ep, &m));         /* the fault message */
    CHECK(ft_progress == 1);
    CHECK(m.badge == 0xfa && FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE);
    CHECK(FERRY_MSGINFO_LEN(m.info) == FERRY_FAULT_MSG_LEN);
    CHECK(m.w[FERRY_FAULT_MR_ADDR] == FAULT_VA && m.w[FERRY_FAULT_MR_VECTOR] == 14);
    CHECK((m.w[FERRY_FAULT_MR_ERROR] & 2) != 0);        /* a write */
    CHECK(m.w[FERRY_FAULT_MR_IP] > (unsigned long)page_faulter &&
          m.w[FERRY_FAULT_MR_IP] < (unsigned long)page_faulter + 64);
    /* Fix it: map a page there, then reply to resume the thread. */
    CHECK(table_ensure(FAULT_VA));
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, FAULT_VA, RW));
    m.info = 0;
    CHECK_OK(ipc_reply(&m));
    CHECK(settle());
    CHECK(ft_progress == 0xabcd);
    CHECK_OK(ferry_tcb_suspend(t));

    /* An undefined instruction: the handler moves RIP past it. */
    ft_progress = 0;
    t = spawn(ud_faulter, 254, fep);
    CHECK(t);
    CHECK_OK(ipc_recv(ep, &m));
    CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_EXCEPTION && m.w[FERRY_FAULT_MR_VECTOR] == 6);
    unsigned long rip = m.w[FERRY_FAULT_MR_IP];
    CHECK(*(const unsigned short *)rip == 0x0b0f);      /* ud2 */
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RIP] == rip);
    regs[FERRY_REG_RIP] = rip + 2;
    CHECK_OK(ferry_tcb_write_registers(t, false, FERRY_REG_COUNT, regs));
    m.info = 0;
    CHECK_OK(ipc_reply_recv(ep, &m));   /* resume it, wait for its next fault */
    CHECK(ft_progress == 2);
    CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_EXCEPTION && m.w[FERRY_FAULT_MR_VECTOR] == 0);
    /* Not replying leaves it stopped. */
    CHECK(settle());
    CHECK(ft_progress == 2);
    CHECK_OK(ferry_tcb_suspend(t));
    /* A fault endpoint that is not there: suspended and reported as before. */
    ft_progress = 0;
    unsigned long bad = slot_alloc();
    t = spawn(ud_faulter, 254, bad);
    CHECK(t && settle());
    CHECK(ft_progress == 1);
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(*(const unsigned short *)regs[FERRY_REG_RIP] == 0x0b0f);
    return true;
}

/* Robustness: an endpoint deleted under its waiters. */
static volatile unsigned long rb_ep, rb_err[2];

static void rb_receiver(void)
{
    struct sys_msg m = { 0 };
    rb_err[0] = ipc_recv(rb_ep, &m) + 1;
    park();
}

static void rb_sender(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    rb_err[1] = ipc_call(rb_ep, &m) + 1;
    park();
}

static bool ipc_endpoint_deleted(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ep2, FERRY_OBJ_ENDPOINT, 0);
    rb_err[0] = rb_err[1] = 0;
    rb_ep = ep;
    unsigned long r = spawn(rb_receiver, 254, 0);
    CHECK(r && settle());
    rb_ep = ep2;
    unsigned long s = spawn(rb_sender, 254, 0);
    CHECK(s && settle());
    CHECK(rb_err[0] == 0 && rb_err[1] == 0);   /* both blocked */
    CHECK_OK(ferry_cnode_delete(ep));
    CHECK_OK(ferry_cnode_delete(ep2));
    CHECK(settle());
    CHECK(rb_err[0] == FERRY_E_INVALID_CAP + 1 && rb_err[1] == FERRY_E_INVALID_CAP + 1);
    CHECK_OK(ferry_tcb_suspend(r));
    CHECK_OK(ferry_tcb_suspend(s));
    return true;
}

/* Robustness: the caller disappears while the server holds its reply. */
static volatile unsigned long hold_ep, hold_ntfn, hold_calls, hold_reply_err, cl_done, cl_err;

static void holding_server(void)
{
    struct sys_msg m = { 0 };
    unsigned long bits;
    ipc_recv(hold_ep, &m);
    for (;;) {
        hold_calls++;
        ntfn_wait(hold_ntfn, &bits);     /* hold the reply until told */
        m.info = FERRY_MSGINFO(0, 1, 0);
        m.w[0] = 555;
        hold_reply_err = ipc_reply(&m) + 1;
        ipc_recv(hold_ep, &m);
    }
}

static void holding_client(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    cl_err = ipc_call(hold_ep, &m) + 1;
    cl_done = m.w[0];
    park();
}

static bool ipc_caller_gone(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    hold_ep = ep;
    hold_ntfn = ntfn;
    hold_calls = hold_reply_err = cl_done = cl_err = 0;
    unsigned long srv = spawn(holding_server, 253, 0);
    CHECK(srv && settle());
    unsigned long cl = spawn(holding_client, 254, 0);
    CHECK(cl && settle());
    CHECK(hold_calls == 1 && cl_err == 0);
    /* Suspend the caller: the reply finds nobody and is dropped. */
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ntfn_signal(ntfn));
    CHECK(settle());
    CHECK(hold_reply_err == 1 && cl_err == 0);
    /* Resumed, the caller restarts its Call (seL4's restart) and gets an answer. */
    CHECK_OK(ferry_tcb_resume(cl));
    CHECK(settle());
    CHECK(hold_calls == 2 && cl_err == 0);
    CHECK_OK(ntfn_signal(ntfn));
    CHECK(settle());
    CHECK(cl_err == 1 && cl_done == 555);
    /* Delete a caller outright while its reply is held. */
    cl_err = 0;
    unsigned long cl2 = spawn(holding_client, 254, 0);
    CHECK(cl2 && settle());
    CHECK(hold_calls == 3);
    CHECK_OK(ferry_cnode_delete(cl2));
    hold_reply_err = 0;
    CHECK_OK(ntfn_signal(ntfn));
    CHECK(settle());
    CHECK(hold_reply_err == 1 && cl_err == 0);
    /* The server dies holding a reply: its caller wakes with an error. */
    unsigned long cl3 = spawn(holding_client, 254, 0);
    CHECK(cl3 && settle());
    CHECK(hold_calls == 4 && cl_err == 0);
    CHECK_OK(ferry_cnode_delete(srv));
    CHECK(settle());
    CHECK(cl_err == FERRY_E_INVALID_CAP + 1);
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ferry_tcb_suspend(cl3));
    return true;
}

/* Suspending a blocked receiver and resuming it restarts its Recv. */
static bool ipc_suspend_restarts(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    CHECK_OK(ferry_tcb_suspend(srv));
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 1, 0), .w = { 3 } };
    CHECK_OK(ipc_nbsend(ep, &m));       /* nobody waits now */
    CHECK_OK(ferry_tcb_resume(srv));
    CHECK(settle());
    unsigned long before = srv_calls;
    m.info = FERRY_MSGINFO(1, 1, 0);
    m.w[0] = 3;
    CHECK_OK(ipc_call(ep, &m));
    CHECK(m.w[0] == 9 && srv_calls == before + 1 && srv_last_err == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* A thread blocked in a system call entered by `syscall`: the CPU put its
 * RIP in RCX and its RFLAGS in R11, and ReadRegisters says so (the entry
 * stub does not store those two slots, context.h). */
static void blocked_receiver(void)
{
    struct sys_msg m = { 0 };
    for (;;)
        ipc_recv(srv_ep, &m);
}

static bool ipc_blocked_registers(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    srv_ep = ep;
    unsigned long t = spawn(blocked_receiver, 254, 0);
    CHECK(t && settle());
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RAX] == FERRY_SYS_RECV);          /* kept for a restart */
    CHECK(regs[FERRY_REG_RCX] == regs[FERRY_REG_RIP]);
    CHECK(regs[FERRY_REG_R11] == regs[FERRY_REG_RFLAGS]);
    CHECK(regs[FERRY_REG_RFLAGS] & 0x200);
    /* Writing one register makes RCX/R11 real registers: the thread then
     * leaves by iretq with them as read (a Send wakes it, and it blocks
     * again in the same Recv). */
    CHECK_OK(ferry_tcb_write_registers(t, false, 1, regs));
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    CHECK_OK(ipc_send(ep, &m));
    CHECK(settle());
    unsigned long again[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, again));
    CHECK(again[FERRY_REG_RIP] == regs[FERRY_REG_RIP] && again[FERRY_REG_RCX] == regs[FERRY_REG_RIP]);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* A reply to a caller of lower priority than the server: the caller runs
 * next only if no ready thread is above it (the fast path asks the ready
 * queues' bitmap, the slow path the scheduler: same order either way). */
static volatile unsigned long lp_ep, lp_ntfn, lp_signal;
static volatile char lp_log[4];
static volatile unsigned lp_n;

static void lp_server(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(lp_ep, &m);
    for (;;) {
        if (lp_signal)
            ntfn_signal(lp_ntfn);       /* the waiter (150) is ready now */
        m.info = FERRY_MSGINFO(2, 1, 0);
        m.w[0]++;
        ipc_reply_recv(lp_ep, &m);
    }
}

static void lp_waiter(void)
{
    unsigned long bits;
    ntfn_wait(lp_ntfn, &bits);
    lp_log[lp_n++] = 'W';
    park();
}

static void lp_client(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 1, 0), .w = { 41 } };
    unsigned long e = ipc_call(lp_ep, &m);
    lp_log[lp_n++] = e == 0 && m.w[0] == 42 && FERRY_MSGINFO_LABEL(m.info) == 2 ? 'C' : 'x';
    park();
}

static bool ipc_reply_to_lower_priority(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    lp_ep = ep;
    lp_ntfn = ntfn;
    lp_signal = 0;
    lp_n = 0;
    unsigned long srv = spawn(lp_server, 200, 0);
    CHECK(srv && settle());
    /* Nothing ready between them: the client (100) gets its answer. */
    unsigned long c1 = spawn(lp_client, 100, 0);
    CHECK(c1 && settle());
    CHECK(lp_n == 1 && lp_log[0] == 'C');
    /* The server wakes a waiter of priority 150 before replying: the
     * waiter runs first, then the client. */
    lp_n = 0;
    unsigned long w = spawn(lp_waiter, 150, 0);
    CHECK(w && settle());
    CHECK(lp_n == 0);
    lp_signal = 1;
    unsigned long c2 = spawn(lp_client, 100, 0);
    CHECK(c2 && settle());
    CHECK(lp_n == 2 && lp_log[0] == 'W' && lp_log[1] == 'C');
    CHECK_OK(ferry_tcb_suspend(srv));
    CHECK_OK(ferry_tcb_suspend(c1));
    CHECK_OK(ferry_tcb_suspend(c2));
    CHECK_OK(ferry_tcb_suspend(w));
    return true;
}

/* A server for the per-thread state tests below: it answers each Call
 * with word 0 + 1 and counts the requests on which its own state (FS/GS
 * bases, FPU registers) was not what it left there.  state_ok checks and
 * then (re)establishes that state; it runs once before the first Recv. */
static volatile unsigned long state_ep, state_server_bad;
static bool (*volatile state_ok)(void);

static void state_server(void)
{
    struct sys_msg m = { 0 };
    state_ok();
    ipc_recv(state_ep, &m);
    for (;;) {
        if (!state_ok())
            state_server_bad++;
        m.info = FERRY_MSGINFO(0, 1, 0);
        m.w[0]++;
        ipc_reply_recv(state_ep, &m);
    }
}

/* Threads with their own FS and GS bases keep them across IPC (the fast
 * path writes the MSRs only when some thread has non-zero bases, and then
 * only those that differ). */
#define BASES_VA 0x3a000000UL
#define BASES_ROUNDS 200
static volatile unsigned long bases_client_ok;

static unsigned long read_fs0(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(v));
    return v;
}

static unsigned long read_gs0(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%gs:0, %0" : "=r"(v));
    return v;
}

static bool server_bases_ok(void)
{
    return read_fs0() == 0x3333 && read_gs0() == 0x4444;
}

static void bases_client(void)
{
    unsigned long ok = 0;
    for (unsigned long i = 0; i < BASES_ROUNDS; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { i } };
        if (ipc_call(state_ep, &m) == 0 && m.w[0] == i + 1 && read_fs0() == 0x1111 && read_gs0() == 0x2222)
            ok++;
    }
    bases_client_ok = ok;
    park();
}

static bool ipc_fs_gs_bases(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(page, FERRY_OBJ_FRAME_4K, 0);
    CHECK(table_ensure(BASES_VA));
    CHECK_OK(ferry_frame_map(page, FERRY_CAP_INIT_VSPACE, BASES_VA, RW));
    volatile unsigned long *w = (volatile unsigned long *)BASES_VA;
    w[0] = 0x1111;                      /* client FS:0 */
    w[16] = 0x2222;                     /* client GS:0 */
    w[32] = 0x3333;                     /* server FS:0 */
    w[48] = 0x4444;                     /* server GS:0 */
    state_ep = ep;
    state_ok = server_bases_ok;
    bases_client_ok = state_server_bad = 0;
    unsigned long srv = spawn_with(state_server, 200, 0, BASES_VA + 32 * 8, BASES_VA + 48 * 8);
    CHECK(srv && settle());
    unsigned long cl = spawn_with(bases_client, 200, 0, BASES_VA, BASES_VA + 16 * 8);
    CHECK(cl && settle());
    CHECK(bases_client_ok == BASES_ROUNDS && state_server_bad == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    CHECK_OK(ferry_tcb_suspend(cl));
    return true;
}

/* FPU state stays each thread's own across IPC: client and server keep
 * different values in xmm5 (with lazy switching every direction traps
 * and moves the state; eager switching moves it on every switch). */
#define FPU_ROUNDS 100

static void xmm5_set(unsigned long v)
{
    __asm__ __volatile__("movq %0, %%xmm5" : : "r"(v) : "xmm5");
}

static unsigned long xmm5_get(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%xmm5, %0" : "=r"(v));
    return v;
}

static bool server_xmm5_ok(void)
{
    bool ok = xmm5_get() == 0x5e5e5e5e;
    xmm5_set(0x5e5e5e5e);
    return ok;
}

static bool ipc_fpu_private(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    state_ep = ep;
    state_ok = server_xmm5_ok;
    state_server_bad = 0;
    unsigned long srv = spawn(state_server, 255, 0);
    CHECK(srv && settle());
    unsigned long ok = 0;
    for (unsigned long i = 0; i < FPU_ROUNDS; i++) {
        xmm5_set(0xc1c1c1c1 + i);
        struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { i } };
        unsigned long e = ipc_call(ep, &m);
        if (xmm5_get() == 0xc1c1c1c1 + i && e == 0 && m.w[0] == i + 1)
            ok++;
    }
    CHECK(ok == FPU_ROUNDS && state_server_bad == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* ---- cross-address-space tests ---------------------------------------------------- */

#define PROC_STACKS 0x37000000UL
static unsigned long next_proc_stack = PROC_STACKS;

static bool new_process(struct process *p, void (*fn)(void), unsigned prio)
{
    unsigned long va = next_proc_stack;
    next_proc_stack += 0x1000;
    return process_create(p, fn, va, prio, true) == FERRY_OK;
}

static bool ipc_cross_space(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    srv_ep = ep;
    srv_calls = 0;
    srv_in_process = true;
    struct process p;
    CHECK(new_process(&p, echo_server, 254));
    CHECK(settle());
    for (unsigned long len = 0; len <= 16; len += 4) {
        struct sys_msg m = { .info = FERRY_MSGINFO(20, len, 0), .w = { 1, 2, 3, 4 } };
        for (unsigned long i = 4; i < len; i++)
            ulib_ipc->mr[i] = i;
        CHECK_OK(ipc_call(ep, &m));
        CHECK(FERRY_MSGINFO_LABEL(m.info) == 21 && FERRY_MSGINFO_LEN(m.info) == len);
        for (unsigned long i = 0; i < len; i++)
            CHECK((i < 4 ? m.w[i] : ulib_ipc->mr[i]) == echo_word(i < 4 ? i + 1 : i, i));
    }
    CHECK(srv_calls == 5);
    CHECK_OK(ferry_tcb_suspend(p.tcb));
    return true;
}

/*
 * Stress: NCLIENT clients and NSERVER servers, each in its own address
 * space, share one endpoint.  Client c calls with its own badge (c + 1),
 * a sequence number and a payload word, a checksum over all of it, and
 * every 8th call a 16-word message through the IPC buffer.  A server
 * checks badge, sequence (per client, so a lost or repeated message
 * shows), checksum, and replies with a transform the client checks.
 * Counts live in the shared data pages (the image is shared).
 */
#define NCLIENT 4
#define NSERVER 3
#define STRESS_LONG 16
/* Total calls; ipc_stress=N on the command line overrides. */
#define STRESS_DEFAULT 1000000
static volatile unsigned long st_ep, st_done_ep, st_per_client, st_next_client;
static volatile unsigned long st_expect[NCLIENT], st_served[NSERVER], st_bad_srv, st_bad_cli;
static volatile unsigned long st_next_server;
static unsigned long st_badged[NCLIENT];

static unsigned long mix(unsigned long a, unsigned long b)
{
    return (a ^ (b * 0x9e3779b97f4a7c15UL)) * 0xff51afd7ed558ccdUL;
}

static unsigned long st_sum(unsigned long label, unsigned long len, const unsigned long *w,
                            const struct ferry_ipc_buffer *buf)
{
    unsigned long s = mix(label, len);
    for (unsigned long i = 0; i < len; i++)
        if (i != 3)
            s = mix(s, i < 4 ? w[i] : buf->mr[i]);
    return s;
}

static void stress_server(void)
{
    unsigned long id = __atomic_fetch_add(&st_next_server, 1, __ATOMIC_RELAXED);
    struct ferry_ipc_buffer *buf = ulib_ipc;   /* this space's own buffer */
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(st_ep, &m);
    for (;;) {
        unsigned long len = FERRY_MSGINFO_LEN(m.info), c = m.badge - 1;
        if (err || c >= NCLIENT || (len != 4 && len != STRESS_LONG) || m.w[0] != c ||
            m.w[1] != st_expect[c] || m.w[3] != st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf)) {
            st_bad_srv++;
            m.info = 0;
            err = ipc_reply_recv(st_ep, &m);
            continue;
        }
        st_expect[c]++;
        st_served[id]++;
        /* Reply: the payload transformed, the long part reversed. */
        m.w[2] = mix(m.w[2], m.w[1]);
        for (unsigned long i = 4; i < len; i++)
            buf->mr[i] = ~buf->mr[i];
        m.info = FERRY_MSGINFO(FERRY_MSGINFO_LABEL(m.info) + 1, len, 0);
        m.w[3] = st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf);
        err = ipc_reply_recv(st_ep, &m);
    }
}

static void stress_client(void)
{
    unsigned long c = __atomic_fetch_add(&st_next_client, 1, __ATOMIC_RELAXED);
    unsigned long ep = st_badged[c];
    struct ferry_ipc_buffer *buf = ulib_ipc;
    unsigned long bad = 0;
    for (unsigned long seq = 0; seq < st_per_client; seq++) {
        unsigned long len = seq % 8 == 7 ? STRESS_LONG : 4, payload = mix(c, seq);
        struct sys_msg m = { .info = FERRY_MSGINFO(seq & 0xffff, len, 0), .w = { c, seq, payload, 0 } };
        for (unsigned long i = 4; i < len; i++)
            buf->mr[i] = mix(payload, i);
        m.w[3] = st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf);
        if (ipc_call(ep, &m) != FERRY_OK || FERRY_MSGINFO_LEN(m.info) != len ||
            FERRY_MSGINFO_LABEL(m.info) != (seq & 0xffff) + 1 || m.w[0] != c || m.w[1] != seq ||
            m.w[2] != mix(payload, seq) || m.w[3] != st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf)) {
            bad++;
            continue;
        }
        for (unsigned long i = 4; i < len; i++)
            if (buf->mr[i] != ~mix(payload, i))
                bad++;
    }
    st_bad_cli += bad;
    struct sys_msg done = { .info = FERRY_MSGINFO(0, 1, 0), .w = { c } };
    ipc_send(st_done_ep, &done);
    park();
}

static bool ipc_stress(void)
{
    uint64_t total = STRESS_DEFAULT;
    CHECK(cmdline_get_u64(ulib_bootinfo->cmdline, "ipc_stress", &total) >= 0);
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(done_ep, FERRY_OBJ_ENDPOINT, 0);
    st_ep = ep;
    st_done_ep = done_ep;
    st_per_client = total / NCLIENT;
    st_next_client = st_next_server = 0;
    st_bad_srv = st_bad_cli = 0;
    for (unsigned c = 0; c < NCLIENT; c++) {
        st_expect[c] = 0;
        CHECK((st_badged[c] = mint(ep, FERRY_RIGHT_WRITE, c + 1)));
    }
    struct process ps[NSERVER], pc[NCLIENT];
    for (unsigned s = 0; s < NSERVER; s++) {
        st_served[s] = 0;
        CHECK(new_process(&ps[s], stress_server, 200));
        CHECK(settle());                /* each takes its id in order */
    }
    /* The clients run once we block below (they are of lower priority). */
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK(new_process(&pc[c], stress_client, 200));
    unsigned long finished = 0;
    while (finished < NCLIENT) {
        struct sys_msg m = { 0 };
        CHECK_OK(ipc_recv(done_ep, &m));
        finished++;
    }
    unsigned long served = 0;
    for (unsigned s = 0; s < NSERVER; s++)
        served += st_served[s];
    printf("    %lu calls by %u clients to %u servers in %u+%u address spaces: served %lu"
           " (%lu %lu %lu), bad at servers %lu, at clients %lu\n",
           st_per_client * NCLIENT, NCLIENT, NSERVER, NCLIENT, NSERVER, served, st_served[0],
           st_served[1], st_served[2], st_bad_srv, st_bad_cli);
    CHECK(st_bad_srv == 0 && st_bad_cli == 0);
    CHECK(served == st_per_client * NCLIENT);
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK(st_expect[c] == st_per_client);
    for (unsigned s = 0; s < NSERVER; s++)
        CHECK_OK(ferry_tcb_suspend(ps[s].tcb));
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK_OK(ferry_tcb_suspend(pc[c].tcb));
    return true;
}

const struct utest utests_ipc[] = {
    { ipc_call_reply, "ipc_call_reply" },
    { ipc_long_message, "ipc_long_message" },
    { ipc_badges, "ipc_badges" },
    { ipc_send_recv_fifo, "ipc_send_recv_fifo" },
    { ipc_nbsend_drops, "ipc_nbsend_drops" },
    { ipc_bad_caps_and_rights, "ipc_bad_caps_and_rights" },
    { ipc_cap_transfer, "ipc_cap_transfer" },
    { ipc_notification, "ipc_notification" },
    { ipc_bound_notification, "ipc_bound_notification" },
    { ipc_fault_handler, "ipc_fault_handler" },
    { ipc_endpoint_deleted, "ipc_endpoint_deleted" },
    { ipc_caller_gone, "ipc_caller_gone" },
    { ipc_suspend_restarts, "ipc_suspend_restarts" },
    { ipc_blocked_registers, "ipc_blocked_registers" },
    { ipc_reply_to_lower_priority, "ipc_reply_to_lower_priority" },
    { ipc_fs_gs_bases, "ipc_fs_gs_bases" },
    { ipc_fpu_private, "ipc_fpu_private" },
    { ipc_cross_space, "ipc_cross_space" },
    { ipc_stress, "ipc_stress" },
};
const size_t utests_ipc_n = sizeof utests_ipc / sizeof utests_ipc[0];
