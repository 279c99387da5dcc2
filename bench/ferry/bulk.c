/* bulk.c: moving a block of bytes to another address space: copied through
 * IPC buffers (the message path) vs written into frames granted once over
 * IPC (zero-copy), with a small register message per transfer, and the user
 * work alone (bulk_touch).  Each transfer is checked: the server returns a
 * checksum of what it received.  Producer and consumer are bench/lib's
 * bulk_work.c, the same code the Linux baseline runs. */
#include "ferry_bench.h"
#include "bulk_work.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define BULK_MAX       (4UL << 20)
#define SHARED_VA      0x3a000000UL        /* two 2 MiB frames, in both spaces (first GiB) */
#define SOURCE_VA      0x3c000000UL        /* the client's own 4 MiB source block */
#define SERVER_STACK   0x34000000UL
#define CHUNK_WORDS    FERRY_MSG_MAX_WORDS

enum { L_SETUP = 1, L_COPY_FIRST, L_COPY, L_GRANT };

static volatile unsigned long bulk_ep, bulk_recv_slot, bulk_server_vspace;
/* Not in the program image: second address spaces copy the image's frames. */
static unsigned long *const src = (unsigned long *)SOURCE_VA;

static unsigned long checksum(const volatile unsigned long *w, unsigned long n)
{
    return bulk_consume(0, (const volatile uint64_t *)w, n);
}

/* The server, in its own address space: maps granted frames, and answers
 * each transfer with the running checksum of the bytes it was given. */
static void server_main(void)
{
    struct sys_msg m = { 0 };
    unsigned long sum = 0;
    ulib_ipc->recv_cnode = FERRY_CAP_INIT_CNODE;
    ulib_ipc->recv_index = bulk_recv_slot;
    ulib_ipc->recv_depth = 64;
    ipc_recv(bulk_ep, &m);
    for (;;) {
        unsigned long label = FERRY_MSGINFO_LABEL(m.info), len = FERRY_MSGINFO_LEN(m.info);
        unsigned long err = 0;
        if (label == L_SETUP) {
            /* The frame capability arrived in our receive slot: map it, then
             * move it aside so the slot is free for the next one. */
            unsigned long keep = m.w[1];
            err = ferry_frame_map(bulk_recv_slot, bulk_server_vspace, SHARED_VA + m.w[0],
                            FERRY_MAP_READ | FERRY_MAP_WRITE);
            if (!err)
                err = ferry_cnode_move(keep, bulk_recv_slot);
            m.w[0] = err;
        } else if (label == L_COPY_FIRST || label == L_COPY) {
            if (label == L_COPY_FIRST)
                sum = 0;                 /* a new block starts */
            uint64_t words[FERRY_MSG_REG_WORDS] = { m.w[0], m.w[1], m.w[2], m.w[3] };
            unsigned long nreg = len < FERRY_MSG_REG_WORDS ? len : FERRY_MSG_REG_WORDS;
            sum = bulk_consume(sum, words, nreg);
            if (len > FERRY_MSG_REG_WORDS)
                sum = bulk_consume(sum, (const volatile uint64_t *)ulib_ipc->mr + FERRY_MSG_REG_WORDS,
                                   len - FERRY_MSG_REG_WORDS);
            m.w[0] = sum;
        } else if (label == L_GRANT) {
            m.w[0] = checksum((const volatile unsigned long *)SHARED_VA, m.w[0] / 8);
        }
        m.info = FERRY_MSGINFO(label, 1, 0);
        ipc_reply_recv(bulk_ep, &m);
    }
}

/* Server, endpoint and shared frames, made once. */
static const char *bulk_setup(void)
{
    static bool done;
    static const char *failed;
    if (done)
        return failed;
    done = true;
    failed = "bulk setup failed";
    unsigned long ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    unsigned long f0 = object_alloc(FERRY_OBJ_FRAME_2M, 0), f1 = object_alloc(FERRY_OBJ_FRAME_2M, 0);
    unsigned long s0 = object_alloc(FERRY_OBJ_FRAME_2M, 0), s1 = object_alloc(FERRY_OBJ_FRAME_2M, 0);
    bulk_recv_slot = slot_alloc();
    if (!ep || !f0 || !f1 || !s0 || !s1 || !bulk_recv_slot)
        return failed = "no memory for the shared and source blocks";
    bulk_ep = ep;
    const unsigned long rw = FERRY_MAP_READ | FERRY_MAP_WRITE;
    unsigned long e;
    if ((e = ferry_frame_map(f0, FERRY_CAP_INIT_VSPACE, SHARED_VA, rw)) ||
        (e = ferry_frame_map(f1, FERRY_CAP_INIT_VSPACE, SHARED_VA + (2UL << 20), rw)) ||
        (e = ferry_frame_map(s0, FERRY_CAP_INIT_VSPACE, SOURCE_VA, rw)) ||
        (e = ferry_frame_map(s1, FERRY_CAP_INIT_VSPACE, SOURCE_VA + (2UL << 20), rw))) {
        printf("bulk: mapping the shared and source blocks: %s\n", ferry_error_name(e));
        return failed = "could not map the shared and source blocks";
    }
    struct process p;
    if (process_create(&p, server_main, SERVER_STACK, 255, false))
        return failed = "could not start the server in its own address space";
    bulk_server_vspace = p.vspace;
    if (ferry_tcb_resume(p.tcb))
        return failed = "could not start the server in its own address space";
    /* Grant a copy of each frame (GRANT right on the endpoint needed). */
    unsigned long frames[2] = { f0, f1 };
    for (int i = 0; i < 2; i++) {
        unsigned long copy = slot_alloc();
        if (!copy || ferry_cnode_copy(copy, frames[i], FERRY_RIGHTS_ALL))
            return failed = "could not copy a frame capability to grant";
        ulib_ipc->caps_or_badges[0] = copy;
        struct sys_msg m = { .info = FERRY_MSGINFO(L_SETUP, 2, 1), .w = { (unsigned long)i << 21, slot_alloc() } };
        if (ipc_call(ep, &m) || m.w[0])
            return failed = "the server could not map a granted frame";
    }
    for (unsigned long i = 0; i < BULK_MAX / 8; i++)
        src[i] = i * 0x9e3779b97f4a7c15UL;
    failed = NULL;
    return NULL;
}

static const char *bulk_copy(struct bench_ctx *c)
{
    const char *err = bulk_setup();
    if (err)
        return err;
    unsigned long bytes = (unsigned long)c->size, words = bytes / 8;
    if (c->size <= 0 || bytes > BULK_MAX || bytes % 8)
        return "size must be a multiple of 8 bytes up to 4 MiB";
    unsigned long expect = checksum(src, words);
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        unsigned long got = 0;
        uint64_t t0 = tsc_begin();
        for (unsigned long off = 0; off < words; off += CHUNK_WORDS) {
            unsigned long n = words - off < CHUNK_WORDS ? words - off : CHUNK_WORDS;
            struct sys_msg m = { .info = FERRY_MSGINFO(off ? L_COPY : L_COPY_FIRST, n, 0) };
            for (unsigned long k = 0; k < n && k < FERRY_MSG_REG_WORDS; k++)
                m.w[k] = src[off + k];
            if (n > FERRY_MSG_REG_WORDS)
                bulk_produce((volatile uint64_t *)ulib_ipc->mr + FERRY_MSG_REG_WORDS,
                             (const uint64_t *)src + off + FERRY_MSG_REG_WORDS, n - FERRY_MSG_REG_WORDS);
            if (ipc_call(bulk_ep, &m))
                return "a copy message failed";
            got = m.w[0];
        }
        uint64_t t1 = tsc_end();
        if (got != expect)
            return "the server's checksum of the copied bytes is wrong";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

static const char *bulk_grant(struct bench_ctx *c)
{
    const char *err = bulk_setup();
    if (err)
        return err;
    unsigned long bytes = (unsigned long)c->size;
    if (c->size <= 0 || bytes > BULK_MAX || bytes % 8)
        return "size must be a multiple of 8 bytes up to 4 MiB";
    unsigned long expect = checksum(src, bytes / 8);
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        bulk_produce((volatile uint64_t *)SHARED_VA, (const uint64_t *)src, bytes / 8);  /* the producer */
        struct sys_msg m = { .info = FERRY_MSGINFO(L_GRANT, 1, 0), .w = { bytes } };
        unsigned long e = ipc_call(bulk_ep, &m);
        uint64_t t1 = tsc_end();
        if (e || m.w[0] != expect)
            return "the server's checksum of the shared block is wrong";
        ((volatile unsigned long *)SHARED_VA)[0] = ~0UL;  /* the next round must rewrite it */
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

/* The user work of a transfer alone, no transport: the producer writes the
 * block into the shared frames and the consumer checksums it, both in this
 * thread (the floor that bulk_copy and bulk_grant add their transport to;
 * the harness reports total - floor). */
static const char *bulk_touch(struct bench_ctx *c)
{
    const char *err = bulk_setup();
    if (err)
        return err;
    unsigned long bytes = (unsigned long)c->size;
    if (c->size <= 0 || bytes > BULK_MAX || bytes % 8)
        return "size must be a multiple of 8 bytes up to 4 MiB";
    unsigned long expect = checksum(src, bytes / 8);
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        bulk_produce((volatile uint64_t *)SHARED_VA, (const uint64_t *)src, bytes / 8);
        uint64_t got = bulk_consume(0, (const volatile uint64_t *)SHARED_VA, bytes / 8);
        uint64_t t1 = tsc_end();
        if (got != expect)
            return "the checksum of the written block is wrong";
        ((volatile unsigned long *)SHARED_VA)[0] = ~0UL;  /* the next round must rewrite it */
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

static const int64_t bulk_sizes[] = { 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304 };

const struct bench_entry bench_bulk[] = {
    { .name = "bulk_copy", .fn = bulk_copy, .sizes = bulk_sizes,
      .nsizes = sizeof bulk_sizes / sizeof bulk_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "move SIZE bytes to another address space as IPC messages (copied by the kernel)" },
    { .name = "bulk_grant", .fn = bulk_grant, .sizes = bulk_sizes,
      .nsizes = sizeof bulk_sizes / sizeof bulk_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "move SIZE bytes through frames granted once, plus one register message" },
    { .name = "bulk_touch", .fn = bulk_touch, .sizes = bulk_sizes,
      .nsizes = sizeof bulk_sizes / sizeof bulk_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "the bulk user work alone: write SIZE bytes and checksum them in one thread (the floor)" },
};
const size_t bench_bulk_n = sizeof bench_bulk / sizeof bench_bulk[0];
