/* bench_runner.h: the benchmark table, overhead measurement and driver shared by every Ferry benchmark.
 *
 * Freestanding (stdint/stddef/stdbool only, no allocation, no floating
 * point), so the kernel, Ferry user space and the Linux baseline all link
 * the same bench/lib sources.  A program using it:
 *
 *     static const struct bench_entry table[] = {
 *         { .name = "ipc_call", .variant = "fast", .fn = ipc_call_fast,
 *           .description = "Call/ReplyRecv round trip, fast path" },
 *     };
 *     static struct bench_runner r;
 *     bench_runner_init(&r, serial_write, buf, cap, cmdline);
 *     bench_runner_measure_overhead(&r);
 *     bench_meta_begin(&r, "ferry");
 *     bj_key(&r.out, "tsc_hz"); bj_u64(&r.out, hz);   // the system's own keys
 *     bench_meta_end(&r, table, ARRAY_SIZE(table));
 *     bench_runner_run(&r, table, ARRAY_SIZE(table));
 *     bench_done(&r);
 *     exit_qemu(r.errors == 0);
 */
#ifndef FERRY_BENCH_RUNNER_H
#define FERRY_BENCH_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ferry/bench_format.h>

#include "bench_args.h"
#include "bench_json.h"
#include "bench_stats.h"
#include <tsc.h>

#define BENCH_DEFAULT_SAMPLES 10000
/* A benchmark that cannot run on this machine (one CPU where it needs
 * two) returns a message starting with this: the runner prints it as a
 * note (a console line, not a record) and counts no error. */
#define BENCH_NOT_HERE "not run here: "
/* The bulk-transfer families (Ferry's and Linux's) move up to 4 MiB per
 * sample: their samples are bounded to this (max_samples), whatever
 * samples= asks, so a sweep stays minutes long under TCG. */
#define BENCH_BULK_MAX_SAMPLES 20
/* Default warm-up: this fraction of the sample count (1000 for 10000). */
#define BENCH_DEFAULT_WARMUP_DIV 10

/* The empty-region overhead is measured in batches of BENCH_OVERHEAD_BATCH;
 * a batch whose values are all equal is stable and its value is used (as in
 * sel4bench).  After BENCH_OVERHEAD_TRIES unstable batches (TCG, a noisy
 * host), the minimum seen is used and the result marked unstable. */
#define BENCH_OVERHEAD_BATCH 16
#define BENCH_OVERHEAD_TRIES 100

struct bench_entry;

/* What a benchmark function gets: it runs `warmup` untimed (or discarded)
 * iterations, then fills samples[0..n) with raw tick counts, one per timed
 * iteration, each taken as
 *     t0 = tsc_begin(); <operation>; t1 = tsc_end(); samples[i] = t1 - t0;
 * with bench_compiler_fence() where the operation could be moved.  The runner
 * subtracts the overhead afterwards. */
struct bench_ctx {
    uint64_t *samples;
    size_t n;
    size_t warmup;
    int64_t size;                 /* this run's size, or -1 */
    const struct bench_entry *entry;
};

/* Returns NULL on success, or a static message saying what check failed
 * (a benchmark checks what it times: a wrong reply is a failure). */
typedef const char *(*bench_fn)(struct bench_ctx *ctx);

struct bench_entry {
    const char *name;             /* e.g. "pipe_rt"; shared across systems */
    const char *variant;          /* e.g. "cpu1"; "" when there is one */
    bench_fn fn;
    const char *description;
    const int64_t *sizes;         /* default sizes; NULL: no size parameter */
    size_t nsizes;
    uint32_t default_samples;     /* 0: BENCH_DEFAULT_SAMPLES (samples= overrides) */
    const void *arg;              /* the benchmark's own parameters */
    uint32_t max_samples;         /* 0: no bound; else samples (and warm-up) are cut to it */
};

/* The catalogue: a program's benchmark families in an ELF section of their
 * own, so that the host harness lists the benchmarks of a build (and rejects
 * unknown names before booting it) from the built binary itself, not from a
 * copy (ferryhost/catalog.py reads it).  The header states the layout of
 * struct bench_entry, so the reader holds no copy of that either.  One
 * BENCH_CATALOG(families) per program; the section is read, never run. */
#define BENCH_CATALOG_MAGIC "FERRYBC1"
struct bench_family {
    const struct bench_entry *entries;
    const size_t *n;
};
struct bench_catalog {
    char magic[8];
    uint32_t entry_size, nfamilies;
    uint32_t off_name, off_variant, off_description, off_sizes, off_nsizes, off_default_samples,
        off_max_samples;
    const struct bench_family *families;
};
#define BENCH_CATALOG(fams)                                                              \
    __attribute__((used, section(".ferry_bench_catalog"))) static const struct bench_catalog \
        bench_catalog_ = {                                                               \
            BENCH_CATALOG_MAGIC, sizeof(struct bench_entry), sizeof(fams) / sizeof((fams)[0]), \
            offsetof(struct bench_entry, name), offsetof(struct bench_entry, variant),    \
            offsetof(struct bench_entry, description), offsetof(struct bench_entry, sizes), \
            offsetof(struct bench_entry, nsizes), offsetof(struct bench_entry, default_samples), \
            offsetof(struct bench_entry, max_samples), (fams)                            \
        }

/* One run of a table.  Records counted in @done: `results` is the number of
 * @result records, `errors` the number of @error records. */
struct bench_runner {
    struct bench_json out;
    struct bench_args args;
    char arg_error[BENCH_ERR_MAX];  /* non-empty: the words did not parse */
    uint64_t *buf;
    size_t cap;
    uint64_t overhead;
    bool overhead_stable;
    unsigned overhead_tries;
    /* One empty timed region; replaceable so tests can feed known values. */
    uint64_t (*empty_region)(void);
    unsigned results, errors;
    const char *tsc_note;           /* tsc_init's note on a refused tsc= word, or NULL */
    /* Called before (after = false) and after (after = true, once its
     * @result or @error is out) each benchmark configuration, or NULL: a
     * program's own per-configuration records (Ferry's @fastpath). */
    void (*around)(struct bench_runner *r, const struct bench_entry *e, int64_t size, uint64_t samples,
                   bool after);
};

/* buf/cap: the caller's sample buffer (no allocation here); words: the
 * benchmark words (see bench_args.h).  Chooses the TSC read method
 * (tsc_init: from CPUID, or the tsc= word).  A parse error is kept and reported
 * as @error by bench_runner_run, which then runs nothing. */
void bench_runner_init(struct bench_runner *r, bench_write_fn write, uint64_t *buf, size_t cap,
                       const char *words);

/* Measures the cost of an empty timed region (see BENCH_OVERHEAD_*). */
void bench_runner_measure_overhead(struct bench_runner *r);

/* Does the selection include this entry? */
bool bench_selected(const struct bench_args *a, const struct bench_entry *e);

/* @meta: begin writes `@meta {"schema":N,"system":"<system>"`; the caller
 * adds its own keys through r->out (bj_key/bj_str/...); end adds the
 * runner's keys ("benchmarks": the selected names, "samples", "warmup",
 * "raw", "tsc_method", "tsc_read", "tsc_note" when set, "tsc_overhead", "tsc_overhead_stable", "tsc_overhead_tries") and
 * closes the line. */
void bench_meta_begin(struct bench_runner *r, const char *system);
void bench_meta_end(struct bench_runner *r, const struct bench_entry *table, size_t n);

/* Runs every selected entry at each of its sizes (sizes= replaces the
 * defaults of entries that have sizes): @samples when raw=1, then @result,
 * or @error.  Unknown names in bench= each give one @error. */
void bench_runner_run(struct bench_runner *r, const struct bench_entry *table, size_t n);

/* @error with the given fields (size -1 when none); counted. */
void bench_emit_error(struct bench_runner *r, const char *bench, const char *variant, int64_t size,
                      const char *msg);

/* @done {"records":results,"errors":errors}. */
void bench_done(struct bench_runner *r);

/* Called at the start of every benchmark configuration the runner runs
 * (one per @result or @error it emits for a configuration): an empty
 * function whose address outside observers watch (tools/tlbmodel). */
void bench_region_mark(void);

/* The empty region the runner measures by default: tsc_end() - tsc_begin(). */
uint64_t bench_empty_region_tsc(void);

#endif
