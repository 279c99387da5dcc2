/* longop.c: long kernel operations: Revoke of a long derivation chain (linear and
 * preemptible since #21), timed as one invocation. */
#include "ferry_bench.h"

#define CHAIN_RADIX 17                   /* 128K slots (8 MiB): room for a 64K chain */

static unsigned long chain_cnode, chain_ep;

/* Slot i of the chain CNode (i >= 1: index 0 is the null cptr there). */
static unsigned long chain_copy(unsigned long dest, unsigned long src_root, unsigned long src,
                                unsigned long src_depth)
{
    unsigned long w[5] = { dest, CHAIN_RADIX, src, src_depth, FERRY_RIGHTS_ALL };
    return ferry_invoke(chain_cnode, FERRY_CNODE_COPY, 5, w, 1, &src_root, NULL);
}

/* n capabilities to one endpoint, each a copy of the one before: the
 * first of the root CNode's, the last n deep below it. */
static const char *chain_build(int64_t n)
{
    if (!chain_cnode) {
        chain_cnode = object_alloc(FERRY_OBJ_CNODE, CHAIN_RADIX);
        chain_ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
        if (!chain_cnode || !chain_ep)
            return "no memory for the chain";
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
        unsigned long e = cnode_revoke(chain_ep);
        uint64_t t1 = tsc_end();
        if (e)
            return "revoke failed";
        unsigned long w[2] = { (unsigned long)c->size, CHAIN_RADIX };
        if (ferry_invoke(chain_cnode, FERRY_CNODE_DELETE, 2, w, 0, NULL, NULL) != FERRY_E_SLOT_EMPTY)
            return "the chain's last copy survived the revoke";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

static const int64_t chain_sizes[] = { 1024, 16384, 65536 };

const struct bench_entry bench_longop[] = {
    { .name = "revoke_chain", .variant = "", .fn = revoke_chain, .sizes = chain_sizes,
      .nsizes = sizeof chain_sizes / sizeof chain_sizes[0], .default_samples = 3, .max_samples = 3,
      .description = "Revoke of a chain of N copies of an endpoint capability (each a copy of the one before)" },
};
const size_t bench_longop_n = sizeof bench_longop / sizeof bench_longop[0];
