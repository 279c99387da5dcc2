/* crt0.S: the first instructions of a spawned program.  The process server
 * starts it with rdi = argc, rsi = argv, rdx = envp and a fresh stack.
 * C prototypes: int main(int, char **, char **); void proc_exit(long). */
    .text
    .global _start
_start:
    andq $-16, %rsp             /* the SysV ABI's call alignment */
    xorl %ebp, %ebp
    call main
    movslq %eax, %rdi
    call proc_exit
1:  jmp 1b
