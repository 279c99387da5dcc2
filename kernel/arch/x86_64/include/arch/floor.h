/* floor.h: the ring-0 hardware floors timed on request of the benchmarks,
 * and the floor entries of one thread's system calls (BENCHMARK=1 builds). */
#ifndef FERRY_ARCH_FLOOR_H
#define FERRY_ARCH_FLOOR_H

#include <memmap.h>

#ifndef FERRY_BENCHMARK
#define FERRY_BENCHMARK 1
#endif

struct tcb;

#if FERRY_BENCHMARK
/* Takes the one page the CR3 floor switches to; at boot, before untyped. */
void floor_init(struct memmap *free);

/* Times one floor operation (FERRY_KFLOOR_*) between the benchmark
 * runner's fences; returns false when this machine cannot do it. */
bool floor_sample(word_t kind, uint64_t *ticks);

/* FERRY_SYS_FLOOR_BEGIN: the floor entry for mode (FERRY_FLOOR_*) serves
 * owner's system calls, and only owner's, until floor_end(owner); false
 * when this machine cannot do it or a floor is running already.
 * FLOOR_END goes through the normal entry; floor_end puts the normal
 * entry and the real address space back (false: t runs no floor). */
bool floor_begin(struct tcb *owner, word_t mode);
bool floor_end(struct tcb *t);

/* The thread that runs a floor now, NULL when none: after each switch,
 * arch_switch_to asks floor_switch to give every other thread the normal
 * entry (and its real CR3), and the owner its floor entry back. */
extern struct tcb *ks_floor_owner;
void floor_switch(struct tcb *prev, struct tcb *next);
#else
#define ks_floor_owner ((struct tcb *)0)
static inline void floor_init(struct memmap *free) { (void)free; }
static inline bool floor_end(struct tcb *t) { (void)t; return false; }
static inline void floor_switch(struct tcb *prev, struct tcb *next) { (void)prev; (void)next; }
#endif

#endif
