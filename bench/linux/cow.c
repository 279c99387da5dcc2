/* cow.c: copy-on-write fork, the Linux side of Ferry's cow_fork and
 * cow_fault rows: a process with SIZE written anonymous pages forks, the
 * child writes one word per page (each a COW write fault) and exits, the
 * parent waits; and, timed in the child, one such COW write fault. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux_bench.h"

#define FAULT_PAGES 256

static bool wait_child(pid_t pid)
{
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    return r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static volatile unsigned char *written_pages(size_t n)
{
    volatile unsigned char *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i * 4096] = 1;
    return p;
}

static const char *cow_fork(struct bench_ctx *c)
{
    size_t n = (size_t)c->size;
    volatile unsigned char *p = written_pages(n);
    if (!p)
        return "mmap failed";
    for (size_t k = 0; k < c->warmup + c->n; k++) {
        uint64_t t0 = tsc_begin();
        pid_t pid = fork();
        if (pid < 0)
            return "fork failed";
        if (pid == 0) {
            for (size_t i = 0; i < n; i++)
                p[i * 4096 + 1] = 2;
            _exit(0);
        }
        if (!wait_child(pid))
            return "the child did not exit with 0";
        uint64_t t1 = tsc_end();
        if (k >= c->warmup)
            c->samples[k - c->warmup] = t1 - t0;
    }
    bool own = p[1] == 0;
    munmap((void *)p, n * 4096);
    return own ? NULL : "the child's writes reached the parent";
}

/* The child times each of its COW faults and leaves the times in a shared
 * page set the parent reads after the wait. */
static const char *cow_fault(struct bench_ctx *c)
{
    size_t need = c->warmup + c->n, done = 0;
    volatile unsigned char *p = written_pages(FAULT_PAGES);
    uint64_t *times = mmap(NULL, FAULT_PAGES * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!p || times == MAP_FAILED)
        return "mmap failed";
    while (done < need) {
        for (size_t i = 0; i < FAULT_PAGES; i++)
            times[i] = 0;
        pid_t pid = fork();
        if (pid < 0)
            return "fork failed";
        if (pid == 0) {
            for (size_t i = 0; i < FAULT_PAGES; i++) {
                uint64_t t0 = tsc_begin();
                p[i * 4096 + 1] = 2;
                uint64_t t1 = tsc_end();
                times[i] = t1 - t0;
            }
            _exit(0);
        }
        if (!wait_child(pid))
            return "the child did not exit with 0";
        for (size_t i = 0; i < FAULT_PAGES && done < need; i++, done++)
            if (done >= c->warmup)
                c->samples[done - c->warmup] = times[i];
    }
    munmap((void *)p, FAULT_PAGES * 4096);
    munmap(times, FAULT_PAGES * sizeof(uint64_t));
    return NULL;
}

static const int64_t cow_sizes[] = { 1, 16, 256 };

const struct bench_entry lb_cow_table[] = {
    { .name = "cow_fork", .fn = cow_fork, .max_samples = 500, .default_samples = 100,
      .sizes = cow_sizes, .nsizes = 3,
      .description = "fork of a process with SIZE written pages, the child writes one word per page (copy on write), exits, parent waits" },
    { .name = "cow_fault", .fn = cow_fault, .max_samples = 5000,
      .description = "a copy-on-write write fault (a write to a page shared with the parent after fork)" },
};
const size_t lb_cow_count = sizeof(lb_cow_table) / sizeof(lb_cow_table[0]);
