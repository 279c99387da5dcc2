/* ipc_notify.c: in-guest tests of notifications, plain and bound to a thread. */
#include "ipc_lib.h"

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

const struct utest utests_ipc_notify[] = {
    UTEST(ipc_notification),
    UTEST(ipc_bound_notification),
};
const size_t utests_ipc_notify_n = sizeof utests_ipc_notify / sizeof utests_ipc_notify[0];
