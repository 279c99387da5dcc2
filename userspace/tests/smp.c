/* smp.c: in-guest tests of the multiprocessor kernel: affinity, threads running in parallel, per-core preemption, stopping a thread on another CPU, cross-core Call and notifications under stress with checksums. */
#include "utest.h"
#include <ferry/ipc.h>

#define SMP_AREA 0x38000000UL     /* stacks and IPC buffers of these tests' threads */
static unsigned long next_va = SMP_AREA;

static unsigned long ncpus(void)
{
    return ulib_bootinfo->ncpus ? ulib_bootinfo->ncpus : 1;
}

/* A thread of ours at prio on CPU cpu with fault endpoint fault_ep (0:
 * none), started.  0 on failure. */
static unsigned long spawn_fault_on(void (*fn)(void), unsigned prio, unsigned long cpu, unsigned long fault_ep)
{
    unsigned long va = next_va;
    next_va += 0x2000;
    if (!table_ensure(va))
        return 0;
    unsigned long t = thread_create_at(fn, va, FERRY_CAP_INIT_CNODE, prio, fault_ep, false);
    if (!t)
        return 0;
    unsigned long err = ferry_tcb_set_affinity(t, cpu);
    if (!err)
        err = ferry_tcb_resume(t);
    if (err) {
        printf("    spawn_on: %s\n", ferry_error_name(err));
        return 0;
    }
    return t;
}

static unsigned long spawn_on(void (*fn)(void), unsigned prio, unsigned long cpu)
{
    return spawn_fault_on(fn, prio, cpu, 0);
}

static inline unsigned long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

/* Spin (no system call: this CPU never leaves this thread) until *v
 * reaches want or a generous budget of TSC ticks runs out. */
static bool spin_until(volatile unsigned long *v, unsigned long want)
{
    unsigned long hz = ulib_bootinfo->tsc_hz ? ulib_bootinfo->tsc_hz : 3000000000UL;
    unsigned long end = rdtsc() + 20 * hz;   /* emulated CPUs on a loaded host are slow */
    while (*v < want)
        if (rdtsc() > end)
            return false;
    return true;
}

static void spin_for(unsigned long ticks)
{
    unsigned long end = rdtsc() + ticks;
    while (rdtsc() < end)
        ;
}

static volatile unsigned long count_a, count_b;

static void count_a_loop(void)
{
    for (;;)
        count_a++;
}

static void count_b_loop(void)
{
    for (;;)
        count_b++;
}

/* SetAffinity: arguments checked; with two CPUs a thread below our
 * priority on CPU 1 runs while we spin on CPU 0 without a system call
 * (on one CPU it never could), stops running when moved back to ours
 * (it is stopped on CPU 1 while it runs there), and runs again when
 * moved out once more. */
static bool smp_affinity(void)
{
    count_a = 0;
    unsigned long t = spawn_on(count_a_loop, 100, 0);
    CHECK(t != 0);
    CHECK_ERR(ferry_tcb_set_affinity(t, ncpus()), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_tcb_set_affinity(t, 1000), FERRY_E_INVALID_ARG);
    spin_for(1000000);
    CHECK(count_a == 0);                 /* below us on our CPU: never runs */
    if (ncpus() < 2) {
        printf("    1 CPU: the parallel part needs -smp 2 or more\n");
        CHECK_OK(ferry_tcb_suspend(t));
        return true;
    }
    CHECK_OK(ferry_tcb_set_affinity(t, 1));
    CHECK(spin_until(&count_a, 1000000));     /* runs beside us */
    CHECK_OK(ferry_tcb_set_affinity(t, 0));   /* taken from CPU 1 while it runs */
    unsigned long seen = count_a;
    spin_for(2000000);
    CHECK(count_a == seen);
    CHECK_OK(ferry_tcb_set_affinity(t, ncpus() - 1));
    CHECK(spin_until(&count_a, seen + 1000000));
    CHECK_OK(ferry_tcb_suspend(t));           /* suspended on the other CPU */
    seen = count_a;
    spin_for(2000000);
    CHECK(count_a == seen);
    return true;
}

/* Two threads of one priority on CPU 1 both make progress while we spin
 * on CPU 0: CPU 1's own timer preempts and round-robins them. */
static bool smp_per_core_preemption(void)
{
    if (ncpus() < 2) {
        printf("    1 CPU: needs -smp 2 or more\n");
        return true;
    }
    count_a = count_b = 0;
    unsigned long a = spawn_on(count_a_loop, 50, 1);
    unsigned long b = spawn_on(count_b_loop, 50, 1);
    CHECK(a != 0 && b != 0);
    CHECK(spin_until(&count_a, 1000000));
    CHECK(spin_until(&count_b, 1000000));
    unsigned long a0 = count_a, b0 = count_b;
    CHECK(spin_until(&count_a, a0 + 1000000));
    CHECK(spin_until(&count_b, b0 + 1000000));
    CHECK_OK(ferry_tcb_suspend(a));
    CHECK_OK(ferry_tcb_suspend(b));
    return true;
}

/* ---- cross-core IPC ------------------------------------------------------ */

static unsigned long xc_ep, xc_done, xc_park;
#define XC_ANSWER(a, b, badge) ((a) * 0x9e3779b97f4a7c15UL ^ ((b) + (badge)))

#define XC_SERVERS_MAX 8
static volatile unsigned long xc_next_server, xc_served[XC_SERVERS_MAX];

/* Server: answers every Call with a function of its words and the badge,
 * and counts what it answered (the counts must add up to the Calls made). */
static void xc_server(void)
{
    unsigned long id = __atomic_fetch_add(&xc_next_server, 1, __ATOMIC_RELAXED);
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(xc_ep, &m);
    for (;;) {
        xc_served[id]++;
        unsigned long a = m.w[0], b = m.w[1], badge = m.badge;
        m.info = FERRY_MSGINFO(err ? 1 : 0, 2, 0);
        m.w[0] = XC_ANSWER(a, b, badge);
        m.w[1] = a + b;
        err = ipc_reply_recv(xc_ep, &m);
    }
}

#define XC_CLIENTS_MAX 8
static volatile unsigned long xc_calls, xc_bad[XC_CLIENTS_MAX], xc_sum[XC_CLIENTS_MAX];
static volatile unsigned long xc_next_id, xc_finished;
static unsigned long xc_eps[XC_CLIENTS_MAX];     /* each client's badged endpoint copy */

/* Client: xc_calls Calls on its badged copy of the endpoint, each answer
 * checked; its count of wrong answers and a checksum, then a signal. */
static void xc_client(void)
{
    unsigned long id = __atomic_fetch_add(&xc_next_id, 1, __ATOMIC_RELAXED);
    unsigned long ep = xc_eps[id];           /* minted with badge id + 1 */
    unsigned long bad = 0, sum = 0;
    for (unsigned long i = 0; i < xc_calls; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(7, 2, 0), .w = { i, id * 1000003 } };
        unsigned long err = ipc_call(ep, &m);
        if (err || m.w[0] != XC_ANSWER(i, id * 1000003, id + 1) || m.w[1] != i + id * 1000003)
            bad++;
        sum += m.w[0];
    }
    xc_bad[id] = bad;
    xc_sum[id] = sum;
    __atomic_fetch_add(&xc_finished, 1, __ATOMIC_RELEASE);
    ntfn_signal(xc_done);
    for (;;) {
        unsigned long bits;
        ntfn_wait(xc_park, &bits);           /* parked on a notification nobody signals */
    }
}

/* Call/ReplyRecv across CPUs under load: two servers and two clients on
 * every CPU (up to 4), every client's Calls answered correctly (by
 * whichever server takes them: on its CPU or another) with a checksum we
 * recompute, the servers' counts adding up to the Calls made; then the
 * invariant check.  smp_stress_calls=N on the command line: N Calls in
 * all (`make stress`: 1,000,000 on two CPUs). */
static bool smp_xcpu_call_stress(void)
{
    unsigned long n = ncpus() > 4 ? 4 : ncpus();
    unsigned long nclients = 2 * n, nservers = 2 * n;
    xc_calls = n > 2 ? 1000 : n > 1 ? 3000 : 500;   /* 4 vCPUs on a small loaded host crawl (docs/smp.md) */
    uint64_t want_total = 0;
    if (cmdline_get_u64(ulib_bootinfo->cmdline, "smp_stress_calls", &want_total) == 1 && want_total)
        xc_calls = (want_total + nclients - 1) / nclients;
    xc_next_server = 0;
    for (unsigned long k = 0; k < XC_SERVERS_MAX; k++)
        xc_served[k] = 0;
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    xc_ep = ep;
    for (unsigned long i = 0; i < nclients; i++) {
        xc_eps[i] = slot_alloc();
        CHECK(xc_eps[i] != 0);
        CHECK_OK(ferry_cnode_mint(xc_eps[i], ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, i + 1));
        xc_bad[i] = xc_sum[i] = 0;
    }
    ALLOC(done, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(park, FERRY_OBJ_NOTIFICATION, 0);
    xc_done = done;
    xc_park = park;
    xc_next_id = 0;
    xc_finished = 0;
    unsigned long tcbs[XC_SERVERS_MAX + XC_CLIENTS_MAX];
    unsigned nt = 0;
    for (unsigned long k = 0; k < nservers; k++)
        CHECK((tcbs[nt++] = spawn_on(xc_server, 120, k % n)) != 0);
    unsigned long t0 = rdtsc();
    for (unsigned long i = 0; i < nclients; i++)
        CHECK((tcbs[nt++] = spawn_on(xc_client, 110, i % n)) != 0);
    while (__atomic_load_n(&xc_finished, __ATOMIC_ACQUIRE) < nclients) {
        unsigned long bits;
        CHECK_OK(ntfn_wait(done, &bits));
    }
    unsigned long total = 0;
    for (unsigned long k = 0; k < nclients; k++) {
        unsigned long sum = 0;
        for (unsigned long i = 0; i < xc_calls; i++)
            sum += XC_ANSWER(i, k * 1000003, k + 1);
        CHECK(xc_bad[k] == 0);
        CHECK(xc_sum[k] == sum);
        total += xc_calls;
    }
    unsigned long ticks = rdtsc() - t0;
    for (unsigned i = 0; i < nt; i++)
        CHECK_OK(ferry_tcb_suspend(tcbs[i]));
    unsigned long served = 0;
    for (unsigned long k = 0; k < nservers; k++)
        served += xc_served[k];
    printf("    %lu Calls by %lu clients to %lu servers on %lu CPUs, all answered right (servers: %lu); "
           "%lu TSC ticks\n", total, nclients, nservers, n, served, ticks);
    CHECK(served == total);
    struct inv_state st;
    CHECK(kernel_check("after the cross-core stress", &st));
    return true;
}

/* ---- one endpoint, fast paths on several CPUs ------------------------------ */

#define FS_MAX 4
static unsigned long fs_ep, fs_done, fs_park, fs_eps[FS_MAX];
static volatile unsigned long fs_calls, fs_finished;
static volatile unsigned long fs_server_va[FS_MAX], fs_client_va[FS_MAX];
static volatile unsigned long fs_served[FS_MAX], fs_bad[FS_MAX], fs_sum[FS_MAX], fs_local[FS_MAX];
#define FS_ANSWER(a, b, c, badge) (((a) * 0x9e3779b97f4a7c15UL) ^ ((b) + (c) * 31 + (badge)))

/* Which of the threads whose areas (spawn_on's 0x2000 bytes) start at
 * va[0..FS_MAX-1] we are, by our stack pointer (CPU 0's thread runs only
 * once the test blocks, so an order of start-up says nothing). */
static unsigned long fs_whoami(const volatile unsigned long *va)
{
    unsigned long sp;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp));
    for (unsigned long k = 0; k < FS_MAX; k++)
        if (sp >= va[k] && sp < va[k] + 0x2000)
            return k;
    return FS_MAX - 1;
}

/* Server k on CPU k: answers with a function of all four words and the
 * badge, and says who answered (word 3). */
static void fs_server(void)
{
    unsigned long id = fs_whoami(fs_server_va);
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(fs_ep, &m);
    for (;;) {
        fs_served[id]++;
        unsigned long a = m.w[0], b = m.w[1], c = m.w[2];
        m.info = FERRY_MSGINFO(err ? 1 : 0, 4, 0);
        m.w[0] = FS_ANSWER(a, b, c, m.badge);
        m.w[1] = ~a;
        m.w[2] = b ^ c;
        m.w[3] = id;
        err = ipc_reply_recv(fs_ep, &m);
    }
}

/* Client k on CPU k: fs_calls Calls on its badged copy, each answer
 * checked, a checksum, and how many its own CPU's server answered. */
static void fs_client(void)
{
    unsigned long id = fs_whoami(fs_client_va);
    unsigned long bad = 0, sum = 0, local = 0;
    for (unsigned long i = 0; i < fs_calls; i++) {
        unsigned long b = id * 1000003 + i, c = i * 7 + 1;
        struct sys_msg m = { .info = FERRY_MSGINFO(5, 4, 0), .w = { i, b, c, 0 } };
        unsigned long err = ipc_call(fs_eps[id], &m);
        if (err || m.w[0] != FS_ANSWER(i, b, c, id + 1) || m.w[1] != ~i || m.w[2] != (b ^ c) ||
            m.w[3] >= FS_MAX)
            bad++;
        local += m.w[3] == id;
        sum += m.w[0];
    }
    fs_bad[id] = bad;
    fs_sum[id] = sum;
    fs_local[id] = local;
    __atomic_fetch_add(&fs_finished, 1, __ATOMIC_RELEASE);
    ntfn_signal(fs_done);
    for (;;) {
        unsigned long bits;
        ntfn_wait(fs_park, &bits);
    }
}

/* The fast path without the big kernel lock meets itself: one endpoint,
 * one server and one client on every CPU (up to 4), all of one priority,
 * so each CPU's Calls and ReplyRecvs take the same-core fast path
 * whenever the queue's head is its own server, with the other CPUs' fast
 * paths on the same queue at the same time (the endpoint's fp_lock,
 * docs/smp.md), and the slow path's cross-core Call when it is another
 * CPU's.  Every answer checked, checksums recomputed, the servers' counts
 * adding up, every client answered by its own CPU's server at least once,
 * then the invariant check. */
static bool smp_fastpath_shared_ep(void)
{
    if (ncpus() < 2) {
        printf("    1 CPU: needs -smp 2 or more\n");
        return true;
    }
    unsigned long n = ncpus() > FS_MAX ? FS_MAX : ncpus();
    fs_calls = n > 2 ? 2000 : 5000;
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    fs_ep = ep;
    for (unsigned long k = 0; k < n; k++) {
        fs_eps[k] = slot_alloc();
        CHECK(fs_eps[k] != 0);
        CHECK_OK(ferry_cnode_mint(fs_eps[k], ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, k + 1));
        fs_served[k] = fs_bad[k] = fs_sum[k] = fs_local[k] = 0;
    }
    ALLOC(done, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(park, FERRY_OBJ_NOTIFICATION, 0);
    fs_done = done;
    fs_park = park;
    fs_finished = 0;
    for (unsigned long k = 0; k < FS_MAX; k++)
        fs_server_va[k] = fs_client_va[k] = 0;
    unsigned long tcbs[2 * FS_MAX];
    unsigned nt = 0;
    for (unsigned long k = 0; k < n; k++) {
        fs_server_va[k] = next_va;           /* where spawn_on puts its stack */
        CHECK((tcbs[nt++] = spawn_on(fs_server, 100, k)) != 0);
    }
    for (unsigned long k = 0; k < n; k++) {
        fs_client_va[k] = next_va;
        CHECK((tcbs[nt++] = spawn_on(fs_client, 100, k)) != 0);
    }
    while (__atomic_load_n(&fs_finished, __ATOMIC_ACQUIRE) < n) {
        unsigned long bits;
        CHECK_OK(ntfn_wait(done, &bits));
    }
    for (unsigned i = 0; i < nt; i++)
        CHECK_OK(ferry_tcb_suspend(tcbs[i]));
    unsigned long served = 0;
    printf("    %lu Calls by each of %lu clients on one endpoint; answered by the client's own CPU's server:",
           (unsigned long)fs_calls, n);
    for (unsigned long k = 0; k < n; k++) {
        unsigned long sum = 0;
        for (unsigned long i = 0; i < fs_calls; i++)
            sum += FS_ANSWER(i, k * 1000003 + i, i * 7 + 1, k + 1);
        CHECK(fs_bad[k] == 0);
        CHECK(fs_sum[k] == sum);
        served += fs_served[k];
        printf(" %lu", fs_local[k]);
    }
    printf("\n");
    CHECK(served == n * fs_calls);
    /* Only the fast path serves a Call on its own CPU (it takes a waiting
     * server of this CPU's); the slow path takes the queue's head wherever
     * it runs, so a FASTPATH=0 kernel need not answer any client locally. */
    if (ulib_bootinfo->fastpath)
        for (unsigned long k = 0; k < n; k++)
            CHECK(fs_local[k] > 0);
    struct inv_state st;
    CHECK(kernel_check("after fast paths on one endpoint", &st));
    return true;
}

/* ---- notifications across CPUs -------------------------------------------- */

static unsigned long nt_ping, nt_pong;
static volatile unsigned long nt_rounds;

static void nt_echo(void)
{
    for (;;) {
        unsigned long bits;
        ntfn_wait(nt_ping, &bits);
        nt_rounds++;
        ntfn_signal(nt_pong);
    }
}

/* A thread on the other CPU, woken by our signal (a remote wake-up: an
 * IPI), signals back; many rounds. */
static bool smp_notify_xcpu(void)
{
    ALLOC(ping, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(pong, FERRY_OBJ_NOTIFICATION, 0);
    nt_ping = ping;
    nt_pong = pong;
    nt_rounds = 0;
    unsigned long t = spawn_on(nt_echo, 200, ncpus() - 1);
    CHECK(t != 0);
    for (int i = 0; i < 2000; i++) {
        unsigned long bits;
        CHECK_OK(ntfn_signal(ping));
        CHECK_OK(ntfn_wait(pong, &bits));
    }
    CHECK(nt_rounds == 2000);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* ---- deleting a thread that runs on another CPU ----------------------------- */

static bool smp_delete_running_thread(void)
{
    if (ncpus() < 2) {
        printf("    1 CPU: needs -smp 2 or more\n");
        return true;
    }
    for (int round = 0; round < 20; round++) {
        count_a = 0;
        unsigned long t = spawn_on(count_a_loop, 100, 1 + round % (ncpus() - 1));
        CHECK(t != 0);
        CHECK(spin_until(&count_a, 1000));
        CHECK_OK(ferry_cnode_delete(t));    /* the last capability: the TCB goes */
        unsigned long seen = count_a;
        spin_for(1000000);
        CHECK(count_a == seen);
    }
    struct inv_state st;
    CHECK(kernel_check("after deleting running threads", &st));
    return true;
}

/* ---- object churn while every CPU runs IPC ------------------------------- */

#define CH_PAIRS_MAX 4
static unsigned long ch_ep[CH_PAIRS_MAX], ch_done, ch_park;
static volatile unsigned long ch_stop, ch_calls[CH_PAIRS_MAX], ch_bad[CH_PAIRS_MAX], ch_next_server,
    ch_next_client, ch_finished;

static void ch_server(void)
{
    unsigned long ep = ch_ep[__atomic_fetch_add(&ch_next_server, 1, __ATOMIC_RELAXED)];
    struct sys_msg m = { 0 };
    ipc_recv(ep, &m);
    for (;;) {
        m.w[0] = m.w[0] * 5 + m.badge;
        m.w[1] = ~m.w[1];
        m.info = FERRY_MSGINFO(0, 2, 0);
        ipc_reply_recv(ep, &m);
    }
}

/* Calls its pair's server (on the next CPU) until told to stop, every
 * answer checked. */
static void ch_client(void)
{
    unsigned long k = __atomic_fetch_add(&ch_next_client, 1, __ATOMIC_RELAXED);
    for (unsigned long i = 1; !ch_stop; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(3, 2, 0), .w = { i, i * k } };
        if (ipc_call(ch_ep[k], &m) || m.w[0] != i * 5 + (k + 1) || m.w[1] != ~(i * k))
            ch_bad[k]++;
        ch_calls[k]++;
    }
    __atomic_fetch_add(&ch_finished, 1, __ATOMIC_RELEASE);
    ntfn_signal(ch_done);
    for (;;) {
        unsigned long bits;
        ntfn_wait(ch_park, &bits);
    }
}

/* Concurrent create/delete/revoke while other CPUs run IPC: on every CPU
 * a client Calls a server on the next CPU without pause; meanwhile we
 * create and destroy threads (each round's thread on another CPU in
 * turn: deleted while blocked there, or running after its endpoint went),
 * VSpaces, tables and mappings (unmaps in our own VSpace, where the
 * clients run: shootdowns), endpoints and notifications, by delete and
 * by revoke (stress.c's rounds).  Every answer must be right, every
 * client must have progressed, the invariant check must pass and the
 * memory come back (the sandbox).  smp_churn_rounds=N on the command line. */
static bool smp_churn_under_ipc(void)
{
    unsigned long n = ncpus() > CH_PAIRS_MAX ? CH_PAIRS_MAX : ncpus();
    uint64_t rounds = n > 2 ? 100 : 300;
    cmdline_get_u64(ulib_bootinfo->cmdline, "smp_churn_rounds", &rounds);
    ALLOC(done, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(park, FERRY_OBJ_NOTIFICATION, 0);
    ch_done = done;
    ch_park = park;
    ch_stop = ch_next_server = ch_next_client = ch_finished = 0;
    unsigned long tcbs[2 * CH_PAIRS_MAX];
    unsigned nt = 0;
    for (unsigned long k = 0; k < n; k++) {
        ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
        ch_ep[k] = slot_alloc();
        CHECK(ch_ep[k] != 0);
        CHECK_OK(ferry_cnode_mint(ch_ep[k], ep, FERRY_RIGHTS_ALL, k + 1));
        ch_calls[k] = ch_bad[k] = 0;
    }
    /* Pair k: its server on CPU k + 1, its client on CPU k; at our
     * priority, so that on CPU 0 they take turns with us (our rounds yield). */
    for (unsigned long k = 0; k < n; k++)
        CHECK((tcbs[nt++] = spawn_on(ch_server, 255, (k + 1) % n)) != 0);
    for (unsigned long k = 0; k < n; k++)
        CHECK((tcbs[nt++] = spawn_on(ch_client, 255, k)) != 0);
    bool ok = stress_churn_rounds(rounds, n);
    ch_stop = 1;
    while (__atomic_load_n(&ch_finished, __ATOMIC_ACQUIRE) < n) {
        unsigned long bits;
        CHECK_OK(ntfn_wait(done, &bits));
    }
    for (unsigned i = 0; i < nt; i++)
        CHECK_OK(ferry_tcb_suspend(tcbs[i]));
    CHECK(ok);
    printf("    %lu rounds of create/delete/revoke on %lu CPUs; Calls meanwhile:", (unsigned long)rounds, n);
    for (unsigned long k = 0; k < n; k++)
        printf(" %lu", ch_calls[k]);
    printf("\n");
    for (unsigned long k = 0; k < n; k++) {
        CHECK(ch_bad[k] == 0);
        CHECK(ch_calls[k] > 0);
    }
    struct inv_state st;
    CHECK(kernel_check("after the churn", &st));
    return true;
}

/* ---- the cross-CPU hand-off under churn ---------------------------------- */

/* With idle_poll_us= on the command line, a Call to a server whose CPU
 * idles hands the server to that CPU (docs/smp.md, "The hand-off"), and
 * the reply comes back the same way when the client's CPU idles.  Here a
 * client on CPU 0 Calls a server on CPU 1 without pause while we, below
 * the client on CPU 0 (so we run while it waits for its answers, when the
 * server is in the slot, being taken, or running), move the server to
 * CPU 0 and back, lower and raise its priority, delete
 * it for a new one, and check the kernel's invariants, which look at the
 * slots.  The client also waits on a notification now and then, so CPU 0
 * idles too, and suspends and resumes the server.  Every answer that
 * comes must be right; no Call may fail.  (Not moving the server to CPU 0:
 * there it and the client (200, 210) would keep CPU 0 busy for good and
 * this thread (150) would never run again; not deleting it: the client's
 * Call would then fail, by design.) */
static unsigned long hc_ep, hc_tick, hc_done, hc_park;
static volatile unsigned long hc_stop, hc_calls, hc_bad, hc_failed, hc_finished;

static void hc_server(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(hc_ep, &m);
    for (;;) {
        m.w[0] = m.w[0] * 7 + m.badge;
        m.w[1] = ~m.w[1];
        m.info = FERRY_MSGINFO(0, 2, 0);
        ipc_reply_recv(hc_ep, &m);
    }
}

static void hc_client(void)
{
    for (unsigned long i = 1; !hc_stop; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(5, 2, 0), .w = { i, i ^ 0x5a5a } };
        if (ipc_call(hc_ep, &m))
            hc_failed++;
        else if (m.w[0] != i * 7 + 9 || m.w[1] != ~(i ^ 0x5a5a))
            hc_bad++;
        hc_calls++;
        if (i % 64 == 0)
            ntfn_signal(hc_tick);
    }
    hc_finished = 1;
    ntfn_signal(hc_done);
    for (;;) {
        unsigned long bits;
        ntfn_wait(hc_park, &bits);
    }
}

static bool smp_handoff_churn(void)
{
    if (ncpus() < 2) {
        printf("    1 CPU: needs -smp 2 or more\n");
        return true;
    }
    uint64_t rounds = 200;
    cmdline_get_u64(ulib_bootinfo->cmdline, "smp_handoff_rounds", &rounds);
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(tick, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(done, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(park, FERRY_OBJ_NOTIFICATION, 0);
    hc_park = park;
    hc_ep = slot_alloc();
    CHECK(hc_ep != 0);
    CHECK_OK(ferry_cnode_mint(hc_ep, ep, FERRY_RIGHTS_ALL, 9));
    hc_tick = tick;
    hc_done = done;
    hc_stop = hc_calls = hc_bad = hc_failed = hc_finished = 0;
    unsigned long server = spawn_on(hc_server, 200, 1);
    CHECK(server != 0);
    unsigned long client = spawn_on(hc_client, 210, 0);
    CHECK(client != 0);
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 150));     /* below the client */
    unsigned long deleted = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        unsigned long bits;
        switch (r % 4) {
        case 0:   /* the server re-queued wherever it is: a slot too */
            CHECK_OK(ferry_tcb_set_priority(server, FERRY_CAP_INIT_TCB, 100));
            CHECK_OK(ferry_tcb_set_priority(server, FERRY_CAP_INIT_TCB, 200));
            break;
        case 1:   /* the client (waiting, queued or handed back) moved and back */
            CHECK_OK(ferry_tcb_set_affinity(client, 1));
            CHECK_OK(ferry_tcb_set_affinity(client, 0));
            break;
        case 2: { /* a thread on CPU 1, so hand-offs there fall back, deleted running */
            count_a = 0;
            unsigned long t = spawn_on(count_a_loop, 100, 1);
            CHECK(t != 0);
            CHECK(spin_until(&count_a, 100));
            CHECK_OK(ferry_cnode_delete(t));
            deleted++;
            break;
        }
        case 3: { /* the server suspended wherever it is (slot, queue, running, in Recv) and resumed */
            struct inv_state st;
            CHECK(kernel_check("with hand-offs under way", &st));
            CHECK_OK(ferry_tcb_suspend(server));
            CHECK_OK(ferry_tcb_resume(server));
            break;
        }
        }
        CHECK_OK(ntfn_wait(tick, &bits));          /* CPU 0 idles while the pair runs */
    }
    hc_stop = 1;
    unsigned long bits;
    while (!hc_finished)
        CHECK_OK(ntfn_wait(done, &bits));
    CHECK_OK(ferry_tcb_suspend(client));
    CHECK_OK(ferry_tcb_suspend(server));
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 255));
    printf("    %lu rounds (%lu threads deleted on CPU 1): %lu Calls, %lu failed\n",
           (unsigned long)rounds, deleted, hc_calls, hc_failed);
    CHECK(hc_bad == 0);
    CHECK(hc_calls >= 64 && hc_failed == 0);                 /* only the rounds that stop it */
    struct inv_state st;
    CHECK(kernel_check("after the hand-off churn", &st));
    return true;
}

/* ---- TLB shootdown -------------------------------------------------------- */

#define TLB_VA (SMP_AREA + 0x100000)     /* in the 2 MiB region of the threads' stacks */
static volatile unsigned long tlb_reads;

static void tlb_reader(void)
{
    for (;;) {
        (void)*(volatile unsigned long *)TLB_VA;   /* keeps the translation in CPU 1's TLB */
        tlb_reads++;
    }
}

/* A thread on another CPU reads a page in a loop (its TLB holds the
 * translation); we unmap the page (then, mapped again, delete its frame
 * capability): when that returns, the other CPU's TLB must have lost the
 * entry (shootdown by IPI, waited for), so its next read faults, with the
 * page's address, to our fault endpoint. */
static bool smp_tlb_shootdown(void)
{
    if (ncpus() < 2) {
        printf("    1 CPU: needs -smp 2 or more\n");
        return true;
    }
    CHECK(table_ensure(TLB_VA));
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long fep = slot_alloc();
    CHECK(fep != 0);
    CHECK_OK(ferry_cnode_mint(fep, ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, 0x7b));
    for (int round = 0; round < 2; round++) {
        ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
        CHECK_OK(ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, TLB_VA, FERRY_MAP_READ | FERRY_MAP_WRITE));
        *(volatile unsigned long *)TLB_VA = 42;
        tlb_reads = 0;
        unsigned long t = spawn_fault_on(tlb_reader, 100, 1, fep);
        CHECK(t != 0);
        CHECK(spin_until(&tlb_reads, 100000));
        if (round == 0)
            CHECK_OK(ferry_frame_unmap(frame));
        else
            CHECK_OK(ferry_cnode_delete(frame));   /* the frame's last capability */
        unsigned long seen = tlb_reads;
        spin_for(3000000);
        if (tlb_reads > seen + 1) {
            printf("    round %d: CPU 1 read the page %lu more times after it was %s\n", round,
                   tlb_reads - seen, round ? "deleted" : "unmapped");
            return false;
        }
        struct sys_msg m = { 0 };
        CHECK_OK(ipc_recv(ep, &m));
        CHECK(m.badge == 0x7b && FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE);
        CHECK(m.w[FERRY_FAULT_MR_ADDR] == TLB_VA);
        CHECK_OK(ferry_tcb_suspend(t));
    }
    return true;
}

/* ---- floor_ipi/halt's kernel side ----------------------------------------------- */

/* FERRY_KFLOOR_IPI_HALT (BENCHMARK=1): 0 while CPU 1 has not sat in its
 * idle halt for 20 us (nothing timed), then an IPI round trip timed; we
 * wait in user mode between the asks (CPU 1 needs the lock on its way to
 * the halt).  Twenty round trips must come, each non-zero; on one CPU it
 * is refused. */
static bool smp_floor_ipi_halt(void)
{
    if (!ulib_bootinfo->benchmark) {
        printf("    (BENCHMARK=0: no floors)\n");
        return true;
    }
    struct sys_msg m = { .w = { FERRY_KFLOOR_IPI_HALT } };
    if (ncpus() < 2) {
        CHECK(sys_raw(FERRY_SYS_KFLOOR, FERRY_CAP_DEBUG, &m) == FERRY_E_ILLEGAL_OP);
        return true;
    }
    unsigned long got = 0, asks = 0;
    while (got < 20) {
        m = (struct sys_msg){ .w = { FERRY_KFLOOR_IPI_HALT } };
        CHECK_OK(sys_raw(FERRY_SYS_KFLOOR, FERRY_CAP_DEBUG, &m));
        if (m.w[0])
            got++;
        CHECK(++asks < 2000000);        /* CPU 1 never halted */
        for (int k = 0; k < 50; k++)
            __asm__ __volatile__("pause" ::: "memory");
    }
    printf("    20 round trips to a halted CPU 1 in %lu asks\n", asks);
    return true;
}

const struct utest utests_smp[] = {
    { smp_affinity, "smp_affinity" },
    { smp_per_core_preemption, "smp_per_core_preemption" },
    { smp_notify_xcpu, "smp_notify_xcpu" },
    { smp_xcpu_call_stress, "smp_xcpu_call_stress" },
    { smp_fastpath_shared_ep, "smp_fastpath_shared_ep" },
    { smp_delete_running_thread, "smp_delete_running_thread" },
    { smp_churn_under_ipc, "smp_churn_under_ipc" },
    { smp_tlb_shootdown, "smp_tlb_shootdown" },
    { smp_handoff_churn, "smp_handoff_churn" },
    { smp_floor_ipi_halt, "smp_floor_ipi_halt" },
};
const size_t utests_smp_n = sizeof utests_smp / sizeof utests_smp[0];
