/* ipc_message.c: in-guest tests of IPC messages: Call/Reply, long messages,
 * badges, Send/Recv order, NBSend, bad capabilities and rights, and
 * capability transfer. */
#include "ipc_lib.h"

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

const struct utest utests_ipc_message[] = {
    UTEST(ipc_call_reply),
    UTEST(ipc_long_message),
    UTEST(ipc_badges),
    UTEST(ipc_send_recv_fifo),
    UTEST(ipc_nbsend_drops),
    UTEST(ipc_bad_caps_and_rights),
    UTEST(ipc_cap_transfer),
};
const size_t utests_ipc_message_n = sizeof utests_ipc_message / sizeof utests_ipc_message[0];
