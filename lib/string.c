/* string.c: memory and string routines for the freestanding kernel and user space. */
#include <kstring.h>

/* Whole quadwords first, then the tail: eight times fewer iterations
 * where string instructions are not fast (older CPUs, and QEMU's TCG,
 * which emulates each iteration). */
void *memset(void *d, int c, size_t n)
{
    void *ret = d;
    size_t q = n / 8, b = n % 8;
    uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
    asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
    asm volatile("rep stosb" : "+D"(d), "+c"(b) : "a"(c) : "memory");
    return ret;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    void *ret = d;
    size_t q = n / 8, b = n % 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) : : "memory");
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(b) : : "memory");
    return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp == sp || n == 0)
        return d;
    if (dp < sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)                              /* overlapping, copy backwards */
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}
