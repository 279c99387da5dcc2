/* stdlib.c: number conversion, sorting and the environment. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
    const char *p = s;
    while (isspace(*p))
        p++;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit(p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = *p == '0' ? 8 : 10;
    }
    unsigned long v = 0;
    bool any = false, over = false;
    for (;; p++) {
        int d = isdigit(*p) ? *p - '0' : isalpha(*p) ? tolower(*p) - 'a' + 10 : 99;
        if (d >= base)
            break;
        if (v > (ULONG_MAX - (unsigned long)d) / (unsigned long)base)
            over = true;
        v = v * (unsigned long)base + (unsigned long)d;
        any = true;
    }
    if (end)
        *end = (char *)(any ? p : s);
    if (over) {
        errno = ERANGE;
        return ULONG_MAX;
    }
    return neg ? -v : v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
    const char *p = s;
    while (isspace(*p))
        p++;
    bool neg = *p == '-';
    unsigned long v = strtoul(p + (neg || *p == '+'), end, base);
    if (end && *end == p + (neg || *p == '+'))
        *end = (char *)s;
    if (!neg && v > (unsigned long)LONG_MAX) {
        errno = ERANGE;
        return LONG_MAX;
    }
    if (neg && v > (unsigned long)LONG_MAX + 1) {
        errno = ERANGE;
        return LONG_MIN;
    }
    return neg ? (long)(0 - v) : (long)v;
}

long atol(const char *s) { return strtol(s, NULL, 10); }
int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }

static void swap(char *a, char *b, size_t size)
{
    while (size--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Insertion sort below 8 elements, else quicksort on the middle pivot. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *b = base;
    while (n > 8) {
        swap(b, b + (n / 2) * size, size);
        size_t last = 0;
        for (size_t i = 1; i < n; i++)
            if (cmp(b + i * size, b) < 0)
                swap(b + ++last * size, b + i * size, size);
        swap(b, b + last * size, size);
        qsort(b, last, size, cmp);
        b += (last + 1) * size;
        n -= last + 1;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
            swap(b + (j - 1) * size, b + j * size, size);
}

char *getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}
