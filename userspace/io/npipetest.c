/* npipetest.c: named pipes of the pipe: service between two processes that
 * share no memory, as the boot.conf programs the test spawns separately:
 * "npipetest write NAME BYTES" writes BYTES patterned bytes in 1000-byte
 * pieces (more than the service holds: it waits for room) and closes;
 * "npipetest read NAME BYTES" reads until the end and checks every byte
 * and the count; "npipetest epipe NAME" opens the read end, closes it,
 * then finds a write refused with EPIPE; "npipetest ntfn -": the process
 * server's PROC_NOTIFICATION, which the libc's pipes sleep on: only its
 * slots, a fork child's copy wakes the parent, a new one replaces the old;
 * "npipetest stdin -": read(0) of a program whose manifest does not list
 * serial: is the end (0) at once; "npipetest wkilled -" and "rkilled -":
 * a pipe's writer (reader) killed in the middle of the stream (below);
 * "npipetest readkill NAME" and "writekill NAME": the same through pipe:.
 * Status 0, or the failed check. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ferry/prog.h>
#include "io_progs.h"

static unsigned char pat(unsigned long i) { return (unsigned char)(i * 13 + (i >> 9)); }

/* A fork child the root task kills in the middle of a stream through a
 * pipe (the test: io_pipe_killed): this process's marker, the first
 * touch of a page it never touched (the pager makes it: the root task
 * sees the fault count grow) once MARK bytes went through, tells it when.  writer_killed: the child writes 500
 * bytes at a time (whole or not at all) for ever, counting what it wrote
 * in a page both share; this process reads until the end and checks that
 * it got exactly those bytes.  Otherwise the child reads (checking) for
 * ever and this process writes until the write fails with EPIPE.  Either
 * way the child's status says killed. */
#define MARK 10000
static int killed(bool writer_killed)
{
    int p[2], status;
    volatile long *wrote = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile char *marker = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (wrote == MAP_FAILED || marker == MAP_FAILED || pipe(p))
        return 30;
    unsigned char buf[500];
    *wrote = 0;                              /* made before the fork: shared (one untouched is not) */
    pid_t c = fork();
    if (c < 0)
        return 31;
    if (c == 0) {
        close(p[!writer_killed]);
        for (long at = 0, n;; at += n) {
            if (writer_killed) {
                for (int i = 0; i < 500; i++)
                    buf[i] = pat((unsigned long)(at + i));
                if ((n = write(p[1], buf, 500)) != 500)
                    _exit(32);
                *wrote = at + 500;
            } else {
                if ((n = read(p[0], buf, sizeof buf)) <= 0)
                    _exit(33);
                for (long i = 0; i < n; i++)
                    if (buf[i] != pat((unsigned long)(at + i)))
                        _exit(34);
            }
        }
    }
    close(p[writer_killed]);
    long got = 0, n;
    if (writer_killed) {
        while ((n = read(p[0], buf, sizeof buf - 1)) > 0) {
            for (long i = 0; i < n; i++)
                if (buf[i] != pat((unsigned long)(got + i)))
                    return 35;
            if (got < MARK && got + n >= MARK)
                *marker = 1;                 /* the marker */
            got += n;
        }
        if (n != 0 || got < MARK || got != *wrote || read(p[0], buf, 1) != 0)
            return 36;                       /* every byte it wrote, then the end (and again) */
    } else {
        for (;; got += n) {
            for (int i = 0; i < 500; i++)
                buf[i] = pat((unsigned long)(got + i));
            if ((n = write(p[1], buf, 500)) != 500)
                break;
            if (got < MARK && got + n >= MARK)
                *marker = 1;                 /* the marker */
        }
        if (n != -1 || errno != EPIPE || got < MARK)
            return 37;
    }
    if (waitpid(c, &status, 0) != c || !WIFSIGNALED(status) || WTERMSIG(status) != 9)
        return 38;
    return 0;
}

/* The named pipe's side that survives (io_named_pipe): its peer, a
 * "write" or "read" of a billion bytes, is killed once MARK bytes went
 * through (the marker: a first touch of a fresh page).  The reader reads
 * (checking) until the end; the writer writes until EPIPE. */
static int named_killed(const char *path, bool reader)
{
    volatile char *marker = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fd = open(path, reader ? O_RDONLY : O_WRONLY);
    if (marker == MAP_FAILED || fd < 0)
        return 40;
    unsigned char buf[500];
    long got = 0, n;
    for (;; got += n) {
        if (reader) {
            if ((n = read(fd, buf, sizeof buf)) <= 0)
                break;
            for (long i = 0; i < n; i++)
                if (buf[i] != pat((unsigned long)(got + i)))
                    return 41;
        } else {
            for (int i = 0; i < 500; i++)
                buf[i] = pat((unsigned long)(got + i));
            if ((n = write(fd, buf, 500)) != 500)
                break;
        }
        if (got < MARK && got + n >= MARK)
            *marker = 1;
    }
    if (got < MARK || (reader ? n != 0 : n != -1 || errno != EPIPE))
        return 42;                           /* the end (EPIPE), after the stream */
    return close(fd) == 0 ? 0 : 43;
}

int npipetest_main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    char path[40] = "pipe:";
    strncat(path, argv[2], sizeof path - 6);
    long bytes = argc > 3 ? atol(argv[3]) : 0;
    if (strcmp(argv[1], "write") == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            return 2;
        unsigned char chunk[1000];
        for (long at = 0; at < bytes; at += 1000) {
            long k = bytes - at < 1000 ? bytes - at : 1000;
            for (long i = 0; i < k; i++)
                chunk[i] = pat((unsigned long)(at + i));
            if (write(fd, chunk, (size_t)k) != k)
                return 3;
        }
        return close(fd) == 0 ? 0 : 4;
    }
    if (strcmp(argv[1], "read") == 0) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return 5;
        unsigned char buf[777];
        long got = 0, n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            for (long i = 0; i < n; i++)
                if (buf[i] != pat((unsigned long)(got + i)))
                    return 6;
            got += n;
        }
        if (n != 0 || got != bytes || read(fd, buf, 1) != 0)
            return 7;
        return close(fd) == 0 ? 0 : 8;
    }
    if (strcmp(argv[1], "epipe") == 0) {
        int r = open(path, O_RDONLY), w = open(path, O_WRONLY);
        if (r < 0 || w < 0 || write(w, "x", 1) != 1 || close(r) != 0)
            return 9;
        errno = 0;
        if (write(w, "y", 1) != -1 || errno != EPIPE)
            return 10;
        return close(w) == 0 ? 0 : 11;
    }
    if (strcmp(argv[1], "ntfn") == 0) {
        if (proc_notification(PROC_CAP_FIRST_FREE) != PROC_E_BAD_REQUEST ||
            proc_notification(PROC_NTFN_SLOT0 + PROC_NTFNS) != PROC_E_BAD_REQUEST)
            return 13;
        const unsigned long slot = PROC_NTFN_SLOT0 + PROC_NTFNS - 1;   /* pipes take the first free */
        struct sys_msg m = { 0 };
        if (proc_notification(slot) != PROC_OK || sys_raw(FERRY_SYS_NBRECV, slot, &m) || m.badge != 0)
            return 14;                                  /* made, nothing pending */
        pid_t c = fork();
        if (c == 0) {
            m = (struct sys_msg){ 0 };
            _exit(sys_raw(FERRY_SYS_SEND, slot, &m) ? 1 : 0);      /* through the child's copy */
        }
        int status;
        if (c < 0 || waitpid(c, &status, 0) != c || status != 0)
            return 15;
        m = (struct sys_msg){ 0 };
        if (sys_raw(FERRY_SYS_RECV, slot, &m) || m.badge != PROC_NTFN_BADGE)
            return 16;                                  /* the child's signal is here */
        /* a new one replaces it: the old signal does not show on it */
        m = (struct sys_msg){ 0 };
        if (sys_raw(FERRY_SYS_SEND, slot, &m) || proc_notification(slot) != PROC_OK)
            return 17;
        m = (struct sys_msg){ 0 };
        if (sys_raw(FERRY_SYS_NBRECV, slot, &m) || m.badge != 0)
            return 18;
        return 0;
    }
    if (strcmp(argv[1], "readkill") == 0 || strcmp(argv[1], "writekill") == 0)
        return named_killed(path, argv[1][0] == 'r');
    if (strcmp(argv[1], "wkilled") == 0 || strcmp(argv[1], "rkilled") == 0)
        return killed(argv[1][0] == 'w');
    if (strcmp(argv[1], "stdin") == 0) {
        char c;
        return read(STDIN_FILENO, &c, 1) == 0 ? 0 : 19;
    }
    return 12;
}
