/* cmdline.c: parsing the kernel command line's key=value words. */
#include <cmdline.h>
#include <kstring.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds key's word; returns a pointer to its value (or to the end of the
 * key for a bare flag) and its length. */
static const char *find_key(const char *s, const char *key, size_t *vlen)
{
    size_t klen = strlen(key);
    if (!s || klen == 0)
        return NULL;
    while (*s) {
        while (is_space(*s))
            s++;
        const char *w = s;
        while (*s && !is_space(*s))
            s++;
        size_t wlen = (size_t)(s - w);
        if (wlen >= klen && strncmp(w, key, klen) == 0) {
            if (wlen == klen) {
                *vlen = 0;
                return w + klen;
            }
            if (w[klen] == '=') {
                *vlen = wlen - klen - 1;
                return w + klen + 1;
            }
        }
    }
    return NULL;
}

bool cmdline_get(const char *cmdline, const char *key, char *val, size_t vlen)
{
    size_t n;
    const char *v = find_key(cmdline, key, &n);
    if (!v)
        return false;
    if (vlen) {
        if (n > vlen - 1)
            n = vlen - 1;
        memcpy(val, v, n);
        val[n] = '\0';
    }
    return true;
}

bool parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* The value of key into buf, for the typed getters: 1 when it fits, 0
 * when key is absent, -1 when the value is longer than buf can hold. */
static int value_into(const char *cmdline, const char *key, char *buf, size_t size)
{
    size_t n;
    const char *v = find_key(cmdline, key, &n);
    if (!v)
        return 0;
    if (n >= size)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 1;
}

int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
    char buf[32];
    int found = value_into(cmdline, key, buf, sizeof buf);
    if (found <= 0)
        return found;
    return parse_u64(buf, out) ? 1 : -1;   /* an empty value is not a number */
}

int cmdline_get_bool(const char *cmdline, const char *key, bool *out)
{
    char buf[8];
    int found = value_into(cmdline, key, buf, sizeof buf);
    if (found <= 0)
        return found;
    static const char *const yes[] = { "", "on", "1", "yes", "true" };
    static const char *const no[] = { "off", "0", "no", "false" };
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
        if (strcmp(buf, yes[i]) == 0) {
            *out = true;
            return 1;
        }
    for (size_t i = 0; i < ARRAY_SIZE(no); i++)
        if (strcmp(buf, no[i]) == 0) {
            *out = false;
            return 1;
        }
    return -1;
}
