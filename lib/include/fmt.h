/* fmt.h: printf-style formatting without libc, shared by kernel and user space. */
#ifndef FERRY_FMT_H
#define FERRY_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_put_fn)(char c, void *arg);

/* Formats into put(); returns the number of characters produced.
 * Supports %d %i %u %x %X %o %p %s %c %% with flags '-', '0', ' ', '+',
 * a width and precision (also '*'), and the length modifiers hh h l ll z t j. */
int fmt_vformat(fmt_put_fn put, void *arg, const char *fmt, va_list ap);

/* Formats through a 256-byte buffer handed to write(s, n) whenever it is
 * full and at the end (a console that costs a system call per write);
 * returns the number of characters produced. */
typedef void (*fmt_write_fn)(const char *s, size_t n);
int fmt_vprint(fmt_write_fn write, const char *fmt, va_list ap);

/* snprintf: always NUL-terminates when n > 0; returns the full length. */
int fmt_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

#endif
