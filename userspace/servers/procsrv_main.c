/* procsrv_main.c: procsrv.elf's entry: the process server as a process of
 * its own, started by the root task (userspace/init/procsrv_start.c) with
 * a copy of the boot info that names its own CNode's slots; it starts the
 * system, says so on the shared page, then serves for ever. */
#include <ferry/ipc.h>
#include <ferry/ulib.h>
#include "procsrv.h"

int main(const struct ferry_bootinfo *bi)
{
    ulib_init(bi);
    struct procsrv_shared *sh = (struct procsrv_shared *)PROCSRV_SHARED_VA;
    printf("procsrv: the process server runs as a process of its own (%lu untyped capabilities, "
           "free slots %lu-%lu)\n", bi->untyped.end - bi->untyped.start, bi->empty.start, bi->empty.end);
    bool up = system_init(bi);
    /* The programs boot.conf marks start, before the suite (not in
     * benchmark runs). */
    bool started = up && (cmdline_get(bi->cmdline, "bench", NULL, 0) || system_start());
    __atomic_store_n(&sh->state, !up ? PROCSRV_NO_SYSTEM : started ? PROCSRV_UP : PROCSRV_START_FAILED,
                     __ATOMIC_SEQ_CST);
    ntfn_signal(sh->events);
    /* Never returns: crt0 would end the run.  Without a system there is
     * nothing to serve, but the root task's Calls must not fail oddly. */
    for (;;)
        procsrv_serve_one();
}
