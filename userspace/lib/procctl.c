/* procctl.c: client stubs of the process server's control interface
 * (ferry/procctl.h): Calls on the control capability from a thread of the
 * root task, with the calling thread's own IPC buffer. */
#include <ferry/ipc.h>
#include <ferry/proc.h>
#include <ferry/procctl.h>
#include <ferry/spawnmsg.h>
#include <ferry/ulib.h>

/* A Call with label and n words in, the reply's words out (up to max). */
static unsigned long ctl_call(struct procctl *c, unsigned long label, const unsigned long *w, unsigned long n,
                              unsigned long *out, unsigned long max)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(label, n, 0) };
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m.w[i] = w[i];
        else
            c->ipc->mr[i] = w[i];
    }
    if (sys_raw(FERRY_SYS_CALL, c->cap, &m))
        return PROC_E_NO_SERVICE;
    unsigned long got = FERRY_MSGINFO_LEN(m.info);
    for (unsigned long i = 0; i < max; i++)
        out[i] = i >= got ? 0 : i < FERRY_MSG_REG_WORDS ? m.w[i] : c->ipc->mr[i];
    return got ? m.w[0] : PROC_E_BAD_REQUEST;
}

/* A request carrying bytes (w0 = length | flags, the bytes from w1). */
static unsigned long ctl_bytes(struct procctl *c, unsigned long label, const char *s, size_t len,
                               unsigned long flags, unsigned long *out, unsigned long max)
{
    unsigned long w[1 + (PROC_MAX_PRINT + 7) / 8] = { len | flags };
    if (len > PROC_MAX_PRINT)
        return PROC_E_BAD_REQUEST;
    memcpy(&w[1], s, len);
    return ctl_call(c, label, w, 1 + (len + 7) / 8, out, max);
}

unsigned long procctl_spawn(struct procctl *c, const char *name, const char *const *argv,
                            const char *const *envp, unsigned long *pid)
{
    /* spawnmsg_pack skips argv[0]: the program's name takes its place.
     * Each string goes with a leading '.' (PROC_CTL_SPAWN_MARKED), so an
     * empty one is sent too. */
    static char marked[PROC_MAX_PRINT];
    char *av[34] = { (char *)name }, *ev[34];
    size_t used = 0;
    *pid = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *v = pass == 0 ? argv : envp;
        char **out = pass == 0 ? av + 1 : ev;
        unsigned n = 0;
        for (; v && v[n]; n++) {
            size_t k = strlen(v[n]) + 1;
            if (n == 32 || used + k + 1 > sizeof marked)
                return PROC_E_BAD_REQUEST;
            out[n] = &marked[used];
            marked[used] = '.';
            memcpy(&marked[used + 1], v[n], k);
            used += k + 1;
        }
        out[n] = NULL;
    }
    static char buf[PROC_MAX_PRINT];
    long len = spawnmsg_pack(buf, sizeof buf, name, av, envp ? ev : NULL);
    if (len < 0)
        return PROC_E_BAD_REQUEST;
    unsigned long out[2];
    unsigned long err = ctl_bytes(c, PROC_CTL_SPAWN, buf, (size_t)len,
                                  PROC_CTL_SPAWN_MARKED | (argv ? 0 : PROC_CTL_SPAWN_DEFAULTS), out, 2);
    *pid = out[1];
    return err;
}

unsigned long procctl_notification(struct procctl *c, unsigned long dest)
{
    c->ipc->recv_cnode = FERRY_CAP_INIT_CNODE;
    c->ipc->recv_index = dest;
    c->ipc->recv_depth = 64;
    struct sys_msg m = { .info = FERRY_MSGINFO(PROC_CTL_NOTIFICATION, 0, 0) };
    if (sys_raw(FERRY_SYS_CALL, c->cap, &m))
        return PROC_E_NO_SERVICE;
    if (FERRY_MSGINFO_LEN(m.info) < 1 || m.w[0] != PROC_OK)
        return FERRY_MSGINFO_LEN(m.info) ? m.w[0] : PROC_E_BAD_REQUEST;
    if (FERRY_MSGINFO_CAPS(m.info) != 1)
        return PROC_E_NOT_FOUND;
    c->notify = dest;
    return PROC_OK;
}

unsigned long procctl_wait(struct procctl *c, unsigned long pid, long *status)
{
    if (!c->notify)
        return PROC_E_NO_SERVICE;
    for (;;) {
        unsigned long out[2];
        unsigned long err = ctl_call(c, PROC_CTL_WAIT, &pid, 1, out, 2);
        if (err != PROC_E_AGAIN) {
            *status = (long)out[1];
            return err;
        }
        /* Every end signals it: asked again after each, since the one
         * waited for may not be the one that ended. */
        unsigned long bits;
        if (ntfn_wait(c->notify, &bits))
            return PROC_E_NO_SERVICE;
    }
}

unsigned long procctl_simple(struct procctl *c, unsigned long label, unsigned long w0)
{
    unsigned long out[1];
    return ctl_call(c, label, &w0, 1, out, 1);
}

unsigned long procctl_info(struct procctl *c, unsigned long pid, struct procctl_info *out)
{
    unsigned long w[7];
    unsigned long err = ctl_call(c, PROC_CTL_INFO, &pid, 1, w, 7);
    *out = (struct procctl_info){ .state = w[1], .status = w[2], .bytes = w[3], .messages = w[4],
                                  .faults = w[5], .registered = w[6] };
    return err;
}

unsigned long procctl_running(struct procctl *c, const char *name, unsigned long *pid)
{
    unsigned long out[2];
    unsigned long err = ctl_bytes(c, PROC_CTL_RUNNING, name, strlen(name), 0, out, 2);
    *pid = out[1];
    return err;
}

unsigned long procctl_restarts(struct procctl *c, const char *name, unsigned long *n)
{
    unsigned long out[2];
    unsigned long err = ctl_bytes(c, PROC_CTL_RESTARTS, name, strlen(name), 0, out, 2);
    *n = out[1];
    return err;
}

unsigned long procctl_counters(struct procctl *c, struct procctl_counters *out)
{
    unsigned long w[9];
    unsigned long err = ctl_call(c, PROC_CTL_COUNTERS, NULL, 0, w, 9);
    *out = (struct procctl_counters){ .procs = w[1], .system = w[2], .refused = w[3], .cow_copies = w[4],
                                      .cow_reuses = w[5], .names_restarts = w[6], .sup_restarts = w[7],
                                      .pager_restarts = w[8] };
    return err;
}

unsigned long procctl_memory(struct procctl *c, unsigned long *free_bytes, unsigned long *blocks)
{
    unsigned long w[3];
    unsigned long err = ctl_call(c, PROC_CTL_MEMORY, NULL, 0, w, 3);
    *free_bytes = w[1];
    *blocks = w[2];
    return err;
}
