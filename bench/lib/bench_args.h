/* bench_args.h: parse the benchmark words (bench= samples= warmup= sizes= raw=) of a command line. */
#ifndef FERRY_BENCH_ARGS_H
#define FERRY_BENCH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_SELECT 32
#define BENCH_NAME_MAX   48   /* including the terminating NUL */
#define BENCH_MAX_SIZES  32
#define BENCH_ERR_MAX    128

/* The words, as space-separated key=value pairs, e.g.
 *   bench=pipe_rt,futex_rt samples=1000 warmup=100 sizes=64,4K,4M raw=1
 * bench=all (or no bench= word) selects every benchmark; a name selects all
 * variants of that benchmark and "name/variant" exactly one.  Numbers are
 * decimal with an optional binary suffix K, M or G (4K = 4096).  Words with
 * other keys, and words without '=', belong to someone else on the same
 * command line (kernel options) and are ignored. */
struct bench_args {
    bool all;
    size_t nselect;
    char select[BENCH_MAX_SELECT][BENCH_NAME_MAX];
    bool samples_set, warmup_set;
    uint64_t samples, warmup;
    size_t nsizes;
    int64_t sizes[BENCH_MAX_SIZES];
    bool raw;
};

/* Fills a from words (NULL means empty).  Returns true on success; on a bad
 * word returns false with a one-line reason in err (always NUL-terminated),
 * e.g. "samples=12x: not a number". */
bool bench_args_parse(struct bench_args *a, const char *words, char *err, size_t errlen);

/* Parses one number as described above; false for empty, non-digits,
 * unknown suffix or overflow. */
bool bench_parse_u64(const char *s, size_t n, uint64_t *out);

#endif
