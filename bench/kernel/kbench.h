/* kbench.h: the benchmarks that run inside the kernel, in ring 0, at boot. */
#ifndef FERRY_KBENCH_H
#define FERRY_KBENCH_H

#include <memmap.h>

/* Runs the benchmarks the command line's bench= word selects, printing
 * records on the console; sample memory comes from free.  Returns the
 * number of @error records (0: every selected benchmark succeeded). */
unsigned kbench_run(const char *cmdline, struct memmap *free);

#endif
