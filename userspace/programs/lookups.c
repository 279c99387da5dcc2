/* lookups.c: "lookups N NAME [last|first|missing]": looks NAME up N times
 * (at most the free slots of its CSpace), each answer into a slot of its
 * own.  Without a third word the status is 0 when every lookup succeeded;
 * with "last" or "first" it is the TSC ticks that lookup took, timed here
 * around the Call (the name_lookup benchmarks' client); with "missing" the
 * ticks of the last of N lookups of a name nobody registered (the same
 * path without a capability in the reply); -1..-3 on errors. */
#include <ferry/prog.h>

static inline unsigned long ticks(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((unsigned long)hi << 32) | lo;
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc < 3)
        return -1;
    unsigned long n = 0;
    for (const char *s = argv[1]; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (unsigned long)(*s - '0');
    if (n == 0 || n > (1UL << PROC_CNODE_RADIX) - PROC_CAP_FIRST_FREE)
        return -2;
    bool missing = argc > 3 && strcmp(argv[3], "missing") == 0;
    bool last = missing || (argc > 3 && strcmp(argv[3], "last") == 0);
    bool first = argc > 3 && strcmp(argv[3], "first") == 0;
    unsigned long t = 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned long t0 = ticks();
        unsigned long err = proc_lookup(argv[2], PROC_CAP_FIRST_FREE + i);
        unsigned long t1 = ticks();
        if (err != (missing ? PROC_E_NOT_FOUND : PROC_OK))
            return -3;
        if ((first && i == 0) || (last && i == n - 1))
            t = t1 - t0;
    }
    return (int)t;
}
