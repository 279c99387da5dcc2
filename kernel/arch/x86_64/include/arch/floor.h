/* floor.h: the ring-0 hardware floors timed on request of the benchmarks. */
#ifndef FERRY_ARCH_FLOOR_H
#define FERRY_ARCH_FLOOR_H

#include <memmap.h>

/* Takes the one page the CR3 floor switches to; at boot, before untyped. */
void floor_init(struct memmap *free);

/* Times one floor operation (FERRY_KFLOOR_*) between the benchmark
 * runner's fences; returns false when this machine cannot do it. */
bool floor_sample(word_t kind, uint64_t *ticks);

/* FERRY_SYS_FLOOR_BEGIN: point LSTAR at the floor entry for mode
 * (FERRY_FLOOR_*); false when this machine cannot do it.  FLOOR_END goes
 * through the normal entry and calls floor_end, which puts the normal
 * entry and the caller's address space back. */
bool floor_begin(word_t mode);
void floor_end(void);

#endif
