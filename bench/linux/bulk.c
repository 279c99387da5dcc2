/* bulk.c: bulk transfer sweep (64 B .. 4 MiB) between two processes, through a pipe vs memfd shared memory. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bulk_work.h"
#include "linux_bench.h"

/* One sample is one transfer of `size` bytes plus its acknowledgement.  The
 * user work is bench/lib's bulk_work.c, the same code Ferry's bulk
 * benchmarks run (no libc memcpy in a timed region): the producer writes
 * the block with bulk_produce, the consumer checksums every word with
 * bulk_consume and acknowledges with the checksum, which the sender checks.
 *   bulk_pipe: the sender produces the block into a staging buffer, write()s
 *     it into a pipe (copy 1, into the kernel); the receiver read()s it into
 *     its own buffer (copy 2), checksums it and answers on a second pipe.
 *   bulk_shm: the sender produces the block into a memfd mapping both
 *     processes share and sends an 8-byte token through a pipe; the
 *     receiver checksums the block in place and answers.
 *   bulk_touch: the user work alone, one process: produce into a private
 *     buffer, checksum it (the floor the harness subtracts: transport cost
 *     = total - floor).
 * Freshness: before each transfer (outside the timed region) the sender
 * stamps the transfer's sequence number into the first 8 bytes of every
 * 4 KiB page and the last 8 bytes of its source, so every round's block and
 * checksum differ; the receiver checks the first and last stamp (a stale
 * or short transfer fails), the sender the checksum. */
#define BULK_MAX (4u << 20)
#define BULK_STAMP_STRIDE 4096

static const int64_t bulk_sizes[] = { 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304 };

static char *src, *dst, *shm, *stage;
static int shm_fd = -1;

static const char *bulk_buffers(void)
{
    if (src == NULL) {
        src = mmap(NULL, BULK_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        dst = mmap(NULL, BULK_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        stage = mmap(NULL, BULK_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (src == MAP_FAILED || dst == MAP_FAILED || stage == MAP_FAILED) {
            src = dst = stage = NULL;
            return "cannot map the bulk buffers";
        }
        /* Touch every page now so no page fault lands in a timed region;
         * the source holds the same words as Ferry's. */
        for (size_t i = 0; i < BULK_MAX / 8; i++)
            ((uint64_t *)src)[i] = i * 0x9e3779b97f4a7c15UL;
        memset(dst, 0, BULK_MAX);
        memset(stage, 0, BULK_MAX);
    }
    if (shm == NULL) {
        shm_fd = memfd_create("ferry-bulk", 0);
        if (shm_fd < 0 || ftruncate(shm_fd, BULK_MAX) != 0)
            return "memfd_create/ftruncate failed";
        shm = mmap(NULL, BULK_MAX, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
        if (shm == MAP_FAILED) {
            shm = NULL;
            return "cannot map the memfd";
        }
        memset(shm, 0, BULK_MAX);
    }
    return NULL;
}

static void stamp(char *buf, size_t size, uint64_t seq)
{
    for (size_t off = 0; off + 8 <= size; off += BULK_STAMP_STRIDE)
        memcpy(buf + off, &seq, 8);
    memcpy(buf + size - 8, &seq, 8);
}

/* The first and the last stamp: O(1), so the consumer's timed work stays
 * the checksum (the sender compares the checksum with the whole block's). */
static bool stamped(const char *buf, size_t size, uint64_t seq)
{
    uint64_t first, last;
    memcpy(&first, buf, 8);
    memcpy(&last, buf + size - 8, 8);
    return first == seq && last == seq;
}

struct bulk_peer {
    int data_rx;      /* pipe: the data; shm: the token */
    int ack_tx;
    size_t size, total;
    bool use_shm;
};

enum { BK_OK, BK_IO, BK_DATA };
static const char *const bk_msgs[] = { "", "receiver: read/write failed", "receiver: data check failed", NULL };

static int bulk_receiver(void *arg)
{
    const struct bulk_peer *p = arg;
    for (size_t i = 0; i < p->total; i++) {
        uint64_t seq = i + 1, sum;
        if (p->use_shm) {
            uint64_t tok;
            if (!lb_read_full(p->data_rx, &tok, 8))
                return BK_IO;
            if (tok != seq || !stamped(shm, p->size, seq))
                return BK_DATA;
            sum = bulk_consume(0, (const volatile uint64_t *)shm, p->size / 8);
        } else {
            if (!lb_read_full(p->data_rx, dst, p->size))
                return BK_IO;
            if (!stamped(dst, p->size, seq))
                return BK_DATA;
            sum = bulk_consume(0, (const volatile uint64_t *)dst, p->size / 8);
        }
        if (!lb_write_full(p->ack_tx, &sum, 8))
            return BK_IO;
    }
    return BK_OK;
}

static const char *bulk(struct bench_ctx *c, bool use_shm)
{
    if (c->size < 8 || c->size > (int64_t)BULK_MAX || c->size % 8)
        return "size out of range (a multiple of 8, 8 .. 4194304 bytes)";
    const char *err = bulk_buffers();
    if (err)
        return err;
    int data[2], ack[2];
    if (pipe(data) != 0)
        return "pipe() failed";
    if (pipe(ack) != 0) {
        close(data[0]);
        close(data[1]);
        return "pipe() failed";
    }
    struct bulk_peer p = {
        .data_rx = data[0], .ack_tx = ack[1],
        .size = (size_t)c->size, .total = c->warmup + c->n, .use_shm = use_shm,
    };
    pid_t pid = lb_spawn(lb_peer_cpu(c), bulk_receiver, &p, -1);
    /* The receiver's ends: closed here so its death is EOF/EPIPE. */
    close(data[0]);
    close(ack[1]);
    const char *fail = pid < 0 ? "fork failed" : NULL;
    for (size_t i = 0; i < p.total && !fail; i++) {
        uint64_t seq = i + 1, ack_v = 0;
        stamp(src, p.size, i == 3 && lb_fault_is("data") ? seq - 1 : seq);
        uint64_t expect = bulk_consume(0, (const volatile uint64_t *)src, p.size / 8);
        bench_compiler_fence();
        uint64_t t0 = tsc_begin();
        bool ok;
        if (use_shm) {
            bulk_produce((volatile uint64_t *)shm, (const uint64_t *)src, p.size / 8);
            ok = lb_write_full(data[1], &seq, 8);
        } else {
            bulk_produce((volatile uint64_t *)stage, (const uint64_t *)src, p.size / 8);
            ok = lb_write_full(data[1], stage, p.size);
        }
        ok = ok && lb_read_full(ack[0], &ack_v, 8);
        uint64_t t1 = tsc_end();
        if (!ok)
            fail = "read/write failed (receiver gone?)";
        else if (ack_v != expect)
            fail = "the receiver's checksum is wrong";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    if (pid > 0)
        fail = lb_reap(pid, fail, bk_msgs);
    close(data[1]);
    close(ack[0]);
    return fail;
}

/* The user work alone: produce the block into a private buffer and
 * checksum it, in one process, with the same code and sizes. */
static const char *bulk_touch(struct bench_ctx *c)
{
    if (c->size < 8 || c->size > (int64_t)BULK_MAX || c->size % 8)
        return "size out of range (a multiple of 8, 8 .. 4194304 bytes)";
    const char *err = bulk_buffers();
    if (err)
        return err;
    size_t words = (size_t)c->size / 8;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        stamp(src, (size_t)c->size, i + 1);
        uint64_t expect = bulk_consume(0, (const volatile uint64_t *)src, words);
        bench_compiler_fence();
        uint64_t t0 = tsc_begin();
        bulk_produce((volatile uint64_t *)stage, (const uint64_t *)src, words);
        uint64_t got = bulk_consume(0, (const volatile uint64_t *)stage, words);
        uint64_t t1 = tsc_end();
        if (got != expect)
            return "the checksum of the written block is wrong";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

static const char *bulk_pipe(struct bench_ctx *c) { return bulk(c, false); }
static const char *bulk_shm(struct bench_ctx *c) { return bulk(c, true); }

#define NSIZES (sizeof(bulk_sizes) / sizeof(bulk_sizes[0]))
/* 4 MiB transfers are slow under TCG; 1000 samples unless samples= says otherwise. */
#define BULK_SAMPLES BENCH_BULK_MAX_SAMPLES

const struct bench_entry lb_bulk_table[] = {
    { "bulk_pipe", "cpu1", bulk_pipe, "bytes through a pipe plus ack, one CPU", bulk_sizes, NSIZES, BULK_SAMPLES, &lb_cpu1, BULK_SAMPLES },
    { "bulk_pipe", "cpu2", bulk_pipe, "bytes through a pipe plus ack, two CPUs", bulk_sizes, NSIZES, BULK_SAMPLES, &lb_cpu2, BULK_SAMPLES },
    { "bulk_shm", "cpu1", bulk_shm, "bytes into memfd shared memory plus pipe handshake, one CPU", bulk_sizes, NSIZES, BULK_SAMPLES, &lb_cpu1, BULK_SAMPLES },
    { "bulk_shm", "cpu2", bulk_shm, "bytes into memfd shared memory plus pipe handshake, two CPUs", bulk_sizes, NSIZES, BULK_SAMPLES, &lb_cpu2, BULK_SAMPLES },
    { "bulk_touch", "cpu1", bulk_touch, "the bulk user work alone: write SIZE bytes and checksum them in one process (the floor)", bulk_sizes, NSIZES, BULK_SAMPLES, &lb_cpu1, BULK_SAMPLES },
};
const size_t lb_bulk_count = sizeof(lb_bulk_table) / sizeof(lb_bulk_table[0]);
