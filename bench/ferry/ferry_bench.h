/* ferry_bench.h: Ferry's in-guest benchmarks, one file per family, all run
 * by the common runner (bench/lib). */
#ifndef FERRY_BENCH_H
#define FERRY_BENCH_H

#include <bench_runner.h>
#include <ferry/ulib.h>

extern const struct bench_entry bench_floor[], bench_syscall[], bench_sched[], bench_ipc[], bench_vm[],
    bench_fault[], bench_bulk[], bench_longop[], bench_spawn[], bench_io[], bench_tput[];
extern const size_t bench_floor_n, bench_syscall_n, bench_sched_n, bench_ipc_n, bench_vm_n,
    bench_fault_n, bench_bulk_n, bench_longop_n, bench_spawn_n, bench_io_n, bench_tput_n;

/* Time `body` once per sample after `warmup` untimed rounds (the common
 * timed-loop shape; body may `return "message"` to fail the record). */
#define BENCH_LOOP(c, body)                                                   \
    for (size_t i_ = 0; i_ < (c)->warmup + (c)->n; i_++) {                    \
        uint64_t t0_ = tsc_begin();                                           \
        bench_compiler_fence();                                               \
        body;                                                                 \
        bench_compiler_fence();                                               \
        uint64_t t1_ = tsc_end();                                             \
        if (i_ >= (c)->warmup)                                                \
            (c)->samples[i_ - (c)->warmup] = t1_ - t0_;                       \
    }

#endif
