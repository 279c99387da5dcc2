/* crt0.S: the first instructions of a program linked with the libc.  The
 * process server starts it with rdi = argc, rsi = argv, rdx = envp and a
 * fresh stack; __libc_start keeps envp as environ, calls main and exit. */
    .text
    .global _start
_start:
    andq $-16, %rsp             /* the SysV ABI's call alignment */
    xorl %ebp, %ebp
    call __libc_start
1:  jmp 1b
