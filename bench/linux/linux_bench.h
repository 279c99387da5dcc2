/* linux_bench.h: what the Linux baseline's benchmark families share (variants, helpers, tables). */
#ifndef FERRY_LINUX_BENCH_H
#define FERRY_LINUX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench_runner.h"

/* The variant of a two-party benchmark: cpu1 puts both parties on CPU 0,
 * cpu2 puts the second party on CPU 1. */
struct lb_placement {
    int peer_cpu;
};
extern const struct lb_placement lb_cpu1, lb_cpu2;

/* The CPU the partner of a benchmark runs on (0 for cpu1, 1 for cpu2). */
int lb_peer_cpu(const struct bench_ctx *c);

/* Fault injection for the tests of the checks themselves: the word
 * lbfault=reply (a wrong ping-pong reply), lbfault=die (the ping-pong peer
 * exits without replying) or lbfault=data (a stale bulk stamp) makes the
 * peer misbehave once, at its fourth iteration; NULL in normal runs. */
extern const char *lb_fault;
bool lb_fault_is(const char *what);

/* Pins the calling thread to one CPU; false if the CPU is not available. */
bool lb_pin(int cpu);

/* Whole-buffer read/write on a blocking fd, retrying short transfers and
 * EINTR; false on error, end of file, or when the peer process is gone. */
bool lb_read_full(int fd, void *buf, size_t n);
bool lb_write_full(int fd, const void *buf, size_t n);

/* Installs (once, at start-up) the SIGCHLD handler that lets a blocked
 * lb_read_full/lb_write_full notice that the peer from lb_spawn died. */
void lb_install_sigchld(void);

/* Starts a child process pinned to cpu that runs fn(arg) and exits with its
 * return value (0 = all checks passed).  Returns the pid or -1.
 * A peer that dies must not leave the parent blocked: the parent closes
 * the child's ends of pipes and sockets after the fork (so it sees EOF or
 * EPIPE), and for an eventfd passes it as `wake` (-1 if none): when the
 * child exits, LB_POISON is written there. */
pid_t lb_spawn(int cpu, int (*fn)(void *), void *arg, int wake);
#define LB_POISON ((uint64_t)1 << 62)

/* Waits for a child; on a benchmark failure (fail != NULL) kills it first.
 * Returns fail, or a message for a child that did not exit with 0, using
 * msgs[code] for the child's exit codes (NULL-terminated table). */
const char *lb_reap(pid_t pid, const char *fail, const char *const *msgs);

/* The tables of the benchmark families (defined in their own files). */
extern const struct bench_entry lb_syscall_table[];
extern const size_t lb_syscall_count;
extern const struct bench_entry lb_pingpong_table[];
extern const size_t lb_pingpong_count;
extern const struct bench_entry lb_threads_table[];
extern const size_t lb_threads_count;
extern const struct bench_entry lb_bulk_table[];
extern const size_t lb_bulk_count;
extern const struct bench_entry lb_spawn_table[];
extern const size_t lb_spawn_count;
extern const struct bench_entry lb_touch_table[];
extern const size_t lb_touch_count;
extern const struct bench_entry lb_cow_table[];
extern const size_t lb_cow_count;
extern const struct bench_entry lb_file_table[];
extern const size_t lb_file_count;

/* The libc test programs Ferry runs (userspace/io/filetest.c, pipetest.c),
 * here with libccheck=1: status 0, or the line of the failed check. */
int lb_filetest_main(int argc, char **argv);
int lb_pipetest_main(int argc, char **argv);

/* argv[1] that makes the program exit with 0 at once (the spawn row's child). */
#define LB_EXIT0 "--lb-exit0"

#endif
