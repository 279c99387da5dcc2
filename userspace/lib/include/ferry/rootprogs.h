/* rootprogs.h: the root task's two programs, the entry points init/main.c
 * calls: the test suite (userspace/tests) and the benchmarks (bench/ferry). */
#ifndef FERRY_ROOTPROGS_H
#define FERRY_ROOTPROGS_H

#include <ferry/bootinfo.h>

/* The in-guest test suite (userspace/tests): all tests, or test=NAME[,NAME]. */
int tests_main(const struct ferry_bootinfo *bi);
/* The benchmarks (bench/ferry): the bench= words of the command line. */
int bench_main(const struct ferry_bootinfo *bi);

#endif
