/* vm.c: the cost of mapping and of unmapping one 4 KiB frame in the
 * caller's own address space (an invocation each, TLB flush included). */
#include "ferry_bench.h"

#define VM_BENCH_VA 0x33000000UL

static const char *vm_map_unmap(struct bench_ctx *c)
{
    bool time_unmap = c->entry->arg != NULL;
    static unsigned long frame;
    if (!frame) {
        if (!table_ensure(VM_BENCH_VA) || !(frame = object_alloc(FERRY_OBJ_FRAME_4K, 0)))
            return "no frame or page table for the mapping benchmark";
    }
    static unsigned long last;           /* what the frame holds */
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        unsigned long e1, e2;
        uint64_t t0, t1;
        if (time_unmap) {
            e1 = ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, VM_BENCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE);
            /* Touch it, so the unmap has a TLB entry to shoot down. */
            if (!e1)
                *(volatile unsigned long *)VM_BENCH_VA = last = i;
            t0 = tsc_begin();
            e2 = ferry_frame_unmap(frame);
            t1 = tsc_end();
        } else {
            t0 = tsc_begin();
            e1 = ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, VM_BENCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE);
            t1 = tsc_end();
            if (!e1 && *(volatile unsigned long *)VM_BENCH_VA != last)
                return "the mapped frame does not hold what was written through the last mapping";
            if (!e1)
                *(volatile unsigned long *)VM_BENCH_VA = last = i + 1;
            e2 = ferry_frame_unmap(frame);
        }
        if (e1 || e2)
            return "map or unmap failed";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

const struct bench_entry bench_vm[] = {
    { .name = "vm_map", .variant = "4k", .fn = vm_map_unmap, .arg = NULL,
      .description = "Frame Map of a 4 KiB frame (an invocation through the slow path)" },
    { .name = "vm_unmap", .variant = "4k", .fn = vm_map_unmap, .arg = (void *)1,
      .description = "Frame Unmap of a 4 KiB frame whose translation is in the TLB" },
};
const size_t bench_vm_n = sizeof bench_vm / sizeof bench_vm[0];
