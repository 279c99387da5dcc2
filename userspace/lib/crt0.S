/* crt0.S: the first instructions of a Ferry user program.
 * The kernel starts a thread with RDI = its boot-info (or argument) pointer;
 * C prototype of what it calls: int main(void *arg); the exit code ends the run. */
    .text
    .global _start
_start:
    andq $-16, %rsp             /* the SysV ABI's call alignment */
    xorl %ebp, %ebp
    call main
    movq %rax, %rdi
    call sys_exit
1:  jmp 1b
