/* sys.h: Ferry system call stubs for user programs (the ABI of
 * uapi/ferry/syscall.h: rax number, rdi cptr, rsi msginfo, rdx r8 r9 r10 words). */
#ifndef FERRY_USER_SYS_H
#define FERRY_USER_SYS_H

#include <stdbool.h>
#include <stdint.h>
#include <ferry/bootinfo.h>
#include <ferry/syscall.h>
#include <ferry/errors.h>


/* One message crossing the kernel boundary: the register part. */
struct sys_msg {
    unsigned long info, w[FERRY_MSG_REG_WORDS], badge;
};

/* The full-register system call, by `syscall` or by `int 0x80` (which
 * also keeps RCX and R11; clobbering them here costs a caller nothing). */
#define SYS_RAW_INSN(insn)                                                              \
    __asm__ __volatile__(insn                                                           \
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9), \
                           "+r"(r10)                                                    \
                         :                                                              \
                         : "rcx", "r11", "memory")

static inline unsigned long sys_raw_entry(bool int80, unsigned long no, unsigned long cptr,
                                          struct sys_msg *m)
{
    register unsigned long r10 __asm__("r10") = m->w[3];
    register unsigned long r8 __asm__("r8") = m->w[1];
    register unsigned long r9 __asm__("r9") = m->w[2];
    unsigned long rax = no, rdi = cptr, rsi = m->info, rdx = m->w[0];
    if (int80)
        SYS_RAW_INSN("int $0x80");
    else
        SYS_RAW_INSN("syscall");
    m->info = rsi;
    m->w[0] = rdx;
    m->w[1] = r8;
    m->w[2] = r9;
    m->w[3] = r10;
    m->badge = rdi;
    return rax;
}

static inline unsigned long sys_raw(unsigned long no, unsigned long cptr, struct sys_msg *m)
{
    return sys_raw_entry(false, no, cptr, m);
}

static inline unsigned long sys_raw_int80(unsigned long no, unsigned long cptr, struct sys_msg *m)
{
    return sys_raw_entry(true, no, cptr, m);
}

static inline unsigned long sys_null(void)
{
    unsigned long rax = FERRY_SYS_NULL;
    __asm__ __volatile__("syscall" : "+a"(rax) : : "rcx", "r11", "memory");
    return rax;
}

static inline unsigned long sys_null_int80(void)
{
    unsigned long rax = FERRY_SYS_NULL;
    __asm__ __volatile__("int $0x80" : "+a"(rax) : : "memory");
    return rax;
}

static inline unsigned long sys_yield(void)
{
    unsigned long rax = FERRY_SYS_YIELD;
    __asm__ __volatile__("syscall" : "+a"(rax) : : "rcx", "r11", "memory");
    return rax;
}

/* Writes n bytes that the caller put at the start of its IPC buffer's mr[]
 * (needs the debug capability: the root task's FERRY_CAP_DEBUG). */
static inline unsigned long sys_debug_write(unsigned long n)
{
    unsigned long rax = FERRY_SYS_DEBUG_WRITE, rdi = FERRY_CAP_DEBUG;
    __asm__ __volatile__("syscall" : "+a"(rax), "+d"(n), "+D"(rdi) : : "rcx", "r11", "rsi", "r8", "r9", "r10", "memory");
    return rax;
}

/* Ends the run (code 0: success). */
void sys_exit(unsigned long code) __attribute__((noreturn));

#endif
