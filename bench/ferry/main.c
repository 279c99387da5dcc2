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
static struct bench_entry table[64];

static const struct bench_family fam[] = {
    { bench_floor, &bench_floor_n }, { bench_syscall, &bench_syscall_n },
    { bench_sched, &bench_sched_n }, { bench_ipc, &bench_ipc_n },
    { bench_vm, &bench_vm_n }, { bench_fault, &bench_fault_n },
    { bench_bulk, &bench_bulk_n }, { bench_longop, &bench_longop_n },
    { bench_spawn, &bench_spawn_n },
};
BENCH_CATALOG(fam);

static size_t build_table(const struct ferry_bootinfo *bi)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++)
        for (size_t i = 0; i < *fam[f].n && n < sizeof table / sizeof table[0]; i++) {
            const struct bench_entry *e = &fam[f].entries[i];
            /* The PCID floor exists only where PCIDs are on. */
            if (!bi->pcid_on && strcmp(e->name, "floor_cr3") == 0 && strcmp(e->variant, "pcid") == 0)
                continue;
            table[n++] = *e;
        }
    return n;
}

int bench_main(const struct ferry_bootinfo *bi)
{
    static struct bench_runner r;
    size_t n = build_table(bi);
    bench_runner_init(&r, out_write, samples, SAMPLE_CAP, bi->cmdline);
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
