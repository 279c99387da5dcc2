/* rootprogs.h: the root task's programs, the entry points init/main.c
 * calls: the boot demo (init/demo.c), the test suite (userspace/tests) and
 * the benchmarks (bench/ferry). */
#ifndef FERRY_ROOTPROGS_H
#define FERRY_ROOTPROGS_H

#include <stdbool.h>
#include <ferry/bootinfo.h>

/* The in-guest test suite (userspace/tests): all tests, or test=NAME[,NAME]. */
int tests_main(const struct ferry_bootinfo *bi);
/* The benchmarks (bench/ferry): the bench= words of the command line. */
int bench_main(const struct ferry_bootinfo *bi);
/* The boot demo (init/demo.c, make run): ata and fatfs started, boot.conf's
 * demo program run on them, both stopped; false (with the reason printed)
 * when it could not run or its memory did not all come back. */
bool boot_demo(void);

#endif
