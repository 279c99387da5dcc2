/* stdio.c: the printf family and the console streams: stdout is
 * line-buffered, stderr is flushed at the end of every call (each flush is
 * one PROC_PRINT to the process server).  Formatting is the kernel's
 * fmt_vformat, shared rather than copied. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fmt.h>
#include "libc.h"

static struct __file out_file = { .fd = 1, .line_buffered = 1 };
static struct __file err_file = { .fd = 2 };
#undef stdout
#undef stderr
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

static void flush(FILE *f)
{
    if (f->n && f->fd <= 2 && !__fds[f->fd].used)
        __console_write(f->buf, f->n);
    else if (f->n && __file_write(f->fd, f->buf, f->n) != (long)f->n)
        f->err = 1;
    f->n = 0;
}

int fflush(FILE *f)
{
    if (!f) {
        flush(stdout);
        flush(stderr);
    } else {
        flush(f);
    }
    return 0;
}

static void put(char c, void *arg)
{
    FILE *f = arg;
    f->buf[f->n++] = c;
    if (f->n == sizeof f->buf || (c == '\n' && f->line_buffered))
        flush(f);
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    int n = fmt_vformat(put, f, fmt, ap);
    if (!f->line_buffered)
        flush(f);
    return n;
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap)
{
    return fmt_vsnprintf(buf, n, fmt, ap);
}

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = fmt_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
    return fmt_vsnprintf(buf, (size_t)-1 / 2, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsprintf(buf, fmt, ap);
    va_end(ap);
    return r;
}

int fputc(int c, FILE *f)
{
    put((char)c, f);
    if (!f->line_buffered)
        flush(f);
    return (unsigned char)c;
}

int putc(int c, FILE *f)
{
    return fputc(c, f);
}

int putchar(int c)
{
    return fputc(c, stdout);
}

int fputs(const char *restrict s, FILE *restrict f)
{
    while (*s)
        put(*s++, f);
    if (!f->line_buffered)
        flush(f);
    return 0;
}

int puts(const char *s)
{
    fputs(s, stdout);
    put('\n', stdout);
    return 0;
}

void perror(const char *s)
{
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, strerror(errno));
    else
        fprintf(stderr, "%s\n", strerror(errno));
}
