/* main.c: the benchmark program of the root task: parses the bench= words,
 * prints @meta, runs the selected benchmarks and @done. */
#include "ferry_bench.h"
#include <ferry/rootprogs.h>

#define SAMPLE_CAP 100000
static uint64_t samples[SAMPLE_CAP];

static void out_write(const char *s, size_t n)
{
    puts_raw(s, n);
}

/* One table of every benchmark: the families, in order. */
static struct bench_entry table[128];   /* 64 was full: a family past it was cut off without a word */

static const struct bench_family fam[] = {
    { bench_floor, &bench_floor_n }, { bench_syscall, &bench_syscall_n },
    { bench_sched, &bench_sched_n }, { bench_ipc, &bench_ipc_n },
    { bench_vm, &bench_vm_n }, { bench_fault, &bench_fault_n },
    { bench_bulk, &bench_bulk_n }, { bench_longop, &bench_longop_n },
    { bench_spawn, &bench_spawn_n }, { bench_io, &bench_io_n },
    { bench_tput, &bench_tput_n },
};
BENCH_CATALOG(fam);

static size_t build_table(const struct ferry_bootinfo *bi)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++)
        for (size_t i = 0; i < *fam[f].n; i++) {
            const struct bench_entry *e = &fam[f].entries[i];
            /* The PCID floor exists only where PCIDs are on. */
            if (!bi->pcid_on && strcmp(e->name, "floor_cr3") == 0 && strcmp(e->variant, "pcid") == 0)
                continue;
            /* A full table must say so: at 64 entries the last family
             * (ipc_tput) was left out and the guest answered "unknown
             * benchmark" for it. */
            if (n == sizeof table / sizeof table[0]) {
                static const char msg[] = "@error {\"bench\":\"\",\"variant\":\"\",\"size\":-1,"
                                          "\"msg\":\"the benchmark table is full: raise table[] in bench/ferry/main.c\"}\n";
                puts_raw(msg, sizeof msg - 1);
                return n;
            }
            table[n++] = *e;
        }
    return n;
}

/* The kernel's fast-path fall-back counters (FERRY_SYS_FASTPATH_STATS),
 * named as in the @fastpath record: FERRY_FP_* in lower case. */
static const char *const fp_names[FERRY_FP_COUNT] = {
    [FERRY_FP_CALL_CAP] = "call_cap", [FERRY_FP_CALL_NO_RECEIVER] = "call_no_receiver",
    [FERRY_FP_CALL_PARTNER] = "call_partner", [FERRY_FP_CALL_PRIO] = "call_prio",
    [FERRY_FP_CALL_MESSAGE] = "call_message", [FERRY_FP_RR_NO_CALLER] = "rr_no_caller",
    [FERRY_FP_RR_PRIO] = "rr_prio", [FERRY_FP_RR_CAP] = "rr_cap", [FERRY_FP_RR_QUEUED] = "rr_queued",
    [FERRY_FP_RR_PARTNER] = "rr_partner", [FERRY_FP_RR_MESSAGE] = "rr_message",
    [FERRY_FP_RR_CAPS_SLOW] = "rr_caps_slow", [FERRY_FP_RR_CAP_XFER] = "rr_cap_xfer",
};

static bool fp_read(unsigned long out[FERRY_FP_COUNT])
{
    struct sys_msg m = { 0 };
    if (sys_raw(FERRY_SYS_FASTPATH_STATS, FERRY_CAP_DEBUG, &m) != FERRY_OK || m.w[0] < FERRY_FP_COUNT)
        return false;
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        out[i] = ulib_ipc->mr[i];
    return true;
}

/* Around each configuration: the counters before, and after it the
 * difference as an @fastpath record (kernels that count: fast path and
 * BENCHMARK=1). */
static void fp_around(struct bench_runner *r, const struct bench_entry *e, int64_t size, uint64_t n,
                      bool after)
{
    static unsigned long before[FERRY_FP_COUNT];
    static bool have_before;
    if (!after) {
        have_before = fp_read(before);
        return;
    }
    unsigned long now[FERRY_FP_COUNT];
    if (!have_before || !fp_read(now))
        return;
    unsigned long total = 0;
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        total += now[i] - before[i];
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_FASTPATH);
    bj_obj_begin(j);
    bj_key(j, "bench");
    bj_str(j, e->name);
    bj_key(j, "variant");
    bj_str(j, e->variant ? e->variant : "");
    bj_key(j, "size");
    bj_i64(j, size);
    bj_key(j, "samples");
    bj_u64(j, n);
    bj_key(j, "total");
    bj_u64(j, total);
    bj_key(j, "misses");
    bj_obj_begin(j);
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++) {
        /* A reason added to the enum before it is named here still shows. */
        char unnamed[] = "reason_00";
        unnamed[7] = (char)('0' + i / 10 % 10);
        unnamed[8] = (char)('0' + i % 10);
        bj_key(j, fp_names[i] ? fp_names[i] : unnamed);
        bj_u64(j, now[i] - before[i]);
    }
    bj_obj_end(j);
    bj_obj_end(j);
    bj_record_end(j);
}

int bench_main(const struct ferry_bootinfo *bi)
{
    static struct bench_runner r;
    size_t n = build_table(bi);
    bench_runner_init(&r, out_write, samples, SAMPLE_CAP, bi->cmdline);
    if (bi->fastpath && bi->benchmark)
        r.around = fp_around;
    bench_runner_measure_overhead(&r);
    struct bench_json *j = &r.out;
    bench_meta_begin(&r, "ferry");
    bj_key(j, "kernel");
    bj_str(j, bi->kernel_version);
    bj_key(j, "fastpath");
    bj_bool(j, bi->fastpath);
    bj_key(j, "lazy_fpu");
    bj_bool(j, bi->lazy_fpu);
    bj_key(j, "benchmark");
    bj_bool(j, bi->benchmark);
    bj_key(j, "direct_switch");
    bj_bool(j, bi->direct_switch);
    bj_key(j, "kpti");
    bj_bool(j, bi->kpti);
    bj_key(j, "pcid");
    bj_bool(j, bi->pcid_on);
    bj_key(j, "cpu_pcid");
    bj_bool(j, bi->cpu_pcid);
    bj_key(j, "tsc_hz");
    bj_u64(j, bi->tsc_hz);
    bj_key(j, "cmdline");
    bj_str(j, bi->cmdline);
    bench_meta_end(&r, table, n);
    bench_runner_run(&r, table, n);
    bench_done(&r);
    return r.errors ? 1 : 0;
}
