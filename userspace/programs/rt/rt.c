/* rt.c: a spawned program's runtime: every service is a Call to the
 * process server on PROC_CAP_SERVER (protocol: ferry/proc.h). */
#include <ferry/prog.h>
#include <fmt.h>

/* Call the server with words w[0..n) (the first four travel in registers). */
static unsigned long server_call(unsigned long label, unsigned long n, const unsigned long *w,
                                 struct sys_msg *m)
{
    m->info = FERRY_MSGINFO(label, n, 0);
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m->w[i] = w[i];
        else
            PROC_IPC->mr[i] = w[i];
    }
    unsigned long err = sys_raw(FERRY_SYS_CALL, PROC_CAP_SERVER, m);
    return err ? err : m->w[0];
}

/* A request carrying a string: w0 = length, the bytes from word 1. */
static unsigned long string_call(unsigned long label, const char *s, size_t len, struct sys_msg *m)
{
    unsigned long w[1 + (PROC_MAX_PRINT + 7) / 8] = { len };
    memcpy(&w[1], s, len);
    return server_call(label, 1 + (len + 7) / 8, w, m);
}

void proc_exit(long status)
{
    for (;;) {
        struct sys_msg m = { 0 };
        unsigned long w = (unsigned long)status;
        server_call(PROC_EXIT, 1, &w, &m);
        sys_yield();   /* not reached: the server ends the process */
    }
}

static void print_bytes(const char *s, size_t n)
{
    struct sys_msg m = { 0 };
    while (n) {
        size_t chunk = n < PROC_MAX_PRINT ? n : PROC_MAX_PRINT;
        string_call(PROC_PRINT, s, chunk, &m);
        s += chunk;
        n -= chunk;
    }
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vprint(print_bytes, fmt, ap);
    va_end(ap);
    return n;
}

unsigned long proc_getpid(void)
{
    struct sys_msg m = { 0 };
    return server_call(PROC_GETPID, 0, NULL, &m) ? 0 : m.w[1];
}

unsigned long proc_lookup(const char *name, unsigned long dest)
{
    size_t len = strlen(name);
    if (len >= PROC_NAME_MAX)
        return PROC_E_BAD_NAME;
    PROC_IPC->recv_cnode = PROC_CAP_CNODE;
    PROC_IPC->recv_index = dest;
    PROC_IPC->recv_depth = 64;
    struct sys_msg m = { 0 };
    unsigned long err = string_call(PROC_LOOKUP, name, len, &m);
    if (err == PROC_OK && FERRY_MSGINFO_CAPS(m.info) != 1)
        return PROC_E_BAD_REQUEST;     /* the slot was not free */
    return err;
}

unsigned long proc_register(const char *name)
{
    size_t len = strlen(name);
    if (len >= PROC_NAME_MAX)
        return PROC_E_BAD_NAME;
    struct sys_msg m = { 0 };
    return string_call(PROC_REGISTER, name, len, &m);
}

void *proc_mmap(size_t len)
{
    struct sys_msg m = { 0 };
    unsigned long w = len;
    return server_call(PROC_MMAP, 1, &w, &m) ? NULL : (void *)m.w[1];
}

unsigned long proc_munmap(void *addr, size_t len)
{
    struct sys_msg m = { 0 };
    const unsigned long w[2] = { (unsigned long)addr, len };
    return server_call(PROC_MUNMAP, 2, w, &m);
}

const char *proc_getenv(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

unsigned long proc_share(void *addr, size_t len, unsigned long pid, unsigned long *there)
{
    struct sys_msg m = { 0 };
    const unsigned long w[3] = { (unsigned long)addr, len, pid };
    unsigned long err = server_call(PROC_SHARE, 3, w, &m);
    if (!err)
        *there = m.w[1];
    return err;
}
