/* init.h: the root task's two programs. */
#ifndef FERRY_INIT_H
#define FERRY_INIT_H

#include <ferry/bootinfo.h>

/* The in-guest test suite (userspace/tests): all tests, or test=NAME[,NAME]. */
int tests_main(const struct ferry_bootinfo *bi);
/* The benchmarks (bench/ferry): the bench= words of the command line. */
int bench_main(const struct ferry_bootinfo *bi);

#endif
