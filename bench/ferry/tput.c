/* tput.c: IPC throughput on several CPUs: N client/server pairs, pair k on CPU k, each client Calling its own server as fast as it can; the aggregate cost per 1000 Calls (docs/smp.md: how N = 2 scales against N = 1 under the big kernel lock). */
#include "ferry_bench.h"
#include <bench_stats.h>
#include <ferry/ipc.h>

#define TPUT_AREA  0x3e000000UL     /* stacks + IPC buffers of the pairs' threads */
#define TPUT_PAIRS 8                /* the kernel's FERRY_MAX_CPUS */
#define TPUT_PRIO  200              /* below the root task (255): it blocks while they run */
/* Calls per client per sample: enough that the start of a sample (the
 * other CPUs' clients woken by IPI, from a halt under MTTCG or KVM: tens
 * of microseconds) is small beside the Calls; at 200 it was about one
 * batch's time, and N = 2 measured the wake-up (docs/smp.md). */
#define TPUT_BATCH 2000
#define TPUT_WORK  2000UL           /* ipc_tput/work: loop steps before each Call */
#define TPUT_SPIN  200UL            /* ipc_tput/spin: loop steps in place of each Call */

/* What each client does per step of its batch: count down a loop of
 * `work` steps in user mode, then Call its server (or not: ipc_tput/spin,
 * the engine's own parallelism in the same boot, with no kernel entry). */
struct tput_kind {
    unsigned long work;
    bool call;
    const char *label;          /* in the diagnostic line */
};
static const struct tput_kind tput_plain = { 0, true, "" }, tput_work = { TPUT_WORK, true, "/work" },
                              tput_spin = { TPUT_SPIN, false, "/spin" };

/* Per pair: the endpoint its server serves and the notification that
 * wakes its client for a run; the number of clients done with the current
 * batch and the notification the last one signals; wrong answers. */
static volatile unsigned long t_ep[TPUT_PAIRS], t_start[TPUT_PAIRS];
/* Per client, written by the root task: armed for the current run (else
 * it waits on its start notification), and go for its next batch (it
 * clears the flag when it starts). */
static volatile unsigned long t_armed[TPUT_PAIRS], t_go[TPUT_PAIRS];
static volatile unsigned long t_done_ntfn, t_finished, t_want, t_bad;
static volatile unsigned long t_work;     /* user-mode work between two Calls (ipc_tput/work) */
static volatile bool t_call;              /* false: the loop alone (ipc_tput/spin) */
static unsigned long t_server_tcb[TPUT_PAIRS], t_client_tcb[TPUT_PAIRS];
/* When each client began and ended its batch of the current sample (its
 * own TSC reads, outside the sample's): where a sample's time goes. */
static volatile uint64_t t_began[TPUT_PAIRS], t_ended[TPUT_PAIRS];

/* Pair k's server has its stack page at TPUT_AREA + k * 0x4000 (its IPC
 * buffer above it), its client at + 0x2000: a thread finds its pair from
 * its stack pointer. */
static unsigned long tput_va(unsigned long k, bool client)
{
    return TPUT_AREA + k * 0x4000 + (client ? 0x2000 : 0);
}

static unsigned long my_pair(void)
{
    unsigned long sp;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp));
    return ((sp & ~0xfffUL) - TPUT_AREA) / 0x4000;
}

/* The server: an echo (word 0 + 1), on the fast path (same CPU, same
 * priority as its client, same address space). */
static void tput_server(void)
{
    unsigned long ep = t_ep[my_pair()];
    struct sys_msg m = { 0 };
    ipc_recv(ep, &m);
    for (;;) {
        m.w[0]++;
        m.info = FERRY_MSGINFO(8, 1, 0);
        ipc_reply_recv(ep, &m);
    }
}

/* The client: per go, TPUT_BATCH Calls to its server, each answer
 * checked; the last client of a batch to finish signals the root task.
 * Between the batches of a run it spins in user mode for the next go,
 * rather than blocking: a blocked client leaves its CPU idle, halted, and
 * the next batch would start (and the root task, woken on an idle CPU 0,
 * end) with the wake-up of a halted CPU, which on a virtual machine is
 * the host waking a vCPU thread and placing it (docs/smp.md, "Throughput":
 * the slow samples), a cost N = 1 never pays (its one CPU never idles).
 * Between runs it blocks on its start notification. */
static void tput_client(void)
{
    unsigned long k = my_pair();
    unsigned long ep = t_ep[k], start = t_start[k], bits;
    for (unsigned long round = 0;; round++) {
        for (;;) {
            if (__atomic_load_n(&t_go[k], __ATOMIC_ACQUIRE)) {
                t_go[k] = 0;
                break;
            }
            if (__atomic_load_n(&t_armed[k], __ATOMIC_ACQUIRE))
                __asm__ __volatile__("pause" ::: "memory");   /* under icount: the other vCPU's turn */
            else
                ntfn_wait(start, &bits);   /* a stale signal just loops */
        }
        t_began[k] = tsc_begin();
        unsigned long bad = 0;
        for (unsigned long i = 0; i < TPUT_BATCH; i++) {
            for (volatile unsigned long w = t_work; w > 0; w--)
                ;
            if (!t_call)
                continue;
            struct sys_msg m = { .info = FERRY_MSGINFO(7, 1, 0), .w = { i + round } };
            if (ipc_call(ep, &m) || m.w[0] != i + round + 1)
                bad++;
        }
        t_ended[k] = tsc_end();
        if (bad)
            __atomic_fetch_add(&t_bad, bad, __ATOMIC_RELAXED);
        if (__atomic_add_fetch(&t_finished, 1, __ATOMIC_ACQ_REL) == t_want)
            ntfn_signal(t_done_ntfn);
    }
}

static unsigned long tput_thread(void (*fn)(void), unsigned long cpu, bool client)
{
    unsigned long va = tput_va(cpu, client);
    if (!table_ensure(va))
        return 0;
    unsigned long t = thread_create_at(fn, va, FERRY_CAP_INIT_CNODE, TPUT_PRIO, 0, false);
    if (!t || ferry_tcb_set_affinity(t, cpu) || ferry_tcb_resume(t))
        return 0;
    return t;
}

/* Pair k, created on first use; its threads then stay blocked (the
 * server in Recv, the client in Wait) between samples and runs. */
static const char *tput_pair(unsigned long k)
{
    if (t_client_tcb[k])
        return NULL;
    t_ep[k] = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    t_start[k] = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
    if (!t_ep[k] || !t_start[k])
        return "no memory for a pair's endpoint";
    if (!(t_server_tcb[k] = tput_thread(tput_server, k, false)))
        return "could not start a server";
    if (!(t_client_tcb[k] = tput_thread(tput_client, k, true)))
        return "could not start a client";
    return NULL;
}

/* Where a sample's time went, per sample: from the start to the last
 * client's first Call (the wake-ups), each pair's batch, and from the
 * last batch's end to ours (the stop).  Printed as medians after a run
 * (a plain console line, not a record): a pair whose batch takes as long
 * as at N = 1 while the sample takes longer loses its time in the start
 * and stop, not in the Calls. */
#define TPUT_DIAG_MAX 2000
static uint64_t d_start[TPUT_DIAG_MAX], d_stop[TPUT_DIAG_MAX], d_batch[TPUT_PAIRS][TPUT_DIAG_MAX];

static void tput_account(size_t i, unsigned long n, uint64_t t0, uint64_t t1)
{
    if (i >= TPUT_DIAG_MAX)
        return;
    uint64_t last_start = 0, last_end = 0;
    for (unsigned long k = 0; k < n; k++) {
        uint64_t b = t_began[k], e = t_ended[k];
        last_start = b > last_start ? b : last_start;
        last_end = e > last_end ? e : last_end;
        d_batch[k][i] = e - b;
    }
    d_start[i] = last_start - t0;
    d_stop[i] = t1 - last_end;
}

static uint64_t p50(uint64_t *a, size_t n)
{
    bench_sort_u64(a, n);
    return bench_percentile_sorted(a, n, 50);
}

static void tput_report(unsigned long n, size_t m, const char *label)
{
    if (!m)
        return;
    printf("ipc_tput%s N=%lu: ticks per sample, p50 of %lu: start %lu, stop %lu, batch",
           label, n, (unsigned long)m, (unsigned long)p50(d_start, m), (unsigned long)p50(d_stop, m));
    for (unsigned long k = 0; k < n; k++)
        printf(" %lu", (unsigned long)p50(d_batch[k], m));
    printf("\n");
}

/* size = N pairs.  One sample: every client's batch, started together;
 * the value is the aggregate ticks per 1000 Calls: (end - start) * 1000 /
 * (N * batch) (per 1000, so that the runner's subtraction of the empty
 * region's overhead, made once per sample, stays negligible).  Throughput
 * is 1000 * tsc_hz / value; value(N = 1) / value(N = 2) is the scaling. */
static const char *ipc_tput(struct bench_ctx *c)
{
    unsigned long n = c->size < 1 ? 1 : (unsigned long)c->size;
    if (n > TPUT_PAIRS)
        return "more pairs than the benchmark has room for";
    if (n > ulib_bootinfo->ncpus)
        return BENCH_NOT_HERE "N pairs on N CPUs needs -smp N";
    if (!t_done_ntfn && !(t_done_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0)))
        return "no memory for the notification";
    for (unsigned long k = 0; k < n; k++) {
        const char *e = tput_pair(k);
        if (e)
            return e;
    }
    t_bad = 0;
    t_want = n;
    const struct tput_kind *kind = c->entry->arg;
    t_work = kind->work;
    t_call = kind->call;
    unsigned long bits;
    /* Arm the run's clients: each wakes and spins for its go. */
    for (unsigned long k = 0; k < n; k++) {
        __atomic_store_n(&t_armed[k], 1, __ATOMIC_RELEASE);
        ntfn_signal(t_start[k]);
    }
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        t_finished = 0;
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        /* The other CPUs' clients start at once; CPU 0's once we block
         * (it is below us). */
        for (unsigned long k = n; k-- > 0;)
            __atomic_store_n(&t_go[k], 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&t_finished, __ATOMIC_ACQUIRE) < n)
            ntfn_wait(t_done_ntfn, &bits);   /* a stale signal just loops */
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        if (i >= c->warmup) {
            c->samples[i - c->warmup] = (t1 - t0) * 1000 / (n * TPUT_BATCH);
            tput_account(i - c->warmup, n, t0, t1);
        }
    }
    for (unsigned long k = 0; k < n; k++)
        __atomic_store_n(&t_armed[k], 0, __ATOMIC_RELEASE);
    tput_report(n, c->n < TPUT_DIAG_MAX ? c->n : TPUT_DIAG_MAX, kind->label);
    return t_bad ? "wrong reply" : NULL;
}

static const int64_t tput_sizes[] = { 1, 2, 4 };

const struct bench_entry bench_tput[] = {
    { .name = "ipc_tput", .variant = "", .fn = ipc_tput, .arg = &tput_plain, .sizes = tput_sizes,
      .nsizes = sizeof tput_sizes / sizeof tput_sizes[0], .default_samples = 100, .max_samples = 2000,
      .description = "IPC throughput: size = N client/server pairs, pair k on CPU k (same address space, fast "
                     "path), 2000 Calls per client per sample; value = aggregate ticks per 1000 Calls "
                     "(throughput = 1000 * tsc_hz / value); sizes above the CPU count are not run" },
    { .name = "ipc_tput", .variant = "work", .fn = ipc_tput, .arg = &tput_work, .sizes = tput_sizes,
      .nsizes = sizeof tput_sizes / sizeof tput_sizes[0], .default_samples = 100, .max_samples = 2000,
      .description = "as ipc_tput, each client counting down a 2000-step loop in user mode before each Call "
                     "(work outside the big kernel lock): how pairs scale when the kernel is not most of the time" },
    { .name = "ipc_tput", .variant = "spin", .fn = ipc_tput, .arg = &tput_spin, .sizes = tput_sizes,
      .nsizes = sizeof tput_sizes / sizeof tput_sizes[0], .default_samples = 100, .max_samples = 2000,
      .description = "the ceiling beneath ipc_tput: each client counts down a 200-step loop in user mode where "
                     "it would Call, with no kernel entry; spin N=1 / N=2 is how far the engine runs vCPUs "
                     "in parallel in this boot (2 where it does fully)" },
};
const size_t bench_tput_n = sizeof bench_tput / sizeof bench_tput[0];
