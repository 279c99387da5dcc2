/* bench_runner.c: selects and runs table entries, subtracts overhead, emits the bench_format records. */
#include "bench_runner.h"

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Is sel "name" or "name/variant" of e? */
static bool matches(const char *sel, const struct bench_entry *e)
{
    const char *n = e->name;
    while (*n && *n == *sel) {
        n++;
        sel++;
    }
    if (*n != '\0')
        return false;
    if (*sel == '\0')
        return true;
    return *sel == '/' && str_eq(sel + 1, e->variant ? e->variant : "");
}

bool bench_selected(const struct bench_args *a, const struct bench_entry *e)
{
    if (a->all)
        return true;
    for (size_t i = 0; i < a->nselect; i++)
        if (matches(a->select[i], e))
            return true;
    return false;
}

uint64_t bench_empty_region_tsc(void)
{
    uint64_t t0 = tsc_begin();
    bench_compiler_fence();
    uint64_t t1 = tsc_end();
    return t1 - t0;
}

void bench_runner_init(struct bench_runner *r, bench_write_fn write, uint64_t *buf, size_t cap,
                       const char *words)
{
    bj_init(&r->out, write);
    r->buf = buf;
    r->cap = cap;
    r->overhead = 0;
    r->overhead_stable = false;
    r->overhead_tries = 0;
    r->empty_region = bench_empty_region_tsc;
    r->results = 0;
    r->errors = 0;
    r->around = NULL;
    /* Before anything is timed: the TSC read sequence this CPU supports. */
    r->tsc_note = tsc_init(words);
    if (!bench_args_parse(&r->args, words, r->arg_error, sizeof(r->arg_error))) {
        if (r->arg_error[0] == '\0')
            r->arg_error[0] = '?';
        /* Bad words run nothing, so @meta must not list half-parsed ones. */
        r->args.all = false;
        r->args.nselect = 0;
    }
}

void bench_runner_measure_overhead(struct bench_runner *r)
{
    uint64_t best = UINT64_MAX;
    /* Warm the path (caches, branch predictors) before any batch counts. */
    for (unsigned i = 0; i < BENCH_OVERHEAD_BATCH; i++)
        (void)r->empty_region();
    for (unsigned t = 1; t <= BENCH_OVERHEAD_TRIES; t++) {
        uint64_t first = r->empty_region(), lo = first;
        bool stable = true;
        for (unsigned i = 1; i < BENCH_OVERHEAD_BATCH; i++) {
            uint64_t v = r->empty_region();
            if (v != first)
                stable = false;
            if (v < lo)
                lo = v;
        }
        if (lo < best)
            best = lo;
        if (stable) {
            r->overhead = first;
            r->overhead_stable = true;
            r->overhead_tries = t;
            return;
        }
    }
    r->overhead = best;
    r->overhead_stable = false;
    r->overhead_tries = BENCH_OVERHEAD_TRIES;
}

static void fields(struct bench_json *j, const char *bench, const char *variant, int64_t size)
{
    bj_key(j, "bench");
    bj_str(j, bench);
    bj_key(j, "variant");
    bj_str(j, variant ? variant : "");
    bj_key(j, "size");
    bj_i64(j, size);
}

void bench_emit_error(struct bench_runner *r, const char *bench, const char *variant, int64_t size,
                      const char *msg)
{
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_ERROR);
    bj_obj_begin(j);
    fields(j, bench, variant, size);
    bj_key(j, "msg");
    bj_str(j, msg);
    bj_obj_end(j);
    bj_record_end(j);
    r->errors++;
}

void bench_meta_begin(struct bench_runner *r, const char *system)
{
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_META);
    bj_obj_begin(j);
    bj_key(j, "schema");
    bj_u64(j, FERRY_BENCH_SCHEMA);
    bj_key(j, "system");
    bj_str(j, system);
}

void bench_meta_end(struct bench_runner *r, const struct bench_entry *table, size_t n)
{
    struct bench_json *j = &r->out;
    bj_key(j, "benchmarks");
    bj_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        if (!bench_selected(&r->args, &table[i]))
            continue;
        /* Names once each, in table order, though several variants share one. */
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = bench_selected(&r->args, &table[k]) && str_eq(table[k].name, table[i].name);
        if (!seen)
            bj_str(j, table[i].name);
    }
    bj_arr_end(j);
    bj_key(j, "samples");
    if (r->args.samples_set)
        bj_u64(j, r->args.samples);
    else
        bj_u64(j, BENCH_DEFAULT_SAMPLES);
    bj_key(j, "warmup");
    if (r->args.warmup_set)
        bj_u64(j, r->args.warmup);
    else
        bj_null(j);  /* per run: samples / BENCH_DEFAULT_WARMUP_DIV */
    bj_key(j, "raw");
    bj_bool(j, r->args.raw);
    bj_key(j, "tsc_method");
    bj_str(j, tsc_method_name(tsc_method));
    bj_key(j, "tsc_read");
    bj_str(j, tsc_method_seq(tsc_method));
    if (r->tsc_note) {
        bj_key(j, "tsc_note");
        bj_str(j, r->tsc_note);
    }
    bj_key(j, "tsc_overhead");
    bj_u64(j, r->overhead);
    bj_key(j, "tsc_overhead_stable");
    bj_bool(j, r->overhead_stable);
    bj_key(j, "tsc_overhead_tries");
    bj_u64(j, r->overhead_tries);
    bj_obj_end(j);
    bj_record_end(j);
}

static void emit_samples(struct bench_runner *r, const struct bench_entry *e, int64_t size,
                         const uint64_t *v, size_t n)
{
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_SAMPLES);
    bj_obj_begin(j);
    fields(j, e->name, e->variant, size);
    bj_key(j, "values");
    bj_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        bj_u64(j, v[i]);
    bj_arr_end(j);
    bj_obj_end(j);
    bj_record_end(j);
}

static void emit_result(struct bench_runner *r, const struct bench_entry *e, int64_t size,
                        const struct bench_stats *st)
{
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_RESULT);
    bj_obj_begin(j);
    fields(j, e->name, e->variant, size);
    bj_key(j, "unit");
    bj_str(j, "tsc");
    bj_key(j, "samples");
    bj_u64(j, st->samples);
    bj_key(j, "overhead");
    bj_u64(j, r->overhead);
    bj_key(j, "min");
    bj_u64(j, st->min);
    bj_key(j, "p50");
    bj_u64(j, st->p50);
    bj_key(j, "p90");
    bj_u64(j, st->p90);
    bj_key(j, "p99");
    bj_u64(j, st->p99);
    bj_key(j, "max");
    bj_u64(j, st->max);
    bj_key(j, "mean");
    bj_u64(j, st->mean);
    bj_key(j, "stdev");
    bj_u64(j, st->stdev);
    bj_obj_end(j);
    bj_record_end(j);
    r->results++;
}

/* A value no timed region produces in practice: a benchmark that leaves
 * any slot holding it did not fill the buffer. */
#define UNFILLED UINT64_MAX

static bool starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

/* Marks the start of one benchmark configuration for tools that watch the
 * guest from outside (the TLB model, tools/tlbmodel, counts executions of
 * this address to give its timed regions to the right @result): an empty
 * call that costs a few instructions outside every timed region. */
__attribute__((noinline, used)) void bench_region_mark(void)
{
    __asm__ __volatile__("" ::: "memory");
}

static uint64_t samples_of(const struct bench_runner *r, const struct bench_entry *e)
{
    uint64_t n = r->args.samples_set ? r->args.samples
                 : e->default_samples ? e->default_samples
                                      : BENCH_DEFAULT_SAMPLES;
    return e->max_samples && n > e->max_samples ? e->max_samples : n;
}

static void run_one_inner(struct bench_runner *r, const struct bench_entry *e, int64_t size);

static void run_one(struct bench_runner *r, const struct bench_entry *e, int64_t size)
{
    bench_region_mark();
    if (r->around)
        r->around(r, e, size, samples_of(r, e), false);
    run_one_inner(r, e, size);
    if (r->around)
        r->around(r, e, size, samples_of(r, e), true);
}

static void run_one_inner(struct bench_runner *r, const struct bench_entry *e, int64_t size)
{
    uint64_t n = r->args.samples_set ? r->args.samples
                 : e->default_samples ? e->default_samples
                                      : BENCH_DEFAULT_SAMPLES;
    /* Some samples are expensive (a bulk transfer moves megabytes): the
     * entry may bound them; the @result's "samples" says what was taken. */
    if (e->max_samples && n > e->max_samples)
        n = e->max_samples;
    uint64_t warmup = r->args.warmup_set ? r->args.warmup : n / BENCH_DEFAULT_WARMUP_DIV;
    if (e->max_samples && warmup > n)
        warmup = n;
    if (n > r->cap) {
        char msg[80];
        size_t p = 0;
        const char *a = "samples exceed the sample buffer of ";
        while (*a)
            msg[p++] = *a++;
        p += bj_fmt_u64(msg + p, r->cap);
        msg[p] = '\0';
        bench_emit_error(r, e->name, e->variant, size, msg);
        return;
    }
    struct bench_ctx c = {
        .samples = r->buf,
        .n = (size_t)n,
        .warmup = (size_t)warmup,
        .size = size,
        .entry = e,
    };
    for (size_t i = 0; i < c.n; i++)
        c.samples[i] = UNFILLED;
    const char *msg = e->fn(&c);
    if (msg != NULL && starts_with(msg, BENCH_NOT_HERE)) {
        struct bench_json *j = &r->out;
        bj_record_begin(j, "note: ");
        bj_raw(j, e->name);
        if (e->variant && e->variant[0]) {
            bj_raw(j, "/");
            bj_raw(j, e->variant);
        }
        bj_raw(j, ": ");
        bj_raw(j, msg);
        bj_record_end(j);
        return;
    }
    if (msg != NULL) {
        bench_emit_error(r, e->name, e->variant, size, msg);
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (c.samples[i] == UNFILLED) {
            bench_emit_error(r, e->name, e->variant, size, "benchmark left samples unfilled");
            return;
        }
    }
    bench_subtract_overhead(c.samples, c.n, r->overhead);
    /* Raw values go out in measurement order, before sorting destroys it. */
    if (r->args.raw)
        emit_samples(r, e, size, c.samples, c.n);
    struct bench_stats st;
    bench_stats_compute(c.samples, c.n, &st);
    emit_result(r, e, size, &st);
}

void bench_runner_run(struct bench_runner *r, const struct bench_entry *table, size_t n)
{
    if (r->arg_error[0] != '\0') {
        bench_emit_error(r, "", "", -1, r->arg_error);
        return;
    }
    for (size_t s = 0; s < r->args.nselect; s++) {
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = matches(r->args.select[s], &table[i]);
        if (!known)
            bench_emit_error(r, r->args.select[s], "", -1, "unknown benchmark");
    }
    for (size_t i = 0; i < n; i++) {
        const struct bench_entry *e = &table[i];
        if (!bench_selected(&r->args, e))
            continue;
        if (e->sizes == NULL) {
            run_one(r, e, -1);
        } else if (r->args.nsizes != 0) {
            for (size_t k = 0; k < r->args.nsizes; k++)
                run_one(r, e, r->args.sizes[k]);
        } else {
            for (size_t k = 0; k < e->nsizes; k++)
                run_one(r, e, e->sizes[k]);
        }
    }
}

void bench_done(struct bench_runner *r)
{
    struct bench_json *j = &r->out;
    bj_record_begin(j, FERRY_REC_DONE);
    bj_obj_begin(j);
    bj_key(j, "records");
    bj_u64(j, r->results);
    bj_key(j, "errors");
    bj_u64(j, r->errors);
    bj_obj_end(j);
    bj_record_end(j);
}
