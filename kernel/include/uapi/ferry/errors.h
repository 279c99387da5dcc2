/* errors.h: error codes every kernel invocation returns (0 = success); shared by kernel and user space. */
#ifndef FERRY_UAPI_ERRORS_H
#define FERRY_UAPI_ERRORS_H

/* Each failure has its own code so a caller can tell what went wrong
 * without guessing; on failure the kernel also reports in the invocation's
 * err_arg which argument (message word index, or FERRY_ERR_ARG_CAP(i) for
 * extra capability i) was at fault, and for lookup failures how many cptr
 * bits were left unresolved. */
enum ferry_error {
    FERRY_OK = 0,
    FERRY_E_INVALID_CAP,       /* cptr names no capability (empty slot or path ends early) */
    FERRY_E_WRONG_TYPE,        /* capability is of the wrong object type for this use */
    FERRY_E_RIGHTS,            /* capability lacks a right the operation needs */
    FERRY_E_RANGE,             /* numeric argument outside its allowed range */
    FERRY_E_ALIGNMENT,         /* address or size not aligned as required */
    FERRY_E_NO_MEMORY,         /* untyped memory exhausted: the objects do not fit */
    FERRY_E_SLOT_OCCUPIED,     /* destination slot already holds a capability */
    FERRY_E_SLOT_EMPTY,        /* source slot holds no capability */
    FERRY_E_REVOKE_FIRST,      /* capability still has derived children: revoke them first */
    FERRY_E_INVALID_ARG,       /* argument value is meaningless for this object */
    FERRY_E_ILLEGAL_OP,        /* operation not allowed on this capability / in this state */
    FERRY_E_DELETE_IN_PROGRESS,/* object is being destroyed (reserved for preemptible delete) */
    FERRY_E_LOOKUP_GUARD,      /* cptr resolution: guard bits did not match */
    FERRY_E_LOOKUP_DEPTH,      /* cptr resolution: depth did not end exactly at a slot */
    FERRY_E_INVALID_LABEL,     /* invocation label unknown for this object type */
    FERRY_E_TRUNCATED,         /* message shorter than the invocation's arguments */
    FERRY_E_MISSING_CAP,       /* an extra capability the invocation needs was not supplied */
    FERRY_E_NO_TABLE,          /* mapping: a page-table level above the address is missing */
    FERRY_E_NOT_MAPPED,        /* unmapping: the capability is not mapped */
    FERRY_E_NO_ASID,           /* the VSpace has no ASID, or no ASID (pool block) is free */
    FERRY_E_COUNT
};

/* err_arg value naming extra capability i rather than message word i. */
#define FERRY_ERR_ARG_CAP(i) (0x100UL + (i))
#define FERRY_ERR_ARG_NONE   (~0UL)

#endif
