/* ipc_lib.h: what the IPC test files (ipc_*.c) share: ipc_lib.c's helpers. */
#ifndef FERRY_TESTS_IPC_LIB_H
#define FERRY_TESTS_IPC_LIB_H

#include "utest.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define RW (FERRY_MAP_READ | FERRY_MAP_WRITE)
#define ROOT_PRIO 255

/* The calling thread's own IPC buffer (the page above its stack page). */
struct ferry_ipc_buffer *my_buf(void);
/* Start fn() at prio in the root task's address space with its own IPC
 * buffer, fault endpoint cptr fault_ep (0: none) and FS/GS bases; the TCB
 * slot, 0 on failure.  spawn: bases 0. */
unsigned long spawn_with(void (*fn)(void), unsigned prio, unsigned long fault_ep,
                         unsigned long fs_base, unsigned long gs_base);
unsigned long spawn(void (*fn)(void), unsigned prio, unsigned long fault_ep);
extern struct ferry_ipc_buffer *last_spawn_buf;   /* the IPC buffer of the last thread spawned */
/* Let every ready thread of lower priority run until it blocks. */
bool settle(void);
/* A thread that is done blocks here for good. */
void park(void);
/* A server on hold_ep that holds each reply until hold_ntfn is signalled,
 * then answers 555: hold_calls counts the requests it received,
 * hold_reply_err is its last reply's result + 1 (ipc_fault.c's caller
 * tests, fastpath.c's cancelled reply wait). */
extern volatile unsigned long hold_ep, hold_ntfn, hold_calls, hold_reply_err;
void holding_server(void);
/* A new slot with a mint of src, 0 on failure. */
unsigned long mint(unsigned long src, unsigned long rights, unsigned long badge);

/* The echo server: replies to each Call with label + 1 and every word w[i]
 * as echo_word(w[i], i); start_echo runs it on ep at prio and settles. */
extern volatile unsigned long srv_ep, srv_calls, srv_last_badge, srv_last_err;
extern volatile bool srv_in_process;   /* the server runs in its own address space */
unsigned long echo_word(unsigned long w, unsigned long i);
void echo_server(void);
unsigned long start_echo(unsigned long ep, unsigned prio);

/* A process (its own address space) running fn() at prio. */
bool new_process(struct process *p, void (*fn)(void), unsigned prio);

#endif
