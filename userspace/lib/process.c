/* process.c: a second address space that runs the root task's own image. */
#include <ferry/process.h>

unsigned long process_create(struct process *p, void (*fn)(void), unsigned long stack_va,
                             unsigned prio, bool resume)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    unsigned long err = FERRY_E_NO_MEMORY;
    const char *step = "objects";
    p->vspace = vspace_create();
    unsigned long pdpt = object_alloc(FERRY_OBJ_PDPT, 0), pd = object_alloc(FERRY_OBJ_PD, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    p->ipc_frame = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    p->tcb = object_alloc(FERRY_OBJ_TCB, 0);
    if (!p->vspace || !pdpt || !pd || !stack || !p->ipc_frame || !p->tcb)
        goto fail;
    /* PDPT and PD once (all our addresses are in the first GiB), then a
     * page table per 2 MiB region used. */
    step = "upper tables";
    if ((err = ferry_table_map(pdpt, p->vspace, 0)) || (err = ferry_table_map(pd, p->vspace, 0)))
        goto fail;
    struct pt_set pts = { .vspace = p->vspace };
    step = "image";
    for (unsigned long s = bi->image_frames.start; s < bi->image_frames.end; s++) {
        unsigned long va;
        if ((err = ferry_frame_vaddr(s, &va)))
            goto fail;
        unsigned long copy = slot_alloc();
        if (!copy || (err = ferry_cnode_copy(copy, s, FERRY_RIGHTS_ALL)) ||
            (err = pt_ensure(&pts, va)) ||
            (err = ferry_frame_map(copy, p->vspace, va, FERRY_MAP_READ | FERRY_MAP_WRITE | FERRY_MAP_EXEC)))
            goto fail;
    }
    step = "stack and IPC buffer";
    if ((err = pt_ensure(&pts, stack_va)) ||
        (err = ferry_frame_map(stack, p->vspace, stack_va, FERRY_MAP_READ | FERRY_MAP_WRITE)) ||
        (err = pt_ensure(&pts, FERRY_ROOT_IPC_BUFFER)) ||
        (err = ferry_frame_map(p->ipc_frame, p->vspace, FERRY_ROOT_IPC_BUFFER, FERRY_MAP_READ | FERRY_MAP_WRITE)))
        goto fail;
    step = "thread";
    if ((err = ferry_tcb_configure(p->tcb, FERRY_CAP_INIT_CNODE, p->vspace, p->ipc_frame, FERRY_ROOT_IPC_BUFFER, 0)) ||
        (err = ferry_tcb_set_priority(p->tcb, FERRY_CAP_INIT_TCB, prio)))
        goto fail;
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = stack_va + 4096 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    if ((err = ferry_tcb_write_registers(p->tcb, resume, FERRY_REG_COUNT, regs)))
        goto fail;
    return FERRY_OK;
fail:
    printf("process_create: %s: %s\n", step, ferry_error_name(err));
    return err ? err : FERRY_E_NO_MEMORY;
}
