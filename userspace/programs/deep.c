/* deep.c: "deep K": recurses through K KiB of stack, beyond the pages
 * mapped at spawn (the stack grows on demand up to its guard page). */
#include <ferry/prog.h>

static unsigned long down(unsigned long k)
{
    volatile unsigned char frame[1000];
    frame[0] = (unsigned char)k;
    frame[999] = (unsigned char)(k >> 8);
    unsigned long sum = k ? down(k - 1) : 0;
    return sum + frame[0] + frame[999];
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long k = 0;
    for (const char *s = argc > 1 ? argv[1] : "1"; *s >= '0' && *s <= '9'; s++)
        k = k * 10 + (unsigned long)(*s - '0');
    unsigned long want = 0;
    for (unsigned long i = 0; i <= k; i++)
        want += (i & 0xff) + ((i >> 8) & 0xff);
    return down(k) == want ? 0 : 1;
}
