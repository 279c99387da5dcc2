/* bench_args.c: the benchmark words parser; freestanding, reports every bad word precisely. */
#include "bench_args.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool key_is(const char *w, size_t klen, const char *key)
{
    size_t i = 0;
    for (; i < klen; i++)
        if (key[i] == '\0' || key[i] != w[i])
            return false;
    return key[i] == '\0';
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '/' || c == '.';
}

bool bench_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (n == 0 || s[0] < '0' || s[0] > '9')
        return false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (i < n) {
        unsigned shift;
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return false;
        }
        if (i + 1 != n || v > (UINT64_MAX >> shift))
            return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

/* Appends to err without overflowing it; err stays NUL-terminated. */
static void err_add(char *err, size_t errlen, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *pos + 1 < errlen; i++)
        err[(*pos)++] = s[i];
    if (errlen)
        err[*pos] = '\0';
}

static bool fail(char *err, size_t errlen, const char *w, size_t wlen, const char *why)
{
    size_t pos = 0, n = 0;
    while (why[n])
        n++;
    if (errlen)
        err[0] = '\0';
    err_add(err, errlen, &pos, w, wlen);
    err_add(err, errlen, &pos, ": ", 2);
    err_add(err, errlen, &pos, why, n);
    return false;
}

static bool parse_bench(struct bench_args *a, const char *w, size_t wlen, const char *v, size_t vlen,
                        char *err, size_t errlen)
{
    a->all = false;
    a->nselect = 0;
    if (vlen == 0)
        return fail(err, errlen, w, wlen, "names no benchmark");
    size_t i = 0;
    while (i <= vlen) {
        size_t j = i;
        while (j < vlen && v[j] != ',')
            j++;
        size_t len = j - i;
        if (len == 0)
            return fail(err, errlen, w, wlen, "empty benchmark name");
        if (len >= BENCH_NAME_MAX)
            return fail(err, errlen, w, wlen, "benchmark name too long");
        for (size_t k = i; k < j; k++)
            if (!name_char(v[k]))
                return fail(err, errlen, w, wlen, "bad character in benchmark name");
        if (len == 3 && v[i] == 'a' && v[i + 1] == 'l' && v[i + 2] == 'l') {
            a->all = true;
        } else {
            if (a->nselect == BENCH_MAX_SELECT)
                return fail(err, errlen, w, wlen, "too many benchmark names");
            for (size_t k = 0; k < len; k++)
                a->select[a->nselect][k] = v[i + k];
            a->select[a->nselect][len] = '\0';
            a->nselect++;
        }
        i = j + 1;
    }
    return true;
}

static bool parse_sizes(struct bench_args *a, const char *w, size_t wlen, const char *v, size_t vlen,
                        char *err, size_t errlen)
{
    a->nsizes = 0;
    if (vlen == 0)
        return fail(err, errlen, w, wlen, "names no size");
    size_t i = 0;
    while (i <= vlen) {
        size_t j = i;
        while (j < vlen && v[j] != ',')
            j++;
        uint64_t n;
        if (!bench_parse_u64(v + i, j - i, &n) || n > (uint64_t)INT64_MAX)
            return fail(err, errlen, w, wlen, "not a size (decimal, optional K/M/G suffix)");
        if (a->nsizes == BENCH_MAX_SIZES)
            return fail(err, errlen, w, wlen, "too many sizes");
        a->sizes[a->nsizes++] = (int64_t)n;
        i = j + 1;
    }
    return true;
}

bool bench_args_parse(struct bench_args *a, const char *words, char *err, size_t errlen)
{
    *a = (struct bench_args){ .all = true };
    if (errlen)
        err[0] = '\0';
    if (words == NULL)
        return true;
    const char *p = words;
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            return true;
        const char *w = p;
        while (*p != '\0' && !is_space(*p))
            p++;
        size_t wlen = (size_t)(p - w), klen = 0;
        while (klen < wlen && w[klen] != '=')
            klen++;
        if (klen == wlen)
            continue;
        const char *v = w + klen + 1;
        size_t vlen = wlen - klen - 1;
        uint64_t n;
        if (key_is(w, klen, "bench")) {
            if (!parse_bench(a, w, wlen, v, vlen, err, errlen))
                return false;
        } else if (key_is(w, klen, "samples")) {
            if (!bench_parse_u64(v, vlen, &n))
                return fail(err, errlen, w, wlen, "not a number");
            if (n == 0)
                return fail(err, errlen, w, wlen, "need at least 1 sample");
            a->samples = n;
            a->samples_set = true;
        } else if (key_is(w, klen, "warmup")) {
            if (!bench_parse_u64(v, vlen, &n))
                return fail(err, errlen, w, wlen, "not a number");
            a->warmup = n;
            a->warmup_set = true;
        } else if (key_is(w, klen, "sizes")) {
            if (!parse_sizes(a, w, wlen, v, vlen, err, errlen))
                return false;
        } else if (key_is(w, klen, "raw")) {
            if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
                return fail(err, errlen, w, wlen, "raw takes 0 or 1");
            a->raw = v[0] == '1';
        }
    }
}
