/* procsrv.c: the memory manager and process server (procsrv.elf, a
 * process of its own that the root task starts first): spawns
 * programs from boot modules into their own CSpace, VSpace and thread,
 * serves their requests and (asked by the pager and the supervisor, which
 * are processes, as is the name service) their page faults (ferry/proc.h),
 * restarts those servers when they end, and gives all of a process's
 * memory back when it ends; the root task drives it through the control
 * interface (ferry/procctl.h) and reads what it handled from the ring on
 * the page they share (procsrv.h). */
#include <ferry/devcaps.h>
#include <ferry/elf_load.h>
#include <ferry/ipc.h>
#include <ferry/proc.h>
#include <ferry/procctl.h>
#include <ferry/spawnmsg.h>
#include <ferry/ulib.h>
#include <tsc.h>
#include "procsrv.h"

/* Where the root task sees things it works on. */
#define MODULE_WINDOW   0x0c000000UL   /* the boot modules, read-only, one after another */
#define SCRATCH_VA      0x0d000000UL   /* a frame being filled for a process */
#define SCRATCH2_VA     0x0d001000UL   /* the frame a copy-on-write copy reads */

#define PROC_SLOTS      600            /* root CNode slots per process for its objects */
#define PROC_IMAGE_PAGES_MAX 64
#define PROC_PRIO       100            /* below the root task: it runs until it waits */
#define PROC_PTS_MAX    32
#define FAULT_BADGE     (1UL << 62)    /* on the fault endpoint's badge, beside the pid */
#define NAMES_PROGRAM   "names"        /* boot.conf's name of the name service */
#define SUP_PROGRAM     "supervisor"   /* and of the supervisor */
#define PAGER_PROGRAM   "pager"        /* and of the pager */
#define NAMES_SIGNAL_BADGE (1UL << 62) /* its notification's badge (userspace/programs/names.c) */
#define PROC_ORPHAN     (~0UL)         /* parent: it ended first (nobody reaps: freed at the end) */
#define MODULES_MAX     FERRY_BOOTINFO_MODULES_MAX
#define PROC_ARGS_MAX   32             /* arguments after argv[0] */
#define PROC_REGIONS_MAX 32            /* anonymous regions per process */
#define PROC_PAGES_MAX  520            /* pages mapped per process (image, stack, on demand) */
#define PROC_GRANTED_MAX 64            /* pages a process shares out (PROC_SHARE) at a time */
#define SHARES_MAX      4096           /* frames shared copy-on-write, system-wide */

struct module {
    char name[BOOTCONF_WORD_MAX];       /* file name of the loader's first word */
    const unsigned char *data;
    unsigned long size;
};

struct proc {
    unsigned long pid;                  /* 0: free entry */
    enum proc_state state;
    const struct bootconf_program *prog;
    long status;
    unsigned long block;                /* its untyped (root slot); made on first use */
    unsigned long slot0, next;          /* its root slots [slot0, slot0 + PROC_SLOTS) */
    unsigned long bytes, messages;
    unsigned long cspace, vspace, tcb, service_ep, notify, parent;
    bool system;                        /* a server of the system (name service, supervisor): not counted */
    bool supervised;                    /* its faults go to the supervisor process */
    unsigned awaiting;                  /* ended, for the supervisor to restart: 1 faulted, 2 killed */
    unsigned long registered;           /* names the name service says it registered */
    unsigned long ntfn_root[PROC_NTFNS]; /* PROC_NOTIFICATION: the root task's slot of each (0: none) */
    unsigned fork_ntfns;                /* slots PROC_NTFN_SLOT0 + i a fork copies (bit i) */
    char regnames[BOOTCONF_NAMES_MAX][PROC_NAME_MAX];  /* the first of them (a restarted name
                                         * service gets them back: PROC_NAMES_RESTORE) */
    unsigned long pt_base[PROC_PTS_MAX];
    unsigned npts;
    /* Threads after the first: TCB and IPC-buffer frame slots (0: none). */
    struct { unsigned long tcb, ipc; bool live; } threads[PROC_THREADS_MAX];
    /* The pager's view: anonymous regions, every page mapped (image,
     * stack, arguments, those that materialised on demand) and the slots
     * munmap freed. */
    unsigned long anon_next, faults, cow_faults;
    struct { unsigned long va, pages; bool shared; } regions[PROC_REGIONS_MAX];
    unsigned nregions;
    struct page {
        unsigned long va, slot;        /* slot: the frame capability this mapping uses */
        unsigned rights;               /* FERRY_MAP_*: what the program may do */
        int share;                     /* index in shares[], or -1: a frame of its own */
    } pages[PROC_PAGES_MAX];
    unsigned npages;
    unsigned long free_slots[PROC_SLOTS];
    unsigned nfree;
    /* Frames munmap unmapped, kept for its next faults and copies: no
     * longer charged to it (bytes), though their memory is still inside
     * its block (an untyped block is only reclaimed whole, at its end). */
    unsigned long free_frames[PROC_PAGES_MAX];
    unsigned nfree_frames;
    /* PROC_SHARE: read-only copies of its frames, mapped into other
     * processes (the copies in its own slots, so they go with it). */
    struct { unsigned long va, slot; } granted[PROC_GRANTED_MAX];
    unsigned ngranted;
};

/* A frame that several processes map after a fork: made from the block of
 * owner (whose page holds the original capability; the others map copies
 * of it), used by users processes.  Written pages are copied on the first
 * write (copy on write); a frame whose owner ends is copied for each
 * remaining user first, since the owner's block goes whole. */
struct share {
    unsigned long owner;               /* pid; 0: free record */
    unsigned long owner_slot;          /* the original, once the owner no longer maps it */
    unsigned users;
    bool cow;                          /* the users may write: copy on write (else read-only sharing) */
};


static struct bootconf conf;
static struct module modules[MODULES_MAX];
static unsigned nmodules;
static bool ready;
static struct proc procs[PROCSRV_MAX_PROCS];
static unsigned long server_ep, temp_slot, next_pid = 1, refused;
/* The name service: its pid, its endpoint (made from its own block, so
 * that it goes with it: clients' copies badged with their pid go too, and
 * their Calls fail instead of waiting) and a badged copy of its bound
 * notification.  names_down: it ended and is not restarted yet;
 * names_hold: it was stopped on purpose (system_names_restart starts it). */
static unsigned long names_pid, names_ep, names_signal, names_restarts;
static bool names_down, names_hold;
/* The supervisor, likewise: the fault endpoint of supervised services
 * (made here, from the root task's memory: it outlives a supervisor, so
 * faults queued on it wait for the next one, and a fault the dead one
 * held is raised again when its thread resumes). */
static unsigned long sup_pid, sup_ep, sup_signal, sup_restarts;
static bool sup_down, sup_hold;
/* The pager, likewise: the fault endpoint of every other process. */
static unsigned long pager_pid, pager_ep, pager_signal, pager_restarts;
static bool pager_down, pager_hold;
/* A server of the system that keeps ending on its own (a fault or an
 * exit) soon after each start is a crash loop: after
 * PROCSRV_SYSTEM_RESTARTS_IN_A_ROW such ends in a row it is not started
 * again until system_*_restart.  "Soon": before SYSTEM_QUICK_REQUESTS
 * requests were served system-wide since it started (the server has no
 * clock of its own to wait on, so it counts work instead of time).  A
 * kill is deliberate: it restarts the count. */
#define SYSTEM_QUICK_REQUESTS 64
struct restart_count { unsigned long started_at; unsigned in_a_row; };
static struct restart_count names_rc, sup_rc, pager_rc;
static unsigned long served;            /* requests and faults handled, all processes */
static bool ending_by_kill;             /* end_process is restarting it */
static unsigned long restarts[BOOTCONF_PROGRAMS_MAX];    /* per program of conf */
static struct share shares[SHARES_MAX];
static unsigned long cow_copies, cow_reuses, event_pid;
static uint64_t event_tsc;              /* when the last procsrv_serve_one had handled its message */
static struct pt_set root_pts = { .vspace = FERRY_CAP_INIT_VSPACE };
/* The control interface (ferry/procctl.h): the server's endpoint minted
 * with PROC_CTL_BADGE for the root task, and the notification signalled
 * at every end once a controller has asked for it. */
static unsigned long ctl_cap, ctl_notify;
/* The page shared with the root task (procsrv.h), at the same address in both. */
static struct procsrv_shared *const shared = (struct procsrv_shared *)PROCSRV_SHARED_VA;
static bool ctl_notify_given;
/* Tests: the next request of this pid is left unanswered (PROC_CTL_HOLD). */
static unsigned long hold_pid;

bool system_ready(void) { return ready; }
const struct bootconf *system_conf(void) { return &conf; }
unsigned long procsrv_refused(void) { return refused; }
unsigned long procsrv_cow_copies(void) { return cow_copies; }
unsigned long procsrv_cow_reuses(void) { return cow_reuses; }
unsigned long procsrv_event_pid(void) { return event_pid; }
uint64_t procsrv_event_tsc(void) { return event_tsc; }

/* ---- boot modules and configuration ------------------------------------ */


static const struct module *module_find(const char *name)
{
    for (unsigned i = 0; i < nmodules; i++)
        if (strcmp(modules[i].name, name) == 0)
            return &modules[i];
    return NULL;
}

static bool map_modules(const struct ferry_bootinfo_modules *mi)
{
    unsigned long va = MODULE_WINDOW;
    for (unsigned long i = 0; i < mi->count && nmodules < MODULES_MAX; i++) {
        const struct ferry_module_desc *d = &mi->m[i];
        struct module *m = &modules[nmodules++];
        bootconf_module_name(d->name, m->name, sizeof m->name);
        m->data = (const unsigned char *)(va + (d->paddr & 0xfff));
        m->size = d->size;
        for (unsigned long s = d->frames.start; s < d->frames.end; s++, va += 4096) {
            unsigned long err = pt_ensure(&root_pts, va);
            if (!err)
                err = ferry_frame_map(s, FERRY_CAP_INIT_VSPACE, va, FERRY_MAP_READ);
            if (err) {
                printf("system: mapping module %s: %s\n", m->name, ferry_error_name(err));
                return false;
            }
        }
    }
    return true;
}

static bool spawning_system;
static unsigned long spawning_system_ep, spawning_system_signal;
static unsigned long spawn_system(const char *name, unsigned long ep, unsigned long signal);

/* The name service, a process of its own, started first when boot.conf
 * lists it (program NAMES_PROGRAM): every process made after it gets its
 * endpoint.  False when it is listed and does not start. */
static bool names_start(void)
{
    const struct bootconf_program *prog = bootconf_find(&conf, NAMES_PROGRAM);
    if (!prog)
        return true;
    names_signal = slot_alloc();
    if (!names_signal)
        return false;
    names_pid = spawn_system(NAMES_PROGRAM, 0, names_signal);   /* its endpoint: made in spawn_into */
    if (!names_pid)
        return false;
    printf("system: name service %s started (pid %lu)\n", NAMES_PROGRAM, names_pid);
    return true;
}

/* The pager, a process of its own, when boot.conf lists it (program
 * PAGER_PROGRAM): the processes made after it fault to it, and it asks
 * this server to serve their faults (PROC_PAGE).  Without it they fault
 * to this server directly. */
static bool pager_start(void)
{
    if (!bootconf_find(&conf, PAGER_PROGRAM))
        return true;
    pager_ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    pager_signal = slot_alloc();
    if (!pager_ep || !pager_signal)
        return false;
    pager_pid = spawn_system(PAGER_PROGRAM, pager_ep, pager_signal);
    if (!pager_pid) {
        pager_ep = 0;
        return false;
    }
    printf("system: pager %s started (pid %lu)\n", PAGER_PROGRAM, pager_pid);
    return true;
}

/* The supervisor, a process of its own, when boot.conf lists it (program
 * SUP_PROGRAM): the services marked restart that start after it fault to
 * it.  Without it the process server restarts them itself. */
static bool supervisor_start(void)
{
    if (!bootconf_find(&conf, SUP_PROGRAM))
        return true;
    sup_ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    sup_signal = slot_alloc();
    if (!sup_ep || !sup_signal)
        return false;
    sup_pid = spawn_system(SUP_PROGRAM, sup_ep, sup_signal);
    if (!sup_pid) {
        sup_ep = 0;
        return false;
    }
    printf("system: supervisor %s started (pid %lu)\n", SUP_PROGRAM, sup_pid);
    return true;
}

bool system_init(const struct ferry_bootinfo *bi)
{
    const struct ferry_bootinfo_modules *mi = (const void *)bi->modules;
    if (!bi->modules || mi->count == 0) {
        printf("system: no boot modules besides the root task: no programs\n");
        return false;
    }
    if (!map_modules(mi))
        return false;
    const struct module *cm = module_find("boot.conf");
    if (!cm) {
        printf("system: no boot.conf module: no programs\n");
        return false;
    }
    unsigned line;
    const char *err = bootconf_parse((const char *)cm->data, cm->size, &conf, &line);
    if (err) {
        printf("system: boot.conf line %u: %s\n", line, err);
        return false;
    }
    for (unsigned i = 0; i < conf.n; i++)
        if (!module_find(conf.prog[i].module))
            printf("system: program %s: no boot module %s (it cannot be spawned)\n",
                   conf.prog[i].name, conf.prog[i].module);
    server_ep = shared->endpoint;          /* the root task made it: its control capability is a mint */
    temp_slot = slot_alloc();
    ctl_cap = slot_alloc();
    ctl_notify = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
    if (!server_ep || !ctl_cap || !ctl_notify ||
        ferry_cnode_mint(ctl_cap, server_ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, PROC_CTL_BADGE))
        return false;
    unsigned long base = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS * PROC_SLOTS; i++) {
        unsigned long s = slot_alloc();
        if (i == 0)
            base = s;
        if (!s || s != base + i) {
            printf("system: no room in the root CNode for the process table\n");
            return false;
        }
    }
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        procs[i].slot0 = base + i * PROC_SLOTS;
    if (!server_ep || !temp_slot || pt_ensure(&root_pts, SCRATCH_VA))
        return false;
    printf("system: %u modules, %u programs in boot.conf\n", nmodules, conf.n);
    ready = true;
    return names_start() && pager_start() && supervisor_start();
}

/* ---- memory: one untyped block per process ----------------------------- */

/* Large regions (PROC_MMAP w1 = PROC_MMAP_LARGE: a RAM disk larger than a
 * process's block): 2 MiB frames, made and mapped at once, from one
 * block of PROC_MMAP_LARGE_MAX bytes that one process holds at a time
 * (made at the first such request, kept for the next; its end, or the
 * region's munmap, revokes them all: every byte back).  Not in regions[]:
 * no fork copies it and PROC_SHARE refuses it. */
#define LARGE_BITS  25
_Static_assert(1UL << LARGE_BITS == PROC_MMAP_LARGE_MAX, "the large block holds the largest region");
static unsigned long large_block, large_owner, large_va, large_len, large_slots[1UL << (LARGE_BITS - 21)];

static void large_free(void)
{
    ferry_cnode_revoke(large_block);    /* the frames go, unmapped from their process */
    large_owner = 0;
}

static unsigned long object_bytes(unsigned long type, unsigned long bits)
{
    switch (type) {
    case FERRY_OBJ_TCB:      return 1UL << FERRY_TCB_BITS;
    case FERRY_OBJ_ENDPOINT: return 1UL << FERRY_ENDPOINT_BITS;
    case FERRY_OBJ_CNODE:    return 1UL << (bits + FERRY_CTE_BITS);
    default:                 return 4096;
    }
}

/* A new object from p's block into a slot munmap freed or its next one;
 * 0 when out of memory or slots. */
static unsigned long palloc(struct proc *p, unsigned long type, unsigned long bits)
{
    unsigned long s = p->nfree ? p->free_slots[p->nfree - 1] : p->next;
    if (!p->nfree && s >= p->slot0 + PROC_SLOTS)
        return 0;
    if (ferry_untyped_retype(p->block, type, bits, s, 1))
        return 0;
    if (p->nfree)
        p->nfree--;
    else
        p->next++;
    p->bytes += object_bytes(type, bits);
    return s;
}

/* Every VSpace a process gets is made here, from its block, and given an
 * address-space identifier from the root task's pool before anything is
 * mapped into it (the ASID returns to the pool when the VSpace goes). */
static unsigned long proc_vspace_create(struct proc *p)
{
    unsigned long vs = palloc(p, FERRY_OBJ_VSPACE, 0);
    if (vs && ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, vs, NULL))
        return 0;                       /* the revoke of the block takes it */
    return vs;
}

static unsigned long proc_pt_ensure(struct proc *p, unsigned long va)
{
    unsigned long base = va & ~((1UL << 21) - 1);
    for (unsigned i = 0; i < p->npts; i++)
        if (p->pt_base[i] == base)
            return FERRY_OK;
    if (p->npts == PROC_PTS_MAX)
        return FERRY_E_NO_MEMORY;
    unsigned long pt = palloc(p, FERRY_OBJ_PT, 0);
    unsigned long err = pt ? ferry_table_map(pt, p->vspace, base) : FERRY_E_NO_MEMORY;
    if (!err)
        p->pt_base[p->npts++] = base;
    return err;
}

/* A fresh frame mapped at va in p's VSpace, filled with n bytes of src at
 * off (through the root task's scratch window); its slot or 0. */
static unsigned long proc_page(struct proc *p, unsigned long va, unsigned long rights,
                               const void *src, size_t off, size_t n)
{
    unsigned long f = palloc(p, FERRY_OBJ_FRAME_4K, 0);
    if (!f)
        return 0;
    if (n) {
        if (ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, SCRATCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE))
            return 0;
        memcpy((char *)SCRATCH_VA + off, src, n);
        if (ferry_frame_unmap(f))
            return 0;
    }
    if (proc_pt_ensure(p, va) || ferry_frame_map(f, p->vspace, va, rights))
        return 0;
    return f;
}

/* Records a page p maps (for fork, munmap and teardown); false when full. */
static bool page_add(struct proc *p, unsigned long va, unsigned long slot, unsigned rights, int share)
{
    if (p->npages == PROC_PAGES_MAX)
        return false;
    p->pages[p->npages++] = (struct page){ .va = va, .slot = slot, .rights = rights, .share = share };
    return true;
}

static struct page *page_find(struct proc *p, unsigned long va)
{
    for (unsigned i = 0; i < p->npages; i++)
        if (p->pages[i].va == va)
            return &p->pages[i];
    return NULL;
}

/* A page of the image, stack or arguments: made, filled, mapped, recorded. */
static unsigned long proc_page_rec(struct proc *p, unsigned long va, unsigned long rights,
                                   const void *src, size_t off, size_t n)
{
    unsigned long f = proc_page(p, va, rights, src, off, n);
    if (f && !page_add(p, va, f, (unsigned)rights, -1))
        return 0;
    return f;
}

unsigned long mm_free_bytes(void)
{
    unsigned long free = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        if (!procs[i].block || procs[i].pid)
            continue;
        /* The kernel's word: a block is free iff it can be retyped whole. */
        if (ferry_untyped_retype(procs[i].block, FERRY_OBJ_UNTYPED, PROCSRV_BLOCK_BITS, temp_slot, 1) == FERRY_OK) {
            free += 1UL << PROCSRV_BLOCK_BITS;
            ferry_cnode_delete(temp_slot);
        }
    }
    if (large_block && !large_owner &&
        ferry_untyped_retype(large_block, FERRY_OBJ_UNTYPED, LARGE_BITS, temp_slot, 1) == FERRY_OK) {
        free += 1UL << LARGE_BITS;
        ferry_cnode_delete(temp_slot);
    }
    return free;
}

unsigned mm_blocks(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        n += procs[i].block != 0;
    return n + (large_block ? 1U << (LARGE_BITS - PROCSRV_BLOCK_BITS) : 0);   /* counted in blocks' worth */
}

/* ---- processes --------------------------------------------------------- */

static struct proc *proc_find(unsigned long pid)
{
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        if (pid && procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

/* Everything p had goes: every object made from its block (and every
 * capability derived from them, in any CSpace) is deleted, the block's
 * watermark returns to 0, its names leave the registry. */
static void share_leave(struct proc *p, struct page *pg);
static void share_orphans(struct proc *p);

/* p's threads, memory and capabilities go (as at exit or before an exec
 * in place); its pid, parent and children stay. */
static void proc_release(struct proc *p)
{
    /* Frames shared after a fork: p's copies of others' go, and others'
     * copies of p's are replaced by frames of their own. */
    for (unsigned k = 0; k < p->npages; k++)
        if (p->pages[k].share >= 0)
            share_leave(p, &p->pages[k]);
    share_orphans(p);
    if (large_owner == p->pid)
        large_free();
    unsigned long err = ferry_cnode_revoke(p->block);
    if (err)
        printf("procsrv: freeing pid %lu: %s\n", p->pid, ferry_error_name(err));
    p->next = p->slot0;
    p->npts = p->nregions = p->npages = p->nfree = p->ngranted = p->nfree_frames = 0;
    memset(p->threads, 0, sizeof p->threads);
    p->bytes = 0;
    if (p->system && p->pid == names_pid) {
        names_ep = 0;                   /* revoked with its block, every copy too */
        names_down = true;
    }
    if (p->system && p->pid == sup_pid)
        sup_down = true;
    if (p->system && p->pid == pager_pid)
        pager_down = true;
    /* The name service drops the names it served (its endpoint is gone). */
    if (p->registered && names_signal)
        ntfn_signal(names_signal);
}

static void proc_teardown(struct proc *p)
{
    /* Its PROC_NOTIFICATION slots signalled first: a pipe's other holders
     * asleep on one wake, see this pid gone (PROC_ALIVE) and take its
     * holds out of the pipe (docs/io.md, "Pipes"). */
    for (unsigned i = 0; i < PROC_NTFNS; i++) {
        const unsigned long w[FERRY_CNODE_COPY_NARGS] = {
            [FERRY_CNODE_ARG_DEST_INDEX] = temp_slot, [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
            [FERRY_CNODE_ARG_SRC_INDEX] = PROC_NTFN_SLOT0 + i, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
            [FERRY_CNODE_ARG_RIGHTS] = FERRY_RIGHTS_ALL };
        if (!ferry_invoke(FERRY_CAP_INIT_CNODE, FERRY_CNODE_COPY, FERRY_CNODE_COPY_NARGS, w, 1, &p->cspace, NULL)) {
            /* NBSend, not Signal's Send: the slot is the process's to fill,
             * and a Send on an endpoint it put there (a copy of its
             * PROC_CAP_SERVER: ours) would block this server for ever.
             * NBSend signals a notification and never waits on an
             * endpoint; it can do nothing the process could not do itself
             * with the same capability. */
            struct sys_msg m = { 0 };
            sys_raw(FERRY_SYS_NBSEND, temp_slot, &m);
            ferry_cnode_delete(temp_slot);
        }
    }
    proc_release(p);
    p->state = PROC_ZOMBIE;
    /* Its children are orphans now: one ended already is freed, a live
     * one will be when it ends. */
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        struct proc *c = &procs[i];
        if (!c->pid || c->parent != p->pid)
            continue;
        c->parent = PROC_ORPHAN;
        if (c->state == PROC_ZOMBIE) {
            c->pid = 0;
            c->state = PROC_FREE;
        }
    }
    /* Its parent, if waiting, learns of it; an orphan is freed now.  So
     * does a controller waiting (PROC_CTL_WAIT). */
    if (ctl_notify_given)
        ntfn_signal(ctl_notify);
    struct proc *parent = proc_find(p->parent);
    if (parent && parent->state == PROC_RUNNING)
        ntfn_signal(parent->notify);
    if (p->parent == PROC_ORPHAN) {
        p->pid = 0;
        p->state = PROC_FREE;
    }
}

/* Copies (mints) root slot src into slot dest of p's CNode. */
static unsigned long proc_give(struct proc *p, unsigned long dest, unsigned long src,
                               unsigned long rights, unsigned long badge)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    const unsigned long w[FERRY_CNODE_MINT_NARGS] = {
        [FERRY_CNODE_ARG_DEST_INDEX] = dest, [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
        [FERRY_CNODE_ARG_SRC_INDEX] = src, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
        [FERRY_CNODE_ARG_RIGHTS] = rights, [FERRY_CNODE_ARG_BADGE] = badge,
    };
    return ferry_invoke(p->cspace, FERRY_CNODE_MINT, FERRY_CNODE_MINT_NARGS, w, 1, &root, NULL);
}

/* Moves root slot src into slot dest of p's CNode. */
static unsigned long proc_move_in(struct proc *p, unsigned long dest, unsigned long src)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    const unsigned long w[FERRY_CNODE_MOVE_NARGS] = {
        [FERRY_CNODE_ARG_DEST_INDEX] = dest, [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
        [FERRY_CNODE_ARG_SRC_INDEX] = src, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
    };
    return ferry_invoke(p->cspace, FERRY_CNODE_MOVE, FERRY_CNODE_MOVE_NARGS, w, 1, &root, NULL);
}

/* Splits the space-separated args of the configuration into argv[1..]. */
static unsigned split_args(char *buf, const char **argv, unsigned max)
{
    unsigned n = 0;
    for (char *s = buf; *s && n < max;) {
        while (*s == ' ' || *s == '\t')
            *s++ = '\0';
        if (!*s)
            break;
        argv[n++] = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
    return n;
}

/* The devices the manifest grants (ioport=, irq=) into p's CNode's device
 * slots.  Everything lands in p's CNode or comes from its block, so it
 * all goes when the process does (the interrupt line is free again). */
static unsigned long grant_devices(struct proc *p)
{
    const struct ferry_slot_range *io = &ulib_bootinfo->ioports;
    unsigned long err = FERRY_OK;
    for (unsigned i = 0; i < p->prog->nioport; i++) {
        unsigned long w[FERRY_IOPORT_ISSUE_NARGS] = {
            [FERRY_IOPORT_ISSUE_ARG_FIRST] = p->prog->ioport[i].first,
            [FERRY_IOPORT_ISSUE_ARG_LAST] = p->prog->ioport[i].last,
            [FERRY_IOPORT_ISSUE_ARG_DEST_INDEX] = PROC_DEV_IOPORT(i), [FERRY_IOPORT_ISSUE_ARG_DEST_DEPTH] = 64 };
        err = FERRY_E_RANGE;            /* no capability of the root task covers it */
        for (unsigned long s = io->start; s < io->end && err; s++)
            err = ferry_invoke(s, FERRY_IOPORT_ISSUE, FERRY_IOPORT_ISSUE_NARGS, w, 1, &p->cspace, NULL);
        if (err)
            return err;
    }
    for (unsigned i = 0; i < p->prog->nirq; i++) {
        unsigned long line = p->prog->irq[i], ntfn = palloc(p, FERRY_OBJ_NOTIFICATION, 0);
        unsigned long badged = p->next, handler = p->next + 1;
        if (!ntfn || handler >= p->slot0 + PROC_SLOTS)
            return FERRY_E_NO_MEMORY;
        p->next += 2;
        if ((err = ferry_cnode_mint(badged, ntfn, FERRY_RIGHTS_ALL, 1UL << line)) ||
            (err = proc_give(p, PROC_DEV_IRQ_NTFN(i), badged, FERRY_RIGHTS_ALL, 0)) ||
            (err = ferry_irq_get(FERRY_CAP_IRQ_CONTROL, line, handler)))
            return err;
        /* the handler into p's CNode, where the program finds it */
        if ((err = ferry_irq_set_notification(handler, badged)) ||
            (err = proc_move_in(p, PROC_DEV_IRQ(i), handler))) {
            ferry_cnode_delete(handler);
            return err;
        }
    }
    return err;
}


/* A thread's IPC buffer at va: a fresh frame whose user_data word holds
 * va (the thread's FS base is va, so the libc finds its buffer). */
static unsigned long ipc_buffer_page(struct proc *p, unsigned long va)
{
    return proc_page(p, va, FERRY_MAP_READ | FERRY_MAP_WRITE, &va,
                     offsetof(struct ferry_ipc_buffer, user_data), sizeof va);
}

/* Configures tcb as a thread of p and starts it at rip with rsp and
 * rdi, rsi, rdx = args[0..3), FS base = its IPC buffer. */
static unsigned long proc_thread_start(struct proc *p, unsigned long tcb, unsigned long ipc,
                                  unsigned long ipc_va, unsigned long rip, unsigned long rsp,
                                  const unsigned long args[3])
{
    unsigned long err;
    if ((err = ferry_tcb_configure(tcb, p->cspace, p->vspace, ipc, ipc_va, PROC_CAP_FAULT)) ||
        (err = ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, PROC_PRIO)))
        return err;
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = rip;
    regs[FERRY_REG_RSP] = rsp;
    regs[FERRY_REG_RDI] = args[0];
    regs[FERRY_REG_RSI] = args[1];
    regs[FERRY_REG_RDX] = args[2];
    regs[FERRY_REG_RFLAGS] = 0x202;
    regs[FERRY_REG_FS_BASE] = ipc_va;
    return ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs);
}

/* The capabilities every process has: the server's endpoint (requests
 * and faults, badged with its pid), its CNode, and the notification that
 * says a child ended. */
static unsigned long proc_give_common(struct proc *p)
{
    unsigned long err;
    if ((err = proc_give(p, PROC_CAP_SERVER, server_ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, p->pid)) ||
        (err = p->supervised ? proc_give(p, PROC_CAP_FAULT, sup_ep, FERRY_RIGHT_WRITE, p->pid)
               : p->system || !pager_ep ? proc_give(p, PROC_CAP_FAULT, server_ep, FERRY_RIGHT_WRITE, p->pid | FAULT_BADGE)
                                        : proc_give(p, PROC_CAP_FAULT, pager_ep, FERRY_RIGHT_WRITE, p->pid)) ||
        (err = proc_give(p, PROC_CAP_CNODE, p->cspace, FERRY_RIGHTS_ALL, 0)))
        return err;
    p->notify = palloc(p, FERRY_OBJ_NOTIFICATION, 0);
    if (!p->notify)
        return FERRY_E_NO_MEMORY;
    if (names_ep && (err = proc_give(p, PROC_CAP_NAMES, names_ep,
                                     FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT | FERRY_RIGHT_GRANT_REPLY, p->pid)))
        return err;
    return proc_give(p, PROC_CAP_NOTIFY, p->notify, FERRY_RIGHT_READ, 0);
}

/* p's CSpace and VSpace with its upper page tables. */
static unsigned long proc_spaces(struct proc *p, const char **step)
{
    unsigned long err;
    *step = "out of memory for its objects";
    unsigned long cnode = palloc(p, FERRY_OBJ_CNODE, PROC_CNODE_RADIX);
    p->cspace = p->next;
    if (!cnode || p->cspace >= p->slot0 + PROC_SLOTS || ferry_cnode_mint(p->cspace, cnode, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 64 - PROC_CNODE_RADIX)))
        return FERRY_E_NO_MEMORY;
    p->next++;
    p->vspace = proc_vspace_create(p);
    unsigned long pdpt = palloc(p, FERRY_OBJ_PDPT, 0), pd = palloc(p, FERRY_OBJ_PD, 0);
    if (!p->vspace || !pdpt || !pd)
        return FERRY_E_NO_MEMORY;
    *step = "upper page tables";
    if ((err = ferry_table_map(pdpt, p->vspace, 0)) || (err = ferry_table_map(pd, p->vspace, 0)))
        return err;
    return FERRY_OK;
}

static unsigned long spawn_into(struct proc *p, const struct module *m, const char *const *argv,
                                const char *const *envp, const char **step)
{
    static struct elf_page pages[PROC_IMAGE_PAGES_MAX];
    size_t npages;
    unsigned long entry, err;
    const char *why = elf_load_plan(m->data, m->size, PROC_IMAGE_TOP, &entry, pages,
                                    PROC_IMAGE_PAGES_MAX, &npages);
    if (why) {
        *step = why;
        return FERRY_E_INVALID_ARG;
    }
    if ((err = proc_spaces(p, step)))
        return err;
    *step = "image";
    for (size_t i = 0; i < npages; i++)
        if (!proc_page_rec(p, pages[i].va, pages[i].rights, m->data + pages[i].src_off, pages[i].dst_off, pages[i].n))
            return FERRY_E_NO_MEMORY;
    *step = "stack and IPC buffer";
    for (unsigned i = 1; i <= PROC_STACK_PAGES; i++)
        if (!proc_page_rec(p, PROC_STACK_TOP - i * 4096, FERRY_MAP_READ | FERRY_MAP_WRITE, NULL, 0, 0))
            return FERRY_E_NO_MEMORY;
    unsigned long ipc = ipc_buffer_page(p, PROC_IPC_BUFFER);
    if (!ipc)
        return FERRY_E_NO_MEMORY;
    *step = "arguments";
    static char args_page[4096];
    unsigned long argc, argv_va, envp_va;
    memset(args_page, 0, sizeof args_page);   /* nothing of an earlier spawn's arguments */
    if (!args_pack(args_page, sizeof args_page, PROC_ARGS, argv, envp, &argc, &argv_va, &envp_va))
        return FERRY_E_RANGE;
    if (!proc_page_rec(p, PROC_ARGS, FERRY_MAP_READ, args_page, 0, sizeof args_page))
        return FERRY_E_NO_MEMORY;
    *step = "capabilities";
    if (p->system && strcmp(p->prog->name, NAMES_PROGRAM) == 0) {
        /* The name service's endpoint is its own object: when it ends, the
         * endpoint goes and every copy with it (a queued Call fails). */
        if (!(p->service_ep = palloc(p, FERRY_OBJ_ENDPOINT, 0)))
            return FERRY_E_NO_MEMORY;
        names_ep = spawning_system_ep = p->service_ep;
    }
    if ((err = proc_give_common(p)))
        return err;
    if (p->system) {
        /* The name service receives on the endpoint the clients' copies
         * come from; the supervisor on its supervised services' fault
         * endpoint. */
        if ((err = proc_give(p, PROC_CAP_SERVICE, spawning_system_ep, FERRY_RIGHT_READ, 0)))
            return err;
    } else if (p->prog->nreg) {
        p->service_ep = palloc(p, FERRY_OBJ_ENDPOINT, 0);
        if (!p->service_ep)
            return FERRY_E_NO_MEMORY;
        if ((err = proc_give(p, PROC_CAP_SERVICE, p->service_ep, FERRY_RIGHTS_ALL, 0)))
            return err;
    }
    *step = "devices (ioport=, irq=)";
    if ((err = grant_devices(p)))
        return err;
    *step = "thread";
    p->tcb = palloc(p, FERRY_OBJ_TCB, 0);
    if (!p->tcb)
        return FERRY_E_NO_MEMORY;
    if (p->system) {
        /* Its notification is bound: the process server's signal (a
         * process that may serve names ended) ends its Recv. */
        const unsigned long ntfn = p->notify;
        if ((err = ferry_invoke(p->tcb, FERRY_TCB_BIND_NOTIFICATION, 0, NULL, 1, &ntfn, NULL)) ||
            (err = ferry_cnode_mint(spawning_system_signal, p->notify, FERRY_RIGHT_WRITE, NAMES_SIGNAL_BADGE)))
            return err;
    }
    return proc_thread_start(p, p->tcb, ipc, PROC_IPC_BUFFER, entry, PROC_STACK_TOP,
                        (const unsigned long[3]){ argc, argv_va, envp_va });
}

/* A free process entry with its block, reset for pid next_pid; NULL
 * (with the reason printed) when none is left. */
static struct proc *proc_new(const struct bootconf_program *prog, unsigned long parent)
{
    struct proc *p = NULL;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS && !p; i++)
        if (!procs[i].pid)
            p = &procs[i];
    if (!p) {
        printf("spawn %s: process table full\n", prog->name);
        return NULL;
    }
    if (!p->block && !(p->block = object_alloc(FERRY_OBJ_UNTYPED, PROCSRV_BLOCK_BITS)))
        return NULL;
    p->pid = next_pid++;
    p->state = PROC_RUNNING;
    p->prog = prog;
    p->parent = parent;
    p->status = 0;
    p->messages = 0;
    p->next = p->slot0;
    p->npts = p->nregions = p->npages = p->nfree = p->ngranted = p->nfree_frames = 0;
    memset(p->threads, 0, sizeof p->threads);
    p->bytes = p->faults = p->cow_faults = 0;
    p->anon_next = PROC_ANON_BASE;
    p->service_ep = p->notify = 0;
    p->system = p->supervised = false;
    p->awaiting = 0;
    p->registered = 0;
    memset(p->ntfn_root, 0, sizeof p->ntfn_root);
    p->fork_ntfns = 0;
    return p;
}

/* A process that could not be made goes back to free. */
static void proc_abandon(struct proc *p)
{
    unsigned long parent = p->parent;
    p->parent = 0;                  /* nobody to tell */
    proc_teardown(p);
    p->parent = parent;
    p->pid = 0;
    p->state = PROC_FREE;
}

static unsigned long spawn_child(const char *name, const char *const *argv, const char *const *envp,
                                 unsigned long parent);

unsigned long proc_spawn(const char *name, const char *const *argv, const char *const *envp)
{
    return spawn_child(name, argv, envp, 0);
}

/* A server of the system: spawned as any program, but not counted among
 * the processes (proc_count) and not waited for; it receives on ep (made
 * here) and its bound notification, signalled through a copy in slot
 * signal. */
static unsigned long spawn_system(const char *name, unsigned long ep, unsigned long signal)
{
    spawning_system = true;
    spawning_system_ep = ep;
    spawning_system_signal = signal;
    unsigned long pid = spawn_child(name, NULL, NULL, 0);
    spawning_system = false;
    return pid;
}

static unsigned long spawn_child(const char *name, const char *const *argv, const char *const *envp,
                                 unsigned long parent)
{
    const struct bootconf_program *prog = ready ? bootconf_find(&conf, name) : NULL;
    const struct module *m = prog ? module_find(prog->module) : NULL;
    if (!m) {
        printf("spawn %s: %s\n", name, !ready ? "no system" : !prog ? "no such program" : "no module");
        return 0;
    }
    /* argv[0] is the program's name; then the caller's or the default words. */
    static char defaults[BOOTCONF_ARGS_MAX];
    const char *av[PROC_ARGS_MAX + 2] = { prog->name };
    unsigned ac = 1;
    if (argv) {
        for (; argv[ac - 1]; ac++) {
            if (ac > PROC_ARGS_MAX) {
                printf("spawn %s: more than %d arguments\n", name, PROC_ARGS_MAX);
                return 0;
            }
            av[ac] = argv[ac - 1];
        }
    } else {
        memcpy(defaults, prog->args, sizeof defaults);
        ac += split_args(defaults, av + 1, PROC_ARGS_MAX);
    }
    av[ac] = NULL;
    struct proc *p = proc_new(prog, parent);
    if (!p)
        return 0;
    p->system = spawning_system;
    p->supervised = prog->restart && !parent && !p->system && sup_ep;
    const char *step = "";
    unsigned long err = spawn_into(p, m, av, envp, &step);
    if (err) {
        printf("spawn %s: %s (%s)\n", name, step, ferry_error_name(err));
        proc_abandon(p);
        return 0;
    }
    return p->pid;
}

/* The supervisor: a supervised program that died (faulted or was killed)
 * has been torn down; reap it and start it again with its default
 * arguments.  It registers its names itself, as at its first start. */
static void supervise(struct proc *p, const char *why)
{
    if (!p->prog->restart || p->parent)
        return;
    if (p->supervised) {
        /* The supervisor process restarts it: it learns by the answer to
         * its PROC_FAULT, or (killed) by its notification. */
        p->awaiting = strcmp(why, "faulted") == 0 ? 1 : 2;
        if (p->awaiting == 2)
            ntfn_signal(sup_signal);
        return;
    }
    const struct bootconf_program *prog = p->prog;
    unsigned long old = p->pid;
    p->pid = 0;
    p->state = PROC_FREE;
    unsigned long pid = proc_spawn(prog->name, NULL, NULL);
    unsigned long n = ++restarts[prog - conf.prog];
    printf("supervisor: %s (pid %lu) %s: restarted as pid %lu (restart %lu)\n", prog->name, old, why,
           pid, n);
}

/* Stops every thread of p (before its memory goes). */
static void proc_suspend_all(struct proc *p)
{
    ferry_tcb_suspend(p->tcb);
    for (unsigned i = 1; i < PROC_THREADS_MAX; i++)
        if (p->threads[i].live)
            ferry_tcb_suspend(p->threads[i].tcb);
}

/* The name service ended (it faulted, exited or was killed): its entry
 * is reaped, it is started again and every running process gets the new
 * endpoint in PROC_CAP_NAMES (the old copies went with the old one).  The
 * new instance rebuilds its registry from this server's records
 * (PROC_NAMES_RESTORE), so services need not register again.  Called
 * where a request or a kill has been handled, never inside a teardown. */
static void sup_revive(void);
static void pager_revive(void);

/* Whether the server of the system what (pid) that just ended is started
 * again now (else it is held down, said on the console). */
static bool restart_allowed(struct restart_count *rc, const char *what, unsigned long pid)
{
    if (ending_by_kill || served - rc->started_at >= SYSTEM_QUICK_REQUESTS)
        rc->in_a_row = 0;
    if (!ending_by_kill && ++rc->in_a_row >= PROCSRV_SYSTEM_RESTARTS_IN_A_ROW) {
        printf("system: %s (pid %lu) ended %u times in a row within %u requests of starting: "
               "not started again (a crash loop)\n", what, pid, rc->in_a_row, SYSTEM_QUICK_REQUESTS);
        rc->in_a_row = 0;
        return false;
    }
    rc->started_at = served;
    return true;
}

static void names_revive(void)
{
    sup_revive();
    pager_revive();
    if (!names_down || names_hold)
        return;
    if (!restart_allowed(&names_rc, "name service " NAMES_PROGRAM, names_pid)) {
        names_hold = true;
        return;
    }
    struct proc *old = proc_find(names_pid);
    if (old && old->state == PROC_ZOMBIE) {
        old->pid = 0;
        old->state = PROC_FREE;
    }
    unsigned long was = names_pid;
    names_down = false;
    names_pid = spawn_system(NAMES_PROGRAM, 0, names_signal);
    if (!names_pid) {
        printf("system: name service %s (pid %lu) ended and could not be started again\n",
               NAMES_PROGRAM, was);
        return;
    }
    names_restarts++;
    unsigned given = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        struct proc *c = &procs[i];
        if (!c->pid || c->state != PROC_RUNNING || c->pid == names_pid)
            continue;
        unsigned long err = proc_give(c, PROC_CAP_NAMES, names_ep,
                                      FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT | FERRY_RIGHT_GRANT_REPLY, c->pid);
        if (err)
            printf("system: giving %s (pid %lu) the name service: %s\n", c->prog->name, c->pid,
                   ferry_error_name(err));
        else
            given++;
    }
    printf("system: name service %s (pid %lu) ended: restarted as pid %lu (restart %lu, %u processes told)\n",
           NAMES_PROGRAM, was, names_pid, names_restarts, given);
}

/* The supervisor ended: started again on the same endpoint, and signalled
 * so that it restarts what ended meanwhile (PROC_SUPERVISE_NEXT). */
static void sup_revive(void)
{
    if (!sup_down || sup_hold)
        return;
    if (!restart_allowed(&sup_rc, "supervisor " SUP_PROGRAM, sup_pid)) {
        sup_hold = true;
        return;
    }
    struct proc *old = proc_find(sup_pid);
    if (old && old->state == PROC_ZOMBIE) {
        old->pid = 0;
        old->state = PROC_FREE;
    }
    unsigned long was = sup_pid;
    sup_down = false;
    sup_pid = spawn_system(SUP_PROGRAM, sup_ep, sup_signal);
    if (!sup_pid) {
        printf("system: supervisor %s (pid %lu) ended and could not be started again\n", SUP_PROGRAM, was);
        return;
    }
    sup_restarts++;
    ntfn_signal(sup_signal);
    printf("system: supervisor %s (pid %lu) ended: restarted as pid %lu (restart %lu)\n", SUP_PROGRAM, was,
           sup_pid, sup_restarts);
}

/* The pager ended: started again on the same endpoint (faults queued on
 * it wait for the new one; a fault the dead one held is raised again when
 * its thread resumes). */
static void pager_revive(void)
{
    if (!pager_down || pager_hold)
        return;
    if (!restart_allowed(&pager_rc, "pager " PAGER_PROGRAM, pager_pid)) {
        pager_hold = true;              /* faults wait on its endpoint until system_pager_restart */
        return;
    }
    struct proc *old = proc_find(pager_pid);
    if (old && old->state == PROC_ZOMBIE) {
        old->pid = 0;
        old->state = PROC_FREE;
    }
    unsigned long was = pager_pid;
    pager_down = false;
    pager_pid = spawn_system(PAGER_PROGRAM, pager_ep, pager_signal);
    if (!pager_pid) {
        printf("system: pager %s (pid %lu) ended and could not be started again\n", PAGER_PROGRAM, was);
        return;
    }
    pager_restarts++;
    printf("system: pager %s (pid %lu) ended: restarted as pid %lu (restart %lu)\n", PAGER_PROGRAM, was,
           pager_pid, pager_restarts);
}

unsigned long procsrv_pager_restarts(void) { return pager_restarts; }

bool system_pager_restart(void)
{
    pager_hold = false;
    pager_rc.in_a_row = 0;
    pager_revive();
    return pager_pid && !pager_down;
}

bool system_supervisor_restart(void)
{
    sup_hold = false;
    sup_rc.in_a_row = 0;
    sup_revive();
    return sup_pid && !sup_down;
}

unsigned long procsrv_supervisor_restarts(void) { return sup_restarts; }

bool system_names_restart(void)
{
    names_hold = false;
    names_rc.in_a_row = 0;
    names_revive();
    return names_pid && !names_down;
}

unsigned long procsrv_names_restarts(void) { return names_restarts; }

bool proc_inject_fault(unsigned long pid)
{
    struct proc *p = proc_find(pid);
    unsigned long regs[FERRY_REG_COUNT];
    if (!p || p->state != PROC_RUNNING || ferry_tcb_read_registers(p->tcb, FERRY_REG_COUNT, regs))
        return false;
    regs[FERRY_REG_RIP] = 0;            /* nothing is mapped there: an instruction fetch fault */
    return ferry_tcb_write_registers(p->tcb, true, FERRY_REG_COUNT, regs) == FERRY_OK;
}

bool proc_freeze(unsigned long pid)
{
    struct proc *p = proc_find(pid);
    if (!p || p->state != PROC_RUNNING)
        return false;
    proc_suspend_all(p);
    return true;
}

static bool end_process(unsigned long pid, bool restart)
{
    struct proc *p = proc_find(pid);
    if (!p || p->state != PROC_RUNNING)
        return false;
    proc_suspend_all(p);
    proc_teardown(p);
    p->status = PROC_STATUS_KILLED;
    if (p->pid == names_pid && names_down) {
        names_hold = !restart;          /* proc_stop: it stays down until system_names_restart */
        ending_by_kill = true;
        names_revive();
        ending_by_kill = false;
        return true;
    }
    if (p->pid == sup_pid && sup_down) {
        sup_hold = !restart;            /* likewise, system_supervisor_restart */
        ending_by_kill = true;
        sup_revive();
        ending_by_kill = false;
        return true;
    }
    if (p->pid == pager_pid && pager_down) {
        ending_by_kill = true;
        pager_revive();                 /* the system cannot page without it: always */
        ending_by_kill = false;
        return true;
    }
    if (restart)
        supervise(p, "was killed");
    return true;
}

bool proc_kill(unsigned long pid) { return end_process(pid, true); }
bool proc_stop(unsigned long pid) { return end_process(pid, false); }

unsigned long proc_running(const char *name)
{
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        if (procs[i].pid && procs[i].state == PROC_RUNNING && strcmp(procs[i].prog->name, name) == 0)
            return procs[i].pid;
    return 0;
}

unsigned long procsrv_restarts(const char *name)
{
    const struct bootconf_program *prog = bootconf_find(&conf, name);
    return prog ? restarts[prog - conf.prog] : 0;
}

bool proc_wait(unsigned long pid, long *status)
{
    struct proc *p = proc_find(pid);
    if (!p)
        return false;
    while (p->state == PROC_RUNNING)
        procsrv_serve_one();
    *status = p->status;
    p->pid = 0;
    p->state = PROC_FREE;
    return true;
}

bool proc_info(unsigned long pid, struct proc_info *out)
{
    struct proc *p = proc_find(pid);
    if (!p)
        return false;
    *out = (struct proc_info){ .pid = p->pid, .state = p->state, .name = p->prog->name,
                               .status = p->status, .bytes = p->bytes, .messages = p->messages,
                               .faults = p->faults, .registered = p->registered };
    return true;
}

unsigned proc_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        n += procs[i].pid != 0 && !procs[i].system;
    return n;
}

unsigned proc_system_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++)
        n += procs[i].pid != 0 && procs[i].system;
    return n;
}

void proc_list(void)
{
    printf("  pid  name         state    memory  requests\n");
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        const struct proc *p = &procs[i];
        if (p->pid)
            printf("  %3lu  %-12s %-8s %5lu KiB  %lu\n", p->pid, p->prog->name,
                   p->state == PROC_RUNNING ? "running" : "exited", p->bytes >> 10, p->messages);
    }
}

/* ---- the pager ----------------------------------------------------------- */

static int region_of(const struct proc *p, unsigned long va)
{
    for (unsigned i = 0; i < p->nregions; i++)
        if (va >= p->regions[i].va && va - p->regions[i].va < p->regions[i].pages * 4096)
            return (int)i;
    return -1;
}

/* A free slot of p's range (one munmap or a copy-on-write freed, or the
 * next), with nothing made in it yet; 0 when none is left. */
static unsigned long slot_take(struct proc *p)
{
    if (p->nfree)
        return p->free_slots[--p->nfree];
    return p->next < p->slot0 + PROC_SLOTS ? p->next++ : 0;
}

static void slot_give(struct proc *p, unsigned long slot)
{
    ferry_cnode_delete(slot);
    p->free_slots[p->nfree++] = slot;
}

/* A frame for p: one munmap freed (zeroed first when zero; a frame the
 * caller fills whole need not be), else a new one from its block; its
 * slot or 0. */
static unsigned long frame_reuse(struct proc *p, bool zero);

static inline unsigned long frame_get(struct proc *p, bool zero)
{
    return p->nfree_frames ? frame_reuse(p, zero) : palloc(p, FERRY_OBJ_FRAME_4K, 0);
}

static unsigned long frame_reuse(struct proc *p, bool zero)
{
    unsigned long f = p->free_frames[p->nfree_frames - 1];
    if (zero) {
        if (ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, SCRATCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE))
            return 0;
        memset((void *)SCRATCH_VA, 0, 4096);
        if (ferry_frame_unmap(f))
            return 0;
    }
    p->nfree_frames--;
    p->bytes += 4096;
    return f;
}

/* A fresh frame of p's holding a copy of frame src (through the root
 * task's two scratch windows); its slot or 0. */
static unsigned long frame_copy(struct proc *p, unsigned long src)
{
    unsigned long f = frame_get(p, false);
    if (!f)
        return 0;
    bool ok = ferry_cnode_copy(temp_slot, src, FERRY_RIGHT_READ) == FERRY_OK;
    ok = ok && ferry_frame_map(temp_slot, FERRY_CAP_INIT_VSPACE, SCRATCH2_VA, FERRY_MAP_READ) == FERRY_OK;
    ok = ok && ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, SCRATCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE) == FERRY_OK;
    if (ok)
        memcpy((void *)SCRATCH_VA, (const void *)SCRATCH2_VA, 4096);
    ferry_frame_unmap(f);
    ferry_cnode_delete(temp_slot);            /* unmaps the source's window */
    if (!ok) {
        slot_give(p, f);
        return 0;
    }
    return f;
}

static void share_free(int i)
{
    shares[i].owner = 0;
}

/* p stops using a shared frame (munmap, exit, or a copy of its own): its
 * copy of the capability goes, or, if p made the frame, the original stays
 * (unmapped) while anybody uses it. */
static void share_leave(struct proc *p, struct page *pg)
{
    struct share *sh = &shares[pg->share];
    if (sh->owner == p->pid) {
        sh->owner_slot = pg->slot;
        ferry_frame_unmap(pg->slot);
    } else {
        slot_give(p, pg->slot);
    }
    if (--sh->users == 0) {
        struct proc *o = proc_find(sh->owner);
        if (o && o != p)
            slot_give(o, sh->owner_slot);
        else if (o == p && o->state == PROC_RUNNING)
            slot_give(p, sh->owner_slot);
        share_free(pg->share);
    }
    pg->share = -1;
}

/* The frames p made that others still use are copied for each of them
 * (p's block, and the frames in it, go whole when p ends). */
static void share_orphans(struct proc *p)
{
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        struct proc *q = &procs[i];
        if (!q->pid || q == p || q->state != PROC_RUNNING)
            continue;
        for (unsigned k = 0; k < q->npages; k++) {
            struct page *pg = &q->pages[k];
            if (pg->share < 0 || shares[pg->share].owner != p->pid)
                continue;
            unsigned long nf = frame_copy(q, pg->slot);
            int idx = pg->share;
            slot_give(q, pg->slot);
            if (--shares[idx].users == 0)
                share_free(idx);
            pg->share = -1;
            pg->slot = nf;
            if (!nf || ferry_frame_map(nf, q->vspace, pg->va, pg->rights))
                printf("pager: %s (pid %lu): no memory to keep page %#lx when pid %lu ended\n",
                       q->prog->name, q->pid, pg->va, p->pid);
        }
    }
}

/* Rights a page is mapped with while it is shared copy-on-write. */
static unsigned long cow_rights(unsigned rights)
{
    return rights & ~(unsigned long)FERRY_MAP_WRITE;
}

/* A write to a page shared copy-on-write: p gets a copy (or, when it is
 * the only user left of a frame it made, the frame itself back writable). */
static bool cow_fault(struct proc *p, struct page *pg)
{
    struct share *sh = &shares[pg->share];
    if (!sh->cow)
        return false;
    p->cow_faults++;
    if (sh->users == 1 && sh->owner == p->pid) {
        share_free(pg->share);
        pg->share = -1;
        cow_reuses++;
        return ferry_frame_unmap(pg->slot) == FERRY_OK &&
               ferry_frame_map(pg->slot, p->vspace, pg->va, pg->rights) == FERRY_OK;
    }
    unsigned long nf = frame_copy(p, pg->slot);
    if (!nf)
        return false;
    share_leave(p, pg);
    pg->slot = nf;
    cow_copies++;
    return ferry_frame_map(nf, p->vspace, pg->va, pg->rights) == FERRY_OK;
}

/* A page fault at addr: a zeroed page where p may have one and has none
 * yet (an anonymous region, or stack growth above the guard page), or a
 * copy of a page shared copy-on-write that p wrote; false (and why) for
 * anything else. */
static bool demand_page(struct proc *p, unsigned long addr, unsigned long error, const char **why)
{
    unsigned long va = addr & ~4095UL;
    bool stack = va >= PROC_STACK_TOP - PROC_STACK_MAX_PAGES * 4096UL &&
                 va < PROC_STACK_TOP - PROC_STACK_PAGES * 4096UL;
    *why = "outside its memory";
    if (error & 1) {
        struct page *pg = (error & 2) ? page_find(p, va) : NULL;
        *why = "a protection fault";     /* present: written read-only, or executed NX */
        return pg && pg->share >= 0 && (pg->rights & FERRY_MAP_WRITE) && cow_fault(p, pg);
    }
    if (va == PROC_STACK_TOP - (PROC_STACK_MAX_PAGES + 1) * 4096UL)
        *why = "the stack's guard page";
    if (!stack && region_of(p, va) < 0)
        return false;
    *why = "out of memory";
    if (p->npages == PROC_PAGES_MAX)
        return false;
    unsigned long f = frame_get(p, true);
    if (!f)
        return false;
    if (proc_pt_ensure(p, va) || ferry_frame_map(f, p->vspace, va, FERRY_MAP_READ | FERRY_MAP_WRITE)) {
        slot_give(p, f);
        return false;
    }
    page_add(p, va, f, FERRY_MAP_READ | FERRY_MAP_WRITE, -1);
    return true;
}

static unsigned long do_mmap_large(struct proc *p, unsigned long len, unsigned long *va)
{
    unsigned long n = (len + (1UL << 21) - 1) >> 21, at = (p->anon_next + (1UL << 21) - 1) & ~((1UL << 21) - 1);
    if (n == 0 || len > PROC_MMAP_LARGE_MAX)
        return PROC_E_BAD_REQUEST;
    /* The one large block is a right of the manifest (boot.conf:
     * mmap_large), or any process could hold it and starve the file
     * server's large RAM disk. */
    if (!p->prog->mmap_large) {
        printf("procsrv: pid %lu (%s) asked for the large region; its manifest lacks mmap_large: refused\n",
               p->pid, p->prog->name);
        return PROC_E_DENIED;
    }
    if (large_owner || PROC_ANON_TOP - at < (n << 21) + 4096)
        return PROC_E_NO_MEMORY;
    for (unsigned i = 0; i < sizeof large_slots / sizeof large_slots[0]; i++)
        if (!large_slots[i] && !(large_slots[i] = slot_alloc()))
            return PROC_E_NO_MEMORY;
    if (!large_block && !(large_block = object_alloc(FERRY_OBJ_UNTYPED, LARGE_BITS)))
        return PROC_E_NO_MEMORY;
    large_owner = p->pid;
    for (unsigned long i = 0; i < n; i++)
        if (ferry_untyped_retype(large_block, FERRY_OBJ_FRAME_2M, 0, large_slots[i], 1) ||
            ferry_frame_map(large_slots[i], p->vspace, at + (i << 21), FERRY_MAP_READ | FERRY_MAP_WRITE)) {
            large_free();
            return PROC_E_NO_MEMORY;
        }
    *va = large_va = at;
    large_len = len;
    p->anon_next = at + (n << 21) + 4096;
    p->bytes += n << 21;
    return PROC_OK;
}

static unsigned long do_mmap(struct proc *p, unsigned long len, bool shared, unsigned long *va)
{
    unsigned long pages = (len + 4095) / 4096;
    if (pages == 0 || pages > PROC_MMAP_MAX_PAGES)
        return PROC_E_BAD_REQUEST;
    if (p->nregions == PROC_REGIONS_MAX || PROC_ANON_TOP - p->anon_next < (pages + 1) * 4096)
        return PROC_E_NO_MEMORY;
    *va = p->anon_next;
    p->regions[p->nregions].va = *va;
    p->regions[p->nregions].shared = shared;
    p->regions[p->nregions++].pages = pages;
    p->anon_next += (pages + 1) * 4096;   /* an unmapped page after each region */
    return PROC_OK;
}

/* p's page k goes (unmapped; its slot reused; a shared frame left). */
static void page_drop(struct proc *p, unsigned k)
{
    struct page *pg = &p->pages[k];
    if (pg->share >= 0) {
        share_leave(p, pg);
    } else if (p->nfree_frames < PROC_PAGES_MAX && ferry_frame_unmap(pg->slot) == FERRY_OK) {
        p->free_frames[p->nfree_frames++] = pg->slot;   /* its next fault takes it */
        p->bytes -= 4096;
    } else {
        slot_give(p, pg->slot);    /* deleting a frame's only capability unmaps it */
    }
    *pg = p->pages[--p->npages];
}

static unsigned long do_munmap(struct proc *p, unsigned long va, unsigned long len)
{
    unsigned long pages = (len + 4095) / 4096;
    if (large_owner == p->pid && va == large_va && len == large_len) {
        large_free();
        p->bytes -= (len + (1UL << 21) - 1) >> 21 << 21;
        return PROC_OK;
    }
    for (unsigned i = 0; i < p->nregions; i++) {
        if (p->regions[i].va != va || p->regions[i].pages != pages)
            continue;
        p->regions[i] = p->regions[--p->nregions];
        /* Copies granted out go first: unmapped from the other process. */
        for (unsigned k = 0; k < p->ngranted;) {
            if (p->granted[k].va - va < pages * 4096) {
                slot_give(p, p->granted[k].slot);
                p->granted[k] = p->granted[--p->ngranted];
            } else {
                k++;
            }
        }
        for (unsigned k = 0; k < p->npages;) {
            if (p->pages[k].va - va < pages * 4096)
                page_drop(p, k);
            else
                k++;
        }
        return PROC_OK;
    }
    return PROC_E_BAD_REQUEST;
}

/* PROC_SHARE: region [va, va + len) of p (one PROC_MMAP gave), its pages
 * made now where not yet touched, mapped read-only into q at a fresh
 * address of q's anonymous range (not a region of q's: q cannot unmap it,
 * and a touch after p unmaps it ends q). */
static unsigned long do_share(struct proc *p, unsigned long va, unsigned long len, unsigned long pid,
                              unsigned long *out)
{
    struct proc *q = proc_find(pid);
    unsigned long pages = (len + 4095) / 4096;
    int r = region_of(p, va);
    if (r < 0 || p->regions[r].va != va || p->regions[r].pages != pages || p->regions[r].shared ||
        !q || q == p || q->state != PROC_RUNNING)
        return PROC_E_BAD_REQUEST;
    if (p->ngranted + pages > PROC_GRANTED_MAX || PROC_ANON_TOP - q->anon_next < (pages + 1) * 4096)
        return PROC_E_NO_MEMORY;
    unsigned long qva = q->anon_next;
    for (unsigned long i = 0; i < pages; i++) {
        unsigned long page = va + i * 4096;
        const char *why;
        struct page *pg = page_find(p, page);
        if (!pg && (!demand_page(p, page, 0, &why) || !(pg = page_find(p, page))))
            return PROC_E_NO_MEMORY;
        if (pg->share >= 0)
            return PROC_E_BAD_REQUEST;      /* a copy-on-write frame of a fork: not ours alone */
        unsigned long s = slot_take(p);
        if (!s || ferry_cnode_copy(s, pg->slot, FERRY_RIGHT_READ)) {
            if (s)
                p->free_slots[p->nfree++] = s;
            return PROC_E_NO_MEMORY;
        }
        p->granted[p->ngranted].va = page;
        p->granted[p->ngranted++].slot = s;
        if (proc_pt_ensure(q, qva + i * 4096) || ferry_frame_map(s, q->vspace, qva + i * 4096, FERRY_MAP_READ))
            return PROC_E_NO_MEMORY;
    }
    q->anon_next += (pages + 1) * 4096;
    *out = qva;
    return PROC_OK;
}

/* ---- requests ---------------------------------------------------------- */

/* The string of a request (w0 = length, bytes from word 1), copied into
 * buf (NUL-terminated); its length, or -1 when the message is malformed. */
static long request_string(const struct sys_msg *m, char *buf, size_t max)
{
    unsigned long len = m->w[0], words = FERRY_MSGINFO_LEN(m->info);
    if (len >= max || words < 1 + (len + 7) / 8)
        return -1;
    unsigned long w[1 + (PROC_MAX_PRINT + 7) / 8];
    for (unsigned long i = 1; i < 1 + (len + 7) / 8; i++)
        w[i] = i < FERRY_MSG_REG_WORDS ? m->w[i] : ulib_ipc->mr[i];
    memcpy(buf, &w[1], len);
    buf[len] = '\0';
    return (long)len;
}

static enum procsrv_event reply(unsigned long err, unsigned long w1)
{
    struct sys_msg r = { .info = FERRY_MSGINFO(0, 2, 0), .w = { err, w1 } };
    ipc_reply(&r);
    return PROCSRV_OTHER;
}

/* A reply of n words (w[0] the result), those past the registers
 * through the IPC buffer, and with it the capability in slot cap (0:
 * none). */
static enum procsrv_event reply_words_cap(const unsigned long *w, unsigned long n, unsigned long cap)
{
    struct sys_msg r = { .info = FERRY_MSGINFO(0, n, cap ? 1 : 0) };
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            r.w[i] = w[i];
        else
            ulib_ipc->mr[i] = w[i];
    }
    if (cap)
        ulib_ipc->caps_or_badges[0] = cap;
    ipc_reply(&r);
    return PROCSRV_OTHER;
}

static enum procsrv_event reply_words(const unsigned long *w, unsigned long n)
{
    return reply_words_cap(w, n, 0);
}

/* ---- requests of the name service ----------------------------------------- */

/* PROC_MANIFEST: the names pid may look up and register (its boot.conf
 * manifest), for the name service only. */
static enum procsrv_event do_manifest(struct proc *p, unsigned long pid)
{
    const struct proc *c = proc_find(pid);
    if (p->pid != names_pid || !c)
        return reply(PROC_E_BAD_REQUEST, 0);
    char buf[2 * BOOTCONF_NAMES_MAX * PROC_NAME_MAX + 8];
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        unsigned count = pass == 0 ? c->prog->nlookup : c->prog->nreg;
        for (unsigned i = 0; i < count; i++) {
            const char *name = pass == 0 ? c->prog->lookup[i] : c->prog->reg[i];
            size_t k = strlen(name) + 1;
            memcpy(buf + n, name, k);
            n += k;
        }
        buf[n++] = '\0';
    }
    unsigned long w[2 + sizeof buf / 8 + 1] = { PROC_OK, n };
    memcpy(&w[2], buf, n);
    return reply_words(w, 2 + (n + 7) / 8);
}

/* PROC_NAME_EVENT: the name service registered a name of pid's, or
 * refused pid a lookup (counted and logged here, where the console is). */
static enum procsrv_event do_name_event(struct proc *p, const struct sys_msg *m)
{
    struct proc *c = proc_find(m->w[0]);
    unsigned long len = m->w[2], words = FERRY_MSGINFO_LEN(m->info);
    char name[PROC_NAME_MAX];
    if (p->pid != names_pid || !c || len >= PROC_NAME_MAX || words < 3 + (len + 7) / 8)
        return reply(PROC_E_BAD_REQUEST, 0);
    unsigned long w[3 + PROC_NAME_MAX / 8];
    for (unsigned long i = 3; i < 3 + (len + 7) / 8; i++)
        w[i] = i < FERRY_MSG_REG_WORDS ? m->w[i] : ulib_ipc->mr[i];
    memcpy(name, &w[3], len);
    name[len] = '\0';
    if (m->w[1]) {
        if (c->registered < BOOTCONF_NAMES_MAX)
            memcpy(c->regnames[c->registered], name, len + 1);
        c->registered++;
    } else {
        refused++;
        printf("names: %s (pid %lu) may not look up %s: refused\n", c->prog->name, c->pid, name);
    }
    return reply(PROC_OK, 0);
}

/* PROC_NAMES_RESTORE: the index-th name a running process registered,
 * with a copy of its service endpoint (the one the process server made
 * for it, which its registration passed on), for a restarted name
 * service. */
static enum procsrv_event do_names_restore(struct proc *p, unsigned long index)
{
    if (p->pid != names_pid)
        return reply(PROC_E_BAD_REQUEST, 0);
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        const struct proc *c = &procs[i];
        if (!c->pid || c->state != PROC_RUNNING || !c->service_ep || c->system)
            continue;
        unsigned long n = c->registered < BOOTCONF_NAMES_MAX ? c->registered : BOOTCONF_NAMES_MAX;
        if (index >= n) {
            index -= n;
            continue;
        }
        const char *name = c->regnames[index];
        unsigned long len = strlen(name), words = 3 + (len + 7) / 8;
        unsigned long w[3 + PROC_NAME_MAX / 8] = { PROC_OK, c->pid, len };
        memcpy(&w[3], name, len);
        return reply_words_cap(w, words, c->service_ep);
    }
    return reply(PROC_E_NOT_FOUND, 0);
}

/* ---- requests of the supervisor ------------------------------------------- */

/* PROC_FAULT from the supervisor (a supervised service's fault) and
 * PROC_PAGE from the pager (any other process's): served here, where the
 * memory and the page records are.  The event is the faulting process's
 * (the benchmarks time page faults by it). */
static enum procsrv_event do_fault(struct proc *p, const struct sys_msg *m)
{
    struct proc *c = proc_find(m->w[0]);
    bool pager = FERRY_MSGINFO_LABEL(m->info) == PROC_PAGE;
    if (p->pid != (pager ? pager_pid : sup_pid) || !c || c->supervised == pager || c->system ||
        c->state != PROC_RUNNING || FERRY_MSGINFO_LEN(m->info) < 5)
        return reply(PROC_E_BAD_REQUEST, 0);
    unsigned long kind = m->w[1], addr = m->w[2], error = m->w[3], ip = ulib_ipc->mr[4];
    const char *why = "not a page fault";
    c->messages++;
    event_pid = c->pid;
    unsigned long cow0 = c->cow_faults;
    if (kind == FERRY_FAULT_PAGE && demand_page(c, addr, error, &why)) {
        bool cow = c->cow_faults != cow0;
        c->faults += !cow;
        reply(PROC_OK, 0);
        return cow ? PROCSRV_COW : PROCSRV_PAGE;
    }
    printf("procsrv: %s (pid %lu) faulted (%s): kind %lu at ip %#lx, address %#lx: ended\n",
           c->prog->name, c->pid, why, kind, ip, addr);
    proc_suspend_all(c);
    proc_teardown(c);
    c->status = PROC_STATUS_FAULTED;
    supervise(c, "faulted");
    reply(PROC_E_NOT_FOUND, 0);
    return PROCSRV_ENDED;
}

static enum procsrv_event do_supervise_next(struct proc *p)
{
    if (p->pid != sup_pid)
        return reply(PROC_E_BAD_REQUEST, 0);
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        struct proc *c = &procs[i];
        if (!c->pid || !c->awaiting)
            continue;
        unsigned long words = 4 + PROC_NAME_MAX / 8;
        struct sys_msg r = { .info = FERRY_MSGINFO(0, words, 0),
                             .w = { PROC_OK, c->pid, c->awaiting, (unsigned long)(c->prog - conf.prog) } };
        char name[PROC_NAME_MAX] = { 0 };
        for (unsigned k = 0; k < PROC_NAME_MAX - 1 && c->prog->name[k]; k++)
            name[k] = c->prog->name[k];
        memcpy(&ulib_ipc->mr[4], name, sizeof name);
        ipc_reply(&r);
        return PROCSRV_OTHER;
    }
    return reply(PROC_E_NOT_FOUND, 0);
}

static enum procsrv_event do_restart(struct proc *p, unsigned long pid)
{
    struct proc *c = proc_find(pid);
    if (p->pid != sup_pid || !c || !c->awaiting)
        return reply(PROC_E_BAD_REQUEST, 0);
    const struct bootconf_program *prog = c->prog;
    c->pid = 0;                         /* reaped by the supervisor */
    c->state = PROC_FREE;
    c->awaiting = 0;
    unsigned long npid = proc_spawn(prog->name, NULL, NULL);
    unsigned long n = ++restarts[prog - conf.prog];
    struct sys_msg r = { .info = FERRY_MSGINFO(0, 3, 0), .w = { npid ? PROC_OK : PROC_E_NO_MEMORY, npid, n } };
    ipc_reply(&r);
    return PROCSRV_OTHER;
}

/* ---- processes that make processes and threads ---------------------------- */

/* PROC_FORK: a child with a copy of p's address space, every page shared
 * (a writable one copy-on-write: read-only in both until one writes it;
 * MAP_SHARED regions stay shared and writable), its own IPC buffer, the
 * capabilities every process has, and one thread started at rip with rsp
 * and rdi (the libc's fork resumes the caller's saved state there). */
static unsigned long do_fork(struct proc *p, unsigned long rip, unsigned long rsp, unsigned long rdi,
                             unsigned long *child)
{
    struct proc *c = proc_new(p->prog, p->pid);
    if (!c)
        return PROC_E_NO_MEMORY;
    const char *step = "";
    unsigned long err = proc_spaces(c, &step);
    unsigned long ipc = 0;
    if (!err)
        err = proc_give_common(c);
    if (!err && !(ipc = ipc_buffer_page(c, PROC_IPC_BUFFER)))
        err = FERRY_E_NO_MEMORY;
    /* PROC_NOTIFICATION's slots: copied from the parent's CNode (a slot
     * whose notification went with its maker stays empty) */
    for (unsigned i = 0; !err && i < PROC_NTFNS; i++) {
        const unsigned long w[FERRY_CNODE_COPY_NARGS] = {
            [FERRY_CNODE_ARG_DEST_INDEX] = PROC_NTFN_SLOT0 + i, [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
            [FERRY_CNODE_ARG_SRC_INDEX] = PROC_NTFN_SLOT0 + i, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
            [FERRY_CNODE_ARG_RIGHTS] = FERRY_RIGHTS_ALL };
        if ((p->fork_ntfns & 1U << i) &&
            !ferry_invoke(c->cspace, FERRY_CNODE_COPY, FERRY_CNODE_COPY_NARGS, w, 1, &p->cspace, NULL))
            c->fork_ntfns |= 1U << i;
    }
    for (unsigned k = 0; !err && k < p->npages; k++) {
        struct page *pg = &p->pages[k];
        int r = region_of(p, pg->va);
        bool shared = r >= 0 && p->regions[r].shared;
        if (pg->share < 0) {
            int i = 0;
            while (i < SHARES_MAX && shares[i].owner)
                i++;
            if (i == SHARES_MAX) {
                err = FERRY_E_NO_MEMORY;
                break;
            }
            shares[i] = (struct share){ .owner = p->pid, .users = 1,
                                        .cow = (pg->rights & FERRY_MAP_WRITE) && !shared };
            pg->share = i;
            if (shares[i].cow && (ferry_frame_unmap(pg->slot) ||
                                  ferry_frame_map(pg->slot, p->vspace, pg->va, cow_rights(pg->rights)))) {
                err = FERRY_E_INVALID_ARG;
                break;
            }
        }
        struct share *sh = &shares[pg->share];
        unsigned long slot = slot_take(c);
        if (!slot || c->npages == PROC_PAGES_MAX) {
            err = FERRY_E_NO_MEMORY;
            break;
        }
        if ((err = ferry_cnode_copy(slot, pg->slot, FERRY_RIGHTS_ALL)) ||
            (err = proc_pt_ensure(c, pg->va)) ||
            (err = ferry_frame_map(slot, c->vspace, pg->va, sh->cow ? cow_rights(pg->rights) : pg->rights))) {
            slot_give(c, slot);
            break;
        }
        sh->users++;
        page_add(c, pg->va, slot, pg->rights, pg->share);
    }
    if (!err) {
        memcpy(c->regions, p->regions, sizeof p->regions);
        c->nregions = p->nregions;
        c->anon_next = p->anon_next;
        c->tcb = palloc(c, FERRY_OBJ_TCB, 0);
        err = c->tcb ? proc_thread_start(c, c->tcb, ipc, PROC_IPC_BUFFER, rip, rsp,
                                    (const unsigned long[3]){ rdi, 0, 0 })
                     : FERRY_E_NO_MEMORY;
    }
    if (err) {
        printf("fork of %s (pid %lu): %s\n", p->prog->name, p->pid, ferry_error_name(err));
        proc_abandon(c);
        return PROC_E_NO_MEMORY;
    }
    *child = c->pid;
    return PROC_OK;
}

/* PROC_SPAWN: the request's bytes (ferry/spawnmsg.h). */
static unsigned long do_spawn_request(struct proc *p, const char *buf, long len, unsigned long *pid)
{
    const char *name, *argv[PROC_ARGS_MAX + 1], *envp[PROC_ARGS_MAX + 1];
    if (!spawnmsg_parse(buf, (size_t)len, &name, argv, envp, PROC_ARGS_MAX))
        return PROC_E_BAD_REQUEST;
    if (!bootconf_find(&conf, name))
        return PROC_E_NOT_FOUND;
    *pid = spawn_child(name, argv, envp, p->pid);
    return *pid ? PROC_OK : PROC_E_NO_MEMORY;
}

/* PROC_WAIT: reaps an ended child of p (pid, or any for -1). */
/* PROC_EXEC: p's image replaced in place by a program of boot.conf (the
 * request as PROC_SPAWN's): the same pid, parent and children; its
 * threads, memory, capabilities and registered names go as at exit and
 * are made anew as at spawn (no longer supervised: its faults go to the
 * pager).  Refused with p untouched for an unknown program or an image
 * that does not load; never answered when it succeeds (the calling
 * thread is gone).  If the new image cannot be built after the old one
 * went, the process ends with status 127. */
static enum procsrv_event do_exec(struct proc *p, const char *buf, long len)
{
    const char *name, *args[PROC_ARGS_MAX + 1], *envp[PROC_ARGS_MAX + 1];
    if (p->system || len < 0 || !spawnmsg_parse(buf, (size_t)len, &name, args, envp, PROC_ARGS_MAX))
        return reply(PROC_E_BAD_REQUEST, 0);
    const struct bootconf_program *prog = bootconf_find(&conf, name);
    const struct module *m = prog ? module_find(prog->module) : NULL;
    if (!m)
        return reply(PROC_E_NOT_FOUND, 0);
    static struct elf_page plan[PROC_IMAGE_PAGES_MAX];
    size_t npages;
    unsigned long entry;
    if (elf_load_plan(m->data, m->size, PROC_IMAGE_TOP, &entry, plan, PROC_IMAGE_PAGES_MAX, &npages))
        return reply(PROC_E_BAD_NAME, 0);       /* not an image: ENOEXEC */
    const char *av[PROC_ARGS_MAX + 2] = { prog->name };
    unsigned ac = 1;
    for (; args[ac - 1]; ac++)
        av[ac] = args[ac - 1];
    av[ac] = NULL;
    proc_suspend_all(p);
    proc_release(p);
    p->prog = prog;
    p->faults = p->cow_faults = 0;
    p->anon_next = PROC_ANON_BASE;
    p->service_ep = p->notify = 0;
    p->supervised = false;
    p->awaiting = 0;
    p->registered = 0;
    const char *step = "";
    unsigned long err = spawn_into(p, m, av, envp, &step);
    if (err) {
        printf("exec %s (pid %lu): %s (%s): ended\n", name, p->pid, step, ferry_error_name(err));
        proc_teardown(p);
        p->status = 127;
        return PROCSRV_ENDED;
    }
    return PROCSRV_OTHER;
}

static enum procsrv_event do_wait(struct proc *p, long pid)
{
    bool any = false;
    for (unsigned i = 0; i < PROCSRV_MAX_PROCS; i++) {
        struct proc *c = &procs[i];
        if (!c->pid || c->parent != p->pid || (pid != -1 && c->pid != (unsigned long)pid))
            continue;
        any = true;
        if (c->state != PROC_ZOMBIE)
            continue;
        struct sys_msg r = { .info = FERRY_MSGINFO(0, 3, 0), .w = { PROC_OK, c->pid, (unsigned long)c->status } };
        c->pid = 0;
        c->state = PROC_FREE;
        ipc_reply(&r);
        return PROCSRV_OTHER;
    }
    return reply(any ? PROC_E_AGAIN : PROC_E_NO_CHILD, 0);
}

/* PROC_THREAD: another thread of p in its spaces, with its own IPC buffer
 * (PROC_IPC_BUFFER + k pages) and FS base; its number k. */
static unsigned long do_thread(struct proc *p, const unsigned long w[5], unsigned long *k_out)
{
    unsigned k = 1;
    while (k < PROC_THREADS_MAX && p->threads[k].live)
        k++;
    if (k == PROC_THREADS_MAX)
        return PROC_E_NO_MEMORY;
    unsigned long va = PROC_IPC_BUFFER + k * 4096UL;
    if (!p->threads[k].tcb) {       /* made once, reused by later threads */
        p->threads[k].tcb = palloc(p, FERRY_OBJ_TCB, 0);
        p->threads[k].ipc = p->threads[k].tcb ? ipc_buffer_page(p, va) : 0;
        if (!p->threads[k].ipc)
            return PROC_E_NO_MEMORY;
    }
    /* A reused TCB keeps its IPC buffer: configure it again all the same. */
    if (proc_thread_start(p, p->threads[k].tcb, p->threads[k].ipc, va, w[0], w[1], w + 2))
        return PROC_E_BAD_REQUEST;
    p->threads[k].live = true;
    *k_out = k;
    return PROC_OK;
}

static enum procsrv_event do_thread_exit(struct proc *p, unsigned long k)
{
    if (k == 0 || k >= PROC_THREADS_MAX || !p->threads[k].live)
        return reply(PROC_E_BAD_REQUEST, 0);
    ferry_tcb_suspend(p->threads[k].tcb);    /* drops its reply link: no answer goes */
    p->threads[k].live = false;
    return PROCSRV_OTHER;
}

/* Answers one request; PROCSRV_ENDED when the process is gone. */
static enum procsrv_event handle_request(struct proc *p, const struct sys_msg *mp);

static inline enum procsrv_event serve(const struct sys_msg *mp) __attribute__((always_inline));
static enum procsrv_event control(const struct sys_msg *m);

enum procsrv_event procsrv_serve_one(void)
{
    struct sys_msg m = { 0 };
    if (ipc_recv(server_ep, &m))
        return PROCSRV_OTHER;
    bool from_root = m.badge == PROC_CTL_BADGE;
    event_pid = 0;
    enum procsrv_event e = serve(&m);
    event_tsc = tsc_begin();
    if (!from_root) {
        /* A record for the root task; the notification only if it waits
         * for one (the read of waiting after the write of head: one of the
         * two sides sees the other's write). */
        unsigned long h = shared->head;
        shared->rec[h % PROCSRV_RING] = (struct procsrv_record){ event_tsc, (uint32_t)event_pid, e };
        __atomic_store_n(&shared->head, h + 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&shared->waiting, __ATOMIC_SEQ_CST)) {
            shared->waiting = 0;
            ntfn_signal(shared->events);
        }
    }
    return e;
}

bool proc_hold_next(unsigned long pid)
{
    struct proc *p = proc_find(pid);
    if (!p || p->state != PROC_RUNNING)
        return false;
    hold_pid = pid;
    return true;
}

/* Handles one message received on server_ep (inlined: the copy of the
 * message folds away, as when this was procsrv_serve_one's own body). */
static inline enum procsrv_event serve(const struct sys_msg *mp)
{
    const struct sys_msg m = *mp;
    served++;
    if (m.badge == PROC_CTL_BADGE)
        return control(&m);
    struct proc *p = proc_find(m.badge & ~FAULT_BADGE);
    if (!p || p->state != PROC_RUNNING)
        return PROCSRV_OTHER;           /* nobody to answer */
    p->messages++;
    event_pid = p->pid;
    if (p->pid == hold_pid && !(m.badge & FAULT_BADGE)) {
        /* Left unanswered: the next Recv drops the reply right and the
         * caller wakes with an error, unless it ends first. */
        hold_pid = 0;
        return PROCSRV_OTHER;
    }
    if (m.badge & FAULT_BADGE) {
        const char *why = "not a page fault";
        unsigned long cow0 = p->cow_faults;
        if (FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE &&
            demand_page(p, m.w[FERRY_FAULT_MR_ADDR], m.w[FERRY_FAULT_MR_ERROR], &why)) {
            bool cow = p->cow_faults != cow0;
            p->faults += !cow;
            struct sys_msg r = { .info = FERRY_MSGINFO(0, 0, 0) };
            ipc_reply(&r);                  /* resumes it at the faulting instruction */
            return cow ? PROCSRV_COW : PROCSRV_PAGE;
        }
        printf("procsrv: %s (pid %lu) faulted (%s): kind %lu at ip %#lx, address %#lx: ended\n",
               p->prog->name, p->pid, why, FERRY_MSGINFO_LABEL(m.info), m.w[FERRY_FAULT_MR_IP],
               m.w[FERRY_FAULT_MR_ADDR]);
        proc_teardown(p);
        p->status = PROC_STATUS_FAULTED;
        supervise(p, "faulted");
        names_revive();
        return PROCSRV_ENDED;
    }
    enum procsrv_event e = handle_request(p, &m);
    names_revive();                     /* if this request ended the name service */
    return e;
}

static enum procsrv_event handle_request(struct proc *p, const struct sys_msg *mp)
{
    const struct sys_msg m = *mp;
    char buf[PROC_MAX_PRINT + 1];
    long len;
    switch (FERRY_MSGINFO_LABEL(m.info)) {
    case PROC_EXIT:
        proc_teardown(p);
        p->status = (long)m.w[0];
        return PROCSRV_ENDED;
    case PROC_PRINT:
        if ((len = request_string(&m, buf, sizeof buf)) < 0)
            return reply(PROC_E_BAD_REQUEST, 0);
        puts_raw(buf, (size_t)len);
        return reply(PROC_OK, 0);
    case PROC_MANIFEST:
        return do_manifest(p, m.w[0]);
    case PROC_NAME_EVENT:
        return do_name_event(p, &m);
    case PROC_NAMES_RESTORE:
        return do_names_restore(p, m.w[0]);
    case PROC_FAULT:
    case PROC_PAGE:
        return do_fault(p, &m);
    case PROC_SUPERVISE_NEXT:
        return do_supervise_next(p);
    case PROC_RESTART:
        return do_restart(p, m.w[0]);
    case PROC_GETPID: {
        unsigned long parent = p->parent == PROC_ORPHAN ? 0 : p->parent;
        struct sys_msg r = { .info = FERRY_MSGINFO(0, 3, 0), .w = { PROC_OK, p->pid, parent } };
        ipc_reply(&r);
        return PROCSRV_OTHER;
    }
    case PROC_MMAP: {
        bool shared = FERRY_MSGINFO_LEN(m.info) >= 2 && m.w[1] == 1;
        bool large = FERRY_MSGINFO_LEN(m.info) >= 2 && m.w[1] == PROC_MMAP_LARGE;
        unsigned long va = 0, err = large ? do_mmap_large(p, m.w[0], &va) : do_mmap(p, m.w[0], shared, &va);
        return reply(err, va);
    }
    case PROC_SPAWN: {
        unsigned long pid = 0;
        len = request_string(&m, buf, sizeof buf);
        unsigned long err = len < 0 ? PROC_E_BAD_REQUEST : do_spawn_request(p, buf, len, &pid);
        return reply(err, pid);
    }
    case PROC_EXEC:
        return do_exec(p, buf, request_string(&m, buf, sizeof buf));
    case PROC_WAIT:
        return do_wait(p, (long)m.w[0]);
    case PROC_FORK: {
        unsigned long child = 0, err = FERRY_MSGINFO_LEN(m.info) < 3 ? PROC_E_BAD_REQUEST
                                                               : do_fork(p, m.w[0], m.w[1], m.w[2], &child);
        reply(err, child);
        return PROCSRV_FORK;
    }
    case PROC_THREAD: {
        if (FERRY_MSGINFO_LEN(m.info) < 5)
            return reply(PROC_E_BAD_REQUEST, 0);
        const unsigned long w[5] = { m.w[0], m.w[1], m.w[2], m.w[3], ulib_ipc->mr[4] };
        unsigned long k = 0, err = do_thread(p, w, &k);
        return reply(err, k);
    }
    case PROC_THREAD_EXIT:
        return do_thread_exit(p, m.w[0]);
    case PROC_THREAD_JOIN:
        return reply(m.w[0] && m.w[0] < PROC_THREADS_MAX && p->threads[m.w[0]].live ? PROC_E_AGAIN : PROC_OK, 0);
    case PROC_MUNMAP:
        return reply(do_munmap(p, m.w[0], m.w[1]), 0);
    case PROC_SHARE: {
        unsigned long va = 0, err = do_share(p, m.w[0], m.w[1], m.w[2], &va);
        return reply(err, va);
    }
    case PROC_NOTIFICATION: {
        /* a notification from p's block into its slot w0 (the old one, if
         * any, deleted there and here: copies a fork made stay alive) */
        unsigned long i = m.w[0] - PROC_NTFN_SLOT0, s, err;
        const unsigned long del[FERRY_CNODE_DELETE_NARGS] = { [FERRY_CNODE_ARG_INDEX] = m.w[0],
                                                             [FERRY_CNODE_ARG_DEPTH] = 64 };
        if (m.w[0] < PROC_NTFN_SLOT0 || i >= PROC_NTFNS)
            return reply(PROC_E_BAD_REQUEST, 0);
        ferry_invoke(p->cspace, FERRY_CNODE_DELETE, FERRY_CNODE_DELETE_NARGS, del, 0, NULL, NULL);
        if (p->ntfn_root[i]) {
            slot_give(p, p->ntfn_root[i]);
            p->ntfn_root[i] = 0;
        }
        if (!(s = palloc(p, FERRY_OBJ_NOTIFICATION, 0)))
            return reply(PROC_E_NO_MEMORY, 0);
        if ((err = proc_give(p, m.w[0], s, FERRY_RIGHTS_ALL, PROC_NTFN_BADGE))) {
            slot_give(p, s);
            return reply(PROC_E_NO_MEMORY, 0);
        }
        p->ntfn_root[i] = s;
        p->fork_ntfns |= 1U << i;
        return reply(PROC_OK, 0);
    }
    case PROC_ALIVE: {
        unsigned long alive = 0;
        for (unsigned i = 0; i < PROC_ALIVE_MAX && i < FERRY_MSGINFO_LEN(m.info); i++) {
            struct proc *q = m.w[i] ? proc_find(m.w[i]) : NULL;
            if (q && q->state == PROC_RUNNING)
                alive |= 1UL << i;
        }
        return reply(PROC_OK, alive);
    }
    default:
        return reply(PROC_E_BAD_REQUEST, 0);
    }
}

/* ---- the control interface (ferry/procctl.h) ------------------------------ */

/* A control request: only ever from the control capability (the caller
 * checked the badge), so from the root task. */
static enum procsrv_event control(const struct sys_msg *m)
{
    unsigned long label = FERRY_MSGINFO_LABEL(m->info), pid = m->w[0];
    char buf[PROC_MAX_PRINT + 1];
    long len;
    switch (label) {
    case PROC_CTL_SPAWN: {
        bool defaults = m->w[0] & PROC_CTL_SPAWN_DEFAULTS, marked = m->w[0] & PROC_CTL_SPAWN_MARKED;
        struct sys_msg c = *m;
        c.w[0] &= 0xffffffffUL;
        const char *name, *argv[PROC_ARGS_MAX + 2], *envp[PROC_ARGS_MAX + 2];
        if ((len = request_string(&c, buf, sizeof buf)) < 0 ||
            !spawnmsg_parse(buf, (size_t)len, &name, argv, envp, PROC_ARGS_MAX + 1))
            return reply(PROC_E_BAD_REQUEST, 0);
        for (unsigned i = 0; marked && argv[i]; i++)
            argv[i]++;                  /* the leading byte (procctl.h) */
        for (unsigned i = 0; marked && envp[i]; i++)
            envp[i]++;
        unsigned long npid = proc_spawn(name, defaults ? NULL : argv, envp);
        return reply(npid ? PROC_OK : bootconf_find(&conf, name) ? PROC_E_NO_MEMORY : PROC_E_NOT_FOUND, npid);
    }
    case PROC_CTL_WAIT: {
        struct proc *p = proc_find(pid);
        if (!p)
            return reply(PROC_E_NOT_FOUND, 0);
        if (p->state == PROC_RUNNING)
            return reply(PROC_E_AGAIN, 0);
        long status = p->status;
        p->pid = 0;
        p->state = PROC_FREE;
        return reply(PROC_OK, (unsigned long)status);
    }
    case PROC_CTL_KILL:
    case PROC_CTL_STOP:
    case PROC_CTL_FREEZE:
    case PROC_CTL_INJECT_FAULT:
    case PROC_CTL_HOLD: {
        bool ok = label == PROC_CTL_KILL ? proc_kill(pid) : label == PROC_CTL_STOP ? proc_stop(pid)
                : label == PROC_CTL_FREEZE ? proc_freeze(pid) : label == PROC_CTL_HOLD ? proc_hold_next(pid)
                : proc_inject_fault(pid);
        reply(ok ? PROC_OK : PROC_E_NOT_FOUND, 0);
        names_revive();                 /* if this ended the name service */
        return PROCSRV_OTHER;
    }
    case PROC_CTL_INFO: {
        struct proc_info pi;
        if (!proc_info(pid, &pi))
            return reply(PROC_E_NOT_FOUND, 0);
        const unsigned long w[7] = { PROC_OK, pi.state, (unsigned long)pi.status, pi.bytes, pi.messages,
                                     pi.faults, pi.registered };
        return reply_words(w, 7);
    }
    case PROC_CTL_RUNNING:
    case PROC_CTL_RESTARTS:
        if ((len = request_string(m, buf, sizeof buf)) < 0)
            return reply(PROC_E_BAD_REQUEST, 0);
        return reply(PROC_OK, label == PROC_CTL_RUNNING ? proc_running(buf) : procsrv_restarts(buf));
    case PROC_CTL_COUNTERS: {
        const unsigned long w[9] = { PROC_OK, proc_count(), proc_system_count(), refused, cow_copies,
                                     cow_reuses, names_restarts, sup_restarts, pager_restarts };
        return reply_words(w, 9);
    }
    case PROC_CTL_MEMORY: {
        const unsigned long w[3] = { PROC_OK, mm_free_bytes(), mm_blocks() };
        return reply_words(w, 3);
    }
    case PROC_CTL_SYSTEM_RESTART: {
        bool ok = pid == PROC_CTL_NAMES ? system_names_restart()
                : pid == PROC_CTL_SUPERVISOR ? system_supervisor_restart()
                : pid == PROC_CTL_PAGER && system_pager_restart();
        return reply(ok ? PROC_OK : PROC_E_NO_SERVICE, 0);
    }
    case PROC_CTL_LIST:
        proc_list();
        return reply(PROC_OK, 0);
    case PROC_CTL_NOTIFICATION: {
        ctl_notify_given = true;
        struct sys_msg r = { .info = FERRY_MSGINFO(0, 1, 1), .w = { PROC_OK } };
        ulib_ipc->caps_or_badges[0] = ctl_notify;
        ipc_reply(&r);
        return PROCSRV_OTHER;
    }
    default:
        return reply(PROC_E_BAD_REQUEST, 0);
    }
}

unsigned long procsrv_control_cap(void) { return ctl_cap; }

bool system_start(void)
{
    bool ok = true;
    /* The boot services first (start with restart: the serial driver), so
     * that the programs after them find their names: each is spawned and
     * served until it has registered, then left running. */
    for (unsigned i = 0; i < conf.n; i++) {
        if (!conf.prog[i].start || !conf.prog[i].restart)
            continue;
        unsigned long pid = proc_spawn(conf.prog[i].name, NULL, NULL);
        struct proc_info pi;
        while (pid && proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
            procsrv_serve_one();
        bool up = pid && proc_info(pid, &pi) && pi.state == PROC_RUNNING;
        printf("system: service %s %s (pid %lu)\n", conf.prog[i].name, up ? "started" : "failed", pid);
        ok = ok && up;
    }
    for (unsigned i = 0; i < conf.n; i++) {
        if (!conf.prog[i].start || conf.prog[i].restart)
            continue;
        unsigned long pid = proc_spawn(conf.prog[i].name, NULL, NULL);
        long status = -1;
        printf("system: started %s (pid %lu)\n", conf.prog[i].name, pid);
        if (!pid || !proc_wait(pid, &status) || status != 0) {
            printf("system: %s ended with status %ld\n", conf.prog[i].name, status);
            ok = false;
        }
    }
    return ok;
}
