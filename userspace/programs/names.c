/* names.c: the name service, a process of its own.  Services register
 * scheme names (NAMES_REGISTER, handing over their endpoint); a client
 * asks for a name (NAMES_LOOKUP) and receives a send-only copy of the
 * service's endpoint badged with its pid.  Each caller is known by the
 * pid its endpoint badge carries; the names it may look up and register
 * are its manifest, which the process server gives on request
 * (PROC_MANIFEST) and which is kept here.  The badged copy a client got is
 * kept too, so that its next lookup of the name costs one IPC round trip
 * with no invocation.  The process server never Calls this service (so
 * neither can wait for the other): it signals the bound notification when
 * a process that may serve names ends, and the registry drops every entry
 * whose endpoint went with it. */
#include <stdbool.h>
#include <string.h>
#include <ferry/bootconf.h>
#include <ferry/prog.h>
#include <ferry/rights.h>

#define REG_MAX     16
#define MAN_MAX     24
#define CACHE_MAX   32
#define SIGNAL_BADGE (1UL << 62)        /* the process server's signal (a pid is smaller) */
#define TEMP_SLOT   PROC_CAP_FIRST_FREE  /* a probe's scratch slot */
#define FIRST_SLOT  (PROC_CAP_FIRST_FREE + 1)
#define NSLOTS      ((1UL << PROC_CNODE_RADIX) - FIRST_SLOT)

struct reg {
    char name[PROC_NAME_MAX];
    unsigned long pid, slot;            /* pid 0: free */
};
struct manifest {
    unsigned long pid, used;            /* pid 0: free; used: for replacement */
    unsigned nlookup, nreg;
    char lookup[BOOTCONF_NAMES_MAX][PROC_NAME_MAX], reg[BOOTCONF_NAMES_MAX][PROC_NAME_MAX];
};
#define NAME_WORDS  (PROC_NAME_MAX / 8)
struct cached {
    unsigned long pid, slot;            /* pid 0: free */
    unsigned reg;                       /* the registry entry it was minted from */
    unsigned long words[1 + NAME_WORDS];  /* the request as it came: length, then the name */
};

static struct reg regs[REG_MAX];
static struct manifest mans[MAN_MAX];
static struct cached cache[CACHE_MAX];
_Static_assert(CACHE_MAX == 32, "cache_set picks one of 16 sets of two");
static bool slot_used[NSLOTS];
static unsigned long clock;

static struct ferry_ipc_buffer *const ipc = PROC_IPC;

static unsigned long slot_new(void)
{
    for (unsigned long i = 0; i < NSLOTS; i++)
        if (!slot_used[i]) {
            slot_used[i] = true;
            return FIRST_SLOT + i;
        }
    return 0;
}

/* An invocation on this process's CNode: dest and src slots (depth 64). */
static unsigned long cnode_op(unsigned long label, unsigned long n, const unsigned long *w)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(label, n, label == FERRY_CNODE_DELETE ? 0 : 1) };
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m.w[i] = w[i];
        else
            ipc->mr[i] = w[i];
    }
    ipc->caps_or_badges[0] = PROC_CAP_CNODE;   /* the source CNode */
    return sys_raw(FERRY_SYS_CALL, PROC_CAP_CNODE, &m);
}

static void slot_free(unsigned long slot)
{
    const unsigned long w[2] = { slot, 64 };
    cnode_op(FERRY_CNODE_DELETE, 2, w);
    slot_used[slot - FIRST_SLOT] = false;
}

static unsigned long mint(unsigned long dest, unsigned long src, unsigned long rights, unsigned long badge)
{
    const unsigned long w[6] = { dest, 64, src, 64, rights, badge };
    return cnode_op(FERRY_CNODE_MINT, 6, w);
}

/* Is the endpoint in slot still there (its service not gone)? */
static bool alive(unsigned long slot)
{
    const unsigned long w[5] = { TEMP_SLOT, 64, slot, 64, FERRY_RIGHT_WRITE };
    if (cnode_op(FERRY_CNODE_COPY, 5, w) != FERRY_OK)
        return false;
    const unsigned long d[2] = { TEMP_SLOT, 64 };
    cnode_op(FERRY_CNODE_DELETE, 2, d);
    return true;
}

static void reg_drop(unsigned i)
{
    for (unsigned k = 0; k < CACHE_MAX; k++)
        if (cache[k].pid && cache[k].reg == i) {
            slot_free(cache[k].slot);
            cache[k].pid = 0;
        }
    slot_free(regs[i].slot);
    regs[i].pid = 0;
}

/* After the process server's signal: entries whose service is gone go. */
static void purge(void)
{
    for (unsigned i = 0; i < REG_MAX; i++)
        if (regs[i].pid && !alive(regs[i].slot))
            reg_drop(i);
}

/* A Call to the process server (w[0..n) words); the reply in *m. */
static unsigned long word(const struct sys_msg *m, unsigned long i)
{
    return i < FERRY_MSG_REG_WORDS ? m->w[i] : ipc->mr[i];
}

/* pid's manifest, asked of the process server the first time. */
static struct manifest *manifest_of(unsigned long pid)
{
    struct manifest *free = &mans[0];
    for (unsigned i = 0; i < MAN_MAX; i++) {
        if (mans[i].pid == pid) {
            mans[i].used = ++clock;
            return &mans[i];
        }
        if (mans[i].used < free->used)
            free = &mans[i];            /* the least recently used (or a free one) */
    }
    struct sys_msg m = { 0 };
    const unsigned long w[1] = { pid };
    if (proc_call(PROC_MANIFEST, 1, w, &m) != PROC_OK)
        return NULL;
    unsigned long len = m.w[1], words = FERRY_MSGINFO_LEN(m.info);
    char buf[2 * BOOTCONF_NAMES_MAX * PROC_NAME_MAX + 8];
    if (len > sizeof buf || words < 2 + (len + 7) / 8)
        return NULL;
    for (unsigned long i = 0; i < (len + 7) / 8; i++) {
        unsigned long v = word(&m, 2 + i);
        memcpy(buf + i * 8, &v, len - i * 8 < 8 ? len - i * 8 : 8);
    }
    struct manifest *man = free;
    memset(man, 0, sizeof *man);
    const char *s = buf, *end = buf + len;
    for (int pass = 0; pass < 2 && s < end; pass++) {
        unsigned *n = pass == 0 ? &man->nlookup : &man->nreg;
        while (s < end && *s && *n < BOOTCONF_NAMES_MAX) {
            char *dst = pass == 0 ? man->lookup[*n] : man->reg[*n];
            size_t k = strnlen(s, PROC_NAME_MAX - 1);
            memcpy(dst, s, k);
            dst[k] = '\0';
            (*n)++;
            s += strlen(s) + 1;
        }
        s++;
    }
    man->pid = pid;
    man->used = ++clock;
    return man;
}

/* Tells the process server (which counts and logs). */
static void name_event(unsigned long pid, bool registered, const char *name, size_t len)
{
    unsigned long w[3 + PROC_NAME_MAX / 8] = { pid, registered, len };
    memcpy(&w[3], name, len);
    struct sys_msg m = { 0 };
    proc_call(PROC_NAME_EVENT, 3 + (len + 7) / 8, w, &m);
}

/* The name of a request (w0 = length, bytes from word 1) into buf. */
static long request_name(const struct sys_msg *m, char *buf)
{
    unsigned long len = m->w[0];
    if (len >= PROC_NAME_MAX || FERRY_MSGINFO_LEN(m->info) < 1 + (len + 7) / 8)
        return -1;
    for (unsigned long i = 0; i < (len + 7) / 8; i++) {
        unsigned long v = word(m, 1 + i);
        memcpy(buf + i * 8, &v, len - i * 8 < 8 ? len - i * 8 : 8);
    }
    buf[len] = '\0';
    return proc_name_valid(buf, len) ? (long)len : -1;
}

/* The kept copies are a 2-way set-associative table: pid and the name's
 * first word choose a set (two entries), so a lookup looks at two entries
 * whatever the table holds (copies kept for clients that have ended stay
 * until they are replaced: the name service is not told of every end).
 * A copy that has to make room is deleted; its client's next lookup of
 * that name mints a new one. */
static struct cached *cache_set(unsigned long pid, unsigned long w1)
{
    unsigned long x = (pid ^ w1) * 0x9e3779b97f4a7c15UL;
    return &cache[(x >> 60) * 2];
}

/* The copy kept for pid's earlier lookup of the same name, found by the
 * request's words as they came (checked when it was made): its entry is
 * there and its service alive, since a gone service's entries are purged
 * before any later request.  NULL when there is none. */
static const struct cached *cached_for(unsigned long pid, const struct sys_msg *m)
{
    unsigned long len = m->w[0], n = 1 + (len + 7) / 8;
    if (len >= PROC_NAME_MAX || FERRY_MSGINFO_LEN(m->info) < n)
        return NULL;
    /* words[1] is compared whatever the length: past the message it is
     * 0 on both sides (a kept copy's words past its name are 0, and
     * message registers past the length read as zero), and a short name,
     * the usual one, is then done. */
    const struct cached *set = cache_set(pid, m->w[1]);
    for (unsigned j = 0; j < 2; j++) {
        const struct cached *c = &set[j];
        if (c->pid != pid || c->words[0] != len || c->words[1] != m->w[1])
            continue;
        unsigned long i = 2;
        while (i < n && c->words[i] == word(m, i))
            i++;
        if (i >= n)
            return c;
    }
    return NULL;
}

/* Answers a lookup that has no kept copy (main looks for one first): the
 * reply (in *r) carries the badged endpoint, minted now. */
static void lookup(unsigned long pid, const struct sys_msg *m, struct sys_msg *r, bool quiet)
{
    char name[PROC_NAME_MAX];
    long len = request_name(m, name);
    *r = (struct sys_msg){ .info = FERRY_MSGINFO(0, 1, 0), .w = { PROC_E_BAD_NAME } };
    if (len < 0)
        return;
    struct manifest *man = manifest_of(pid);
    r->w[0] = PROC_E_DENIED;
    if (!man || !bootconf_listed((const char (*)[PROC_NAME_MAX])man->lookup, man->nlookup, name, (size_t)len)) {
        if (!quiet)
            name_event(pid, false, name, (size_t)len);
        return;
    }
    r->w[0] = PROC_E_NOT_FOUND;
    for (unsigned i = 0; i < REG_MAX; i++) {
        if (!regs[i].pid || strcmp(regs[i].name, name) != 0)
            continue;
        /* A send-only copy badged with the client's pid, derived from the
         * service's endpoint: it goes when the service does. */
        struct cached *set = cache_set(pid, word(m, 1));
        struct cached *c = !set[0].pid ? &set[0] : !set[1].pid ? &set[1] : &set[clock++ % 2];
        if (c->pid) {                   /* both taken: one goes */
            slot_free(c->slot);
            c->pid = 0;
        }
        unsigned long slot = slot_new();
        if (!slot || mint(slot, regs[i].slot, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, pid)) {
            if (slot)
                slot_free(slot);
            return;
        }
        *c = (struct cached){ .pid = pid, .slot = slot, .reg = i, .words = { (unsigned long)len } };
        for (unsigned long k = 1; k < 1 + ((unsigned long)len + 7) / 8; k++)
            c->words[k] = word(m, k);
        r->info = FERRY_MSGINFO(0, 1, 1);
        r->w[0] = PROC_OK;
        ipc->caps_or_badges[0] = slot;
        return;
    }
}

/* A registration: the endpoint arrived in slot got (when one came). */
static unsigned long do_register(unsigned long pid, const struct sys_msg *m, unsigned long got)
{
    char name[PROC_NAME_MAX];
    long len = request_name(m, name);
    if (len < 0)
        return PROC_E_BAD_NAME;
    struct manifest *man = manifest_of(pid);
    if (!man || !bootconf_listed((const char (*)[PROC_NAME_MAX])man->reg, man->nreg, name, (size_t)len))
        return PROC_E_DENIED;
    if (!got)
        return PROC_E_BAD_REQUEST;
    struct reg *free = NULL;
    for (unsigned i = 0; i < REG_MAX; i++) {
        if (regs[i].pid && strcmp(regs[i].name, name) == 0) {
            if (alive(regs[i].slot))
                return PROC_E_TAKEN;
            reg_drop(i);                /* its service is gone (not yet purged) */
        }
        if (!regs[i].pid && !free)
            free = &regs[i];
    }
    if (!free)
        return PROC_E_NO_MEMORY;
    memcpy(free->name, name, (size_t)len + 1);
    free->pid = pid;
    free->slot = got;
    name_event(pid, true, name, (size_t)len);
    return PROC_OK;
}

/* A restarted name service: the registry as the process server recorded
 * it (every name a running service registered, with its endpoint), so
 * services need not register again.  At a first start there is none. */
static void restore(void)
{
    for (unsigned long i = 0;; i++) {
        unsigned long slot = slot_new();
        if (!slot)
            return;
        ipc->recv_cnode = PROC_CAP_CNODE;
        ipc->recv_index = slot;
        ipc->recv_depth = 64;
        struct sys_msg m = { 0 };
        const unsigned long w[1] = { i };
        unsigned long err = proc_call(PROC_NAMES_RESTORE, 1, w, &m);
        unsigned long len = m.w[2];
        struct reg *free = NULL;
        for (unsigned k = 0; k < REG_MAX && !free; k++)
            if (!regs[k].pid)
                free = &regs[k];
        if (err != PROC_OK || FERRY_MSGINFO_CAPS(m.info) != 1 || len >= PROC_NAME_MAX ||
            FERRY_MSGINFO_LEN(m.info) < 3 + (len + 7) / 8 || !free) {
            slot_free(slot);
            if (err != PROC_OK)
                return;
            continue;
        }
        for (unsigned long k = 0; k < (len + 7) / 8; k++) {
            unsigned long v = word(&m, 3 + k);
            memcpy(free->name + k * 8, &v, len - k * 8 < 8 ? len - k * 8 : 8);
        }
        free->name[len] = '\0';
        free->pid = m.w[1];
        free->slot = slot;
    }
}

/* Where a capability that comes with a request (a registration's
 * endpoint) goes.  The kernel never writes these fields, so they are set
 * only when the slot changes (and after restore(), which uses them). */
static void recv_at(unsigned long slot)
{
    ipc->recv_cnode = PROC_CAP_CNODE;
    ipc->recv_index = slot;
    ipc->recv_depth = 64;
}

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    /* m: the request as it comes, and the reply built in its place (the
     * usual answer, a kept copy, is written there once the request is
     * read); the rarer answers are built in r, then copied. */
    struct sys_msg m = { 0 }, r;
    unsigned long sysno = FERRY_SYS_RECV;
    restore();
    unsigned long recv_slot = slot_new();
    recv_at(recv_slot);
    for (;;) {
        unsigned long err = sys_raw(sysno, PROC_CAP_SERVICE, &m);
        sysno = FERRY_SYS_RECV;
        if (err)
            continue;
        if (m.badge & SIGNAL_BADGE) {
            purge();
            continue;
        }
        unsigned long pid = m.badge;
        sysno = FERRY_SYS_REPLY_RECV;
        unsigned long label = FERRY_MSGINFO_LABEL(m.info);
        if (label == NAMES_LOOKUP || label == NAMES_PROBE) {
            /* A repeated lookup: the copy kept for it (one IPC round trip
             * in all, no invocation). */
            const struct cached *hit = cached_for(pid, &m);
            if (hit) {
                ipc->caps_or_badges[0] = hit->slot;
                m.info = FERRY_MSGINFO(0, 1, 1);
                m.w[0] = PROC_OK;
                continue;
            }
            lookup(pid, &m, &r, label == NAMES_PROBE);
        } else if (label == NAMES_REGISTER) {
            unsigned long got = FERRY_MSGINFO_CAPS(m.info) == 1 ? recv_slot : 0;
            unsigned long e = do_register(pid, &m, got);
            if (e == PROC_OK) {
                recv_slot = slot_new();
                recv_at(recv_slot);
            } else if (got) {
                cnode_op(FERRY_CNODE_DELETE, 2, (const unsigned long[2]){ got, 64 });
            }
            r = (struct sys_msg){ .info = FERRY_MSGINFO(0, 1, 0), .w = { e } };
        } else {
            r = (struct sys_msg){ .info = FERRY_MSGINFO(0, 1, 0), .w = { PROC_E_BAD_REQUEST } };
        }
        m = r;
    }
}
