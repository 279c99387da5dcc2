/* procctl.h: the process server's control interface: what the root task
 * (the test runner and benchmarks) may ask of it beyond a program's
 * requests, by Calls on the server's endpoint minted with a badge no
 * process gets; client stubs in userspace/lib/procctl.c. */
#ifndef FERRY_USER_PROCCTL_H
#define FERRY_USER_PROCCTL_H

/* The badge of the control capability.  A process's copy of the server's
 * endpoint carries its pid (small numbers) and its fault endpoint the pid
 * with bit 62; a badge cannot be changed once minted, so no process can
 * make a copy that carries this one. */
#define PROC_CTL_BADGE (1UL << 61)

/* Labels of control requests (above every label of ferry/proc.h, so the
 * same label from a process's own capability is simply an unknown request:
 * PROC_E_BAD_REQUEST).  The reply's word 0 is PROC_OK or PROC_E_*. */
enum proc_ctl_label {
    PROC_CTL_FIRST = 0x100,
    PROC_CTL_SPAWN = PROC_CTL_FIRST, /* as PROC_SPAWN (no parent), with w0's flags below: reply w1 = pid */
    PROC_CTL_WAIT,          /* w0 = pid: reply w1 = status, the pid reaped; PROC_E_AGAIN while it
                             * runs (wait on the control notification), PROC_E_NOT_FOUND */
    PROC_CTL_KILL,          /* w0 = pid: ended now (a supervised service is restarted) */
    PROC_CTL_STOP,          /* w0 = pid: ended for good */
    PROC_CTL_FREEZE,        /* w0 = pid: every thread suspended, nothing freed */
    PROC_CTL_INJECT_FAULT,  /* w0 = pid: its first thread made to fault */
    PROC_CTL_INFO,          /* w0 = pid: reply w1 = state, w2 = status, w3 = bytes, w4 = requests,
                             * w5 = pages made on first touch, w6 = names registered */
    PROC_CTL_RUNNING,       /* w0 = length, program name from w1: reply w1 = pid of a running one, or 0 */
    PROC_CTL_RESTARTS,      /* as PROC_CTL_RUNNING: reply w1 = how often the supervisor restarted it */
    PROC_CTL_COUNTERS,      /* reply w1 = processes, w2 = servers of the system, w3 = lookups refused,
                             * w4 = copy-on-write copies, w5 = copy-on-write reuses, w6..w8 =
                             * restarts of the name service, the supervisor, the pager */
    PROC_CTL_MEMORY,        /* reply w1 = free bytes of the process pool (the kernel's word),
                             * w2 = blocks made */
    PROC_CTL_SYSTEM_RESTART,/* w0 = PROC_CTL_NAMES / _SUPERVISOR / _PAGER: started again
                             * after a stop or a crash loop; PROC_E_NO_SERVICE if it did not start */
    PROC_CTL_LIST,          /* the process table printed on the console */
    PROC_CTL_NOTIFICATION,  /* reply: the control notification (one capability, read right),
                             * signalled whenever a process ends */
    PROC_CTL_HOLD,          /* w0 = pid: its next request is left unanswered (tests: a server
                             * that dies holding a Call); the count in PROC_CTL_INFO says when */
    PROC_CTL_LAST = PROC_CTL_HOLD,
};

/* PROC_CTL_SPAWN's flags in w0 (beside the length): no arguments given
 * (the program's defaults apply); every argument and environment string
 * carries one leading byte that the server drops (the request's format,
 * ferry/spawnmsg.h, ends strings with NUL and has no empty string: so an
 * empty argument travels as one byte). */
#define PROC_CTL_SPAWN_DEFAULTS (1UL << 32)
#define PROC_CTL_SPAWN_MARKED   (1UL << 33)

enum proc_ctl_server { PROC_CTL_NAMES, PROC_CTL_SUPERVISOR, PROC_CTL_PAGER };

/* ---- client stubs (root task) ------------------------------------------ */

#include <stdbool.h>
#include <ferry/sys.h>

/* One client: the control capability, the calling thread's IPC buffer, and
 * where the control notification lies once fetched (0: not yet). */
struct procctl {
    unsigned long cap;
    struct ferry_ipc_buffer *ipc;
    unsigned long notify;
};

struct procctl_info {
    unsigned long state, status, bytes, messages, faults, registered;
};

struct procctl_counters {
    unsigned long procs, system, refused, cow_copies, cow_reuses;
    unsigned long names_restarts, sup_restarts, pager_restarts;
};

/* Every stub returns PROC_OK or the error (PROC_E_*; PROC_E_NO_SERVICE
 * when the kernel failed the Call). */
unsigned long procctl_spawn(struct procctl *c, const char *name, const char *const *argv,
                            const char *const *envp, unsigned long *pid);
/* Fetches the control notification into slot dest of the root CNode. */
unsigned long procctl_notification(struct procctl *c, unsigned long dest);
/* Waits until pid has ended (on the notification, fetched first), reaps it. */
unsigned long procctl_wait(struct procctl *c, unsigned long pid, long *status);
/* PROC_CTL_KILL, _STOP, _FREEZE, _INJECT_FAULT, _HOLD, _SYSTEM_RESTART: one word in, none out. */
unsigned long procctl_simple(struct procctl *c, unsigned long label, unsigned long w0);
unsigned long procctl_info(struct procctl *c, unsigned long pid, struct procctl_info *out);
unsigned long procctl_running(struct procctl *c, const char *name, unsigned long *pid);
unsigned long procctl_restarts(struct procctl *c, const char *name, unsigned long *n);
unsigned long procctl_counters(struct procctl *c, struct procctl_counters *out);
unsigned long procctl_memory(struct procctl *c, unsigned long *free_bytes, unsigned long *blocks);

#endif
