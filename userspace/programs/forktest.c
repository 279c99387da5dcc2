/* forktest.c: "forktest N": copy-on-write fork semantics, with N pages of
 * anonymous memory written before the fork.  The child sees the parent's
 * data and writes its own; the parent's pages keep their values; a
 * MAP_SHARED page is seen by both; a grandchild outlives its parent (the
 * pages it shared with it are kept for it).  Status 0, else the check
 * that failed. */
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int global = 1;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 4;
    unsigned long *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || shared == MAP_FAILED)
        return 1;
    for (long i = 0; i < n; i++)
        p[i * 512] = (unsigned long)i + 100;
    *shared = 5;
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        for (long i = 0; i < n; i++)
            if (p[i * 512] != (unsigned long)i + 100)
                _exit(10);                   /* the parent's data, shared */
        for (long i = 0; i < n; i++)
            p[i * 512] = (unsigned long)i + 200;
        for (long i = 0; i < n; i++)
            if (p[i * 512] != (unsigned long)i + 200)
                _exit(11);                   /* its own writes */
        global = 7;
        *shared = 6;
        _exit(global == 7 ? 0 : 12);
    }
    int status = -1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 3;
    if (WEXITSTATUS(status) != 0)
        return WEXITSTATUS(status);
    for (long i = 0; i < n; i++)
        if (p[i * 512] != (unsigned long)i + 100)
            return 4;                        /* the child's writes stayed its own */
    if (global != 1)
        return 5;
    if (*shared != 6)
        return 6;                            /* MAP_SHARED: seen by both */
    /* The parent writes first this time, then the child reads the old values. */
    pid = fork();
    if (pid == 0) {
        for (volatile int k = 0; k < 1000; k++)
            ;
        for (long i = 0; i < n; i++)
            if (p[i * 512] != (unsigned long)i + 100)
                _exit(20);
        /* A grandchild that outlives this child. */
        pid_t g = fork();
        if (g == 0) {
            for (int k = 0; k < 20; k++)
                sched_yield();               /* its parent ends meanwhile */
            for (long i = 0; i < n; i++)
                if (p[i * 512] != (unsigned long)i + 100)
                    _exit(30);
            _exit(0);
        }
        _exit(g > 0 ? 0 : 21);
    }
    for (long i = 0; i < n; i++)
        p[i * 512] = 7;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 7;
    printf("forktest: %ld pages: ok\n", n);
    return 0;
}
