/* sys.c: process, pinning and I/O helpers shared by the Linux baseline's benchmark families. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux_bench.h"

const char *lb_fault;

bool lb_fault_is(const char *what)
{
    return lb_fault != NULL && strcmp(lb_fault, what) == 0;
}

const struct lb_placement lb_cpu1 = { .peer_cpu = 0 };
const struct lb_placement lb_cpu2 = { .peer_cpu = 1 };

int lb_peer_cpu(const struct bench_ctx *c)
{
    const struct lb_placement *p = c->entry->arg;
    return p ? p->peer_cpu : 0;
}

bool lb_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0;
}

static pid_t peer_pid;
static volatile int wake_fd = -1;

/* For channels without end-of-file (eventfd): the handler writes a value
 * no peer ever sends into the parent's receive side, so a read that
 * started after the signal was handled still returns, and fails its check.
 * write() is async-signal-safe; the value is small enough never to make
 * an eventfd counter overflow (which would block here). */
static void on_sigchld(int sig)
{
    (void)sig;
    int fd = wake_fd;
    if (fd >= 0) {
        int saved = errno;
        uint64_t poison = LB_POISON;
        ssize_t r = write(fd, &poison, sizeof(poison));
        (void)r;
        errno = saved;
    }
}

void lb_install_sigchld(void)
{
    /* No SA_RESTART: a blocked read/write returns EINTR when a child
     * exits, so a failed peer cannot leave the parent waiting forever on an
     * eventfd, which has no end-of-file. */
    struct sigaction sa = { .sa_handler = on_sigchld };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
}

/* Has the current peer exited?  Asked without reaping it (WNOWAIT). */
static bool peer_exited(void)
{
    siginfo_t si = { 0 };
    if (peer_pid <= 0)
        return false;
    if (waitid(P_PID, (id_t)peer_pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return true;
    return si.si_pid == peer_pid;
}

/* After EINTR: go on waiting unless the peer has exited and nothing is
 * left to transfer.  A socket read can fail with EINTR even though the
 * peer's last reply already sits in the buffer (the signal is checked
 * before the data), so the fd is polled before giving up. */
static bool should_retry(int fd, short events)
{
    if (!peer_exited())
        return true;
    struct pollfd pfd = { .fd = fd, .events = events };
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & events);
}

bool lb_read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR && should_retry(fd, POLLIN))
            continue;
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

bool lb_write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR && should_retry(fd, POLLOUT))
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

pid_t lb_spawn(int cpu, int (*fn)(void *), void *arg, int wake)
{
    pid_t pid = fork();
    if (pid != 0) {
        peer_pid = pid;
        if (pid > 0)
            wake_fd = wake;
        return pid;
    }
    peer_pid = 0;
    /* Exit code 100: the child could not be placed where the variant says. */
    if (!lb_pin(cpu))
        _exit(100);
    _exit(fn(arg));
}

static const char *reap(pid_t pid, const char *fail, const char *const *msgs);

static const char *child_msg(int status, const char *const *msgs)
{
    if (WIFSIGNALED(status))
        return "peer process killed by a signal";
    int code = WEXITSTATUS(status);
    if (code == 0)
        return NULL;
    if (code == 100)
        return "peer could not be pinned to its CPU";
    for (int i = 0; msgs && msgs[i]; i++)
        if (i == code)
            return msgs[i];
    return "peer process failed";
}

const char *lb_reap(pid_t pid, const char *fail, const char *const *msgs)
{
    const char *r = reap(pid, fail, msgs);
    /* The child's SIGCHLD has been handled by now (it is raised before
     * waitpid can return), so the caller may close the wake fd. */
    wake_fd = -1;
    peer_pid = 0;
    return r;
}

static const char *reap(pid_t pid, const char *fail, const char *const *msgs)
{
    int status;
    if (fail != NULL) {
        /* A child that failed knows the cause better than the parent, which
         * only saw the channel break: give an exiting child up to a second
         * to finish before killing it. */
        for (int tries = 0; tries < 1000; tries++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                const char *m = child_msg(status, msgs);
                return m ? m : fail;
            }
            usleep(1000);
        }
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return fail ? fail : "waitpid failed";
    }
    if (fail != NULL)
        return fail;
    return child_msg(status, msgs);
}
