/* fault.h: the fault message a faulting thread's handler receives (kernel ABI, shared with user space). */
#ifndef FERRY_UAPI_FAULT_H
#define FERRY_UAPI_FAULT_H

/*
 * When a thread faults and its fault endpoint (TCB Configure mr[0], a cptr
 * looked up in the thread's own CSpace at fault time) names an endpoint
 * capability with WRITE, the kernel makes the thread Call that endpoint
 * with this message, badged by the capability:
 *
 *   label  = FERRY_FAULT_*                      length = 4, no capabilities
 *   mr[0]  = RIP of the faulting instruction
 *   mr[1]  = faulting address (page fault: CR2), else the vector
 *   mr[2]  = the CPU's error code (0 when the exception has none)
 *   mr[3]  = the vector
 *
 * Replying (Reply or ReplyRecv; the reply's words are ignored) resumes the
 * thread at its saved RIP (re-executing the faulting instruction unless
 * the handler changed RIP with TCB WriteRegisters); not replying leaves it
 * blocked.  Without a usable fault endpoint the thread is suspended and the
 * kernel prints the fault.
 */
#define FERRY_FAULT_PAGE       1   /* page fault */
#define FERRY_FAULT_EXCEPTION  2   /* any other CPU exception (#GP, #UD, #DE, ...) */
#define FERRY_FAULT_BAD_STATE  3   /* registers the kernel cannot return to (non-canonical RIP) */
#define FERRY_FAULT_MSG_LEN    4

#define FERRY_FAULT_MR_IP     0
#define FERRY_FAULT_MR_ADDR   1
#define FERRY_FAULT_MR_ERROR  2
#define FERRY_FAULT_MR_VECTOR 3

#endif
