/* touch.c: "touch N [after | ROUNDS]": maps N pages of anonymous memory,
 * writes and checks every page (each materialises at its first touch),
 * unmaps them; with "after" it then touches the unmapped memory (and is
 * ended for it); with a number it does all that ROUNDS times (munmap'd
 * frames must be reused: more rounds than its memory holds at once).
 * Status 0 when every check passed. */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long n = 0, rounds = 0;
    for (const char *s = argc > 1 ? argv[1] : "1"; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (unsigned long)(*s - '0');
    for (const char *s = argc > 2 ? argv[2] : ""; *s >= '0' && *s <= '9'; s++)
        rounds = rounds * 10 + (unsigned long)(*s - '0');
    for (unsigned long r = 1; r < rounds; r++) {
        volatile unsigned long *q = proc_mmap(n * 4096);
        if (!q)
            return 7;
        for (unsigned long i = 0; i < n * 512; i += 512) {
            if (q[i] != 0 || q[i + 511] != 0)
                return 8;                  /* a reused frame reads zero too */
            q[i] = q[i + 511] = r;
        }
        if (proc_munmap((void *)q, n * 4096) != PROC_OK)
            return 9;
    }
    volatile unsigned long *p = proc_mmap(n * 4096);
    if (!p)
        return 1;
    for (unsigned long i = 0; i < n * 512; i += 512)
        if (p[i] != 0 || p[i + 511] != 0)
            return 2;                      /* fresh memory reads zero */
    for (unsigned long i = 0; i < n * 512; i++)
        p[i] = i * 2654435761UL;
    for (unsigned long i = 0; i < n * 512; i++)
        if (p[i] != i * 2654435761UL)
            return 3;
    if (proc_mmap(0) != NULL)
        return 4;                          /* nothing to map is refused */
    if (proc_munmap((void *)p, n * 4096 - 4096 * (n > 1)) == PROC_OK && n > 1)
        return 5;                          /* only whole regions */
    if (proc_munmap((void *)p, n * 4096) != PROC_OK)
        return 6;
    if (argc > 2 && strcmp(argv[2], "after") == 0)
        p[0] = 1;                          /* unmapped: the process ends here */
    return 0;
}
