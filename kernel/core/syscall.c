/* syscall.c: the system call dispatcher, reached from both entries
 * (syscall and int 0x80) with the caller's registers saved in its TCB. */
#include <arch/floor.h>
#include <arch/machine.h>
#include <arch/serial.h>
#include <arch/thread.h>
#include <core/invoke.h>
#include <core/kernel.h>
#include <ferry/bench_format.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>
#include <object/tcb.h>

#ifndef FERRY_DEBUG_SYSCALLS
#define FERRY_DEBUG_SYSCALLS 1
#endif

/* Copy the message of cur into inv: label and length from msginfo, the
 * first words from registers, the rest and the extra cptrs from its IPC
 * buffer.  A message longer than the maximum is rejected. */
static word_t load_message(struct tcb *cur, word_t cptr, word_t msginfo, struct invocation *inv)
{
    word_t len = FERRY_MSGINFO_LEN(msginfo), ncaps = FERRY_MSGINFO_CAPS(msginfo);
    inv->cptr = cptr;
    inv->label = FERRY_MSGINFO_LABEL(msginfo);
    inv->len = len;
    inv->extra_caps = ncaps;
    inv->err_arg = FERRY_ERR_ARG_NONE;
    inv->err_bits_left = 0;
    if (len > FERRY_MSG_MAX_WORDS || ncaps > FERRY_MAX_EXTRA_CAPS)
        return FERRY_E_RANGE;
    for (word_t i = 0; i < FERRY_MSG_REG_WORDS && i < len; i++)
        inv->mr[i] = ctx_get_mr(&cur->ctx, (unsigned)i);
    if (len > FERRY_MSG_REG_WORDS || ncaps) {
        const struct ferry_ipc_buffer *buf = (const void *)tcb_ipc_buffer(cur);
        if (!buf)
            return FERRY_E_TRUNCATED;    /* words beyond the registers need a buffer */
        for (word_t i = FERRY_MSG_REG_WORDS; i < len; i++)
            inv->mr[i] = buf->mr[i];
        for (word_t i = 0; i < ncaps; i++)
            inv->caps[i] = buf->caps_or_badges[i];
    }
    return FERRY_OK;
}

static void store_reply(struct tcb *cur, const struct invocation *inv)
{
    word_t len = inv->len < FERRY_MSG_MAX_WORDS ? inv->len : FERRY_MSG_MAX_WORDS;
    struct ferry_ipc_buffer *buf = (void *)tcb_ipc_buffer(cur);
    if (!buf && len > FERRY_MSG_REG_WORDS)
        len = FERRY_MSG_REG_WORDS;       /* nowhere to put the rest */
    for (word_t i = 0; i < len; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            ctx_set_mr(&cur->ctx, (unsigned)i, inv->mr[i]);
        else
            buf->mr[i] = inv->mr[i];
    }
    ctx_set_msginfo(&cur->ctx, FERRY_MSGINFO(0, len, 0));
}

static void set_error(struct tcb *cur, word_t err, word_t err_arg, word_t bits_left)
{
    ctx_set_result(&cur->ctx, err);
    ctx_set_mr(&cur->ctx, 0, err_arg);
    ctx_set_mr(&cur->ctx, 1, bits_left);
}

static void sys_call(struct tcb *cur, word_t cptr, word_t msginfo)
{
    static struct invocation inv;        /* one CPU, kernel not preemptible */
    word_t err = load_message(cur, cptr, msginfo, &inv);
    if (!err)
        err = invoke(cur, &inv);
    if (err == INVOKE_IPC)
        err = FERRY_E_ILLEGAL_OP;        /* IPC on endpoints: not in this kernel yet */
    if (arch_current() != cur || cur->state != TCB_RUNNABLE)
        return;                          /* the caller deleted or stopped itself */
    if (err) {
        set_error(cur, err, inv.err_arg, inv.err_bits_left);
        return;
    }
    ctx_set_result(&cur->ctx, FERRY_OK);
    store_reply(cur, &inv);
}

static void sys_debug_write(struct tcb *cur)
{
    const struct ferry_ipc_buffer *buf = (const void *)tcb_ipc_buffer(cur);
    word_t n = ctx_get_mr(&cur->ctx, 0);
    if (!buf || n > sizeof buf->mr) {
        set_error(cur, buf ? FERRY_E_RANGE : FERRY_E_TRUNCATED, 0, 0);
        return;
    }
    serial_write((const char *)buf->mr, n);
    ctx_set_result(&cur->ctx, FERRY_OK);
}

static void syscall_handle(struct tcb *cur, word_t cptr, word_t msginfo, word_t sysno)
{
    switch (sysno) {
    case FERRY_SYS_NULL:
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    case FERRY_SYS_CALL:
        sys_call(cur, cptr, msginfo);
        return;
    case FERRY_SYS_YIELD:
        ctx_set_result(&cur->ctx, FERRY_OK);
        schedule_yield();
        return;
#if FERRY_DEBUG_SYSCALLS
    case FERRY_SYS_DEBUG_WRITE:
        sys_debug_write(cur);
        return;
    case FERRY_SYS_DEBUG_EXIT:
        machine_exit(ctx_get_mr(&cur->ctx, 0) == 0 ? FERRY_EXIT_SUCCESS : FERRY_EXIT_FAILURE);
    case FERRY_SYS_KFLOOR: {
        uint64_t ticks;
        if (!floor_sample(cptr, &ticks)) {
            set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
            return;
        }
        ctx_set_result(&cur->ctx, FERRY_OK);
        ctx_set_mr(&cur->ctx, 0, ticks);
        return;
    }
    case FERRY_SYS_FLOOR_BEGIN:
    case FERRY_SYS_FLOOR_END:
        /* Until FLOOR_END every syscall is a bare syscall/sysret pair: the
         * benchmark's thread must be the only one running meanwhile. */
        entry_set_floor(sysno == FERRY_SYS_FLOOR_BEGIN);
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
#endif
    default:
        /* IPC system calls arrive with the IPC issue; unknown numbers fail. */
        set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
        return;
    }
}

_Noreturn void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno);
_Noreturn void int80_dispatch(word_t cptr, word_t msginfo, word_t sysno);

void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno)
{
    struct tcb *cur = arch_current();
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    syscall_handle(cur, cptr, msginfo, sysno);
    kernel_exit();
}

void int80_dispatch(word_t cptr, word_t msginfo, word_t sysno)
{
    struct tcb *cur = arch_current();
    cur->ctx.entry = CTX_ENTRY_FULL;     /* leaves by iretq, every register intact */
    syscall_handle(cur, cptr, msginfo, sysno);
    kernel_exit();
}
