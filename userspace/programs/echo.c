/* echo.c: the "echo:" service: registers the name, then answers each
 * Call with its word 0 plus one, and the caller's badge in word 1; a Call
 * with ECHO_CRASH crashes it (echo.h). */
#include <ferry/prog.h>
#include "echo.h"

int main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    unsigned long err = proc_register("echo:");
    if (err) {
        printf("echo: register failed (%lu)\n", err);
        return 1;
    }
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
    for (;;) {
        unsigned long w0 = m.w[0];
        if (w0 == ECHO_CRASH)
            *(volatile unsigned long *)0 = w0;
        m.info = FERRY_MSGINFO(0, 2, 0);
        m.w[0] = w0 + 1;
        m.w[1] = m.badge;
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
}
