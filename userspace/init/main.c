/* main.c: the root task: runs the in-guest test suite (after the boot demo),
 * or the benchmarks when the command line has a bench= word, and ends the
 * run with the result. */
#include <ferry/ulib.h>
#include <ferry/rootprogs.h>
#include "../servers/procsrv.h"

int main(const struct ferry_bootinfo *bi)
{
    ulib_init(bi);
    if (bi->magic != FERRY_BOOTINFO_MAGIC) {
        printf("root task: bad boot info magic %#lx\n", bi->magic);
        return 1;
    }
    printf("root task: %lu untyped capabilities, free slots %lu-%lu, pcid %s\n",
           bi->untyped.end - bi->untyped.start, bi->empty.start, bi->empty.end,
           bi->pcid_on ? "on" : "off");
    bool system = system_init(bi);
    if (cmdline_get(bi->cmdline, "bench", NULL, 0))
        return bench_main(bi);
    /* The programs boot.conf marks start, before the suite. */
    if (system && !system_start())
        return 1;
    /* The boot demo (make run): a file of the disk image printed through
     * the file server, the block driver and the serial driver; only when
     * no tests are named, so test= runs are not slowed by it, and done
     * (its processes stopped, their memory back) before the suite starts. */
    if (system && !cmdline_get(bi->cmdline, "test", NULL, 0))
        boot_demo();
    return tests_main(bi);
}
