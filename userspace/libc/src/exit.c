/* exit.c: exit (atexit handlers, then the stream flush), _exit and abort:
 * the process server ends the process and frees all it had. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "libc.h"

#define ATEXIT_MAX 32

static void (*handlers[ATEXIT_MAX])(void);
static int nhandlers;

int atexit(void (*fn)(void))
{
    if (nhandlers == ATEXIT_MAX)
        return -1;
    handlers[nhandlers++] = fn;
    return 0;
}

void __run_atexit(void)
{
    while (nhandlers > 0)
        handlers[--nhandlers]();
    fflush(NULL);
}

void _exit(int status)
{
    __pipes_exit();         /* as the kernel closes a Linux process's descriptors */
    for (;;) {
        struct sys_msg m = { 0 };
        unsigned long w = (unsigned long)(long)status;
        __proc_call(PROC_EXIT, 1, &w, &m);
        sys_yield();   /* not reached: the server ends the process */
    }
}

void _Exit(int status)
{
    _exit(status);
}

void exit(int status)
{
    __run_atexit();
    _exit(status);
}

void abort(void)
{
    fflush(NULL);
    _exit(134);        /* what a shell shows for SIGABRT */
}
