/* ioport.c: I/O port capabilities: ranged in/out, string in/out through the caller's IPC buffer, and issuing sub-ranges. */
#include <arch/ioport.h>
#include <arch/x86.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>
#include <object/cnode.h>
#include <object/tcb.h>

/* The range lives in the capability: paddr = first port, u.raw[0] = last. */
void ioport_cap(struct cap *cap, word_t first, word_t last)
{
    *cap = (struct cap){ .type = FERRY_OBJ_IO_PORT, .rights = FERRY_RIGHTS_ALL, .paddr = first };
    cap->u.raw[0] = last;
}

static bool covers(const struct cap *c, word_t first, word_t last)
{
    return first <= last && first >= c->paddr && last <= c->u.raw[0];
}

static word_t port_in(word_t port, word_t width)
{
    uint16_t p = (uint16_t)port;
    switch (width) {
    case 1: return inb(p);
    case 2: { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
    default: { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
    }
}

static void port_out(word_t port, word_t width, word_t v)
{
    uint16_t p = (uint16_t)port;
    switch (width) {
    case 1: outb(p, (uint8_t)v); break;
    case 2: asm volatile("outw %0, %1" : : "a"((uint16_t)v), "Nd"(p)); break;
    default: asm volatile("outl %0, %1" : : "a"((uint32_t)v), "Nd"(p)); break;
    }
}

/* rep ins/outs of n items of width bytes between port and buf.  buf is the
 * kernel's address of the caller's IPC buffer words (decode checked the
 * bounds), so a device answering with garbage can only fill those words. */
static void port_in_string(word_t port, word_t width, void *buf, word_t n)
{
    uint16_t p = (uint16_t)port;
    switch (width) {
    case 1: asm volatile("cld; rep insb" : "+D"(buf), "+c"(n) : "d"(p) : "memory"); break;
    case 2: asm volatile("cld; rep insw" : "+D"(buf), "+c"(n) : "d"(p) : "memory"); break;
    default: asm volatile("cld; rep insl" : "+D"(buf), "+c"(n) : "d"(p) : "memory"); break;
    }
}

static void port_out_string(word_t port, word_t width, const void *buf, word_t n)
{
    uint16_t p = (uint16_t)port;
    switch (width) {
    case 1: asm volatile("cld; rep outsb" : "+S"(buf), "+c"(n) : "d"(p) : "memory"); break;
    case 2: asm volatile("cld; rep outsw" : "+S"(buf), "+c"(n) : "d"(p) : "memory"); break;
    default: asm volatile("cld; rep outsl" : "+S"(buf), "+c"(n) : "d"(p) : "memory"); break;
    }
}

/* InString/OutString: every argument checked before the port is touched;
 * the only memory reached is the caller's own IPC buffer, mr[word..]. */
static word_t decode_string(struct tcb *caller, const struct cap *c, struct invocation *inv, bool out)
{
    if (inv->len < FERRY_IOPORT_STRING_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
    word_t port = inv->mr[FERRY_IOPORT_STRING_ARG_PORT], width = inv->mr[FERRY_IOPORT_STRING_ARG_WIDTH];
    word_t count = inv->mr[FERRY_IOPORT_STRING_ARG_COUNT], word = inv->mr[FERRY_IOPORT_STRING_ARG_WORD];
    if (width != 1 && width != 2 && width != 4)
        return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_IOPORT_STRING_ARG_WIDTH);
    if (count == 0 || count > FERRY_IOPORT_STRING_MAX || count % width)
        return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_IOPORT_STRING_ARG_COUNT);
    if (!cap_has_rights(c, out ? FERRY_RIGHT_WRITE : FERRY_RIGHT_READ))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
    if (port > 0xffff || !covers(c, port, port + width - 1))
        return inv_fail(inv, FERRY_E_RANGE, FERRY_IOPORT_STRING_ARG_PORT);
    /* word is checked alone first so that word * 8 cannot wrap. */
    if (word >= FERRY_MSG_MAX_WORDS || word * sizeof(word_t) + count > FERRY_MSG_MAX_WORDS * sizeof(word_t))
        return inv_fail(inv, FERRY_E_RANGE, FERRY_IOPORT_STRING_ARG_WORD);
    struct ferry_ipc_buffer *buf = (struct ferry_ipc_buffer *)tcb_ipc_buffer(caller);
    if (!buf)
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE);
    if (out)
        port_out_string(port, width, &buf->mr[word], count / width);
    else
        port_in_string(port, width, &buf->mr[word], count / width);
    inv->len = 0;
    return FERRY_OK;
}

word_t ioport_decode(struct tcb *caller, struct cte *slot, struct invocation *inv, struct cte **extra,
                     unsigned nextra)
{
    const struct cap *c = &slot->cap;
    switch (inv->label) {
    case FERRY_IOPORT_IN_STRING:
    case FERRY_IOPORT_OUT_STRING:
        return decode_string(caller, c, inv, inv->label == FERRY_IOPORT_OUT_STRING);
    case FERRY_IOPORT_IN:
    case FERRY_IOPORT_OUT: {
        bool out = inv->label == FERRY_IOPORT_OUT;
        if (inv->len < (out ? FERRY_IOPORT_OUT_NARGS : FERRY_IOPORT_IN_NARGS))
            return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
        word_t port = inv->mr[FERRY_IOPORT_ARG_PORT], width = inv->mr[FERRY_IOPORT_ARG_WIDTH];
        if (width != 1 && width != 2 && width != 4)
            return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_IOPORT_ARG_WIDTH);
        if (!cap_has_rights(c, out ? FERRY_RIGHT_WRITE : FERRY_RIGHT_READ))
            return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
        if (port > 0xffff || !covers(c, port, port + width - 1))
            return inv_fail(inv, FERRY_E_RANGE, FERRY_IOPORT_ARG_PORT);
        if (out) {
            port_out(port, width, inv->mr[FERRY_IOPORT_ARG_VALUE]);
            inv->len = 0;
        } else {
            inv->mr[FERRY_IOPORT_IN_RES_VALUE] = port_in(port, width);
            inv->len = 1;
        }
        return FERRY_OK;
    }
    case FERRY_IOPORT_ISSUE: {
        if (inv->len < FERRY_IOPORT_ISSUE_NARGS)
            return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
        if (nextra < FERRY_IOPORT_ISSUE_CAP_ROOT + 1)
            return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_IOPORT_ISSUE_CAP_ROOT));
        word_t first = inv->mr[FERRY_IOPORT_ISSUE_ARG_FIRST], last = inv->mr[FERRY_IOPORT_ISSUE_ARG_LAST];
        if (!covers(c, first, last))
            return inv_fail(inv, FERRY_E_RANGE, FERRY_IOPORT_ISSUE_ARG_FIRST);
        struct cte *dst;
        word_t err = inv_dest_slot(inv, extra[FERRY_IOPORT_ISSUE_CAP_ROOT], FERRY_IOPORT_ISSUE_ARG_DEST_INDEX, &dst);
        if (err)
            return err;
        struct cap sub;
        ioport_cap(&sub, first, last);
        sub.rights = c->rights;
        cte_insert(dst, &sub, slot);
        inv->len = 0;
        return FERRY_OK;
    }
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
}
