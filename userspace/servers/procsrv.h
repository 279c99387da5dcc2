/* procsrv.h: the process server and memory manager (procsrv.elf, a
 * process of its own) and what the root task offers over it: the same
 * names, stubs over the control interface in the root task
 * (userspace/init/procsrv_client.c), the functions themselves in the
 * server. */
#ifndef FERRY_PROCSRV_H
#define FERRY_PROCSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <ferry/bootconf.h>
#include <ferry/bootinfo.h>

/* The page(s) the root task shares with the process server, at the same
 * address in both: where the server finds its endpoint and the event
 * notification (slots of its CNode, filled in by the root task), says it
 * is ready, and writes one record per request it handled (not control
 * requests) into a ring the root task reads.  The root task sets waiting
 * before it waits on the notification; the server signals it only then,
 * so a root task that reads the ring later (the benchmarks) costs the
 * server nothing between two events. */
#define PROCSRV_SHARED_VA    0x0e000000UL
#define PROCSRV_SHARED_PAGES 16
struct procsrv_record {
    uint64_t tsc;                  /* when it had been handled */
    uint32_t pid, event;           /* who sent it; enum procsrv_event */
};
#define PROCSRV_RING ((PROCSRV_SHARED_PAGES * 4096 - 64) / sizeof(struct procsrv_record))
enum procsrv_state { PROCSRV_STARTING, PROCSRV_UP, PROCSRV_START_FAILED, PROCSRV_NO_SYSTEM };
struct procsrv_shared {
    unsigned long endpoint, events;    /* slots in the server's CNode */
    unsigned long state;               /* enum procsrv_state, once system_init (and system_start) ran */
    unsigned long waiting;             /* the root task waits for the next record */
    unsigned long head;                /* records written (rec[head % PROCSRV_RING] is the next) */
    unsigned long pad[3];
    struct procsrv_record rec[PROCSRV_RING];
};
_Static_assert(sizeof(struct procsrv_shared) <= PROCSRV_SHARED_PAGES * 4096, "the ring fits its pages");

#define PROCSRV_MAX_PROCS   16
#define PROCSRV_BLOCK_BITS  22     /* each process's memory: one 4 MiB untyped */

enum proc_state { PROC_FREE, PROC_RUNNING, PROC_ZOMBIE };

struct proc_info {
    unsigned long pid;
    enum proc_state state;
    const char *name;
    long status;                   /* once a zombie */
    unsigned long bytes;           /* memory its objects take */
    unsigned long messages;        /* requests it sent (page faults included) */
    unsigned long faults;          /* pages the pager made on first touch */
    unsigned long registered;      /* names it registered with the name service */
};

/* Maps the boot modules, reads the boot configuration.  False (with the
 * reason printed) when there is no system to start. */
bool system_init(const struct ferry_bootinfo *bi);
bool system_ready(void);
const struct bootconf *system_conf(void);

/* Spawns the programs marked start: first the boot services (start with
 * restart), each served until it registered and left running; then the
 * others, waiting for each; false if one could not start or ended with a
 * non-zero status. */
bool system_start(void);

/* Spawns program name of the boot configuration with argv (NULL: its
 * default arguments; argv[0] is always its name) and envp (may be NULL).
 * Returns the pid (> 0) or 0 with the reason printed. */
unsigned long proc_spawn(const char *name, const char *const *argv, const char *const *envp);
/* Serves requests until pid has ended, then reaps it: its exit status (or
 * PROC_STATUS_KILLED / PROC_STATUS_FAULTED).  False for an unknown pid. */
bool proc_wait(unsigned long pid, long *status);
/* Ends pid now (its memory returns at once); false for an unknown pid.
 * A supervised program (boot.conf: restart) is restarted, as when it
 * faults, and its old pid is reaped by the supervisor. */
bool proc_kill(unsigned long pid);
/* Ends pid for good: no restart; it stays to be waited for. */
bool proc_stop(unsigned long pid);
/* The pid of a running process of program name, or 0. */
unsigned long proc_running(const char *name);
/* How often the supervisor restarted program name. */
unsigned long procsrv_restarts(const char *name);
/* The name service: started again after proc_stop (a proc_kill, exit or
 * fault restarts it at once); how often it was restarted. */
bool system_names_restart(void);
unsigned long procsrv_names_restarts(void);
/* Suspends every thread of pid without ending it (tests: a server that
 * stopped answering, with Calls queued on it). */
bool proc_freeze(unsigned long pid);
/* The supervisor, likewise (its endpoint stays: faults queued on it are
 * served by the next instance). */
bool system_supervisor_restart(void);
unsigned long procsrv_supervisor_restarts(void);
/* The pager: restarted whenever it ends (on the same endpoint), but
 * after a crash loop (below); system_pager_restart starts it then. */
unsigned long procsrv_pager_restarts(void);
bool system_pager_restart(void);
/* The name service, the pager and the supervisor are not started again
 * after this many ends in a row (faults or exits, no kill between), each
 * soon after its start (procsrv.c: SYSTEM_QUICK_REQUESTS); the console
 * says so, and system_*_restart starts them. */
#define PROCSRV_SYSTEM_RESTARTS_IN_A_ROW 5
/* Tests: an injected crash: pid's first thread is made to fault (its
 * instruction pointer set to 0, its IPC cancelled). */
bool proc_inject_fault(unsigned long pid);
/* Handles one request (blocks until one comes) and says what it was. */
enum procsrv_event {
    PROCSRV_OTHER,       /* a request answered, or a message from nobody */
    PROCSRV_PAGE,        /* a page fault served: a page made, the thread resumed */
    PROCSRV_ENDED,       /* a process ended (exit or fault) */
    PROCSRV_COW,         /* a write to a page shared copy-on-write served */
    PROCSRV_FORK,        /* a fork answered */
};
enum procsrv_event procsrv_serve_one(void);
/* Root task: the next record of the ring if there is one unread (false:
 * none), without waiting; drop every record written so far; how many
 * records were overwritten before the root task read them. */
bool procsrv_event_next(enum procsrv_event *ev);
void procsrv_events_drain(void);
unsigned long procsrv_events_lost(void);
/* Root task: wakes a procsrv_serve_one that waits (a thread of the root
 * task that has done what the main thread waits for). */
void procsrv_wake(void);
/* Tests: go on once cond holds (it names the state the test waits for,
 * checked after each request the server handled).  In the server this
 * serves; in the root task procsrv_serve_one waits until the server has
 * handled a request (a record in the ring). */
#define PROCSRV_AWAIT(cond)                                             \
    do {                                                                \
        while (!(cond))                                                 \
            procsrv_serve_one();                                        \
    } while (0)
/* Tests: the next request pid sends is left unanswered (pid waits in its
 * Call as a server that died before answering would leave it; its
 * proc_info messages count says when it came).  False for an unknown pid. */
bool proc_hold_next(unsigned long pid);
/* The pid whose message the last procsrv_serve_one handled, and the TSC
 * when it had (the benchmarks that time between two events of the server
 * take this, not a read of their own; in the root task: of the last
 * record read). */
unsigned long procsrv_event_pid(void);
uint64_t procsrv_event_tsc(void);
/* Information about pid; false when unknown. */
bool proc_info(unsigned long pid, struct proc_info *out);
/* Prints the process table. */
void proc_list(void);
/* How many processes are live (running or zombie), the system's servers
 * (the name service) left out. */
unsigned proc_count(void);
/* How many servers of the system (the name service) run. */
unsigned proc_system_count(void);
/* Pages the pager copied on a write to a page shared copy-on-write. */
unsigned long procsrv_cow_copies(void);
/* Write faults on such a page that its maker, the last user left, got
 * back writable without a copy. */
unsigned long procsrv_cow_reuses(void);
/* Lookups refused because the manifest did not list the name. */
unsigned long procsrv_refused(void);

/* The control capability (ferry/procctl.h): the server's endpoint with
 * the badge no process gets, for the root task's threads. */
unsigned long procsrv_control_cap(void);

/* Memory of the process pool that the kernel confirms free (each idle
 * block is retyped whole as a probe), and how many blocks exist. */
unsigned long mm_free_bytes(void);
unsigned mm_blocks(void);

/* The pool as it stands (a test's starting point), and whether all its
 * memory is free again since then: the free bytes as at the mark, plus a
 * whole block for each block made since (the pool grows by blocks and
 * never gives one back). */
struct mm_mark {
    unsigned long free;
    unsigned blocks;
};
static inline struct mm_mark mm_mark(void)
{
    return (struct mm_mark){ mm_free_bytes(), mm_blocks() };
}
static inline bool mm_back_to(struct mm_mark m)
{
    return mm_free_bytes() == m.free + (mm_blocks() - m.blocks) * (1UL << PROCSRV_BLOCK_BITS);
}

#endif
