/* fstdio.c: stdio streams on files: fopen and friends over open, read,
 * write and close (src/file.c); writes are buffered by stdio.c's put. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libc.h"

FILE *fopen(const char *restrict path, const char *restrict mode)
{
    int flags;
    bool plus = strchr(mode, '+') != NULL;
    switch (mode[0]) {
    case 'r': flags = plus ? O_RDWR : O_RDONLY; break;
    case 'w': flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC; break;
    case 'a': flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND; break;
    default: errno = EINVAL; return NULL;
    }
    FILE *f = calloc(1, sizeof *f);
    if (!f) {
        errno = ENOMEM;
        return NULL;
    }
    if ((f->fd = open(path, flags)) < 0) {
        free(f);
        return NULL;
    }
    return f;
}

int fclose(FILE *f)
{
    int r = fflush(f);
    if (f->err)
        r = EOF;
    if (close(f->fd) != 0)
        r = EOF;
    free(f);
    return r;
}

size_t fread(void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
    if (!size || !n)
        return 0;
    fflush(f);                        /* what was written first */
    long got = read(f->fd, buf, size * n);
    if (got < 0) {
        f->err = 1;
        return 0;
    }
    if ((size_t)got < size * n)
        f->eof = 1;
    return (size_t)got / size;
}

size_t fwrite(const void *restrict buf, size_t size, size_t n, FILE *restrict f)
{
    const char *p = buf;
    for (size_t i = 0; i < size * n; i++)
        if (fputc(p[i], f) == EOF)
            return i / size;
    return n;
}

int fgetc(FILE *f)
{
    unsigned char c;
    return fread(&c, 1, 1, f) == 1 ? c : EOF;
}

char *fgets(char *restrict s, int n, FILE *restrict f)
{
    int i = 0;
    while (i + 1 < n) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    if (i == 0)
        return NULL;
    s[i] = 0;
    return s;
}

int feof(FILE *f) { return f->eof; }
int ferror(FILE *f) { return f->err; }
int fileno(FILE *f) { return f->fd; }
