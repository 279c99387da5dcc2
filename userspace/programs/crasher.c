/* crasher.c: "crasher N": N rounds against the supervised echo: service:
 * look it up (retrying while it restarts), check an ordinary call, then
 * crash it with a call that must come back with an error, never hang.
 * Status 0, or the step that went wrong. */
#include <ferry/prog.h>
#include "echo.h"

#define SLOT PROC_CAP_FIRST_FREE

static unsigned long call(unsigned long w0, unsigned long *out)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { w0 } };
    unsigned long err = sys_raw(FERRY_SYS_CALL, SLOT, &m);
    *out = m.w[0];
    return err;
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long n = 0, out;
    for (const char *s = argc > 1 ? argv[1] : "1"; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (unsigned long)(*s - '0');
    for (unsigned long round = 0; round < n; round++) {
        /* The slot is free again: the dead service's endpoint, and every
         * copy of it, went with it. */
        unsigned long err = PROC_E_NOT_FOUND;
        for (int tries = 0; tries < 10000 && err == PROC_E_NOT_FOUND; tries++)
            if ((err = proc_lookup("echo:", SLOT)) == PROC_E_NOT_FOUND)
                sys_yield();
        if (err != PROC_OK)
            return 1;
        if (call(41, &out) != 0 || out != 42)
            return 2;
        if (call(ECHO_CRASH, &out) == 0)
            return 3;                      /* the call in flight must fail */
    }
    printf("crasher: %lu rounds, the service crashed and came back each time\n", n);
    return 0;
}
