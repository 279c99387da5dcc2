/* bulk_work.c: the bulk benchmarks' producer and consumer loops, compiled into Ferry's and Linux's benchmark programs alike. */
#include "bulk_work.h"

void bulk_produce(volatile uint64_t *dst, const volatile uint64_t *src, size_t words)
{
    for (size_t i = 0; i < words; i++)
        dst[i] = src[i];
}

uint64_t bulk_consume(uint64_t sum, const volatile uint64_t *w, size_t words)
{
    for (size_t i = 0; i < words; i++)
        sum = (sum ^ w[i]) * 0x100000001b3UL;
    return sum;
}
