/* bulk_work.h: the user work of every bulk-transfer benchmark, one implementation for Ferry and Linux: write a block, checksum a block. */
#ifndef FERRY_BENCH_BULK_WORK_H
#define FERRY_BENCH_BULK_WORK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Both systems' producers and consumers call these (bench/ferry/bulk.c,
 * bench/linux/bulk.c), so a bulk benchmark's user work is the same code on
 * both, whatever each C library's memcpy would do: one 8-byte load and one
 * 8-byte store per word when producing, one 8-byte load per word when
 * consuming.  The volatile accesses keep the compiler from vectorising the
 * loops or turning them into library calls under either program's flags,
 * so the instruction counts of the user work match across systems
 * (`bulk_touch` measures it alone).
 */

/* Writes words 8-byte words from src to dst (the producer filling a block). */
void bulk_produce(volatile uint64_t *dst, const volatile uint64_t *src, size_t words);

/* Checksums words 8-byte words, continuing from sum (0 for a new block):
 * order-sensitive, so a shuffled or stale block sums differently, and a
 * block checksummed in pieces sums as in one go. */
uint64_t bulk_consume(uint64_t sum, const volatile uint64_t *w, size_t words);

#endif
