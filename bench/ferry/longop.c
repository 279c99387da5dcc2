/* longop.c: long kernel operations: Revoke of a long derivation chain (linear and
 * preemptible since #21), timed as one invocation; and the interrupt latency while
 * the longest operations run (revoke of a 64K chain, delete of a CNode holding 64K
 * capabilities, retype of 256 MiB... or what the guest has: 32 MiB of 2 MiB frames). */
#include "ferry_bench.h"
#include <ferry/rtc.h>

#define CHAIN_RADIX 17                   /* 128K slots (8 MiB): room for a 64K chain */

static unsigned long chain_cnode, chain_ep, chain_ut, chain_slot;

/* Slot i of the chain CNode (i >= 1: index 0 is the null cptr there). */
static unsigned long chain_copy(unsigned long dest, unsigned long src_root, unsigned long src,
                                unsigned long src_depth)
{
    unsigned long w[FERRY_CNODE_COPY_NARGS] = {
        [FERRY_CNODE_ARG_DEST_INDEX] = dest, [FERRY_CNODE_ARG_DEST_DEPTH] = CHAIN_RADIX,
        [FERRY_CNODE_ARG_SRC_INDEX] = src, [FERRY_CNODE_ARG_SRC_DEPTH] = src_depth,
        [FERRY_CNODE_ARG_RIGHTS] = FERRY_RIGHTS_ALL,
    };
    return ferry_invoke(chain_cnode, FERRY_CNODE_COPY, FERRY_CNODE_COPY_NARGS, w, 1, &src_root, NULL);
}

/* n capabilities to one endpoint, each a copy of the one before: the
 * first of the root CNode's, the last n deep below it. */
static const char *chain_build(int64_t n)
{
    /* The CNode comes from an untyped of its own, so that after it is
     * deleted (irq_latency/delete) the next one reuses the memory. */
    if (!chain_ut) {
        chain_ut = object_alloc(FERRY_OBJ_UNTYPED, CHAIN_RADIX + FERRY_CTE_BITS);
        chain_ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
        chain_slot = slot_alloc();
        if (!chain_ut || !chain_ep || !chain_slot)
            return "no memory for the chain";
    }
    if (!chain_cnode) {
        if (ferry_untyped_retype(chain_ut, FERRY_OBJ_CNODE, CHAIN_RADIX, chain_slot, 1))
            return "no CNode for the chain";
        chain_cnode = chain_slot;
    }
    if (n < 1 || n >= (1L << CHAIN_RADIX))
        return "chain length out of range";
    if (chain_copy(1, FERRY_CAP_INIT_CNODE, chain_ep, 64))
        return "first copy failed";
    for (int64_t i = 2; i <= n; i++)
        if (chain_copy((unsigned long)i, chain_cnode, (unsigned long)i - 1, CHAIN_RADIX))
            return "a copy of the chain failed";
    return NULL;
}

static const char *revoke_chain(struct bench_ctx *c)
{
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        const char *err = chain_build(c->size);
        if (err)
            return err;
        uint64_t t0 = tsc_begin();
        unsigned long e = ferry_cnode_revoke(chain_ep);
        uint64_t t1 = tsc_end();
        if (e)
            return "revoke failed";
        unsigned long w[FERRY_CNODE_DELETE_NARGS] = {
            [FERRY_CNODE_ARG_INDEX] = (unsigned long)c->size, [FERRY_CNODE_ARG_DEPTH] = CHAIN_RADIX,
        };
        if (ferry_invoke(chain_cnode, FERRY_CNODE_DELETE, FERRY_CNODE_DELETE_NARGS, w, 0, NULL, NULL) != FERRY_E_SLOT_EMPTY)
            return "the chain's last copy survived the revoke";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

/* Interrupt latency: the RTC's 1024 Hz interrupt wakes a priority-255
 * thread (ulib rtc.c) while this one, at priority 200, runs the
 * operation; a sample is the longest time between two wake-ups from the
 * last one before the operation to the first one after it.  Read it
 * against the period, 1/1024 s: 976562 ticks under tcg-icount with the
 * RTC on the guest's clock (QEMU -rtc clock=vm), where the TSC counts
 * nanoseconds of guest time; with the RTC on the host's clock (QEMU's
 * default) the period in ticks follows the host's speed.  A kernel
 * without preemption points shows the whole operation as one gap. */
#define LAT_PROBE_STACK 0x33400000UL
#define LAT_RETYPE_BITS 25               /* 32 MiB of 2 MiB frames */

static const char *lat_op(const char *variant)
{
    if (strcmp(variant, "revoke") == 0) {
        const char *err = chain_build(65536);
        if (err)
            return err;
        rtc_probe_reset();
        return ferry_cnode_revoke(chain_ep) ? "revoke failed" : NULL;
    }
    if (strcmp(variant, "delete") == 0) {
        const char *err = chain_build(65536);
        if (err)
            return err;
        rtc_probe_reset();
        unsigned long e = ferry_cnode_delete(chain_cnode);
        chain_cnode = 0;                 /* made again next time */
        return e ? "delete failed" : NULL;
    }
    static unsigned long ut, first;
    if (!ut) {
        ut = object_alloc(FERRY_OBJ_UNTYPED, LAT_RETYPE_BITS);
        first = slot_alloc();
        for (int i = 1; i < 16; i++)
            if (slot_alloc() != first + (unsigned long)i)
                return "slots for the frames";
        if (!ut)
            return "no untyped for the retype";
    }
    rtc_probe_reset();
    unsigned long e = ferry_untyped_retype(ut, FERRY_OBJ_FRAME_2M, 0, first, 16);
    if (e || ferry_cnode_revoke(ut))
        return "retype failed";
    return NULL;
}

static const char *irq_latency(struct bench_ctx *c)
{
    if (!table_ensure(LAT_PROBE_STACK) || ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 200))
        return "set-up failed";
    const char *err = NULL;
    if (rtc_probe_start(LAT_PROBE_STACK, 255))
        err = "the RTC probe did not start";
    for (size_t i = 0; !err && i < c->warmup + c->n; i++) {
        if ((err = lat_op(c->entry->variant)))
            break;
        if (rtc_probe.ticks < 1)
            err = "no interrupt during or after the operation";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = rtc_probe.max_gap;
    }
    rtc_probe_stop();
    ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 255);
    return err;
}

static const int64_t chain_sizes[] = { 1024, 16384, 65536 };

const struct bench_entry bench_longop[] = {
    { .name = "revoke_chain", .variant = "", .fn = revoke_chain, .sizes = chain_sizes,
      .nsizes = sizeof chain_sizes / sizeof chain_sizes[0], .default_samples = 3, .max_samples = 3,
      .description = "Revoke of a chain of N copies of an endpoint capability (each a copy of the one before)" },
    { .name = "irq_latency", .variant = "revoke", .fn = irq_latency, .default_samples = 3, .max_samples = 3,
      .description = "Longest gap between 1024 Hz RTC interrupts reaching a priority-255 thread during a 64K-copy revoke" },
    { .name = "irq_latency", .variant = "delete", .fn = irq_latency, .default_samples = 3, .max_samples = 3,
      .description = "The same during the deletion of a CNode holding 64K capabilities" },
    { .name = "irq_latency", .variant = "retype", .fn = irq_latency, .default_samples = 3, .max_samples = 3,
      .description = "The same during a Retype of 32 MiB of 2 MiB frames (cleared by the kernel)" },
};
const size_t bench_longop_n = sizeof bench_longop / sizeof bench_longop[0];
