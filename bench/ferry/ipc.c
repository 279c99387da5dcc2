/* ipc.c: IPC benchmarks: Call + ReplyRecv round trip by message size, one-way Send -> Recv, and Signal -> Wait wake-up, each with the partner in the same or another address space. */
#include "ferry_bench.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define SAME_AREA   0x38000000UL    /* same-space partners: stack page + IPC buffer page */
#define CROSS_STACK 0x39000000UL    /* cross-space partners: stack page in their own space */

enum space { SAME, CROSS };
enum role { ECHO, SINK, WAITER };

/* A partner thread: one per role and space, created on first use, then
 * suspended between runs (resuming restarts the Recv it waited in). */
struct partner {
    unsigned long tcb;
    unsigned long obj;            /* endpoint or notification it serves */
};
static struct partner partners[3][2];

/* What the partners see: shared data (the image is shared by the spaces). */
static volatile unsigned long p_obj[3][2];
static volatile unsigned long p_space;         /* which space a starting partner is in */
static volatile uint64_t p_stamp;               /* tsc_end() taken by SINK/WAITER on wake-up */

static unsigned long next_same_va = SAME_AREA, next_cross_va = CROSS_STACK;

/* The partner's IPC buffer: its own page in either case (never the root
 * task's, so long messages really are copied between two buffers). */
static struct ferry_ipc_buffer *partner_buf(enum space sp)
{
    unsigned long sp_reg;
    if (sp == CROSS)
        return ulib_ipc;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp_reg));
    return (struct ferry_ipc_buffer *)((sp_reg & ~0xfffUL) + 0x1000);
}

/* The endpoint a starting echo server of a cross-space flavour serves
 * (0: the plain one's, p_obj[ECHO][space]). */
static volatile unsigned long p_echo_ep;

/* The echo server: the reply carries label + 1, word 0 + 1 and (for long
 * messages) the last word + 1, at the length received.  The received
 * message info holds only label and length (the kernel passes no other
 * bits), so label + 1 is one addition. */
static void echo_main(void)
{
    enum space sp = p_space;
    unsigned long ep = p_echo_ep ? p_echo_ep : p_obj[ECHO][sp];
    struct ferry_ipc_buffer *buf = partner_buf(sp);
    struct sys_msg m = { 0 };
    ipc_recv(ep, &m);
    for (;;) {
        unsigned long len = FERRY_MSGINFO_LEN(m.info);
        if (len > FERRY_MSG_REG_WORDS)
            buf->mr[len - 1]++;
        m.w[0]++;
        m.info += FERRY_MSGINFO(1, 0, 0);
        ipc_reply_recv(ep, &m);
    }
}

static void sink_main(void)
{
    unsigned long ep = p_obj[SINK][p_space];
    struct sys_msg m = { 0 };
    for (;;) {
        ipc_recv(ep, &m);
        p_stamp = tsc_end();
    }
}

static void waiter_main(void)
{
    unsigned long ntfn = p_obj[WAITER][p_space], bits;
    for (;;) {
        ntfn_wait(ntfn, &bits);
        p_stamp = tsc_end();
    }
}

static unsigned long same_space_thread(void (*fn)(void), unsigned prio)
{
    unsigned long va = next_same_va;
    next_same_va += 0x2000;
    return table_ensure(va) ? thread_create_at(fn, va, FERRY_CAP_INIT_CNODE, prio, 0, false) : 0;
}

/* The partner for (role, space), resumed; it runs when we block. */
static const char *partner_start(enum role r, enum space sp, unsigned prio)
{
    static void (*const fns[3])(void) = { [ECHO] = echo_main, [SINK] = sink_main, [WAITER] = waiter_main };
    struct partner *p = &partners[r][sp];
    if (!p->tcb) {
        p->obj = object_alloc(r == WAITER ? FERRY_OBJ_NOTIFICATION : FERRY_OBJ_ENDPOINT, 0);
        if (!p->obj)
            return "no memory for the endpoint";
        p_obj[r][sp] = p->obj;
        p_echo_ep = 0;                   /* the plain echo serves p_obj[ECHO][sp] */
        if (sp == SAME) {
            p->tcb = same_space_thread(fns[r], prio);
        } else {
            struct process proc;
            unsigned long va = next_cross_va;
            next_cross_va += 0x1000;
            if (process_create(&proc, fns[r], va, prio, false) == FERRY_OK)
                p->tcb = proc.tcb;
        }
        if (!p->tcb)
            return "could not create the partner thread";
    }
    p_space = sp;
    if (ferry_tcb_resume(p->tcb))
        return "could not resume the partner";
    return NULL;
}

/* One way, as sel4bench measures: the server reads the clock when its
 * Recv returns (the end of a Call's way) and before its ReplyRecv (the
 * start of the reply's way); the client reads it before its Call and after
 * the Call returns. */
static volatile uint64_t ow_call_end, ow_reply_start;

static void oneway_main(void)
{
    unsigned long ep = p_echo_ep;
    struct sys_msg m = { 0 };
    ipc_recv(ep, &m);
    for (;;) {
        ow_call_end = tsc_end();
        m.info = FERRY_MSGINFO(0, 0, 0);
        ow_reply_start = tsc_begin();
        sys_raw(FERRY_SYS_REPLY_RECV, ep, &m);
    }
}

/* Cross-space echo servers in the situations where a fast path could
 * fall off (issue 15's cliffs): each must cost what the plain one does;
 * and the one-way server. */
enum flavour { PLAIN, BOUNDNTFN, LOWPRIO, TLS, ONEWAY, XCPU, NFLAVOURS };
static struct partner flavoured[NFLAVOURS];

static const char *flavour_start(enum flavour f)
{
    struct partner *p = &flavoured[f];
    if (!p->tcb) {
        struct process proc;
        unsigned long va = next_cross_va;
        next_cross_va += 0x1000;
        p->obj = object_alloc(FERRY_OBJ_ENDPOINT, 0);
        if (!p->obj)
            return "no memory for the endpoint";
        p_space = CROSS;
        if (process_create(&proc, f == ONEWAY ? oneway_main : echo_main, va, f == LOWPRIO ? 254 : 255, false) != FERRY_OK)
            return "could not create the partner thread";
        p->tcb = proc.tcb;
        if (f == XCPU) {
            /* On CPU 1: every Call and reply crosses cores (slow path, IPI). */
            if (ferry_tcb_set_affinity(p->tcb, 1))
                return "could not move the partner to CPU 1";
        } else if (f == BOUNDNTFN) {
            /* An idle bound notification: a Recv must still block on the endpoint. */
            unsigned long n = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
            if (!n || tcb_bind_notification(p->tcb, n))
                return "could not bind a notification to the partner";
        } else if (f == TLS) {
            /* A thread-local-storage base (its stack page: any user address). */
            unsigned long regs[FERRY_REG_COUNT];
            if (ferry_tcb_read_registers(p->tcb, FERRY_REG_COUNT, regs))
                return "could not read the partner's registers";
            regs[FERRY_REG_FS_BASE] = va;
            if (ferry_tcb_write_registers(p->tcb, false, FERRY_REG_COUNT, regs))
                return "could not give the partner an FS base";
        }
    }
    /* It reads p_echo_ep when it first runs (after our first Call, for the
     * one below us): nothing else starts before that. */
    p_echo_ep = p->obj;
    if (ferry_tcb_resume(p->tcb))
        return "could not resume the partner";
    return NULL;
}

/* Which echo server a variant of ipc_call talks to. */
struct call_variant {
    enum space space;
    enum flavour flavour;
};

/* The other core kept busy in the kernel: a thread on CPU 1 that yields
 * in a loop (alone there, each Yield is one kernel entry and exit, each
 * taking the big kernel lock), for ipc_call/busy. */
static void busy_main(void)
{
    for (;;)
        sys_yield();
}

static unsigned long busy_tcb;

static const char *busy_start(void)
{
    if (!busy_tcb) {
        busy_tcb = same_space_thread(busy_main, 100);
        if (!busy_tcb || ferry_tcb_set_affinity(busy_tcb, 1))
            return "could not start the busy thread on CPU 1";
    }
    return ferry_tcb_resume(busy_tcb) ? "could not resume the busy thread" : NULL;
}

/* Call + ReplyRecv round trip with size message words each way. */
static const char *ipc_call_rt(struct bench_ctx *c)
{
    const struct call_variant *v = c->entry->arg;
    enum space sp = v->space;
    bool busy = c->entry->variant[0] == 'b';    /* "busy": CROSS, PLAIN, CPU 1 in a Yield loop */
    if (busy && ulib_bootinfo->ncpus < 2)
        return BENCH_NOT_HERE "the busy other core needs two CPUs (-smp 2)";
    if (busy) {
        const char *e = busy_start();
        if (e)
            return e;
    }
    if (v->flavour == XCPU && ulib_bootinfo->ncpus < 2)
        return BENCH_NOT_HERE "the server on another CPU needs two CPUs (-smp 2)";
    unsigned long len = c->size < 0 ? 0 : (unsigned long)c->size;
    if (len > FERRY_MSG_MAX_WORDS)
        return "size beyond the largest message";
    const char *err = v->flavour == PLAIN ? partner_start(ECHO, sp, 255) : flavour_start(v->flavour);
    if (err)
        return err;
    struct partner *partner = v->flavour == PLAIN ? &partners[ECHO][sp] : &flavoured[v->flavour];
    unsigned long ep = partner->obj;
    const char *bad = NULL;
    struct sys_msg m = { 0 };
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        m.info = FERRY_MSGINFO(7, len, 0);
        m.w[0] = i;
        m.w[1] = m.w[2] = m.w[3] = 0;
        if (len > FERRY_MSG_REG_WORDS)
            ulib_ipc->mr[len - 1] = i;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        unsigned long e = sys_raw(FERRY_SYS_CALL, ep, &m);
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        /* The reply we timed must be the right one. */
        if (e || FERRY_MSGINFO_LABEL(m.info) != 8 || FERRY_MSGINFO_LEN(m.info) != len ||
            (len > 0 && m.w[0] != i + 1) || (len > FERRY_MSG_REG_WORDS && ulib_ipc->mr[len - 1] != i + 1)) {
            bad = "wrong reply";
            break;
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    ferry_tcb_suspend(partner->tcb);
    if (busy)
        ferry_tcb_suspend(busy_tcb);
    return bad;
}

/* The system-call stub with `syscall` replaced by a nop: what the one-way
 * figures subtract (sel4bench subtracts its dummy call likewise). */
static uint64_t oneway_stub_cost(size_t n)
{
    static uint64_t t[256];
    if (n > 256)
        n = 256;
    for (size_t i = 0; i < n; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(7, 0, 0) };
        register unsigned long r10 __asm__("r10") = m.w[3], r8 __asm__("r8") = m.w[1], r9 __asm__("r9") = m.w[2];
        unsigned long rax = FERRY_SYS_CALL, rdi = 1, rsi = m.info, rdx = m.w[0];
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        __asm__ __volatile__("nop" : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9), "+r"(r10)
                             : : "rcx", "r11", "memory");
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        t[i] = t1 - t0;
    }
    /* the smallest: the stub without disturbance */
    uint64_t best = t[0];
    for (size_t i = 1; i < n; i++)
        if (t[i] < best)
            best = t[i];
    return best;
}

/* ipc_call/oneway (arg 0) and ipc_replyrecv/oneway (arg 1). */
static const char *ipc_oneway(struct bench_ctx *c)
{
    bool reply_way = c->entry->arg != NULL;
    const char *err = flavour_start(ONEWAY);
    if (err)
        return err;
    unsigned long ep = flavoured[ONEWAY].obj;
    uint64_t stub = oneway_stub_cost(256);
    const char *bad = NULL;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(7, 0, 0) };
        ow_call_end = ow_reply_start = 0;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        unsigned long e = sys_raw(FERRY_SYS_CALL, ep, &m);
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        if (e || ow_call_end < t0 || t1 < ow_reply_start || !ow_reply_start) {
            bad = "the server's clock reads are not inside the round trip";
            break;
        }
        uint64_t d = reply_way ? t1 - ow_reply_start : ow_call_end - t0;
        if (i >= c->warmup)
            c->samples[i - c->warmup] = d > stub ? d - stub : 0;
    }
    ferry_tcb_suspend(flavoured[ONEWAY].tcb);
    return bad;
}

/* We run below the partner while timing one-way wake-ups, so that our
 * Send or Signal switches to it at once; afterwards back to the top. */
static bool root_prio(unsigned prio)
{
    return ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, prio) == FERRY_OK;
}

/* One way: from before our Send to the receiver's return from Recv. */
static const char *ipc_send_oneway(struct bench_ctx *c)
{
    enum space sp = c->entry->arg ? CROSS : SAME;
    unsigned long len = c->size < 0 ? 0 : (unsigned long)c->size;
    if (len > FERRY_MSG_MAX_WORDS)
        return "size beyond the largest message";
    const char *err = partner_start(SINK, sp, 255);
    if (err)
        return err;
    if (!root_prio(254))
        return "could not lower our priority";
    unsigned long ep = partners[SINK][sp].obj;
    const char *bad = NULL;
    struct sys_msg m = { 0 };
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        m.info = FERRY_MSGINFO(1, len, 0);
        p_stamp = 0;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        unsigned long e = sys_raw(FERRY_SYS_SEND, ep, &m);
        bench_compiler_fence();
        uint64_t t1 = p_stamp;
        if (e || t1 == 0) {
            bad = "the receiver did not run before our Send returned";
            break;
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    root_prio(255);
    ferry_tcb_suspend(partners[SINK][sp].tcb);
    return bad;
}

/* Signal -> the waiter's return from Wait, the waiter on CPU 1 (another
 * address space): our Signal returns at once and the waiter wakes over
 * there (a reschedule IPI), stamps the TSC (QEMU keeps one TSC for all
 * vCPUs) and signals back, which we wait for (blocking, not spinning:
 * under icount's round robin a spinning vCPU keeps the other from
 * running, docs/smp.md). */
static volatile unsigned long x_ntfn, x_pong;

static void xcpu_waiter_main(void)
{
    unsigned long bits;
    for (;;) {
        ntfn_wait(x_ntfn, &bits);
        p_stamp = tsc_end();
        ntfn_signal(x_pong);
    }
}

static const char *notify_xcpu(struct bench_ctx *c)
{
    static unsigned long waiter;
    if (ulib_bootinfo->ncpus < 2)
        return BENCH_NOT_HERE "the waiter on another CPU needs two CPUs (-smp 2)";
    if (!waiter) {
        struct process proc;
        unsigned long va = next_cross_va;
        next_cross_va += 0x1000;
        x_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        x_pong = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        if (!x_ntfn || !x_pong)
            return "no memory for the notifications";
        if (process_create(&proc, xcpu_waiter_main, va, 255, false) != FERRY_OK)
            return "could not create the waiter";
        waiter = proc.tcb;
        if (ferry_tcb_set_affinity(waiter, 1))
            return "could not move the waiter to CPU 1";
    }
    if (ferry_tcb_resume(waiter))
        return "could not resume the waiter";
    const char *bad = NULL;
    unsigned long bits;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        p_stamp = 0;
        /* Let it get back into its Wait after its signal to us. */
        for (volatile int k = 0; k < 2000; k++)
            ;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        unsigned long e = ntfn_signal(x_ntfn);
        if (!e)
            e = ntfn_wait(x_pong, &bits);
        bench_compiler_fence();
        uint64_t t1 = p_stamp;
        if (e || t1 == 0) {
            bad = "the waiter on CPU 1 did not wake";
            break;
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    ferry_tcb_suspend(waiter);
    return bad;
}

/* Signal -> the waiter's return from Wait. */
static const char *notify_wakeup(struct bench_ctx *c)
{
    enum space sp = c->entry->arg ? CROSS : SAME;
    const char *err = partner_start(WAITER, sp, 255);
    if (err)
        return err;
    if (!root_prio(254))
        return "could not lower our priority";
    unsigned long ntfn = partners[WAITER][sp].obj;
    const char *bad = NULL;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        p_stamp = 0;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        unsigned long e = ntfn_signal(ntfn);
        bench_compiler_fence();
        uint64_t t1 = p_stamp;
        if (e || t1 == 0) {
            bad = "the waiter did not wake before our Signal returned";
            break;
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    root_prio(255);
    ferry_tcb_suspend(partners[WAITER][sp].tcb);
    return bad;
}

/* ---- an asynchronous channel: a ring in shared memory ---------------------------
 *
 * The producer (us) puts one-word messages into a ring that both address
 * spaces map (the process shares our image's data); the consumer, in
 * another address space, drains it.  The kernel is entered only at the
 * edges: the producer signals the consumer when it put messages into an
 * empty ring the consumer sleeps on, the consumer signals the producer
 * when it drained a ring the producer waits on.  A sample is one batch of
 * SIZE messages, from the first put to the last take, divided by SIZE:
 * the cost per message, to set beside a synchronous Call (one message
 * each way) and a one-way Send. */
#define RING_SLOTS 128
/* The sleep/wake hand-over is Dekker's pattern: each side stores its own
 * word (the consumer "I sleep", the producer the new head) and then loads
 * the other's.  On one CPU program order is enough; the full fence keeps it
 * right when the two threads run on different CPUs (x86 lets a load pass an
 * earlier store). */
#define ring_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
static struct {
    volatile unsigned long head, tail;                 /* put at head, take at tail */
    /* Set by the consumer before it looks a last time and waits; cleared by
     * the producer when it signals (so one put per sleep signals). */
    volatile unsigned long consumer_sleeps;
    volatile unsigned long producer_waits;             /* likewise the other way */
    volatile unsigned long drained;                    /* the head the consumer last drained to */
    volatile unsigned long sum;                        /* of what the consumer took */
    volatile uint64_t drained_at;                      /* tsc_end() after the take that drained to `drained` */
    volatile unsigned long slot[RING_SLOTS];
} ring;
static volatile unsigned long ring_to_consumer, ring_to_producer;   /* notifications */

static void ring_consumer(void)
{
    unsigned long bits;
    for (;;) {
        while (ring.tail == ring.head) {
            ring.consumer_sleeps = 1;
            ring_fence();
            if (ring.tail == ring.head)               /* a put after this look sees our flag and signals */
                ntfn_wait(ring_to_consumer, &bits);
            ring.consumer_sleeps = 0;
        }
        ring.sum += ring.slot[ring.tail % RING_SLOTS];
        ring.tail++;
        if (ring.tail == ring.head) {
            /* The time first, then the position it belongs to: the producer
             * reads drained_at only once `drained` reached its head. */
            ring.drained_at = tsc_end();
            ring.drained = ring.tail;
            ring_fence();
            if (ring.producer_waits) {
                ring.producer_waits = 0;
                ntfn_signal(ring_to_producer);
            }
        }
    }
}

/* A lost wake-up this replaces: the producer used to decide "the ring was
 * empty, the consumer may sleep" before its put and signal only then.  When
 * the consumer was preempted with one message left, took it and went to
 * sleep between that look and the put, the producer saw a non-empty ring,
 * did not signal, and then waited for a drain that never came: both threads
 * blocked (tcg-icount hit it at a fixed point of every run).  Now the
 * producer looks at the consumer's flag after the put.  A second hole: the
 * producer stopped waiting when tail == head, which can be before the
 * consumer wrote drained_at, so a sample could use the last batch's time. */
static const char *ipc_ring(struct bench_ctx *c)
{
    static unsigned long consumer;
    unsigned long batch = c->size < 1 ? 1 : (unsigned long)c->size, bits;
    if (batch > RING_SLOTS)
        return "batch larger than the ring";
    if (!consumer) {
        struct process p;
        ring_to_consumer = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        ring_to_producer = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        unsigned long va = next_cross_va;
        next_cross_va += 0x1000;
        if (!ring_to_consumer || !ring_to_producer ||
            process_create(&p, ring_consumer, va, 255, false) != FERRY_OK)
            return "could not create the consumer";
        consumer = p.tcb;
    }
    if (ferry_tcb_resume(consumer))
        return "could not resume the consumer";
    unsigned long expect = ring.sum, v = 0;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        for (unsigned long k = 0; k < batch; k++) {
            ring.slot[ring.head % RING_SLOTS] = ++v;
            ring.head++;
            expect += v;
            ring_fence();
            if (ring.consumer_sleeps) {                /* it found the ring empty: the empty -> non-empty edge */
                ring.consumer_sleeps = 0;
                ntfn_signal(ring_to_consumer);
            }
        }
        /* Wait until it is all taken (the consumer runs when we block). */
        while (ring.drained != ring.head) {
            ring.producer_waits = 1;
            ring_fence();
            if (ring.drained != ring.head)
                ntfn_wait(ring_to_producer, &bits);
            ring.producer_waits = 0;
        }
        bench_compiler_fence();
        uint64_t t1 = ring.drained_at;
        if (ring.sum != expect) {
            ferry_tcb_suspend(consumer);
            return "the consumer took other values than were put";
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = (t1 - t0) / batch;
    }
    ferry_tcb_suspend(consumer);
    return NULL;
}

static const int64_t ring_sizes[] = { 1, 2, 4, 8, 16, 32, 64 };

static const int64_t call_sizes[] = { 0, 1, 2, 4, 8, 10, 16, 32, 64, 120 };   /* 10: the 600-instruction target */
static const int64_t send_sizes[] = { 0, 4 };
#define NSIZES(a) (sizeof a / sizeof a[0])

static const int64_t cliff_sizes[] = { 0 };
static const struct call_variant same_plain = { SAME, PLAIN }, cross_plain = { CROSS, PLAIN },
                                 cross_boundntfn = { CROSS, BOUNDNTFN }, cross_lowprio = { CROSS, LOWPRIO },
                                 cross_tls = { CROSS, TLS }, cross_xcpu = { CROSS, XCPU };

const struct bench_entry bench_ipc[] = {
    { .name = "ipc_call", .variant = "same", .fn = ipc_call_rt, .arg = &same_plain,
      .sizes = call_sizes, .nsizes = NSIZES(call_sizes),
      .description = "Call + ReplyRecv round trip, server in the same address space; size = words each way" },
    { .name = "ipc_call", .variant = "cross", .fn = ipc_call_rt, .arg = &cross_plain,
      .sizes = call_sizes, .nsizes = NSIZES(call_sizes),
      .description = "Call + ReplyRecv round trip, server in another address space; size = words each way" },
    { .name = "ipc_call", .variant = "cross_boundntfn", .fn = ipc_call_rt, .arg = &cross_boundntfn,
      .sizes = cliff_sizes, .nsizes = NSIZES(cliff_sizes),
      .description = "as cross, the server with an idle bound notification (must stay on the fast path)" },
    { .name = "ipc_call", .variant = "cross_lowprio", .fn = ipc_call_rt, .arg = &cross_lowprio,
      .sizes = cliff_sizes, .nsizes = NSIZES(cliff_sizes),
      .description = "as cross, the server one priority below the client (must stay on the fast path)" },
    { .name = "ipc_call", .variant = "cross_tls", .fn = ipc_call_rt, .arg = &cross_tls,
      .sizes = cliff_sizes, .nsizes = NSIZES(cliff_sizes),
      .description = "as cross, the server with an FS base (thread-local storage): every switch loads the bases" },
    { .name = "ipc_call", .variant = "xcpu", .fn = ipc_call_rt, .arg = &cross_xcpu,
      .sizes = send_sizes, .nsizes = NSIZES(send_sizes),
      .description = "Call + ReplyRecv round trip, server in another address space on CPU 1, client on CPU 0 "
                     "(slow path, reschedule IPIs both ways); needs -smp 2" },
    { .name = "ipc_call", .variant = "busy", .fn = ipc_call_rt, .arg = &cross_plain,
      .sizes = cliff_sizes, .nsizes = NSIZES(cliff_sizes),
      .description = "as cross (same core, fast path) while CPU 1 runs a Yield loop (a kernel entry after "
                     "another, each taking the big kernel lock): the lock's contention; needs -smp 2" },
    { .name = "ipc_call", .variant = "oneway", .fn = ipc_oneway, .arg = NULL,
      .description = "one way of a Call, sel4bench's way: the client's clock read before Call to the server's after its "
                     "Recv returns, another address space, minus the stub with a nop for the syscall" },
    { .name = "ipc_replyrecv", .variant = "oneway", .fn = ipc_oneway, .arg = (void *)1,
      .description = "one way of a reply: the server's clock read before ReplyRecv to the client's after its Call "
                     "returns, another address space, minus the stub with a nop for the syscall" },
    { .name = "ipc_ring", .variant = "cross", .fn = ipc_ring, .sizes = ring_sizes, .nsizes = NSIZES(ring_sizes),
      .description = "asynchronous ring in shared memory to another address space, notifications only at empty/full "
                     "edges: cost per one-word message; size = messages per batch" },
    { .name = "ipc_send", .variant = "same", .fn = ipc_send_oneway, .arg = NULL,
      .sizes = send_sizes, .nsizes = NSIZES(send_sizes),
      .description = "one-way Send to a waiting receiver of higher priority, same address space" },
    { .name = "ipc_send", .variant = "cross", .fn = ipc_send_oneway, .arg = (void *)1,
      .sizes = send_sizes, .nsizes = NSIZES(send_sizes),
      .description = "one-way Send to a waiting receiver of higher priority, another address space" },
    { .name = "notify", .variant = "same", .fn = notify_wakeup, .arg = NULL,
      .description = "Signal to a waiting thread of higher priority, same address space: wake-up latency" },
    { .name = "notify", .variant = "cross", .fn = notify_wakeup, .arg = (void *)1,
      .description = "Signal to a waiting thread of higher priority, another address space: wake-up latency" },
    { .name = "notify", .variant = "xcpu", .fn = notify_xcpu,
      .description = "Signal to a thread waiting on CPU 1 (another address space), from CPU 0: cross-core wake-up "
                     "latency (reschedule IPI); needs -smp 2" },
};
const size_t bench_ipc_n = sizeof bench_ipc / sizeof bench_ipc[0];
