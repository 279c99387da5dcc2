/* ferry.c: the Ferry-specific calls of a program (ferry/prog.h): names,
 * anonymous memory and exit: Calls to the process server on
 * PROC_CAP_SERVER, names to the name service on PROC_CAP_NAMES (protocol:
 * ferry/proc.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ferry/prog.h>
#include "libc.h"

void proc_exit(long status)
{
    exit((int)status);
}

unsigned long proc_getpid(void)
{
    struct sys_msg m = { 0 };
    return __proc_call(PROC_GETPID, 0, NULL, &m) ? 0 : m.w[1];
}

/* A name of at most 7 bytes (most are: "echo:", "file:") as one word,
 * found by one 8-byte read when those 8 bytes lie in one page (the read
 * cannot fault then, whatever follows the NUL; an asm read, since C would
 * call it out of bounds): *w1 = the bytes before the NUL, the rest zero;
 * the length returned, or -1 (no NUL there, or a page boundary: the caller
 * takes the general way).  strlen, memcpy and the word loop cost a
 * lookup about 40 instructions of its ~1,100. */
static inline long name_word(const char *name, unsigned long *w1)
{
    if (((unsigned long)name & 4095) > 4096 - 8)
        return -1;
    unsigned long v;
    __asm__("movq (%1), %0" : "=r"(v) : "r"(name), "m"(*name));
    unsigned long z = (v - 0x0101010101010101UL) & ~v & 0x8080808080808080UL;
    if (!z)
        return -1;
    /* The lowest flag is the first NUL's (bit 8 * len + 7): the bytes
     * below it are the name. */
    *w1 = v & (((z & -z) >> 7) - 1);
    return (long)((unsigned long)__builtin_ctzl(z) / 8);
}

/* A Call to the name service with label and a name (w0 = length, the
 * bytes from word 1), n_caps capabilities from caps_or_badges[]. */
static unsigned long names_call(unsigned long label, const char *name, unsigned n_caps,
                                struct sys_msg *m)
{
    unsigned long w[1 + PROC_NAME_MAX / 8] = { 0 }, n;
    long short_len = name_word(name, &w[1]);
    if (short_len >= 0) {
        w[0] = (unsigned long)short_len;
        n = short_len ? 2 : 1;
    } else {
        size_t len = strlen(name);
        if (len >= PROC_NAME_MAX)
            return PROC_E_BAD_NAME;
        w[0] = len;
        memcpy(&w[1], name, len);
        n = 1 + (len + 7) / 8;
    }
    struct ferry_ipc_buffer *ipc = __ipc();
    m->info = FERRY_MSGINFO(label, n, n_caps);
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m->w[i] = w[i];
        else
            ipc->mr[i] = w[i];
    }
    /* A kernel error means the name service is gone (its endpoint deleted
     * with it, or it died holding this Call): a code of its own, since
     * the kernel's numbers overlap PROC_E_*. */
    unsigned long err = sys_raw(FERRY_SYS_CALL, PROC_CAP_NAMES, m);
    return err ? PROC_E_NO_SERVICE : m->w[0];
}

static unsigned long lookup(unsigned long label, const char *name, unsigned long dest)
{
    struct ferry_ipc_buffer *ipc = __ipc();
    ipc->recv_cnode = PROC_CAP_CNODE;
    ipc->recv_index = dest;
    ipc->recv_depth = 64;
    /* The usual name, one word of at most 7 bytes: the Call straight from
     * the registers it uses (w0 = length in rdx, the name in r8), without
     * names_call's word array and struct sys_msg (about 60 instructions
     * of a ~600-instruction lookup).  The same request as names_call's. */
    unsigned long w1;
    long short_len = name_word(name, &w1);
    if (short_len > 0) {
        register unsigned long r8 __asm__("r8") = w1;
        register unsigned long r9 __asm__("r9"), r10 __asm__("r10");
        unsigned long rax = FERRY_SYS_CALL, rdi = PROC_CAP_NAMES, rsi = FERRY_MSGINFO(label, 2, 0);
        unsigned long rdx = (unsigned long)short_len;
        __asm__ __volatile__("syscall"
                             : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "=r"(r9), "=r"(r10)
                             :
                             : "rcx", "r11", "memory");
        if (rax)
            return PROC_E_NO_SERVICE;   /* as names_call */
        if (rdx == PROC_OK && FERRY_MSGINFO_CAPS(rsi) != 1)
            return PROC_E_NOT_FOUND;
        return rdx;
    }
    struct sys_msg m = { 0 };
    unsigned long err = names_call(label, name, 0, &m);
    if (err == PROC_OK && FERRY_MSGINFO_CAPS(m.info) != 1)
        return PROC_E_NOT_FOUND;       /* the service went as it was handed over, or dest was taken */
    return err;
}

unsigned long proc_lookup(const char *name, unsigned long dest)
{
    return lookup(NAMES_LOOKUP, name, dest);
}

unsigned long proc_probe(const char *name, unsigned long dest)
{
    return lookup(NAMES_PROBE, name, dest);
}

unsigned long proc_register(const char *name)
{
    struct sys_msg m = { 0 };
    __ipc()->caps_or_badges[0] = PROC_CAP_SERVICE;
    return names_call(NAMES_REGISTER, name, 1, &m);
}

void *proc_mmap(size_t len)
{
    struct sys_msg m = { 0 };
    unsigned long w = len;
    return __proc_call(PROC_MMAP, 1, &w, &m) ? NULL : (void *)m.w[1];
}

void *proc_mmap_large(size_t len)
{
    struct sys_msg m = { 0 };
    const unsigned long w[2] = { len, PROC_MMAP_LARGE };
    return __proc_call(PROC_MMAP, 2, w, &m) ? NULL : (void *)m.w[1];
}

unsigned long proc_alive(const unsigned long pids[PROC_ALIVE_MAX])
{
    struct sys_msg m = { 0 };
    return __proc_call(PROC_ALIVE, PROC_ALIVE_MAX, pids, &m) ? ~0UL : m.w[1];
}

unsigned long proc_munmap(void *addr, size_t len)
{
    struct sys_msg m = { 0 };
    const unsigned long w[2] = { (unsigned long)addr, len };
    return __proc_call(PROC_MUNMAP, 2, w, &m);
}

unsigned long proc_share(void *addr, size_t len, unsigned long pid, unsigned long *there)
{
    struct sys_msg m = { 0 };
    const unsigned long w[3] = { (unsigned long)addr, len, pid };
    unsigned long err = __proc_call(PROC_SHARE, 3, w, &m);
    if (!err)
        *there = m.w[1];
    return err;
}

unsigned long proc_notification(unsigned long slot)
{
    struct sys_msg m = { 0 };
    const unsigned long w[1] = { slot };
    return __proc_call(PROC_NOTIFICATION, 1, w, &m);
}

const char *proc_getenv(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}
