/* process.c: a second address space that runs the root task's own image. */
#include <ferry/process.h>

/* The page tables a fresh VSpace needs for the 2 MiB region around va:
 * PDPT and PD once (all our addresses are in the first GiB), a PT each. */
static unsigned long tables_for(unsigned long vs, unsigned long va, unsigned long *pts, unsigned *npts)
{
    unsigned long base = va & ~((1UL << 21) - 1), err;
    for (unsigned i = 0; i < *npts; i++)
        if (pts[i] == base)
            return FERRY_OK;
    unsigned long pt = object_alloc(FERRY_OBJ_PT, 0);
    if (!pt)
        return FERRY_E_NO_MEMORY;
    if ((err = table_map(pt, vs, base)))
        return err;
    if (*npts < 16)
        pts[(*npts)++] = base;
    return FERRY_OK;
}

unsigned long process_create(struct process *p, void (*fn)(void), unsigned long stack_va,
                             unsigned prio, bool resume)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    unsigned long pts[16], err = FERRY_E_NO_MEMORY;
    unsigned npts = 0;
    const char *step = "objects";
    p->vspace = object_alloc(FERRY_OBJ_VSPACE, 0);
    unsigned long pdpt = object_alloc(FERRY_OBJ_PDPT, 0), pd = object_alloc(FERRY_OBJ_PD, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    p->ipc_frame = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    p->tcb = object_alloc(FERRY_OBJ_TCB, 0);
    if (!p->vspace || !pdpt || !pd || !stack || !p->ipc_frame || !p->tcb)
        goto fail;
    step = "upper tables";
    if ((err = table_map(pdpt, p->vspace, 0)) || (err = table_map(pd, p->vspace, 0)))
        goto fail;
    step = "image";
    for (unsigned long s = bi->image_frames.start; s < bi->image_frames.end; s++) {
        unsigned long va;
        if ((err = frame_vaddr(s, &va)))
            goto fail;
        unsigned long copy = slot_alloc();
        if (!copy || (err = cnode_copy(copy, s, FERRY_RIGHTS_ALL)) ||
            (err = tables_for(p->vspace, va, pts, &npts)) ||
            (err = frame_map(copy, p->vspace, va, FERRY_MAP_READ | FERRY_MAP_WRITE | FERRY_MAP_EXEC)))
            goto fail;
    }
    step = "stack and IPC buffer";
    if ((err = tables_for(p->vspace, stack_va, pts, &npts)) ||
        (err = frame_map(stack, p->vspace, stack_va, FERRY_MAP_READ | FERRY_MAP_WRITE)) ||
        (err = tables_for(p->vspace, FERRY_ROOT_IPC_BUFFER, pts, &npts)) ||
        (err = frame_map(p->ipc_frame, p->vspace, FERRY_ROOT_IPC_BUFFER, FERRY_MAP_READ | FERRY_MAP_WRITE)))
        goto fail;
    step = "thread";
    if ((err = tcb_configure(p->tcb, FERRY_CAP_INIT_CNODE, p->vspace, p->ipc_frame, FERRY_ROOT_IPC_BUFFER, 0)) ||
        (err = tcb_set_priority(p->tcb, FERRY_CAP_INIT_TCB, prio)))
        goto fail;
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = stack_va + 4096 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    if ((err = tcb_write_registers(p->tcb, resume, FERRY_REG_COUNT, regs)))
        goto fail;
    return FERRY_OK;
fail:
    printf("process_create: %s: %s\n", step, ferry_error_name(err));
    return err ? err : FERRY_E_NO_MEMORY;
}
