/* pingpong.c: round trips between two processes through a pipe, an eventfd and a UNIX socket. */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linux_bench.h"

/* All three transports carry one 8-byte value per direction with plain
 * read/write, so one loop serves them: the parent sends token 2i+1, the
 * child checks it and answers 2i+2, the parent checks the answer.  (An
 * eventfd read returns the counter's sum, which equals the token because
 * only one value is ever pending; tokens are never 0, which eventfd would
 * not deliver.) */
struct pp_fds {
    int ptx, prx;   /* parent's send and receive ends */
    int ctx, crx;   /* child's */
    int child_only[2];  /* fds only the child uses: the parent closes them */
    int wake;       /* eventfd: where a dead child's poison goes, else -1 */
    size_t total;   /* warm-up + timed iterations */
};

/* After the last round trip the parent sends PP_END, and the child exits
 * only then: exiting earlier could land the SIGCHLD poison on an eventfd
 * next to a reply the parent has not read yet. */
#define PP_END ((uint64_t)1 << 61)

enum { PP_OK, PP_IO, PP_BADTOKEN, PP_DIED };
static const char *const pp_msgs[] = { "", "peer: read/write failed", "peer: received a wrong token",
                                       "peer: exited early (injected fault)", NULL };

static int pp_child(void *arg)
{
    const struct pp_fds *f = arg;
    for (size_t i = 0; i < f->total; i++) {
        uint64_t v;
        if (!lb_read_full(f->crx, &v, sizeof(v)))
            return PP_IO;
        if (v != 2 * i + 1)
            return PP_BADTOKEN;
        if (i == 3 && lb_fault_is("die"))
            return PP_DIED;
        v++;
        if (i == 3 && lb_fault_is("reply"))
            v++;
        if (!lb_write_full(f->ctx, &v, sizeof(v)))
            return PP_IO;
    }
    uint64_t end;
    if (!lb_read_full(f->crx, &end, sizeof(end)))
        return PP_IO;
    return end == PP_END ? PP_OK : PP_BADTOKEN;
}

static const char *pp_run(struct bench_ctx *c, struct pp_fds *f)
{
    f->total = c->warmup + c->n;
    pid_t pid = lb_spawn(lb_peer_cpu(c), pp_child, f, f->wake);
    for (int k = 0; k < 2; k++) {
        if (f->child_only[k] >= 0)
            close(f->child_only[k]);
        f->child_only[k] = -1;
    }
    if (pid < 0)
        return "fork failed";
    const char *fail = NULL;
    for (size_t i = 0; i < f->total && !fail; i++) {
        uint64_t tok = 2 * i + 1, rep = 0;
        uint64_t t0 = tsc_begin();
        bool ok = lb_write_full(f->ptx, &tok, sizeof(tok)) && lb_read_full(f->prx, &rep, sizeof(rep));
        uint64_t t1 = tsc_end();
        if (!ok)
            fail = "read/write failed (peer gone?)";
        else if (rep != tok + 1)
            fail = "wrong reply token";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    uint64_t end = PP_END;
    if (!fail && !lb_write_full(f->ptx, &end, sizeof(end)))
        fail = "read/write failed (peer gone?)";
    return lb_reap(pid, fail, pp_msgs);
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static const char *pipe_rt(struct bench_ctx *c)
{
    int a[2] = { -1, -1 }, b[2] = { -1, -1 };
    if (pipe(a) != 0 || pipe(b) != 0) {
        int all[4] = { a[0], a[1], b[0], b[1] };
        close_all(all, 4);
        return "pipe() failed";
    }
    struct pp_fds f = { .ptx = a[1], .crx = a[0], .ctx = b[1], .prx = b[0],
                        .child_only = { a[0], b[1] }, .wake = -1 };
    const char *r = pp_run(c, &f);
    int all[2] = { a[1], b[0] };
    close_all(all, 2);
    return r;
}

static const char *eventfd_rt(struct bench_ctx *c)
{
    int to_child = eventfd(0, 0), to_parent = eventfd(0, 0);
    if (to_child < 0 || to_parent < 0) {
        int all[2] = { to_child, to_parent };
        close_all(all, 2);
        return "eventfd() failed";
    }
    struct pp_fds f = { .ptx = to_child, .crx = to_child, .ctx = to_parent, .prx = to_parent,
                        .child_only = { -1, -1 }, .wake = to_parent };
    const char *r = pp_run(c, &f);
    int all[2] = { to_child, to_parent };
    close_all(all, 2);
    return r;
}

static const char *unix_rt(struct bench_ctx *c)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return "socketpair() failed";
    struct pp_fds f = { .ptx = sv[0], .prx = sv[0], .ctx = sv[1], .crx = sv[1],
                        .child_only = { sv[1], -1 }, .wake = -1 };
    const char *r = pp_run(c, &f);
    close(sv[0]);
    return r;
}

const struct bench_entry lb_pingpong_table[] = {
    { "pipe_rt", "cpu1", pipe_rt, "pipe ping-pong between two processes, one CPU", NULL, 0, 0, &lb_cpu1, 0 },
    { "pipe_rt", "cpu2", pipe_rt, "pipe ping-pong between two processes, two CPUs", NULL, 0, 0, &lb_cpu2, 0 },
    { "eventfd_rt", "cpu1", eventfd_rt, "eventfd ping-pong between two processes, one CPU", NULL, 0, 0, &lb_cpu1, 0 },
    { "eventfd_rt", "cpu2", eventfd_rt, "eventfd ping-pong between two processes, two CPUs", NULL, 0, 0, &lb_cpu2, 0 },
    { "unix_rt", "cpu1", unix_rt, "UNIX stream socket round trip between two processes, one CPU", NULL, 0, 0, &lb_cpu1, 0 },
    { "unix_rt", "cpu2", unix_rt, "UNIX stream socket round trip between two processes, two CPUs", NULL, 0, 0, &lb_cpu2, 0 },
};
const size_t lb_pingpong_count = sizeof(lb_pingpong_table) / sizeof(lb_pingpong_table[0]);
