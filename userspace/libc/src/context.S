/* context.S: saving and resuming a thread's callee-saved state, for fork
 * (the child resumes where the parent called the process server) and for
 * a new thread's first instructions.
 *   int __ctx_save(struct __ctx *c): 0 when saving, 1 when resumed
 *   void __ctx_resume(struct __ctx *c) (rdi): never returns
 *   __thread_entry: a new thread's rip; rdi = start, rsi = arg, rdx = its
 *   record (struct thread_rec), calls __thread_main(start, arg, record). */
    .text
    .global __ctx_save, __ctx_resume, __thread_entry
__ctx_save:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rax          /* the caller's rsp after our return */
    movq %rax, 48(%rdi)
    movq (%rsp), %rax           /* our return address */
    movq %rax, 56(%rdi)
    xorl %eax, %eax
    ret

__ctx_resume:
    movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    movq 48(%rdi), %rsp
    movl $1, %eax
    jmpq *56(%rdi)

__thread_entry:
    andq $-16, %rsp
    xorl %ebp, %ebp
    call __thread_main
1:  jmp 1b
