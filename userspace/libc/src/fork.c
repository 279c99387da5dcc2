/* fork.c: fork by the process server's copy-on-write PROC_FORK.  The
 * parent saves its callee-saved registers and stack pointer; the server
 * gives the child a copy of the address space (every page shared
 * read-only until one side writes it) and starts the child's one thread at
 * __fork_child with that saved state, below the parent's live stack, so
 * that in the child fork returns 0. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "libc.h"

struct __ctx { unsigned long rbx, rbp, r12, r13, r14, r15, rsp, rip; };
int __ctx_save(struct __ctx *c) __attribute__((returns_twice));
void __ctx_resume(struct __ctx *c) __attribute__((noreturn));

void __fork_child(struct __ctx *c) __attribute__((noreturn));
void __fork_child(struct __ctx *c)
{
    __ctx_resume(c);
}

pid_t fork(void)
{
    struct __ctx c;
    fflush(NULL);                   /* buffered output is printed once, not twice */
    if (!__pipes_fork(+1))          /* the child holds our pipe ends too */
        return -1;
    if (__ctx_save(&c)) {
        __pipes_child();
        return 0;                   /* the child */
    }
    struct sys_msg m = { 0 };
    /* The child starts below everything of ours that is live (128 bytes
     * of red zone and a margin), with rdi = &c, aligned for a call. */
    unsigned long sp = (((unsigned long)&c - 512) & ~15UL) - 8;
    const unsigned long w[3] = { (unsigned long)__fork_child, sp, (unsigned long)&c };
    unsigned long err = __proc_call(PROC_FORK, 3, w, &m);
    if (err) {
        __pipes_fork(-1);
        return __set_errno_proc(err);
    }
    __pipes_forked((long)m.w[1]);
    return (pid_t)m.w[1];
}
