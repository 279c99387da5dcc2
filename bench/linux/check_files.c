/* check_files.c: userspace/io/filetest.c, the libc file test Ferry runs in
 * io_libc_files, built unchanged into the Linux guest's /init (its main
 * renamed), which runs it with libccheck=1 (main.c). */
#include "linux_bench.h"
#define main lb_filetest_main
#include "../../userspace/io/filetest.c"
