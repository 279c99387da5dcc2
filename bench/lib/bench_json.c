/* bench_json.c: streaming JSON output in small buffered pieces, ASCII-only escaping. */
#include "bench_json.h"

void bj_init(struct bench_json *j, bench_write_fn write)
{
    j->write = write;
    j->first = 1;
    j->depth = 0;
    j->after_key = false;
    j->len = 0;
}

void bj_flush(struct bench_json *j)
{
    if (j->len != 0)
        j->write(j->buf, j->len);
    j->len = 0;
}

static void put(struct bench_json *j, char c);

void bj_record_begin(struct bench_json *j, const char *prefix)
{
    j->first = 1;
    j->depth = 0;
    j->after_key = false;
    bj_raw(j, prefix);
}

void bj_record_end(struct bench_json *j)
{
    put(j, '\n');
    bj_flush(j);
}

static void put(struct bench_json *j, char c)
{
    if (j->len == sizeof(j->buf))
        bj_flush(j);
    j->buf[j->len++] = c;
}

void bj_raw_n(struct bench_json *j, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(j, s[i]);
}

void bj_raw(struct bench_json *j, const char *s)
{
    while (*s)
        put(j, *s++);
}

/* Called before every value and key: a comma unless this is the first item
 * in its container or the value of a key just written. */
static void sep(struct bench_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    uint32_t bit = (uint32_t)1 << j->depth;
    if (!(j->first & bit))
        put(j, ',');
    j->first &= ~bit;
}

static void container_open(struct bench_json *j, char c)
{
    sep(j);
    put(j, c);
    /* Deeper than BENCH_JSON_DEPTH only loses comma tracking; records here
     * nest two levels at most. */
    if (j->depth + 1 < BENCH_JSON_DEPTH)
        j->depth++;
    j->first |= (uint32_t)1 << j->depth;
}

static void container_close(struct bench_json *j, char c)
{
    put(j, c);
    if (j->depth > 0)
        j->depth--;
    j->after_key = false;
}

void bj_obj_begin(struct bench_json *j) { container_open(j, '{'); }
void bj_obj_end(struct bench_json *j) { container_close(j, '}'); }
void bj_arr_begin(struct bench_json *j) { container_open(j, '['); }
void bj_arr_end(struct bench_json *j) { container_close(j, ']'); }

static const char hexdig[] = "0123456789abcdef";

/* Bytes are taken as Latin-1: control characters, DEL and every byte >= 0x80
 * become \u00XX escapes, so a record is always pure ASCII and valid JSON
 * whatever a command line or message contains. */
static void str_body(struct bench_json *j, const char *s, size_t n)
{
    put(j, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  put(j, '\\'); put(j, '"'); break;
        case '\\': put(j, '\\'); put(j, '\\'); break;
        case '\n': put(j, '\\'); put(j, 'n'); break;
        case '\r': put(j, '\\'); put(j, 'r'); break;
        case '\t': put(j, '\\'); put(j, 't'); break;
        case '\b': put(j, '\\'); put(j, 'b'); break;
        case '\f': put(j, '\\'); put(j, 'f'); break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                put(j, '\\'); put(j, 'u'); put(j, '0'); put(j, '0');
                put(j, hexdig[c >> 4]); put(j, hexdig[c & 15]);
            } else {
                put(j, (char)c);
            }
        }
    }
    put(j, '"');
}

void bj_key(struct bench_json *j, const char *key)
{
    sep(j);
    size_t n = 0;
    while (key[n])
        n++;
    str_body(j, key, n);
    put(j, ':');
    j->after_key = true;
}

void bj_str_n(struct bench_json *j, const char *s, size_t n)
{
    sep(j);
    str_body(j, s, n);
}

void bj_str(struct bench_json *j, const char *s)
{
    size_t n = 0;
    if (s == NULL) {
        bj_null(j);
        return;
    }
    while (s[n])
        n++;
    bj_str_n(j, s, n);
}

size_t bj_fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

void bj_u64(struct bench_json *j, uint64_t v)
{
    char tmp[21];
    sep(j);
    bj_raw_n(j, tmp, bj_fmt_u64(tmp, v));
}

void bj_i64(struct bench_json *j, int64_t v)
{
    char tmp[21];
    sep(j);
    if (v < 0) {
        put(j, '-');
        /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
        bj_raw_n(j, tmp, bj_fmt_u64(tmp, -(uint64_t)v));
    } else {
        bj_raw_n(j, tmp, bj_fmt_u64(tmp, (uint64_t)v));
    }
}

void bj_bool(struct bench_json *j, bool v)
{
    sep(j);
    bj_raw(j, v ? "true" : "false");
}

void bj_null(struct bench_json *j)
{
    sep(j);
    bj_raw(j, "null");
}
