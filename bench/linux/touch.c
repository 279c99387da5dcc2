/* touch.c: the first touch of a fresh anonymous page (a demand-zero page
 * fault), the Linux side of Ferry's first_touch row.  A write, so a page is
 * allocated and zeroed as Ferry's pager does on any first touch (a read
 * would only map Linux's shared zero page). */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "linux_bench.h"

#define TOUCH_PAGES 1024

static const char *first_touch(struct bench_ctx *c)
{
    size_t need = c->warmup + c->n, done = 0;
    while (done < need) {
        volatile unsigned char *p = mmap(NULL, TOUCH_PAGES * 4096UL, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return "mmap failed";
        for (size_t i = 0; i < TOUCH_PAGES && done < need; i++, done++) {
            uint64_t t0 = tsc_begin();
            p[i * 4096 + 1] = 1;
            uint64_t t1 = tsc_end();
            if (p[i * 4096] != 0 || p[i * 4096 + 1] != 1)
                return "fresh anonymous memory did not read zero and the write back";
            if (done >= c->warmup)
                c->samples[done - c->warmup] = t1 - t0;
        }
        munmap((void *)p, TOUCH_PAGES * 4096UL);
    }
    return NULL;
}

const struct bench_entry lb_touch_table[] = {
    { .name = "first_touch", .fn = first_touch, .max_samples = 5000,
      .description = "first touch (a write) of a fresh anonymous page: a demand-zero page fault" },
};
const size_t lb_touch_count = sizeof(lb_touch_table) / sizeof(lb_touch_table[0]);
