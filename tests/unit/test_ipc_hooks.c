/* SOURCES: kernel/core/invoke.c kernel/object/cnode.c kernel/object/untyped.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/cspace.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_ipc_hooks.c: the object layer's side of IPC: restart of a cancelled call, reply rights dropped, waiters woken with an error when their object goes, notification binding. */
#include "objtest.h"

#include <string.h>
#include <core/invoke.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <ferry/syscall.h>

static struct cte ut, root;
static struct cte *s;

static int setup(void **state)
{
    (void)state;
    s = objtest_cnode(&ut, &root);
    return 0;
}

static struct tcb *make_tcb(int slot)
{
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_TCB, 0, &s[slot], 1), FERRY_OK);
    return cap_tcb(&s[slot].cap);
}

/* A thread that entered the kernel with `syscall` at rip - 2 for sysno. */
static void in_syscall(struct tcb *t, word_t sysno, word_t rip)
{
    ctx_set(&t->ctx, CTX_RAX, sysno);
    ctx_set(&t->ctx, CTX_RIP, rip);
}

static void test_suspend_restarts_blocked_call(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &s[0], 1), FERRY_OK);
    struct endpoint *ep = cap_endpoint(&s[0].cap);
    struct tcb *t = make_tcb(1);
    /* A ReplyRecv whose reply is done (the fast path saved neither its
     * number nor anything but cptr and msginfo): it restarts as a Recv. */
    in_syscall(t, FERRY_SYS_REPLY_RECV, 0x401002);
    t->state = TCB_BLOCKED_RECV;
    endpoint_enqueue(ep, t);

    tcb_suspend(t);
    assert_int_equal(t->state, TCB_INACTIVE);
    assert_int_equal(ep->state, EP_IDLE);
    /* back onto the syscall instruction, a Recv's number in rax */
    assert_int_equal(ctx_get(&t->ctx, CTX_RIP), 0x401000);
    assert_int_equal(ctx_get(&t->ctx, CTX_RAX), FERRY_SYS_RECV);
    /* a second suspend does not move it again */
    tcb_suspend(t);
    assert_int_equal(ctx_get(&t->ctx, CTX_RIP), 0x401000);
}

static void test_faulted_thread_is_not_rewound(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &s[0], 1), FERRY_OK);
    struct tcb *t = make_tcb(1);
    ctx_set(&t->ctx, CTX_RIP, 0x402000);           /* the faulting instruction */
    t->state = TCB_BLOCKED_SEND;
    t->ipc_flags = TCB_IPC_CALL | TCB_IPC_FAULT;
    endpoint_enqueue(cap_endpoint(&s[0].cap), t);
    tcb_suspend(t);
    assert_int_equal(ctx_get(&t->ctx, CTX_RIP), 0x402000);
    assert_int_equal(t->ipc_flags, 0);
}

static void test_caller_gone_clears_reply_right(void **state)
{
    (void)state;
    struct tcb *server = make_tcb(0), *caller = make_tcb(1);
    in_syscall(caller, FERRY_SYS_CALL, 0x401002);
    ctx_set(&caller->ctx, CTX_RDI, 7);
    ctx_set(&caller->ctx, CTX_RSI, 0x1234);
    ctx_set(&caller->ctx, CTX_R10, 9);
    caller->state = TCB_BLOCKED_REPLY;
    caller->ipc_flags = TCB_IPC_CALL;
    caller->blocked_on = server;
    server->reply_to = caller;

    tcb_suspend(caller);
    assert_null(server->reply_to);                   /* the reply will find nobody */
    assert_null(caller->blocked_on);
    /* The Call is not sent again: it returns an error, empty message. */
    assert_int_equal(ctx_get(&caller->ctx, CTX_RIP), 0x401002);
    assert_int_equal(ctx_get(&caller->ctx, CTX_RAX), FERRY_E_INVALID_CAP);
    assert_int_equal(ctx_get(&caller->ctx, CTX_RDI), 0);
    assert_int_equal(ctx_get(&caller->ctx, CTX_RSI), 0);
    assert_int_equal(ctx_get(&caller->ctx, CTX_R10), 0);

    /* deleting a caller while its reply is held: same */
    struct tcb *c2 = make_tcb(2);
    c2->state = TCB_BLOCKED_REPLY;
    c2->blocked_on = server;
    server->reply_to = c2;
    cte_delete(&s[2]);
    assert_null(server->reply_to);
}

static void test_server_gone_wakes_caller(void **state)
{
    (void)state;
    struct tcb *server = make_tcb(0), *caller = make_tcb(1), *faulted = make_tcb(2);
    caller->state = TCB_BLOCKED_REPLY;
    caller->ipc_flags = TCB_IPC_CALL;
    caller->blocked_on = server;
    server->reply_to = caller;
    ctx_set_result(&caller->ctx, FERRY_SYS_CALL);

    cte_delete(&s[0]);
    assert_int_equal(caller->state, TCB_RUNNABLE);
    assert_int_equal(ctx_get(&caller->ctx, CTX_RAX), FERRY_E_INVALID_CAP);
    assert_ptr_equal(sched_choose(), caller);

    /* a faulted thread has no call to return from: it just runs again */
    struct tcb *s2 = make_tcb(3);
    faulted->state = TCB_BLOCKED_REPLY;
    faulted->ipc_flags = TCB_IPC_CALL | TCB_IPC_FAULT;
    faulted->blocked_on = s2;
    ctx_set(&faulted->ctx, CTX_RAX, 1234);
    s2->reply_to = faulted;
    tcb_drop_reply(s2);
    assert_int_equal(faulted->state, TCB_RUNNABLE);
    assert_int_equal(ctx_get(&faulted->ctx, CTX_RAX), 1234);
    assert_null(s2->reply_to);
}

static void test_endpoint_deleted_wakes_with_error(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &s[0], 1), FERRY_OK);
    struct endpoint *ep = cap_endpoint(&s[0].cap);
    struct tcb *a = make_tcb(1), *b = make_tcb(2);
    in_syscall(a, FERRY_SYS_SEND, 0x401002);
    in_syscall(b, FERRY_SYS_CALL, 0x401002);
    a->state = b->state = TCB_BLOCKED_SEND;
    endpoint_enqueue(ep, a);
    endpoint_enqueue(ep, b);
    cte_delete(&s[0]);
    for (int i = 0; i < 2; i++) {
        struct tcb *t = i ? b : a;
        assert_int_equal(t->state, TCB_RUNNABLE);
        assert_int_equal(ctx_get(&t->ctx, CTX_RAX), FERRY_E_INVALID_CAP);
        assert_int_equal(ctx_get(&t->ctx, CTX_RIP), 0x401002);   /* no restart */
    }
    assert_ptr_equal(sched_choose(), a);             /* queue order kept */
    assert_ptr_equal(sched_choose(), b);
}

/* TCB Bind/UnbindNotification through invoke(), as user space calls them. */
static void test_bind_notification(void **state)
{
    (void)state;
    static struct cte cn;
    memset(&cn, 0, sizeof cn);
    assert_int_equal(cte_mint(&root, &cn, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 56)), FERRY_OK);
    struct tcb *self = make_tcb(1), *t = make_tcb(2);
    self->mcp = 200;
    assert_int_equal(tcb_configure(self, &cn, NULL, NULL, 0, 0), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_NOTIFICATION, 0, &s[3], 1), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_NOTIFICATION, 0, &s[4], 1), FERRY_OK);
    assert_int_equal(cte_copy(&s[3], &s[5], FERRY_RIGHT_WRITE), FERRY_OK);   /* no READ */
    struct notification *n = cap_notification(&s[3].cap);

    static struct invocation inv;
    memset(&inv, 0, sizeof inv);
    inv.cptr = 2;
    inv.label = FERRY_TCB_BIND_NOTIFICATION;
    inv.extra_caps = 1;
    inv.caps[0] = 5;
    assert_int_equal(invoke(self, &inv), FERRY_E_RIGHTS);
    inv.caps[0] = 1;
    assert_int_equal(invoke(self, &inv), FERRY_E_WRONG_TYPE);
    inv.extra_caps = 0;
    assert_int_equal(invoke(self, &inv), FERRY_E_MISSING_CAP);
    inv.extra_caps = 1;
    inv.caps[0] = 3;
    assert_int_equal(invoke(self, &inv), FERRY_OK);
    assert_ptr_equal(t->bound_notification, n);
    assert_ptr_equal(n->bound, t);
    /* one each way */
    assert_int_equal(invoke(self, &inv), FERRY_E_ILLEGAL_OP);
    inv.caps[0] = 4;
    assert_int_equal(invoke(self, &inv), FERRY_E_ILLEGAL_OP);
    inv.cptr = 1;
    inv.caps[0] = 3;
    assert_int_equal(invoke(self, &inv), FERRY_E_ILLEGAL_OP);

    inv.cptr = 2;
    inv.label = FERRY_TCB_UNBIND_NOTIFICATION;
    inv.extra_caps = 0;
    assert_int_equal(invoke(self, &inv), FERRY_OK);
    assert_null(t->bound_notification);
    assert_null(n->bound);
    assert_int_equal(invoke(self, &inv), FERRY_E_ILLEGAL_OP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_suspend_restarts_blocked_call, setup),
        cmocka_unit_test_setup(test_faulted_thread_is_not_rewound, setup),
        cmocka_unit_test_setup(test_caller_gone_clears_reply_right, setup),
        cmocka_unit_test_setup(test_server_gone_wakes_caller, setup),
        cmocka_unit_test_setup(test_endpoint_deleted_wakes_with_error, setup),
        cmocka_unit_test_setup(test_bind_notification, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
