/* check_pipes.c: userspace/io/pipetest.c, the pipe test Ferry runs in
 * io_pipes, built unchanged into the Linux guest's /init (its main
 * renamed), which runs it with libccheck=1 (main.c). */
#include "linux_bench.h"
#define main lb_pipetest_main
#include "../../userspace/io/pipetest.c"
