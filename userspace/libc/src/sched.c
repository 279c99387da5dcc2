/* sched.c: sched_yield: the kernel's yield, the rest of the time slice to
 * the next thread of the same priority. */
#include <sched.h>
#include "libc.h"

int sched_yield(void)
{
    sys_yield();
    return 0;
}
