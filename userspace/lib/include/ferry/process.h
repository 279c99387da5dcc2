/* process.h: a second address space running the root task's own program
 * image, for benchmarks and tests that cross address spaces. */
#ifndef FERRY_USER_PROCESS_H
#define FERRY_USER_PROCESS_H

#include <ferry/ulib.h>

struct process {
    unsigned long vspace;     /* its VSpace capability */
    unsigned long tcb;        /* its thread */
    unsigned long ipc_frame;  /* the frame of its IPC buffer (at FERRY_ROOT_IPC_BUFFER) */
};

/* Builds a VSpace that maps copies of the root task's image frames at the
 * same addresses (so code and initialised data are shared, read-only
 * pages and all: writable data is shared too, which is how the two sides
 * can see each other's variables), plus a private stack page at
 * stack_va and a private IPC buffer, and a thread there that will run
 * fn() at priority prio.  The thread is left suspended unless resume.
 * Returns 0 or the error of the step that failed (printed). */
unsigned long process_create(struct process *p, void (*fn)(void), unsigned long stack_va,
                             unsigned prio, bool resume);

#endif
