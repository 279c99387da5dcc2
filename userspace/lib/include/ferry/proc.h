/* proc.h: the contract between a spawned program and the process server:
 * its CSpace and address-space layout and the messages it may send. */
#ifndef FERRY_USER_PROC_H
#define FERRY_USER_PROC_H

/* A program's CSpace: one CNode of 2^PROC_CNODE_RADIX slots, guarded so a
 * cptr is the slot number (depth 64), holding only these capabilities. */
#define PROC_CNODE_RADIX 6
enum proc_slot {
    PROC_CAP_NULL = 0,
    PROC_CAP_SERVER,      /* the process server's endpoint, badged with the pid (Call only) */
    PROC_CAP_CNODE,       /* this CNode (where received capabilities go) */
    PROC_CAP_SERVICE,     /* its own service endpoint, when its manifest may register names */
    PROC_CAP_FAULT,       /* its fault endpoint: the pager's (a supervised service: the supervisor's;
                           * a server of the system: the process server's), badged with the pid */
    PROC_CAP_NOTIFY,      /* a notification the server signals when a child of it ends (waitpid) */
    PROC_CAP_NAMES,       /* the name service's endpoint, badged with the pid (Call, may pass a capability) */
    PROC_CAP_FIRST_FREE,  /* from here on: free, e.g. for looked-up names */
};

/* Its address space.  The image lies below PROC_IMAGE_TOP.  The stack
 * starts with PROC_STACK_PAGES mapped and grows on demand (the process
 * server maps a zeroed page at the first touch) to PROC_STACK_MAX_PAGES;
 * the page below that is a guard: touching it ends the process.
 * Anonymous memory (PROC_MMAP) is handed out from PROC_ANON_BASE, each
 * region followed by an unmapped page, and also materialises on first touch. */
#define PROC_IMAGE_TOP    0x0fe00000UL
#define PROC_STACK_TOP    0x10000000UL
#define PROC_STACK_PAGES  4
#define PROC_STACK_MAX_PAGES 16
#define PROC_ANON_BASE    0x20000000UL
#define PROC_ANON_TOP     0x3fe00000UL
#define PROC_IPC_BUFFER   0x10010000UL
#define PROC_ARGS         0x10020000UL   /* argv[], envp[] and their strings (one page) */

/* Threads: thread k (0 = the first) has its IPC buffer at
 * PROC_IPC_BUFFER + k pages; its FS base is that buffer, whose user_data
 * word holds the buffer's address (so a thread finds its own buffer). */
#define PROC_THREADS_MAX  16

/* The largest PROC_MMAP region (its pages are only made when touched). */
#define PROC_MMAP_MAX_PAGES 4096
#define PROC_MMAP_LARGE     2
#define PROC_MMAP_LARGE_MAX (32UL << 20)

/* Entry: rdi = argc, rsi = argv, rdx = envp (crt0 calls main with them). */

/* Calls on PROC_CAP_SERVER: the label names the request; the reply's
 * word 0 is the error (PROC_OK or PROC_E_*). */
enum proc_label {
    PROC_EXIT = 1,        /* w0 = status; never answered: the process is gone */
    PROC_PRINT,           /* w0 = byte count, bytes from word 1: console output */
    PROC_GETPID,          /* reply w1 = pid, w2 = parent's pid (0: started by the system) */
    PROC_MMAP,            /* w0 = bytes, w1 (optional) = 1 for memory a fork shares rather than copies:
                           * reply w1 = address of fresh anonymous memory (zero on first touch);
                           * w1 = PROC_MMAP_LARGE: up to PROC_MMAP_LARGE_MAX bytes in 2 MiB pages,
                           * made at once, beside the process's own memory; one such region in the
                           * system at a time (a RAM disk: docs/io.md); not shared by fork or
                           * PROC_SHARE; only for a program whose manifest has mmap_large
                           * (boot.conf), else PROC_E_DENIED */
    PROC_MUNMAP,          /* w0 = address, w1 = bytes: exactly one region PROC_MMAP gave */
    PROC_SPAWN,           /* w0 = length, then "name\0arg\0...\0\0env\0...\0": reply w1 = pid */
    PROC_WAIT,            /* w0 = pid (-1: any child): reply w1 = pid, w2 = status; PROC_E_AGAIN while it runs */
    PROC_FORK,            /* w0 = rip, w1 = rsp, w2 = rdi of the child's thread: reply w1 = child pid */
    PROC_THREAD,          /* w0 = rip, w1 = rsp, w2..w4 = rdi, rsi, rdx: reply w1 = thread number */
    PROC_THREAD_EXIT,     /* w0 = the calling thread's number: never answered */
    PROC_THREAD_JOIN,     /* w0 = thread number: PROC_OK once it is gone, else PROC_E_AGAIN */
    PROC_EXEC,            /* as PROC_SPAWN: the caller's image replaced in place (same pid, parent,
                           * children); never answered when it succeeds; PROC_E_NOT_FOUND,
                           * PROC_E_BAD_NAME (not an image): refused, the caller goes on */
    /* From the name service only: */
    PROC_MANIFEST,        /* w0 = pid: reply w0 = PROC_OK, w1 = length, bytes from w2:
                           * "lookup\0...\0\0register\0...\0\0" (the names of its manifest) */
    PROC_NAME_EVENT,      /* w0 = pid, w1 = 1: registered / 0: a lookup refused, w2 = length,
                           * the name from w3: the process server counts and logs it */
    PROC_NAMES_RESTORE,   /* w0 = index i: the i-th name a running process registered (the
                           * process server's record): reply w1 = pid, w2 = length, the name from
                           * w3, the service's endpoint as the one capability; PROC_E_NOT_FOUND
                           * past the last (a restarted name service rebuilds its registry) */
    /* From the supervisor only: */
    PROC_FAULT,           /* w0 = pid, w1 = fault kind, w2 = address, w3 = error code, w4 = ip:
                           * PROC_OK: the pager served it (resume the thread); else the process ended */
    PROC_SUPERVISE_NEXT,  /* reply w1 = pid of a supervised process that ended, w2 = 1 faulted /
                           * 2 killed, w3 = its boot.conf index, its name from w4; PROC_E_NOT_FOUND: none */
    PROC_RESTART,         /* w0 = that pid: reaped, its program started again: reply w1 = new pid,
                           * w2 = how often the program was restarted */
    /* From the pager only: */
    PROC_PAGE,            /* w0 = pid, w1 = fault kind, w2 = address, w3 = error code, w4 = ip of a
                           * fault of a process the pager handles: PROC_OK: served (resume the
                           * thread); else the process ended */
    /* From any process: */
    PROC_SHARE,           /* w0 = address, w1 = bytes: one region PROC_MMAP gave, w2 = pid:
                           * its pages mapped read-only into process pid too; reply
                           * w1 = their address there.  They leave it when the region
                           * is unmapped or this process ends (zero-copy reads: docs/io.md) */
    PROC_NOTIFICATION,    /* w0 = slot (PROC_NTFN_SLOT0 .. + PROC_NTFNS - 1): a new notification,
                           * made from the caller's memory, in that slot of its CNode (what was
                           * there is deleted); a fork copies it into the child's same slot.
                           * It goes when the caller ends (the pipes' wake-ups: docs/io.md) */
    PROC_ALIVE,           /* w0..w3 = pids (0: none): reply w1 bit i = 1 while pid wi runs (not
                           * yet ended).  Pids are never reused.  At a process's end the
                           * server signals its slots PROC_NTFN_SLOT0.. first, so the pipes'
                           * sleepers wake and ask this (docs/io.md, "Pipes") */
};
#define PROC_ALIVE_MAX 4

/* The slots PROC_NOTIFICATION fills, above the device slots (ferry/devcaps.h);
 * its capability's badge (what a Wait returns once signalled; a poll with
 * nothing pending returns 0). */
#define PROC_NTFN_SLOT0 56
#define PROC_NTFNS      8
#define PROC_NTFN_BADGE 1

/* Calls on PROC_CAP_NAMES (the name service, a process of its own): the
 * reply's word 0 is the error, as above. */
enum names_label {
    NAMES_LOOKUP = 1,     /* w0 = length, name from word 1; the reply carries the endpoint */
    NAMES_REGISTER,       /* w0 = length, name from word 1, the service's endpoint as the one
                           * capability: it serves the name from now on */
    NAMES_PROBE,          /* as NAMES_LOOKUP, but a name outside the manifest is refused
                           * without being reported as a violation: the libc asks whether
                           * its program may use serial: for its console this way */
};

enum proc_error {
    PROC_OK = 0,
    PROC_E_DENIED,        /* the manifest does not list the name (or lacks the right asked for) */
    PROC_E_NOT_FOUND,     /* nobody registered it */
    PROC_E_BAD_NAME,      /* not a scheme name ("name:", 2..31 bytes of [a-z0-9_-] and the colon) */
    PROC_E_TAKEN,         /* registered already */
    PROC_E_BAD_REQUEST,   /* unknown label or malformed message */
    PROC_E_NO_MEMORY,     /* the process's memory or address-space limits are reached */
    PROC_E_NO_CHILD,      /* PROC_WAIT: no such child */
    PROC_E_AGAIN,         /* PROC_WAIT, PROC_THREAD_JOIN: not yet */
    PROC_E_NO_SERVICE,    /* the server is gone (the kernel failed the Call: its endpoint was
                           * deleted, or it died holding the request): retry after a restart */
};

#define PROC_NAME_MAX 32       /* with the NUL */
#define PROC_MAX_PRINT 900     /* bytes per PROC_PRINT message */

/* Exit statuses the process server gives a process that did not call exit. */
#define PROC_STATUS_KILLED  (-9L)
#define PROC_STATUS_FAULTED (-11L)

#endif
