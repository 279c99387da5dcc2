/* prog.h: the Ferry-specific calls of a program the process server
 * spawned (userspace/libc/src/ferry.c): exit, names, anonymous memory. */
#ifndef FERRY_USER_PROG_H
#define FERRY_USER_PROG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <ferry/proc.h>
#include <ferry/sys.h>
#include <kstring.h>

/* The program's entry; its return value is the exit status. */
int main(int argc, char **argv, char **envp);

void proc_exit(long status) __attribute__((noreturn));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned long proc_getpid(void);

/* A Call to the process server (slot PROC_CAP_SERVER, protocol
 * ferry/proc.h) with label and words w[0..n): the first four in
 * registers, the rest through the calling thread's IPC buffer.  Returns
 * the kernel's error or, when the Call went through, the reply's word 0;
 * the whole reply is in *m (words from 4 on in the IPC buffer).  What the
 * libc's own requests are made of, public for the servers of the system
 * (the name service, the supervisor) whose requests have no libc wrapper. */
unsigned long proc_call(unsigned long label, unsigned long n, const unsigned long *w,
                        struct sys_msg *m);

/* Asks for the endpoint registered under name; on PROC_OK it is in slot
 * dest of this program's CNode. */
unsigned long proc_lookup(const char *name, unsigned long dest);
/* The same, but a name outside the manifest is refused quietly (PROC_E_DENIED,
 * not logged): for asking whether the manifest lists it. */
unsigned long proc_probe(const char *name, unsigned long dest);
/* Registers name as served by PROC_CAP_SERVICE (the manifest must allow it). */
unsigned long proc_register(const char *name);

/* Anonymous memory, zero and materialised page by page on first touch;
 * NULL when refused.  munmap takes exactly what one mmap gave; its pages
 * go at once (their memory returns when the process ends). */
void *proc_mmap(size_t len);
/* In 2 MiB pages made at once, up to PROC_MMAP_LARGE_MAX, one such region
 * in the system at a time (ferry/proc.h: PROC_MMAP_LARGE); NULL if taken. */
void *proc_mmap_large(size_t len);
/* Which of these pids (0: none) still run: bit i for pids[i]; all bits
 * set when the process server does not answer (PROC_ALIVE). */
unsigned long proc_alive(const unsigned long pids[PROC_ALIVE_MAX]);
unsigned long proc_munmap(void *addr, size_t len);

/* Maps the pages of one proc_mmap region read-only into process pid as
 * well (*there: their address in it), until the region is unmapped or this
 * process ends. */
unsigned long proc_share(void *addr, size_t len, unsigned long pid, unsigned long *there);

/* A new notification in slot (PROC_NTFN_SLOT0 ..), which a fork copies
 * into the child; it goes when this process ends. */
unsigned long proc_notification(unsigned long slot);

/* The value of NAME in envp, or NULL. */
const char *proc_getenv(char **envp, const char *name);

/* The program's IPC buffer. */
#define PROC_IPC ((struct ferry_ipc_buffer *)PROC_IPC_BUFFER)

#endif
