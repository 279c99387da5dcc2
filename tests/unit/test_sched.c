/* SOURCES: kernel/core/readyqueue.c tests/unit/host_stubs.c */
/* test_sched.c: ready queues: priority order, round robin, front insertion, bitmap consistency, time slices. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <core/sched.h>

static struct tcb idle, t[64];

static int setup(void **state)
{
    (void)state;
    memset(&idle, 0, sizeof idle);
    memset(t, 0, sizeof t);
    for (unsigned i = 0; i < 64; i++)
        t[i].time_slice = SCHED_SLICE_TICKS;
    sched_init(&idle);
    return 0;
}

static struct tcb *at(unsigned i, uint8_t prio)
{
    t[i].prio = prio;
    return &t[i];
}

/* A thread queued on another CPU: a reschedule IPI when that CPU idles
 * and halts, none while its idle loop polls the queues (it will see the
 * thread), one when the thread preempts what runs there, none when not. */
extern unsigned host_resched_calls;
static void test_remote_wakeup_ipi_unless_polling(void **state)
{
    (void)state;
    static struct tcb idle1, low;
    memset(&idle1, 0, sizeof idle1);
    memset(&low, 0, sizeof low);
    ks_percpu_of[0].cpu = 1;            /* sched_init sets up "this" CPU's queues */
    sched_init(&idle1);
    ks_percpu_of[1].sched = ks_percpu_of[0].sched;
    ks_percpu_of[0].cpu = 0;
    sched_init(&idle);
    ks_ncpus = 2;
    struct tcb *w = at(0, 20);
    w->affinity = 1;

    ks_percpu_of[1].cur = &idle1;
    ks_percpu_of[1].idle_polling = false;
    host_resched_calls = 0;
    sched_enqueue(w);
    assert_int_equal(host_resched_calls, 1);   /* halted: it needs the IPI */
    assert_false(sched_ready_hint());           /* queued there, not here */

    sched_dequeue(w);
    ks_percpu_of[1].idle_polling = true;
    sched_enqueue(w);
    assert_int_equal(host_resched_calls, 1);   /* polling: no IPI */

    sched_dequeue(w);
    ks_percpu_of[1].idle_polling = false;
    low.prio = 10;
    ks_percpu_of[1].cur = &low;
    sched_enqueue(w);
    assert_int_equal(host_resched_calls, 2);   /* preempts what runs there */

    sched_dequeue(w);
    low.prio = 30;
    sched_enqueue(w);
    assert_int_equal(host_resched_calls, 2);   /* does not */
    sched_dequeue(w);
    ks_ncpus = 1;
    ks_percpu_of[1].cur = NULL;
}

static void test_empty_gives_idle(void **state)
{
    (void)state;
    assert_int_equal(sched_highest_prio(), -1);
    assert_ptr_equal(sched_choose(), &idle);
    assert_false(sched_should_preempt(&t[0]));
}

static void test_priority_order(void **state)
{
    (void)state;
    sched_enqueue(at(0, 3));
    sched_enqueue(at(1, 200));
    sched_enqueue(at(2, 64));
    sched_enqueue(at(3, 255));
    sched_enqueue(at(4, 0));
    sched_enqueue(at(5, 63));
    assert_int_equal(sched_highest_prio(), 255);
    struct tcb *want[] = { &t[3], &t[1], &t[2], &t[5], &t[0], &t[4], &idle };
    for (unsigned i = 0; i < 7; i++) {
        struct tcb *got = sched_choose();
        assert_ptr_equal(got, want[i]);
        assert_false(got->in_ready_queue);
    }
    assert_int_equal(sched_highest_prio(), -1);
}

static void test_round_robin(void **state)
{
    (void)state;
    sched_enqueue(at(0, 10));
    sched_enqueue(at(1, 10));
    sched_enqueue(at(2, 10));
    sched_enqueue(at(3, 9));
    /* each chosen thread goes back to the tail when its slice ends */
    struct tcb *want[] = { &t[0], &t[1], &t[2], &t[0], &t[1], &t[2], &t[0] };
    for (unsigned i = 0; i < 7; i++) {
        struct tcb *cur = sched_choose();
        assert_ptr_equal(cur, want[i]);
        sched_enqueue(cur);
    }
    /* a thread enqueued at the front keeps its turn */
    struct tcb *cur = sched_choose();
    assert_ptr_equal(cur, &t[1]);
    sched_enqueue_front(cur);
    assert_ptr_equal(sched_choose(), &t[1]);
}

static void test_dequeue_and_double_enqueue(void **state)
{
    (void)state;
    sched_enqueue(at(0, 7));
    sched_enqueue(at(1, 7));
    sched_enqueue(at(2, 7));
    sched_enqueue(&t[1]);            /* already queued: no effect */
    sched_dequeue(&t[1]);            /* middle */
    sched_dequeue(&t[1]);            /* not queued: no effect */
    assert_ptr_equal(sched_choose(), &t[0]);
    assert_ptr_equal(sched_choose(), &t[2]);
    assert_ptr_equal(sched_choose(), &idle);
    sched_enqueue(&t[2]);
    sched_dequeue(&t[2]);            /* the only one: the bitmap bit goes */
    assert_int_equal(sched_highest_prio(), -1);
}

static void test_set_prio_moves_queue(void **state)
{
    (void)state;
    sched_enqueue(at(0, 5));
    sched_enqueue(at(1, 5));
    sched_set_prio(&t[1], 100);
    assert_int_equal(sched_highest_prio(), 100);
    assert_ptr_equal(sched_choose(), &t[1]);
    sched_set_prio(&t[2], 50);       /* not queued: just the field */
    assert_false(t[2].in_ready_queue);
    assert_int_equal(t[2].prio, 50);
    assert_int_equal(sched_highest_prio(), 5);
}

static void test_preempt_and_tick(void **state)
{
    (void)state;
    struct tcb *cur = at(0, 20);
    sched_enqueue(at(1, 20));
    assert_false(sched_should_preempt(cur));    /* equal priority waits for the slice */
    sched_enqueue(at(2, 21));
    assert_true(sched_should_preempt(cur));
    assert_true(sched_should_preempt(&idle));
    for (unsigned i = 1; i < SCHED_SLICE_TICKS; i++)
        assert_false(sched_tick(cur));
    assert_true(sched_tick(cur));
    assert_int_equal(cur->time_slice, SCHED_SLICE_TICKS);
    assert_false(sched_tick(&idle));
}

/* The tick without the lock counts only while the slice has more than one
 * tick left; the last tick is the locked one (sched_tick: the slice ends,
 * is refilled, the thread goes to the back), so mixing the two ends the
 * slice after exactly SCHED_SLICE_TICKS ticks. */
static void test_tick_unlocked_leaves_the_last_to_the_lock(void **state)
{
    (void)state;
    struct tcb *cur = at(0, 20);
    unsigned ticks = 0;
    while (sched_tick_unlocked(cur))
        ticks++;
    assert_int_equal(ticks, SCHED_SLICE_TICKS - 1);
    assert_int_equal(cur->time_slice, 1);
    assert_false(sched_tick_unlocked(cur));      /* nothing counted */
    assert_int_equal(cur->time_slice, 1);
    assert_true(sched_tick(cur));                /* the locked tick ends it */
    assert_int_equal(cur->time_slice, SCHED_SLICE_TICKS);
    assert_true(sched_tick_unlocked(cur));
}

/* Random operations against a simple model: the bitmap must always name
 * the highest non-empty priority, and FIFO order must hold per priority. */
static void test_bitmap_matches_model(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    int count[SCHED_NPRIO] = { 0 };
    for (unsigned i = 0; i < 64; i++)
        t[i].prio = (uint8_t)((i * 37) % 256);
    for (unsigned step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        struct tcb *x = &t[(seed >> 16) % 64];
        if ((seed >> 8) & 1) {
            if (!x->in_ready_queue)
                count[x->prio]++;
            sched_enqueue(x);
        } else {
            if (x->in_ready_queue)
                count[x->prio]--;
            sched_dequeue(x);
        }
        int hi = -1;
        for (int p = SCHED_NPRIO - 1; p >= 0; p--)
            if (count[p]) { hi = p; break; }
        assert_int_equal(sched_highest_prio(), hi);
    }
    int last = 256;
    for (struct tcb *c = sched_choose(); c != &idle; c = sched_choose()) {
        assert_true(c->prio <= last);
        last = c->prio;
        count[c->prio]--;
    }
    for (int p = 0; p < SCHED_NPRIO; p++)
        assert_int_equal(count[p], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty_gives_idle, setup),
        cmocka_unit_test_setup(test_priority_order, setup),
        cmocka_unit_test_setup(test_round_robin, setup),
        cmocka_unit_test_setup(test_remote_wakeup_ipi_unless_polling, setup),
        cmocka_unit_test_setup(test_dequeue_and_double_enqueue, setup),
        cmocka_unit_test_setup(test_set_prio_moves_queue, setup),
        cmocka_unit_test_setup(test_preempt_and_tick, setup),
        cmocka_unit_test_setup(test_tick_unlocked_leaves_the_last_to_the_lock, setup),
        cmocka_unit_test_setup(test_bitmap_matches_model, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
