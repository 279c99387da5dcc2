/* libctest.c: an ordinary C program that checks the libc functions a
 * Ferry program has (strings, formatting, malloc, mmap, fork, waitpid,
 * posix_spawn, threads, errno).  It builds unchanged against Ferry's libc
 * and for Linux (the Makefile's unit tests build and run it there); "libctest" prints one line per
 * check and exits 0 when all passed, else the number that failed. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char *what)
{
    printf("libctest: %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failed++;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void strings(void)
{
    char buf[64];
    check(strlen("hello") == 5 && strcmp("abc", "abd") < 0 && strncmp("abcx", "abcy", 3) == 0,
          "strlen, strcmp, strncmp");
    strcpy(buf, "foo");
    strcat(buf, "bar");
    check(strcmp(buf, "foobar") == 0 && strchr(buf, 'b') == buf + 3 && strrchr(buf, 'o') == buf + 2 &&
          strstr(buf, "oba") == buf + 2 && !strstr(buf, "baz"), "strcpy, strcat, strchr, strrchr, strstr");
    memset(buf, 'x', 10);
    memmove(buf + 2, buf, 8);
    check(memcmp(buf, "xxxxxxxxxx", 10) == 0 && memchr(buf, 'x', 3) == buf, "memset, memmove, memcmp, memchr");
    char *d = strdup("copy me");
    check(d && strcmp(d, "copy me") == 0, "strdup");
    free(d);
    char tok[] = "a,b,,c";
    char *save, *t1 = strtok_r(tok, ",", &save), *t2 = strtok_r(NULL, ",", &save);
    char *t3 = strtok_r(NULL, ",", &save), *t4 = strtok_r(NULL, ",", &save);
    check(t1 && t2 && t3 && !t4 && strcmp(t1, "a") == 0 && strcmp(t2, "b") == 0 && strcmp(t3, "c") == 0,
          "strtok_r");
    char *end;
    check(strtol("  -42x", &end, 10) == -42 && *end == 'x' && strtoul("0x1F", NULL, 0) == 31 &&
          atoi("123") == 123, "strtol, strtoul, atoi");
    int v[] = { 5, 3, 9, 1, 7, 2, 8, 6, 4, 0, 11, 10 };
    qsort(v, 12, sizeof v[0], cmp_int);
    int sorted = 1;
    for (int i = 0; i < 12; i++)
        sorted &= v[i] == i;
    check(sorted, "qsort");
}

static void formatting(void)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%d %u %x %s %c %5ld|%-3d|%03d", -7, 42u, 255u, "str", 'c', 123L, 1, 9);
    check(strcmp(buf, "-7 42 ff str c   123|1  |009") == 0 && n == (int)strlen(buf), "snprintf");
    volatile size_t four = 4;        /* not a constant: the truncation is meant */
    n = snprintf(buf, four, "%s", "truncated");
    check(n == 9 && strcmp(buf, "tru") == 0, "snprintf truncation");
    sprintf(buf, "%p", (void *)0x1000);
    check(strcmp(buf, "0x1000") == 0, "sprintf %p");
    fprintf(stderr, "libctest: (a line on stderr)\n");
}

static void memory(void)
{
    char *p[100];
    int ok = 1;
    for (int i = 0; i < 100; i++) {
        p[i] = malloc((size_t)(i * 37 + 1));
        if (!p[i]) {
            ok = 0;
            break;
        }
        memset(p[i], i, (size_t)(i * 37 + 1));
    }
    for (int i = 0; ok && i < 100; i++)
        for (int k = 0; k < i * 37 + 1; k++)
            ok &= p[i][k] == (char)i;
    for (int i = 0; i < 100; i++)
        free(p[i]);
    check(ok, "malloc 100 blocks, each kept apart");
    char *big = malloc(200000);
    ok = big != NULL;
    if (big) {
        big[0] = 1;
        big[199999] = 2;
        ok = big[0] == 1 && big[199999] == 2;
    }
    free(big);
    check(ok, "malloc of 200,000 bytes");
    int *z = calloc(1000, sizeof(int));
    ok = z != NULL;
    for (int i = 0; z && i < 1000; i++)
        ok &= z[i] == 0;
    z = realloc(z, 5000 * sizeof(int));
    ok &= z != NULL;
    free(z);
    check(ok, "calloc, realloc");
    size_t len = 16 * 4096;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok = m != MAP_FAILED;
    for (size_t i = 0; ok && i < len; i += 4096)
        ok &= m[i] == 0;
    for (size_t i = 0; ok && i < len; i += 4096)
        m[i] = (unsigned char)(i >> 12);
    for (size_t i = 0; ok && i < len; i += 4096)
        ok &= m[i] == (unsigned char)(i >> 12);
    check(ok && munmap(m, len) == 0, "mmap, munmap");
    errno = 0;
    check(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 5, 0) == MAP_FAILED && errno != 0, "mmap of a file refused here, errno set");
}

static void processes(void)
{
    pid_t me = getpid();
    check(me > 0, "getpid");
    int shared_before = 41;
    pid_t pid = fork();
    if (pid == 0) {
        shared_before++;           /* the child's own copy */
        _exit(getpid() != me && getppid() == me && shared_before == 42 ? 3 : 4);
    }
    int status = -1;
    pid_t got = waitpid(pid, &status, 0);
    check(pid > 0 && got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3 && shared_before == 41,
          "fork, child exits 3, waitpid");
    errno = 0;
    check(waitpid(pid, &status, 0) == -1 && errno == ECHILD, "waitpid of a reaped child: ECHILD");
    char *argv[] = { "true", NULL };
    char *envp[] = { NULL };
    pid = -1;
    int err = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, envp);
    status = -1;
    check(err == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "posix_spawn true, waitpid");
    check(sched_yield() == 0, "sched_yield");
}

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
        if (i % 100 == 0)
            sched_yield();
    }
    return (char *)arg + 1;
}

static void threads(void)
{
    pthread_t t[3];
    char tag[3];
    int ok = 1;
    for (int i = 0; i < 3; i++)
        ok &= pthread_create(&t[i], NULL, worker, &tag[i]) == 0;
    for (int i = 0; i < 3; i++) {
        void *ret = NULL;
        ok &= pthread_join(t[i], &ret) == 0 && ret == &tag[i] + 1;
    }
    check(ok && counter == 3000, "3 threads, a mutex, join");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    strings();
    formatting();
    memory();
    processes();
    threads();
    printf("libctest: %d failed\n", failed);
    return failed;
}
