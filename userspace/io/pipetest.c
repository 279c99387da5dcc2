/* pipetest.c: pipes, checked (and timed) by an ordinary C program that
 * builds unchanged for Ferry (in io.elf, its main renamed) and for Linux
 * (make unit-tests): the end of the data, blocking both ways, several
 * writers, dup2 onto stdout; "rt N" times N one-byte round trips between
 * two processes and "bw SIZE N" N transfers of SIZE bytes (and an ack),
 * and "wc FILE SIZE N" N runs of "cat FILE | wc" (pipeline.h), each
 * checked to count SIZE bytes and the same words and lines, and exits with
 * the median in TSC ticks (bench/ferry/io.c).
 * Exit status 0, or the line of the first check that failed. */
#if __has_include(<signal.h>)
#include <signal.h>                 /* Linux: a write with no reader is EPIPE, not a signal */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pipeline.h"

#define CHECK(c) do { if (!(c)) { printf("pipetest: line %d: %s\n", __LINE__, #c); return __LINE__; } } while (0)

static unsigned char pat(unsigned long i) { return (unsigned char)(i * 7 + (i >> 8)); }

static unsigned long ticks(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (unsigned long)hi << 32 | lo;
}

static int cmp(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* N one-byte round trips: the parent writes a byte to the child, the
 * child writes it back; the median, in TSC ticks. */
static int round_trips(int n)
{
    static unsigned long t[1000];
    int a[2], b[2];
    if (n < 1 || n > 1000 || pipe(a) || pipe(b))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        char x;
        close(a[1]);
        close(b[0]);
        while (read(a[0], &x, 1) == 1)
            if (write(b[1], &x, 1) != 1)
                _exit(2);
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    for (int i = 0; i < n; i++) {
        char x = (char)i, y = 0;
        unsigned long t0 = ticks();
        if (write(a[1], &x, 1) != 1 || read(b[0], &y, 1) != 1 || y != x)
            return 3;
        t[i] = ticks() - t0;
    }
    close(a[1]);
    int status;
    if (waitpid(c, &status, 0) != c || status != 0)
        return 4;
    qsort(t, (size_t)n, sizeof t[0], cmp);
    unsigned long med = t[n / 2];
    printf("pipetest: %d one-byte round trips, median %lu TSC ticks\n", n, med);
    return med > 0x7fffffff ? 0x7fffffff : (int)med;
}

/* Read exactly n bytes (a pipe hands them over in pieces). */
static int read_all(int fd, unsigned char *p, long n)
{
    for (long got = 0, k; got < n; got += k)
        if ((k = read(fd, p + got, (size_t)(n - got))) <= 0)
            return -1;
    return 0;
}

/* Linux's bulk_pipe (bench/linux/bulk.c) between two processes: size
 * bytes through a pipe, each 4 KiB page and the last 8 bytes stamped with
 * the transfer's number and checked by the receiver, then an 8-byte ack on
 * a second pipe; the median of n transfers, in TSC ticks. */
static long bulk(long size, int n)
{
    static unsigned long t[100];
    unsigned char *buf = malloc((size_t)size);
    int a[2], b[2];
    if (size < 8 || n < 1 || n > 100 || !buf || pipe(a) || pipe(b))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        close(a[1]);
        close(b[0]);
        for (unsigned long i = 0; i < (unsigned long)n; i++) {
            if (read_all(a[0], buf, size))
                _exit(2);
            for (long off = 0; off + 8 <= size; off += 4096)
                if (memcmp(buf + off, &i, 8) != 0)
                    _exit(3);
            if (memcmp(buf + size - 8, &i, 8) != 0 || write(b[1], &i, 8) != 8)
                _exit(4);
        }
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    for (unsigned long i = 0; i < (unsigned long)n; i++) {
        for (long off = 0; off + 8 <= size; off += 4096)
            memcpy(buf + off, &i, 8);
        memcpy(buf + size - 8, &i, 8);
        unsigned long ack = ~0UL, t0 = ticks();
        if (write(a[1], buf, (size_t)size) != size || read_all(b[0], (unsigned char *)&ack, 8) || ack != i)
            return 5;
        t[i] = ticks() - t0;
    }
    close(a[1]);
    int status;
    if (waitpid(c, &status, 0) != c || status != 0)
        return 6;
    qsort(t, (size_t)n, sizeof t[0], cmp);
    printf("pipetest: %d transfers of %ld bytes, median %lu TSC ticks\n", n, size, t[n / 2]);
    return (long)t[n / 2];
}

/* n runs of "cat path | wc" (pipeline.h), each counting size bytes and
 * the words and lines of the first; the median, in TSC ticks. */
static long pipeline(const char *path, long size, int n)
{
    static unsigned long t[100];
    struct pipeline_wc first = { 0 }, wc;
    if (n < 1 || n > 100)
        return 1;
    for (int i = 0; i < n; i++) {
        unsigned long t0 = ticks();
        int err = pipeline_run(path, &wc);
        t[i] = ticks() - t0;
        if (err)
            return 2;
        if (i == 0)
            first = wc;
        if (wc.bytes != (unsigned long)size || wc.words != first.words || wc.lines != first.lines)
            return 3;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp);
    printf("pipetest: cat %s | wc: %lu %lu %lu; %d runs, median %lu TSC ticks\n", path, first.lines,
           first.words, first.bytes, n, t[n / 2]);
    return (long)t[n / 2];
}

int main(int argc, char **argv)
{
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN);
#endif
    if (argc == 3 && strcmp(argv[1], "rt") == 0)
        return round_trips(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "bw") == 0) {
        long med = bulk(atol(argv[2]), atoi(argv[3]));
        return med > 0x7fffffff ? 0x7fffffff : (int)med;
    }
    if (argc == 5 && strcmp(argv[1], "wc") == 0) {
        long med = pipeline(argv[2], atol(argv[3]), atoi(argv[4]));
        return med > 0x7fffffff ? 0x7fffffff : (int)med;
    }
    enum { BYTES = 100000 };
    unsigned char *buf = malloc(BYTES);
    int p[2], status;
    CHECK(buf != NULL);

    /* 100,000 bytes, more than a pipe holds: the writer blocks, the reader
     * reads them all and then the end */
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(p[0]);
        for (unsigned long at = 0; at < BYTES; at += 1000) {
            unsigned char chunk[1000];
            for (int i = 0; i < 1000; i++)
                chunk[i] = pat(at + (unsigned long)i);
            if (write(p[1], chunk, 1000) != 1000)
                _exit(1);
        }
        _exit(0);                          /* exit closes the write end */
    }
    close(p[1]);
    unsigned long got = 0;
    long n;
    while ((n = read(p[0], buf + got, BYTES - got < 777 ? BYTES - got : 777)) > 0)
        got += (unsigned long)n;
    CHECK(n == 0 && got == BYTES);
    for (unsigned long i = 0; i < got; i++)
        CHECK(buf[i] == pat(i));
    CHECK(read(p[0], buf, 1) == 0);        /* still the end */
    CHECK(waitpid(c, &status, 0) == c && status == 0);
    close(p[0]);

    /* three writers, 200 records of 8 bytes each, none torn */
    CHECK(pipe(p) == 0);
    for (int w = 0; w < 3; w++) {
        if (fork() == 0) {
            close(p[0]);
            for (int i = 0; i < 200; i++) {
                char rec[8];
                snprintf(rec, sizeof rec, "w%d-%03d", w, i);
                rec[7] = '\n';
                if (write(p[1], rec, 8) != 8)
                    _exit(1);
            }
            _exit(0);
        }
    }
    close(p[1]);
    int seen[3] = { 0, 0, 0 };
    char rec[8];
    got = 0;
    while ((n = read(p[0], rec + got % 8, 8 - got % 8)) > 0) {
        got += (unsigned long)n;
        if (got % 8)
            continue;
        CHECK(rec[0] == 'w' && rec[1] >= '0' && rec[1] <= '2' && rec[7] == '\n');
        int w = rec[1] - '0';
        CHECK(atoi(rec + 3) == seen[w]);    /* each writer's records in order, whole */
        seen[w]++;
    }
    CHECK(got == 3 * 200 * 8 && seen[0] == 200 && seen[1] == 200 && seen[2] == 200);
    for (int w = 0; w < 3; w++)
        CHECK(wait(&status) > 0 && status == 0);
    close(p[0]);

    /* dup2 onto stdout: the child's printf arrives through the pipe */
    CHECK(pipe(p) == 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(p[0]);
        if (dup2(p[1], 1) != 1)
            _exit(1);
        close(p[1]);
        printf("through the pipe %d\n", 42);
        fflush(stdout);
        _exit(0);
    }
    close(p[1]);
    memset(buf, 0, 64);
    got = 0;
    while ((n = read(p[0], buf + got, 63 - got)) > 0)
        got += (unsigned long)n;
    CHECK(strcmp((char *)buf, "through the pipe 42\n") == 0);
    CHECK(waitpid(c, &status, 0) == c && status == 0);
    close(p[0]);

    /* a writer that dies of a fault in the middle of the stream (its libc
     * never closes): the reader gets every byte it wrote, then the end */
    CHECK(pipe(p) == 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(p[0]);
        for (unsigned long at = 0; at < 10000; at += 500) {
            unsigned char chunk[500];
            for (int i = 0; i < 500; i++)
                chunk[i] = pat(at + (unsigned long)i);
            if (write(p[1], chunk, 500) != 500)
                _exit(1);
        }
        *(volatile int *)0 = 1;               /* a fault, with the write end open */
        _exit(2);
    }
    close(p[1]);
    got = 0;
    while ((n = read(p[0], buf + got, BYTES - got < 777 ? BYTES - got : 777)) > 0)
        got += (unsigned long)n;
    CHECK(n == 0 && got == 10000);
    for (unsigned long i = 0; i < got; i++)
        CHECK(buf[i] == pat(i));
    CHECK(waitpid(c, &status, 0) == c && WIFSIGNALED(status) && WTERMSIG(status) == 11);
    close(p[0]);

    /* a reader that dies of a fault: the writer's next write fails (EPIPE) */
    CHECK(pipe(p) == 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(p[1]);
        if (read_all(p[0], buf, 3000))
            _exit(1);
        *(volatile int *)0 = 1;               /* the read end still open */
        _exit(2);
    }
    close(p[0]);
    memset(buf, 'x', 1000);
    for (got = 0; (n = write(p[1], buf, 1000)) > 0; got += (unsigned long)n)
        CHECK(got < 1000000);                 /* not forever: the ring is a few KiB */
    CHECK(n == -1 && errno == EPIPE && got >= 3000);
    CHECK(waitpid(c, &status, 0) == c && WIFSIGNALED(status) && WTERMSIG(status) == 11);
    close(p[1]);

    /* no reader: the write fails */
    CHECK(pipe(p) == 0);
    close(p[0]);
    CHECK(write(p[1], "x", 1) == -1);
    close(p[1]);
    CHECK(round_trips(50) > 0);
    CHECK(bulk(100000, 5) > 6);
    printf("pipetest: all checks passed\n");
    return 0;
}
