/* procsrv_client.c: the root task's side of the process server: starts
 * procsrv.elf (a boot module) as a process of its own, in a CNode and
 * VSpace of its own, and offers procsrv.h's functions to the tests and
 * benchmarks as stubs over the control interface (ferry/procctl.h) and
 * the ring of records on the page they share. */
#include <ferry/elf_load.h>
#include <ferry/ipc.h>
#include <ferry/proc.h>
#include <ferry/procctl.h>
#include <ferry/ulib.h>
#include "../servers/procsrv.h"

#define MODULE_WINDOW   0x0c000000UL   /* the boot modules, read-only (as in the server) */
#define SCRATCH_VA      0x0d000000UL   /* a frame being filled for the server */
#define PROCSRV_MODULE  "procsrv.elf"
/* Above the programs (100) and below the root task (255): it runs when
 * the root task waits, and a program runs when the server waits. */
#define PROCSRV_PRIO    150
#define PROCSRV_STACK_PAGES 16
#define PROCSRV_IMAGE_PAGES_MAX 512
/* Its memory: untyped capabilities made from the root task's and moved
 * into its CNode (the blocks of up to PROCSRV_MAX_PROCS processes and the
 * system's own objects). */
/* 64 MiB for the processes; 32 MiB: the block of large regions (PROC_MMAP_LARGE: a RAM disk;
 * docs/io.md); 16 MiB more */
static const unsigned procsrv_untyped_bits[] = { 26, 25, 24 };   /* largest first: no alignment gaps */
#define PROCSRV_UNTYPEDS (sizeof procsrv_untyped_bits / sizeof procsrv_untyped_bits[0])

static struct bootconf conf;
static bool ready;
static struct procsrv_shared *const shared = (struct procsrv_shared *)PROCSRV_SHARED_VA;
static unsigned long events;            /* the event notification (root slot) */
static struct procctl ctl;              /* the control capability and its notification */
static unsigned long tail, lost, last_pid;
static uint64_t last_tsc;

bool system_ready(void) { return ready; }
const struct bootconf *system_conf(void) { return &conf; }
unsigned long procsrv_control_cap(void) { return ctl.cap; }

/* ---- starting the server ------------------------------------------------ */

struct module {
    char name[64];
    const unsigned char *data;
    unsigned long size;
};


/* Maps every module read-only (as the server does in its own VSpace),
 * once; then finds name (the server's image, boot.conf). */
static bool module_find(const struct ferry_bootinfo_modules *mi, const char *name, struct module *out)
{
    static struct pt_set pts = { .vspace = FERRY_CAP_INIT_VSPACE };
    static bool mapped;
    unsigned long va = MODULE_WINDOW;
    for (unsigned long i = 0; i < mi->count; i++) {
        const struct ferry_module_desc *d = &mi->m[i];
        unsigned long base = va;
        for (unsigned long s = d->frames.start; s < d->frames.end; s++, va += 4096)
            if (!mapped && (pt_ensure(&pts, va) || ferry_frame_map(s, FERRY_CAP_INIT_VSPACE, va, FERRY_MAP_READ)))
                return false;
        bootconf_module_name(d->name, out->name, sizeof out->name);
        out->data = (const unsigned char *)(base + (d->paddr & 0xfff));
        out->size = d->size;
        if (strcmp(out->name, name) == 0) {
            /* the rest mapped too before the next search */
            for (unsigned long j = i + 1; !mapped && j < mi->count; j++)
                for (unsigned long s = mi->m[j].frames.start; s < mi->m[j].frames.end; s++, va += 4096)
                    if (pt_ensure(&pts, va) || ferry_frame_map(s, FERRY_CAP_INIT_VSPACE, va, FERRY_MAP_READ))
                        return false;
            mapped = true;
            return true;
        }
    }
    mapped = true;
    return false;
}

/* Slot dest of the server's CNode gets root slot src: copied, or moved (label). */
static unsigned long give(unsigned long cnode, unsigned long dest, unsigned long src, unsigned long label)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    const unsigned long w[FERRY_CNODE_COPY_NARGS] = {
        [FERRY_CNODE_ARG_DEST_INDEX] = dest, [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
        [FERRY_CNODE_ARG_SRC_INDEX] = src, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
        [FERRY_CNODE_ARG_RIGHTS] = FERRY_RIGHTS_ALL,
    };
    return ferry_invoke(cnode, label, label == FERRY_CNODE_MOVE ? FERRY_CNODE_MOVE_NARGS : FERRY_CNODE_COPY_NARGS,
                        w, 1, &root, NULL);
}

/* A fresh frame mapped at va in vspace with rights, holding n bytes of
 * src at off (the rest zero); its slot or 0. */
static unsigned long page_into(struct pt_set *pts, unsigned long va, unsigned long rights, const void *src,
                               size_t off, size_t n)
{
    unsigned long f = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    if (!f || ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, SCRATCH_VA, FERRY_MAP_READ | FERRY_MAP_WRITE))
        return 0;
    if (n)
        memcpy((char *)SCRATCH_VA + off, src, n);
    if (ferry_frame_unmap(f) || pt_ensure(pts, va) || ferry_frame_map(f, pts->vspace, va, rights))
        return 0;
    return f;
}

static bool start_server(const struct ferry_bootinfo *bi, const struct module *m)
{
    static struct elf_page pages[PROCSRV_IMAGE_PAGES_MAX];
    size_t npages;
    unsigned long entry, err = 0;
    const char *step = elf_load_plan(m->data, m->size, PROC_IMAGE_TOP, &entry, pages, PROCSRV_IMAGE_PAGES_MAX,
                                     &npages);
    if (step)
        goto fail;
    step = "objects";
    unsigned long cnode = object_alloc(FERRY_OBJ_CNODE, bi->cnode_radix), cspace = slot_alloc();
    unsigned long vspace = vspace_create(), tcb = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long pdpt = object_alloc(FERRY_OBJ_PDPT, 0), pd = object_alloc(FERRY_OBJ_PD, 0);
    unsigned long ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    events = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
    ctl.cap = slot_alloc();
    if (!cnode || !cspace || !vspace || !tcb || !pdpt || !pd || !ep || !events || !ctl.cap)
        goto fail;
    if ((err = ferry_cnode_mint(cspace, cnode, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 64 - bi->cnode_radix))) ||
        (err = ferry_cnode_mint(ctl.cap, ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, PROC_CTL_BADGE)) ||
        (err = ferry_table_map(pdpt, vspace, 0)) || (err = ferry_table_map(pd, vspace, 0)))
        goto fail;
    struct pt_set pts = { .vspace = vspace };
    static struct pt_set root_pts = { .vspace = FERRY_CAP_INIT_VSPACE };
    if (pt_ensure(&root_pts, SCRATCH_VA))
        goto fail;
    step = "image";
    for (size_t i = 0; i < npages; i++)
        if (!page_into(&pts, pages[i].va, pages[i].rights, m->data + pages[i].src_off, pages[i].dst_off, pages[i].n))
            goto fail;
    step = "stack and IPC buffer";
    for (unsigned i = 1; i <= PROCSRV_STACK_PAGES; i++)
        if (!page_into(&pts, FERRY_ROOT_STACK_TOP - i * 4096, FERRY_MAP_READ | FERRY_MAP_WRITE, NULL, 0, 0))
            goto fail;
    unsigned long ipc = page_into(&pts, FERRY_ROOT_IPC_BUFFER, FERRY_MAP_READ | FERRY_MAP_WRITE, NULL, 0, 0);
    if (!ipc)
        goto fail;
    /* Its boot info: the root task's, with the slot ranges of its CNode:
     * the same slots for the module frames, the modules page and the I/O
     * ports (copies), its untyped memory where the root task's untyped
     * capabilities start, and two slots for its endpoint and the event
     * notification at the start of the free range. */
    step = "capabilities";
    static struct ferry_bootinfo copy;
    copy = *bi;
    copy.untyped = (struct ferry_slot_range){ bi->untyped.start, bi->untyped.start + PROCSRV_UNTYPEDS };
    memset(copy.untyped_list, 0, sizeof copy.untyped_list);
    copy.paging = copy.image_frames = copy.stack_frames = (struct ferry_slot_range){ 0, 0 };
    copy.empty = (struct ferry_slot_range){ bi->empty.start + 2, bi->empty.end };
    for (unsigned i = 0; i < PROCSRV_UNTYPEDS; i++) {
        unsigned long ut = object_alloc(FERRY_OBJ_UNTYPED, procsrv_untyped_bits[i]);
        copy.untyped_list[i].size_bits = (unsigned char)procsrv_untyped_bits[i];
        if (!ut || (err = give(cspace, copy.untyped.start + i, ut, FERRY_CNODE_MOVE)))
            goto fail;
    }
    unsigned long bframe = page_into(&pts, FERRY_ROOT_BOOTINFO, FERRY_MAP_READ, &copy, 0, sizeof copy);
    if (!bframe)
        goto fail;
    const struct { unsigned long dest, src; } caps[] = {
        { FERRY_CAP_INIT_TCB, tcb }, { FERRY_CAP_INIT_CNODE, cspace }, { FERRY_CAP_INIT_VSPACE, vspace },
        { FERRY_CAP_IPC_BUFFER, ipc }, { FERRY_CAP_BOOTINFO_FRAME, bframe },
        { FERRY_CAP_IRQ_CONTROL, FERRY_CAP_IRQ_CONTROL }, { FERRY_CAP_INIT_ASID_POOL, FERRY_CAP_INIT_ASID_POOL },
        { FERRY_CAP_DEBUG, FERRY_CAP_DEBUG }, { bi->empty.start, ep }, { bi->empty.start + 1, events },
    };
    for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if ((err = give(cspace, caps[i].dest, caps[i].src, FERRY_CNODE_COPY)) &&
            !(caps[i].dest == FERRY_CAP_IRQ_CONTROL && err == FERRY_E_SLOT_EMPTY))   /* no I/O APIC */
            goto fail;
    for (unsigned long s = bi->ioports.start; s < bi->ioports.end; s++)
        if ((err = give(cspace, s, s, FERRY_CNODE_COPY)))
            goto fail;
    const struct ferry_bootinfo_modules *mi = (const void *)bi->modules;
    for (unsigned long i = 0; i < mi->count; i++)
        for (unsigned long s = mi->m[i].frames.start; s < mi->m[i].frames.end; s++)
            if ((err = give(cspace, s, s, FERRY_CNODE_COPY)))
                goto fail;
    /* The modules page: a copy of the root task's frame, at the same address. */
    unsigned long mframe = slot_alloc();
    if (!mframe || (err = ferry_cnode_copy(mframe, bi->modules_frame, FERRY_RIGHTS_ALL)) ||
        (err = give(cspace, bi->modules_frame, bi->modules_frame, FERRY_CNODE_COPY)) ||
        (err = pt_ensure(&pts, bi->modules)) || (err = ferry_frame_map(mframe, vspace, bi->modules, FERRY_MAP_READ)))
        goto fail;
    /* The shared pages: mapped in both, at the same address. */
    step = "shared pages";
    for (unsigned i = 0; i < PROCSRV_SHARED_PAGES; i++) {
        unsigned long va = PROCSRV_SHARED_VA + i * 4096UL;
        unsigned long f = page_into(&pts, va, FERRY_MAP_READ | FERRY_MAP_WRITE, NULL, 0, 0), c = slot_alloc();
        if (!f || !c || (err = ferry_cnode_copy(c, f, FERRY_RIGHTS_ALL)) || (err = pt_ensure(&root_pts, va)) ||
            (err = ferry_frame_map(c, FERRY_CAP_INIT_VSPACE, va, FERRY_MAP_READ | FERRY_MAP_WRITE)))
            goto fail;
    }
    shared->endpoint = bi->empty.start;
    shared->events = bi->empty.start + 1;
    step = "thread";
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = entry;
    regs[FERRY_REG_RSP] = FERRY_ROOT_STACK_TOP;
    regs[FERRY_REG_RDI] = FERRY_ROOT_BOOTINFO;
    regs[FERRY_REG_RFLAGS] = 0x202;
    regs[FERRY_REG_FS_BASE] = FERRY_ROOT_IPC_BUFFER;
    if ((err = ferry_tcb_configure(tcb, cspace, vspace, ipc, FERRY_ROOT_IPC_BUFFER, 0)) ||
        (err = ferry_tcb_set_mcpriority(tcb, FERRY_CAP_INIT_TCB, PROCSRV_PRIO)) ||
        (err = ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, PROCSRV_PRIO)) ||
        (err = ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs)))
        goto fail;
    unsigned long moved = 0;
    for (unsigned i = 0; i < PROCSRV_UNTYPEDS; i++)
        moved += 1UL << procsrv_untyped_bits[i];
    printf("system: process server %s started (%zu image pages, %lu MiB of untyped memory moved to it)\n",
           PROCSRV_MODULE, npages, moved >> 20);
    return true;
fail:
    printf("system: starting the process server: %s%s%s\n", step, err ? ": " : "", err ? ferry_error_name(err) : "");
    return false;
}

bool system_init(const struct ferry_bootinfo *bi)
{
    const struct ferry_bootinfo_modules *mi = (const void *)bi->modules;
    if (!bi->modules || mi->count == 0) {
        printf("system: no boot modules besides the root task: no programs\n");
        return false;
    }
    struct module srv, cm;
    if (!module_find(mi, PROCSRV_MODULE, &srv)) {
        printf("system: no %s module: no process server, no programs\n", PROCSRV_MODULE);
        return false;
    }
    /* boot.conf read here too: the tests walk its programs (system_conf). */
    unsigned line;
    if (!module_find(mi, "boot.conf", &cm) || bootconf_parse((const char *)cm.data, cm.size, &conf, &line))
        memset(&conf, 0, sizeof conf);
    if (!start_server(bi, &srv))
        return false;
    unsigned long bits;
    while (__atomic_load_n(&shared->state, __ATOMIC_SEQ_CST) == PROCSRV_STARTING)
        ntfn_wait(events, &bits);
    ready = shared->state == PROCSRV_UP || shared->state == PROCSRV_START_FAILED;
    ctl.ipc = ulib_ipc;
    unsigned long slot = slot_alloc();
    if (ready && (!slot || procctl_notification(&ctl, slot) != PROC_OK)) {
        printf("system: no control notification from the process server\n");
        ready = false;
    }
    return ready;
}

/* The server started the boot.conf programs marked start itself (before
 * it said it was up): here only its word on how that went. */
bool system_start(void)
{
    return shared->state == PROCSRV_UP;
}

/* ---- the ring of records ------------------------------------------------ */

bool procsrv_event_next(enum procsrv_event *ev)
{
    unsigned long head = __atomic_load_n(&shared->head, __ATOMIC_SEQ_CST);
    if (head - tail > PROCSRV_RING) {
        lost += head - tail - PROCSRV_RING;
        tail = head - PROCSRV_RING;
    }
    if (tail == head)
        return false;
    struct procsrv_record r = shared->rec[tail % PROCSRV_RING];
    tail++;
    last_pid = r.pid;
    last_tsc = r.tsc;
    *ev = (enum procsrv_event)r.event;
    return true;
}

void procsrv_events_drain(void)
{
    tail = __atomic_load_n(&shared->head, __ATOMIC_SEQ_CST);
}

unsigned long procsrv_events_lost(void) { return lost; }
unsigned long procsrv_event_pid(void) { return last_pid; }
uint64_t procsrv_event_tsc(void) { return last_tsc; }

/* Waits until the server has handled a request (or procsrv_wake). */
enum procsrv_event procsrv_serve_one(void)
{
    enum procsrv_event ev;
    if (!ready)
        return PROCSRV_OTHER;
    if (procsrv_event_next(&ev))
        return ev;
    __atomic_store_n(&shared->waiting, 1, __ATOMIC_SEQ_CST);
    if (procsrv_event_next(&ev))
        return ev;
    unsigned long bits;
    ntfn_wait(events, &bits);
    return procsrv_event_next(&ev) ? ev : PROCSRV_OTHER;
}

void procsrv_wake(void)
{
    ntfn_signal(events);
}

/* ---- the stubs ------------------------------------------------------------ */

/* The control client with the calling thread's IPC buffer. */
static struct procctl *c(void)
{
    ctl.ipc = ulib_ipc;
    return &ctl;
}

unsigned long proc_spawn(const char *name, const char *const *argv, const char *const *envp)
{
    unsigned long pid = 0;
    if (!ready)
        return 0;
    return procctl_spawn(c(), name, argv, envp, &pid) == PROC_OK ? pid : 0;
}

bool proc_wait(unsigned long pid, long *status)
{
    return ready && procctl_wait(c(), pid, status) == PROC_OK;
}

static bool simple(unsigned long label, unsigned long w0)
{
    return ready && procctl_simple(c(), label, w0) == PROC_OK;
}

bool proc_kill(unsigned long pid) { return simple(PROC_CTL_KILL, pid); }
bool proc_stop(unsigned long pid) { return simple(PROC_CTL_STOP, pid); }
bool proc_freeze(unsigned long pid) { return simple(PROC_CTL_FREEZE, pid); }
bool proc_inject_fault(unsigned long pid) { return simple(PROC_CTL_INJECT_FAULT, pid); }
bool proc_hold_next(unsigned long pid) { return simple(PROC_CTL_HOLD, pid); }
bool system_names_restart(void) { return simple(PROC_CTL_SYSTEM_RESTART, PROC_CTL_NAMES); }
bool system_supervisor_restart(void) { return simple(PROC_CTL_SYSTEM_RESTART, PROC_CTL_SUPERVISOR); }
bool system_pager_restart(void) { return simple(PROC_CTL_SYSTEM_RESTART, PROC_CTL_PAGER); }
void proc_list(void) { simple(PROC_CTL_LIST, 0); }

unsigned long proc_running(const char *name)
{
    unsigned long pid = 0;
    return ready && procctl_running(c(), name, &pid) == PROC_OK ? pid : 0;
}

unsigned long procsrv_restarts(const char *name)
{
    unsigned long n = 0;
    return ready && procctl_restarts(c(), name, &n) == PROC_OK ? n : 0;
}

bool proc_info(unsigned long pid, struct proc_info *out)
{
    struct procctl_info pi;
    if (!ready || procctl_info(c(), pid, &pi) != PROC_OK)
        return false;
    *out = (struct proc_info){ .pid = pid, .state = (enum proc_state)pi.state, .name = NULL,
                               .status = (long)pi.status, .bytes = pi.bytes, .messages = pi.messages,
                               .faults = pi.faults, .registered = pi.registered };
    return true;
}

static struct procctl_counters counters(void)
{
    struct procctl_counters k = { 0 };
    if (ready)
        procctl_counters(c(), &k);
    return k;
}

unsigned proc_count(void) { return (unsigned)counters().procs; }
unsigned proc_system_count(void) { return (unsigned)counters().system; }
unsigned long procsrv_refused(void) { return counters().refused; }
unsigned long procsrv_cow_copies(void) { return counters().cow_copies; }
unsigned long procsrv_cow_reuses(void) { return counters().cow_reuses; }
unsigned long procsrv_names_restarts(void) { return counters().names_restarts; }
unsigned long procsrv_supervisor_restarts(void) { return counters().sup_restarts; }
unsigned long procsrv_pager_restarts(void) { return counters().pager_restarts; }

unsigned long mm_free_bytes(void)
{
    unsigned long free_bytes = 0, blocks = 0;
    if (ready)
        procctl_memory(c(), &free_bytes, &blocks);
    return free_bytes;
}

unsigned mm_blocks(void)
{
    unsigned long free_bytes = 0, blocks = 0;
    if (ready)
        procctl_memory(c(), &free_bytes, &blocks);
    return (unsigned)blocks;
}
