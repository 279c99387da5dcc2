/* floor.h: the ring-0 hardware floors timed on request of the benchmarks. */
#ifndef FERRY_ARCH_FLOOR_H
#define FERRY_ARCH_FLOOR_H

#include <memmap.h>

/* Takes the one page the CR3 floor switches to; at boot, before untyped. */
void floor_init(struct memmap *free);

/* Times one floor operation (FERRY_KFLOOR_*) between the benchmark
 * runner's fences; returns false when this machine cannot do it. */
bool floor_sample(word_t kind, uint64_t *ticks);

#endif
