/* lookups.c: "lookups N NAME": looks NAME up N times (at most the free
 * slots of its CSpace), each answer into a slot of its own; status 0 when
 * every lookup succeeded (the name_lookup benchmark's client). */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc < 3)
        return 1;
    unsigned long n = 0;
    for (const char *s = argv[1]; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (unsigned long)(*s - '0');
    if (n > (1UL << PROC_CNODE_RADIX) - PROC_CAP_FIRST_FREE)
        return 2;
    for (unsigned long i = 0; i < n; i++)
        if (proc_lookup(argv[2], PROC_CAP_FIRST_FREE + i) != PROC_OK)
            return 3;
    return 0;
}
