/* smp.h: the other CPUs: start-up, the big kernel lock, reschedule IPIs and requests that another CPU runs on itself. */
#ifndef FERRY_ARCH_SMP_H
#define FERRY_ARCH_SMP_H

#include <arch/percpu.h>

/* Offsets of struct bkl's two words, for entry.S. */
#define BKL_NEXT  0
#define BKL_OWNER 4

#ifndef __ASSEMBLER__
#include <types.h>

/* The big kernel lock: a ticket lock, taken on every entry into the
 * kernel (entry.S: syscall and int 0x80, before any shared state is
 * read; traps.c: exceptions and interrupts) and released on every exit
 * (restore_user_sysret/iret, and the idle loop before it halts).
 * entry.S reads the two words by these offsets. */
struct bkl {
    volatile uint32_t next;      /* the next ticket to hand out */
    volatile uint32_t owner;     /* the ticket that holds the lock */
};
extern struct bkl ks_bkl;

/* LOCKDEBUG=1 (docs/smp.md, "Lock order"): which CPU holds the lock, as
 * its index + 1 (0: none), written right after each acquire and cleared
 * right before each release (entry.S does the same inline), so that the
 * order is checked at run time: no CPU takes the lock it holds, only the
 * holder releases it or asks another CPU to run a request, a request runs
 * on a CPU that does not hold it, and every exit to user space gives it
 * up.  Without LOCKDEBUG nothing reads or writes it. */
extern volatile uint32_t ks_bkl_holder;

/* Take / release the lock from C (traps.c, the idle loop).  bkl_lock
 * returns true when, while this CPU waited, the holder took its current
 * thread away (smp_stall_thread): the entry is abandoned, the caller
 * goes straight to kernel_exit. */
bool bkl_lock(void);
void bkl_unlock(void);
/* With the lock held: wait until no CPU runs as a reader (the fast path,
 * or the idle loop taking a hand-off: docs/smp.md). */
void bkl_drain_readers(void);

/* The CPUs' per-CPU blocks end here (&ks_percpu_of[ks_ncpus]): entry.S's
 * BKL_DRAIN looks at every CPU's in_fastpath flag below it. */
extern char *ks_percpu_end;

/* LOCKDEBUG=1: panic unless this CPU holds the lock (what: the reason). */
#if FERRY_LOCKDEBUG
void bkl_assert_held(const char *what);
#else
static inline void bkl_assert_held(const char *what) { (void)what; }
#endif

/* Per-CPU block of CPU 0, GS at it; before anything else in kmain. */
void percpu_early_init(void);

/* Find the other CPUs (ACPI MADT) and start them (at most cpus=N in all). */
struct boot_info;
void smp_init(const char *cmdline, paddr_t physmap_top, const struct boot_info *bi);

static inline __attribute__((always_inline)) word_t arch_cpu_index(void)
{
    return ks_percpu.cpu;
}

/* Make CPU cpu run its scheduler soon (an IPI; nothing for this CPU,
 * whose kernel exit schedules anyway). */
void smp_resched(unsigned cpu);

/* With the lock held: CPU cpu stops running t now (t is its current
 * thread): it abandons the entry it is in (a system call restarts when t
 * runs again), saves t's FPU state if it holds it, and runs its idle
 * thread.  Returns when that is done (t may then be freed or moved). */
void smp_stall_thread(unsigned cpu, struct tcb *t);

/* With the lock held: every CPU whose FPU registers hold t's state
 * saves it into t (before t runs on another CPU). */
void smp_fpu_release(struct tcb *t);

/* With the lock held: run fn(arg) on every other CPU in mask (bit c =
 * CPU c) and wait until all have (TLB shootdown). */
void smp_call_others(uint64_t mask, void (*fn)(word_t), word_t arg);

/* Does another CPU run a thread (not its idle thread)? */
bool smp_other_cpu_busy(void);

/* Which CPU is t current on?  -1 when none. */
int smp_running_on(const struct tcb *t);

#endif
#endif
