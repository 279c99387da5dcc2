/* ulib.c: printing through the debug syscall, invocations, and the
 * root task's slot and untyped allocators. */
#include <ferry/ulib.h>
#include <ferry/invariants.h>
#include <fmt.h>

struct ferry_ipc_buffer *ulib_ipc = (struct ferry_ipc_buffer *)FERRY_ROOT_IPC_BUFFER;
const struct ferry_bootinfo *ulib_bootinfo;

void sys_exit(unsigned long code)
{
    for (;;) {
        unsigned long rax = FERRY_SYS_DEBUG_EXIT, rdx = code, rdi = FERRY_CAP_DEBUG;
        __asm__ __volatile__("syscall" : "+a"(rax), "+d"(rdx), "+D"(rdi) : : "rcx", "r11", "memory");
    }
}

void puts_raw(const char *s, size_t n)
{
    char *out = (char *)ulib_ipc->mr;
    while (n) {
        size_t chunk = n < sizeof ulib_ipc->mr ? n : sizeof ulib_ipc->mr;
        memcpy(out, s, chunk);
        sys_debug_write(chunk);
        s += chunk;
        n -= chunk;
    }
}

int vprintf(const char *fmt, va_list ap)
{
    return fmt_vprint(puts_raw, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

const char *ferry_error_name(unsigned long err)
{
    static const char *const names[] = {
        [FERRY_OK] = "ok", [FERRY_E_INVALID_CAP] = "invalid capability",
        [FERRY_E_WRONG_TYPE] = "wrong type", [FERRY_E_RIGHTS] = "insufficient rights",
        [FERRY_E_RANGE] = "range", [FERRY_E_ALIGNMENT] = "alignment",
        [FERRY_E_NO_MEMORY] = "out of memory", [FERRY_E_SLOT_OCCUPIED] = "slot occupied",
        [FERRY_E_SLOT_EMPTY] = "slot empty", [FERRY_E_REVOKE_FIRST] = "revoke first",
        [FERRY_E_INVALID_ARG] = "invalid argument", [FERRY_E_ILLEGAL_OP] = "illegal operation",
        [FERRY_E_DELETE_IN_PROGRESS] = "delete in progress", [FERRY_E_LOOKUP_GUARD] = "guard mismatch",
        [FERRY_E_LOOKUP_DEPTH] = "depth mismatch", [FERRY_E_INVALID_LABEL] = "invalid label",
        [FERRY_E_TRUNCATED] = "truncated message", [FERRY_E_MISSING_CAP] = "missing capability",
        [FERRY_E_NO_TABLE] = "no page table", [FERRY_E_NOT_MAPPED] = "not mapped",
        [FERRY_E_NO_ASID] = "no ASID",
    };
    return err < sizeof names / sizeof names[0] && names[err] ? names[err] : "unknown error";
}

unsigned long ferry_invoke(unsigned long cptr, unsigned long label, unsigned long n,
                           const unsigned long *words, unsigned nc, const unsigned long *caps,
                           struct inv_result *res)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(label, n, nc) };
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m.w[i] = words[i];
        else
            ulib_ipc->mr[i] = words[i];
    }
    for (unsigned i = 0; i < nc; i++)
        ulib_ipc->caps_or_badges[i] = caps[i];
    unsigned long err = sys_raw(FERRY_SYS_CALL, cptr, &m);
    struct inv_result scratch;
    if (!res)
        res = &scratch;
    res->err = err;
    res->err_arg = err ? m.w[0] : 0;
    res->len = err ? 0 : FERRY_MSGINFO_LEN(m.info);
    for (unsigned long i = 0; i < res->len && i < 8; i++)
        res->mr[i] = i < FERRY_MSG_REG_WORDS ? m.w[i] : ulib_ipc->mr[i];
    return err;
}

/* The words are given by their named positions (ferry/invocation.h,
 * ferry/arch_x86_64.h): INVOKE(cptr, label, ncaps, caps, [FERRY_X_ARG_A] = a, ...). */
#define INVOKE(cptr, label, ncaps, caps, ...)                                          \
    ({                                                                                  \
        const unsigned long w_[] = { __VA_ARGS__ };                                    \
        ferry_invoke((cptr), (label), sizeof w_ / sizeof w_[0], w_, (ncaps), (caps), NULL); \
    })

unsigned long ferry_untyped_retype(unsigned long ut, unsigned long type, unsigned long size_bits,
                             unsigned long dest_slot, unsigned long count)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(ut, FERRY_UNTYPED_RETYPE, 1, &root, [FERRY_RETYPE_ARG_TYPE] = type,
                  [FERRY_RETYPE_ARG_SIZE_BITS] = size_bits, [FERRY_RETYPE_ARG_NODE_INDEX] = 0,
                  [FERRY_RETYPE_ARG_NODE_DEPTH] = 0, [FERRY_RETYPE_ARG_OFFSET] = dest_slot,
                  [FERRY_RETYPE_ARG_COUNT] = count);
}

unsigned long ferry_cnode_copy(unsigned long dest, unsigned long src, unsigned long rights)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(FERRY_CAP_INIT_CNODE, FERRY_CNODE_COPY, 1, &root, [FERRY_CNODE_ARG_DEST_INDEX] = dest,
                  [FERRY_CNODE_ARG_DEST_DEPTH] = 64, [FERRY_CNODE_ARG_SRC_INDEX] = src,
                  [FERRY_CNODE_ARG_SRC_DEPTH] = 64, [FERRY_CNODE_ARG_RIGHTS] = rights);
}

unsigned long ferry_cnode_mint(unsigned long dest, unsigned long src, unsigned long rights, unsigned long badge)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(FERRY_CAP_INIT_CNODE, FERRY_CNODE_MINT, 1, &root, [FERRY_CNODE_ARG_DEST_INDEX] = dest,
                  [FERRY_CNODE_ARG_DEST_DEPTH] = 64, [FERRY_CNODE_ARG_SRC_INDEX] = src,
                  [FERRY_CNODE_ARG_SRC_DEPTH] = 64, [FERRY_CNODE_ARG_RIGHTS] = rights,
                  [FERRY_CNODE_ARG_BADGE] = badge);
}

unsigned long ferry_cnode_move(unsigned long dest, unsigned long src)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(FERRY_CAP_INIT_CNODE, FERRY_CNODE_MOVE, 1, &root, [FERRY_CNODE_ARG_DEST_INDEX] = dest,
                  [FERRY_CNODE_ARG_DEST_DEPTH] = 64, [FERRY_CNODE_ARG_SRC_INDEX] = src,
                  [FERRY_CNODE_ARG_SRC_DEPTH] = 64);
}

unsigned long ferry_cnode_delete(unsigned long slot)
{
    return INVOKE(FERRY_CAP_INIT_CNODE, FERRY_CNODE_DELETE, 0, NULL, [FERRY_CNODE_ARG_INDEX] = slot,
                  [FERRY_CNODE_ARG_DEPTH] = 64);
}

unsigned long ferry_cnode_revoke(unsigned long slot)
{
    return INVOKE(FERRY_CAP_INIT_CNODE, FERRY_CNODE_REVOKE, 0, NULL, [FERRY_CNODE_ARG_INDEX] = slot,
                  [FERRY_CNODE_ARG_DEPTH] = 64);
}

unsigned long ferry_frame_map(unsigned long frame, unsigned long vspace, unsigned long vaddr, unsigned long rights)
{
    return INVOKE(frame, FERRY_FRAME_MAP, 1, &vspace, [FERRY_FRAME_MAP_ARG_VADDR] = vaddr,
                  [FERRY_FRAME_MAP_ARG_RIGHTS] = rights);
}

unsigned long ferry_frame_unmap(unsigned long frame)
{
    return ferry_invoke(frame, FERRY_FRAME_UNMAP, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_frame_address(unsigned long frame, unsigned long *paddr)
{
    struct inv_result r;
    unsigned long err = ferry_invoke(frame, FERRY_FRAME_ADDRESS, 0, NULL, 0, NULL, &r);
    if (!err)
        *paddr = r.mr[FERRY_FRAME_ADDRESS_RES_PADDR];
    return err;
}

unsigned long ferry_frame_vaddr(unsigned long frame, unsigned long *vaddr)
{
    struct inv_result r;
    unsigned long err = ferry_invoke(frame, FERRY_FRAME_ADDRESS, 0, NULL, 0, NULL, &r);
    if (!err)
        *vaddr = r.mr[FERRY_FRAME_ADDRESS_RES_VADDR];
    return err;
}

unsigned long ferry_table_map(unsigned long table, unsigned long vspace, unsigned long vaddr)
{
    return INVOKE(table, FERRY_TABLE_MAP, 1, &vspace, [FERRY_TABLE_MAP_ARG_VADDR] = vaddr);
}

unsigned long ferry_table_unmap(unsigned long table)
{
    return ferry_invoke(table, FERRY_TABLE_UNMAP, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_asid_make_pool(unsigned long asid_control, unsigned long untyped, unsigned long dest,
                             unsigned long *first_asid)
{
    const unsigned long caps[FERRY_MAKE_POOL_NCAPS] = { [FERRY_MAKE_POOL_CAP_UNTYPED] = untyped,
                                                        [FERRY_MAKE_POOL_CAP_ROOT] = FERRY_CAP_INIT_CNODE };
    const unsigned long w[FERRY_MAKE_POOL_NARGS] = { [FERRY_MAKE_POOL_ARG_DEST_INDEX] = dest,
                                                     [FERRY_MAKE_POOL_ARG_DEST_DEPTH] = 64 };
    struct inv_result r;
    unsigned long err = ferry_invoke(asid_control, FERRY_ASID_CONTROL_MAKE_POOL, FERRY_MAKE_POOL_NARGS, w,
                                     FERRY_MAKE_POOL_NCAPS, caps, &r);
    if (!err && first_asid)
        *first_asid = r.mr[FERRY_MAKE_POOL_RES_FIRST_ASID];
    return err;
}

unsigned long ferry_asid_assign(unsigned long pool, unsigned long vspace, unsigned long *asid)
{
    struct inv_result r;
    unsigned long err = ferry_invoke(pool, FERRY_ASID_POOL_ASSIGN, 0, NULL, 1, &vspace, &r);
    if (!err && asid)
        *asid = r.mr[FERRY_ASSIGN_RES_ASID];
    return err;
}

unsigned long ferry_ioport_in(unsigned long cap, unsigned long port, unsigned long width, unsigned long *value)
{
    const unsigned long w[FERRY_IOPORT_IN_NARGS] = { [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = width };
    struct inv_result r;
    unsigned long err = ferry_invoke(cap, FERRY_IOPORT_IN, FERRY_IOPORT_IN_NARGS, w, 0, NULL, &r);
    if (!err && value)
        *value = r.mr[FERRY_IOPORT_IN_RES_VALUE];
    return err;
}

unsigned long ferry_ioport_out(unsigned long cap, unsigned long port, unsigned long width, unsigned long value)
{
    return INVOKE(cap, FERRY_IOPORT_OUT, 0, NULL, [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = width,
                  [FERRY_IOPORT_ARG_VALUE] = value);
}

unsigned long ferry_ioport_issue(unsigned long cap, unsigned long first, unsigned long last, unsigned long dest)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(cap, FERRY_IOPORT_ISSUE, 1, &root, [FERRY_IOPORT_ISSUE_ARG_FIRST] = first,
                  [FERRY_IOPORT_ISSUE_ARG_LAST] = last, [FERRY_IOPORT_ISSUE_ARG_DEST_INDEX] = dest,
                  [FERRY_IOPORT_ISSUE_ARG_DEST_DEPTH] = 64);
}

unsigned long ferry_ioport_in_string(unsigned long cap, unsigned long port, unsigned long width,
                                     unsigned long count, unsigned long word)
{
    return INVOKE(cap, FERRY_IOPORT_IN_STRING, 0, NULL, [FERRY_IOPORT_STRING_ARG_PORT] = port,
                  [FERRY_IOPORT_STRING_ARG_WIDTH] = width, [FERRY_IOPORT_STRING_ARG_COUNT] = count,
                  [FERRY_IOPORT_STRING_ARG_WORD] = word);
}

unsigned long ferry_ioport_out_string(unsigned long cap, unsigned long port, unsigned long width,
                                      unsigned long count, unsigned long word)
{
    return INVOKE(cap, FERRY_IOPORT_OUT_STRING, 0, NULL, [FERRY_IOPORT_STRING_ARG_PORT] = port,
                  [FERRY_IOPORT_STRING_ARG_WIDTH] = width, [FERRY_IOPORT_STRING_ARG_COUNT] = count,
                  [FERRY_IOPORT_STRING_ARG_WORD] = word);
}

unsigned long ferry_irq_get(unsigned long irq_control, unsigned long line, unsigned long dest)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    return INVOKE(irq_control, FERRY_IRQ_CONTROL_GET, 1, &root, [FERRY_IRQ_GET_ARG_LINE] = line,
                  [FERRY_IRQ_GET_ARG_DEST_INDEX] = dest, [FERRY_IRQ_GET_ARG_DEST_DEPTH] = 64);
}

unsigned long ferry_irq_set_notification(unsigned long handler, unsigned long ntfn)
{
    return ferry_invoke(handler, FERRY_IRQ_SET_NOTIFICATION, 0, NULL, 1, &ntfn, NULL);
}

unsigned long ferry_irq_ack(unsigned long handler)
{
    return ferry_invoke(handler, FERRY_IRQ_ACK, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_irq_clear(unsigned long handler)
{
    return ferry_invoke(handler, FERRY_IRQ_CLEAR, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_tcb_configure(unsigned long tcb, unsigned long cspace, unsigned long vspace,
                            unsigned long ipcbuf_frame, unsigned long ipcbuf_vaddr, unsigned long fault_ep)
{
    const unsigned long caps[FERRY_TCB_CONFIGURE_NCAPS] = { [FERRY_TCB_CONFIGURE_CAP_CSPACE] = cspace,
                                                            [FERRY_TCB_CONFIGURE_CAP_VSPACE] = vspace,
                                                            [FERRY_TCB_CONFIGURE_CAP_IPC_BUFFER] = ipcbuf_frame };
    return INVOKE(tcb, FERRY_TCB_CONFIGURE, FERRY_TCB_CONFIGURE_NCAPS, caps,
                  [FERRY_TCB_CONFIGURE_ARG_FAULT_EP] = fault_ep, [FERRY_TCB_CONFIGURE_ARG_IPC_BUFFER] = ipcbuf_vaddr);
}

unsigned long ferry_tcb_set_priority(unsigned long tcb, unsigned long authority, unsigned long prio)
{
    return INVOKE(tcb, FERRY_TCB_SET_PRIORITY, 1, &authority, [FERRY_TCB_PRIO_ARG_PRIO] = prio);
}

unsigned long ferry_tcb_set_mcpriority(unsigned long tcb, unsigned long authority, unsigned long mcp)
{
    return INVOKE(tcb, FERRY_TCB_SET_MCPRIORITY, 1, &authority, [FERRY_TCB_PRIO_ARG_PRIO] = mcp);
}

unsigned long ferry_tcb_write_registers(unsigned long tcb, bool resume, unsigned long count,
                                  const unsigned long *regs)
{
    unsigned long w[FERRY_TCB_WRITEREGS_ARG_VALUES + FERRY_REG_COUNT];
    if (count > FERRY_REG_COUNT)
        count = FERRY_REG_COUNT;
    w[FERRY_TCB_WRITEREGS_ARG_FLAGS] = resume ? FERRY_WRITEREGS_RESUME : 0;
    w[FERRY_TCB_WRITEREGS_ARG_COUNT] = count;
    for (unsigned long i = 0; i < count; i++)
        w[FERRY_TCB_WRITEREGS_ARG_VALUES + i] = regs[i];
    return ferry_invoke(tcb, FERRY_TCB_WRITE_REGISTERS, FERRY_TCB_WRITEREGS_ARG_VALUES + count, w, 0, NULL, NULL);
}

unsigned long ferry_tcb_read_registers(unsigned long tcb, unsigned long count, unsigned long *regs)
{
    struct inv_result r;
    const unsigned long w[FERRY_TCB_READREGS_NARGS] = { [FERRY_TCB_READREGS_ARG_COUNT] = count };
    unsigned long err = ferry_invoke(tcb, FERRY_TCB_READ_REGISTERS, FERRY_TCB_READREGS_NARGS, w, 0, NULL, &r);
    for (unsigned long i = 0; !err && i < count && i < r.len; i++)
        regs[i] = i < 8 ? r.mr[i] : ulib_ipc->mr[i];
    return err;
}

unsigned long ferry_tcb_resume(unsigned long tcb)
{
    return ferry_invoke(tcb, FERRY_TCB_RESUME, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_tcb_suspend(unsigned long tcb)
{
    return ferry_invoke(tcb, FERRY_TCB_SUSPEND, 0, NULL, 0, NULL, NULL);
}

unsigned long ferry_tcb_set_affinity(unsigned long tcb, unsigned long cpu)
{
    return INVOKE(tcb, FERRY_TCB_SET_AFFINITY, 0, NULL, [FERRY_TCB_AFFINITY_ARG_CPU] = cpu);
}

/* Slots [empty.start, next_free) are handed out upwards; persistent ones
 * made inside a sandbox come from [persist_top, empty.end) downwards. */
static unsigned long next_free, persist_top;

/* The sandbox (see ulib.h): its untyped, whether one is open, the first
 * slot it handed out, and how deep in persistent sections we are. */
static unsigned long sandbox_ut, sandbox_mark;
static bool sandbox_open;
static unsigned persistent_depth;
unsigned long ulib_persistent_bytes;

void ulib_init(const struct ferry_bootinfo *bi)
{
    ulib_bootinfo = bi;
    next_free = bi->empty.start;
    persist_top = bi->empty.end;
}

static bool in_sandbox(void)
{
    return sandbox_open && persistent_depth == 0;
}

unsigned long slot_alloc(void)
{
    if (next_free >= persist_top) {
        printf("ulib: out of CNode slots\n");
        return 0;
    }
    if (sandbox_open && persistent_depth)
        return --persist_top;
    return next_free++;
}

bool ulib_free_bytes(unsigned long *bytes)
{
    if (!ulib_bootinfo->benchmark)
        return false;
    struct sys_msg m = { .w = { 0 } };
    if (sys_raw(FERRY_SYS_DEBUG_CHECK, FERRY_CAP_DEBUG, &m) != FERRY_OK || m.w[0] != FERRY_INV_OK)
        return false;
    *bytes = m.w[1];
    return true;
}

unsigned long object_alloc(unsigned long type, unsigned long size_bits)
{
    unsigned long s = slot_alloc();
    if (!s)
        return 0;
    if (in_sandbox()) {
        if (ferry_untyped_retype(sandbox_ut, type, size_bits, s, 1) == FERRY_OK)
            return s;
        printf("ulib: the test sandbox has no room for an object of type %lu\n", type);
        return 0;
    }
    unsigned long before = 0, after = 0;
    bool counted = sandbox_open && ulib_free_bytes(&before);
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    for (unsigned long u = bi->untyped.start; u < bi->untyped.end; u++)
        if (ferry_untyped_retype(u, type, size_bits, s, 1) == FERRY_OK) {
            if (counted && ulib_free_bytes(&after))
                ulib_persistent_bytes += before - after;
            return s;
        }
    printf("ulib: no untyped has room for an object of type %lu\n", type);
    return 0;
}

unsigned ulib_sandbox_create(unsigned min_bits, unsigned max_bits)
{
    for (unsigned bits = max_bits; bits >= min_bits; bits--)
        if ((sandbox_ut = object_alloc(FERRY_OBJ_UNTYPED, bits)))
            return bits;
    return 0;
}

bool ulib_sandbox_ready(void)
{
    return sandbox_ut && !sandbox_open;
}

void ulib_sandbox_begin(void)
{
    sandbox_mark = next_free;
    sandbox_open = sandbox_ut != 0;
}

bool ulib_sandbox_end(void)
{
    if (!sandbox_open)
        return true;
    sandbox_open = false;
    unsigned long err = ferry_cnode_revoke(sandbox_ut);
    if (err)
        printf("ulib: revoking the test sandbox: %s\n", ferry_error_name(err));
    /* Left: capabilities not derived from the sandbox's objects (copies
     * and mints of the root task's own, IRQ handlers, issued port ranges). */
    bool clean = err == FERRY_OK;
    for (unsigned long s = sandbox_mark; s < next_free; s++) {
        unsigned long e = ferry_cnode_delete(s);
        if (e != FERRY_OK && e != FERRY_E_SLOT_EMPTY) {
            printf("ulib: slot %lu left by the test: %s\n", s, ferry_error_name(e));
            clean = false;
        }
    }
    if (clean)
        next_free = sandbox_mark;       /* every slot is empty again: hand them out anew */
    return clean;
}

void ulib_persistent_begin(void)
{
    persistent_depth++;
}

void ulib_persistent_end(void)
{
    persistent_depth--;
}

unsigned long vspace_create(void)
{
    unsigned long vs = object_alloc(FERRY_OBJ_VSPACE, 0);
    if (!vs)
        return 0;
    unsigned long err = ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, vs, NULL);
    if (err) {
        printf("vspace_create: no ASID: %s\n", ferry_error_name(err));
        ferry_cnode_delete(vs);
        return 0;
    }
    return vs;
}

unsigned long thread_start(void (*fn)(void), unsigned long stack_va, unsigned prio, bool resume)
{
    unsigned long tcb = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    unsigned long err;
    if (!tcb || !stack)
        return 0;
    if ((err = ferry_frame_map(stack, FERRY_CAP_INIT_VSPACE, stack_va, FERRY_MAP_READ | FERRY_MAP_WRITE)) ||
        (err = ferry_tcb_configure(tcb, FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                             FERRY_ROOT_IPC_BUFFER, 0)) ||
        (err = ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, prio))) {
        printf("thread_start: %s\n", ferry_error_name(err));
        return 0;
    }
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = stack_va + 4096 - 8;       /* as if called: ABI alignment */
    regs[FERRY_REG_RFLAGS] = 0x202;
    if ((err = ferry_tcb_write_registers(tcb, resume, FERRY_REG_COUNT, regs))) {
        printf("thread_start: %s\n", ferry_error_name(err));
        return 0;
    }
    return tcb;
}

unsigned long thread_create_at(void (*fn)(void), unsigned long va, unsigned long cspace, unsigned prio,
                               unsigned long fault_ep, bool resume)
{
    const unsigned long rw = FERRY_MAP_READ | FERRY_MAP_WRITE;
    unsigned long tcb = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    unsigned long buf = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    if (!tcb || !stack || !buf || ferry_frame_map(stack, FERRY_CAP_INIT_VSPACE, va, rw) ||
        ferry_frame_map(buf, FERRY_CAP_INIT_VSPACE, va + 0x1000, rw) ||
        ferry_tcb_configure(tcb, cspace, FERRY_CAP_INIT_VSPACE, buf, va + 0x1000, fault_ep) ||
        ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, prio))
        return 0;
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = va + 0x1000 - 8;        /* as if called: ABI alignment */
    regs[FERRY_REG_RFLAGS] = 0x202;
    return ferry_tcb_write_registers(tcb, resume, FERRY_REG_COUNT, regs) ? 0 : tcb;
}

unsigned long pt_ensure(struct pt_set *set, unsigned long va)
{
    unsigned long base = va & ~((1UL << 21) - 1);
    for (unsigned i = 0; i < set->n; i++)
        if (set->base[i] == base)
            return FERRY_OK;
    unsigned long pt = object_alloc(FERRY_OBJ_PT, 0);
    unsigned long err = pt ? ferry_table_map(pt, set->vspace, base) : FERRY_E_NO_MEMORY;
    /* Occupied: a table the kernel made at boot (stack, IPC buffer) is there. */
    if (err && err != FERRY_E_SLOT_OCCUPIED)
        return err;
    if (set->n < sizeof set->base / sizeof set->base[0])
        set->base[set->n++] = base;
    return FERRY_OK;
}

bool table_ensure(unsigned long va)
{
    static struct pt_set root = { .vspace = FERRY_CAP_INIT_VSPACE };
    /* The root VSpace's tables outlive any test sandbox. */
    ulib_persistent_begin();
    unsigned long err = pt_ensure(&root, va);
    ulib_persistent_end();
    if (err)
        printf("table_ensure(%#lx): %s\n", va, ferry_error_name(err));
    return err == FERRY_OK;
}
