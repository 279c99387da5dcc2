/* demo.c: the root task's boot demo (make run): the ATA driver and the
 * file server started from boot.conf, the demo program reading a file of
 * the disk image through them and printing it through the serial driver,
 * then both servers stopped, all before the test suite starts. */
#include <ferry/rootprogs.h>
#include <ferry/ulib.h>
#include "../servers/procsrv.h"

/* Serves the process server until pid has registered its name (false:
 * it ended first, e.g. the driver found no disk). */
static bool until_registered(unsigned long pid)
{
    struct proc_info pi;
    while (proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
        procsrv_serve_one();
    return proc_info(pid, &pi) && pi.state == PROC_RUNNING;
}

/* Ends pid for good (no restart) and reaps it; one that ended already
 * (the file server finds no volume on a boot without the disk) is reaped. */
static void stop(unsigned long pid)
{
    long status;
    if (!pid)
        return;
    proc_stop(pid);
    proc_wait(pid, &status);
}

/* Only on a boot whose command line names neither tests nor benchmarks
 * (main.c): a test= run or a benchmark run is not slowed by it.  A demo
 * that cannot run (no disk, no such program) says why and the boot goes
 * on: the suite's io tests are what checks the path. */
bool boot_demo(void)
{
    const struct bootconf *conf = system_conf();
    if (!bootconf_find(conf, "demo") || !bootconf_find(conf, "ata") || !bootconf_find(conf, "fatfs")) {
        printf("system: demo: boot.conf has no demo, ata or fatfs line: no demo\n");
        return false;
    }
    struct mm_mark mark = mm_mark();
    unsigned long ata = proc_spawn("ata", NULL, NULL), fs = 0, demo = 0;
    long status = -1;
    bool ok = ata && until_registered(ata);
    ok = ok && (fs = proc_spawn("fatfs", NULL, NULL)) && until_registered(fs);
    if (ok) {
        printf("system: demo: blk: (ata, pid %lu) and file: (fatfs, pid %lu) up\n", ata, fs);
        ok = (demo = proc_spawn("demo", NULL, NULL)) && proc_wait(demo, &status) && status == 0;
    }
    stop(fs);
    stop(ata);
    bool back = mm_back_to(mark);
    printf("system: demo %s (pid %lu, status %ld); ata and fatfs stopped, %s\n",
           ok ? "done" : "failed", demo, status, back ? "memory back" : "memory NOT back");
    return ok && back;
}
