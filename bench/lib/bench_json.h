/* bench_json.h: a freestanding streaming JSON writer over a caller's write callback. */
#ifndef FERRY_BENCH_JSON_H
#define FERRY_BENCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where output goes: the serial port, stdout, a test buffer.  Called with
 * pieces of a record (never more than BENCH_JSON_BUF bytes at once); a
 * record's last piece ends with '\n'. */
typedef void (*bench_write_fn)(const char *s, size_t n);

#define BENCH_JSON_BUF   256
#define BENCH_JSON_DEPTH 32

/* Commas are inserted automatically: `first` has bit d set while nothing has
 * been written inside the container at depth d; `after_key` says the next
 * value belongs to a key just written and needs no comma. */
struct bench_json {
    bench_write_fn write;
    uint32_t first;
    unsigned depth;
    bool after_key;
    size_t len;
    char buf[BENCH_JSON_BUF];
};

void bj_init(struct bench_json *j, bench_write_fn write);
void bj_flush(struct bench_json *j);
/* One record is one line: bj_record_begin writes the prefix (FERRY_REC_*)
 * and resets the comma state; bj_record_end writes '\n' and flushes. */
void bj_record_begin(struct bench_json *j, const char *prefix);
void bj_record_end(struct bench_json *j);
/* Raw text with no separator logic: record prefixes and the final "\n". */
void bj_raw(struct bench_json *j, const char *s);
void bj_raw_n(struct bench_json *j, const char *s, size_t n);
void bj_obj_begin(struct bench_json *j);
void bj_obj_end(struct bench_json *j);
void bj_arr_begin(struct bench_json *j);
void bj_arr_end(struct bench_json *j);
void bj_key(struct bench_json *j, const char *key);
void bj_str(struct bench_json *j, const char *s);
void bj_str_n(struct bench_json *j, const char *s, size_t n);
void bj_u64(struct bench_json *j, uint64_t v);
void bj_i64(struct bench_json *j, int64_t v);
void bj_bool(struct bench_json *j, bool v);
void bj_null(struct bench_json *j);

/* Decimal text of v into out (at least 21 bytes); returns its length. */
size_t bj_fmt_u64(char *out, uint64_t v);

#endif
