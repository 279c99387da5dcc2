/* ipc_cross.c: in-guest tests of IPC between address spaces, and the
 * cross-address-space stress test. */
#include "ipc_lib.h"

static bool ipc_cross_space(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    srv_ep = ep;
    srv_calls = 0;
    srv_in_process = true;
    struct process p;
    CHECK(new_process(&p, echo_server, 254));
    CHECK(settle());
    for (unsigned long len = 0; len <= 16; len += 4) {
        struct sys_msg m = { .info = FERRY_MSGINFO(20, len, 0), .w = { 1, 2, 3, 4 } };
        for (unsigned long i = 4; i < len; i++)
            ulib_ipc->mr[i] = i;
        CHECK_OK(ipc_call(ep, &m));
        CHECK(FERRY_MSGINFO_LABEL(m.info) == 21 && FERRY_MSGINFO_LEN(m.info) == len);
        for (unsigned long i = 0; i < len; i++)
            CHECK((i < 4 ? m.w[i] : ulib_ipc->mr[i]) == echo_word(i < 4 ? i + 1 : i, i));
    }
    CHECK(srv_calls == 5);
    CHECK_OK(ferry_tcb_suspend(p.tcb));
    return true;
}

/*
 * Stress: NCLIENT clients and NSERVER servers, each in its own address
 * space, share one endpoint.  Client c calls with its own badge (c + 1),
 * a sequence number and a payload word, a checksum over all of it, and
 * every 8th call a 16-word message through the IPC buffer.  A server
 * checks badge, sequence (per client, so a lost or repeated message
 * shows), checksum, and replies with a transform the client checks.
 * Counts live in the shared data pages (the image is shared).
 */
#define NCLIENT 4
#define NSERVER 3
#define STRESS_LONG 16
/* Total calls; ipc_stress=N on the command line overrides. */
#define STRESS_DEFAULT 1000000
static volatile unsigned long st_ep, st_done_ep, st_per_client, st_next_client;
static volatile unsigned long st_expect[NCLIENT], st_served[NSERVER], st_bad_srv, st_bad_cli;
static volatile unsigned long st_next_server;
static unsigned long st_badged[NCLIENT];

static unsigned long mix(unsigned long a, unsigned long b)
{
    return (a ^ (b * 0x9e3779b97f4a7c15UL)) * 0xff51afd7ed558ccdUL;
}

static unsigned long st_sum(unsigned long label, unsigned long len, const unsigned long *w,
                            const struct ferry_ipc_buffer *buf)
{
    unsigned long s = mix(label, len);
    for (unsigned long i = 0; i < len; i++)
        if (i != 3)
            s = mix(s, i < 4 ? w[i] : buf->mr[i]);
    return s;
}

static void stress_server(void)
{
    unsigned long id = __atomic_fetch_add(&st_next_server, 1, __ATOMIC_RELAXED);
    struct ferry_ipc_buffer *buf = ulib_ipc;   /* this space's own buffer */
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(st_ep, &m);
    for (;;) {
        unsigned long len = FERRY_MSGINFO_LEN(m.info), c = m.badge - 1;
        if (err || c >= NCLIENT || (len != 4 && len != STRESS_LONG) || m.w[0] != c ||
            m.w[1] != st_expect[c] || m.w[3] != st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf)) {
            st_bad_srv++;
            m.info = 0;
            err = ipc_reply_recv(st_ep, &m);
            continue;
        }
        st_expect[c]++;
        st_served[id]++;
        /* Reply: the payload transformed, the long part reversed. */
        m.w[2] = mix(m.w[2], m.w[1]);
        for (unsigned long i = 4; i < len; i++)
            buf->mr[i] = ~buf->mr[i];
        m.info = FERRY_MSGINFO(FERRY_MSGINFO_LABEL(m.info) + 1, len, 0);
        m.w[3] = st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf);
        err = ipc_reply_recv(st_ep, &m);
    }
}

static void stress_client(void)
{
    unsigned long c = __atomic_fetch_add(&st_next_client, 1, __ATOMIC_RELAXED);
    unsigned long ep = st_badged[c];
    struct ferry_ipc_buffer *buf = ulib_ipc;
    unsigned long bad = 0;
    for (unsigned long seq = 0; seq < st_per_client; seq++) {
        unsigned long len = seq % 8 == 7 ? STRESS_LONG : 4, payload = mix(c, seq);
        struct sys_msg m = { .info = FERRY_MSGINFO(seq & 0xffff, len, 0), .w = { c, seq, payload, 0 } };
        for (unsigned long i = 4; i < len; i++)
            buf->mr[i] = mix(payload, i);
        m.w[3] = st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf);
        if (ipc_call(ep, &m) != FERRY_OK || FERRY_MSGINFO_LEN(m.info) != len ||
            FERRY_MSGINFO_LABEL(m.info) != (seq & 0xffff) + 1 || m.w[0] != c || m.w[1] != seq ||
            m.w[2] != mix(payload, seq) || m.w[3] != st_sum(FERRY_MSGINFO_LABEL(m.info), len, m.w, buf)) {
            bad++;
            continue;
        }
        for (unsigned long i = 4; i < len; i++)
            if (buf->mr[i] != ~mix(payload, i))
                bad++;
    }
    st_bad_cli += bad;
    struct sys_msg done = { .info = FERRY_MSGINFO(0, 1, 0), .w = { c } };
    ipc_send(st_done_ep, &done);
    park();
}

static bool ipc_stress(void)
{
    uint64_t total = STRESS_DEFAULT;
    CHECK(cmdline_get_u64(ulib_bootinfo->cmdline, "ipc_stress", &total) >= 0);
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(done_ep, FERRY_OBJ_ENDPOINT, 0);
    st_ep = ep;
    st_done_ep = done_ep;
    st_per_client = total / NCLIENT;
    st_next_client = st_next_server = 0;
    st_bad_srv = st_bad_cli = 0;
    for (unsigned c = 0; c < NCLIENT; c++) {
        st_expect[c] = 0;
        CHECK((st_badged[c] = mint(ep, FERRY_RIGHT_WRITE, c + 1)));
    }
    struct process ps[NSERVER], pc[NCLIENT];
    for (unsigned s = 0; s < NSERVER; s++) {
        st_served[s] = 0;
        CHECK(new_process(&ps[s], stress_server, 200));
        CHECK(settle());                /* each takes its id in order */
    }
    /* The clients run once we block below (they are of lower priority). */
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK(new_process(&pc[c], stress_client, 200));
    unsigned long finished = 0;
    while (finished < NCLIENT) {
        struct sys_msg m = { 0 };
        CHECK_OK(ipc_recv(done_ep, &m));
        finished++;
    }
    unsigned long served = 0;
    for (unsigned s = 0; s < NSERVER; s++)
        served += st_served[s];
    printf("    %lu calls by %u clients to %u servers in %u+%u address spaces: served %lu"
           " (%lu %lu %lu), bad at servers %lu, at clients %lu\n",
           st_per_client * NCLIENT, NCLIENT, NSERVER, NCLIENT, NSERVER, served, st_served[0],
           st_served[1], st_served[2], st_bad_srv, st_bad_cli);
    CHECK(st_bad_srv == 0 && st_bad_cli == 0);
    CHECK(served == st_per_client * NCLIENT);
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK(st_expect[c] == st_per_client);
    for (unsigned s = 0; s < NSERVER; s++)
        CHECK_OK(ferry_tcb_suspend(ps[s].tcb));
    for (unsigned c = 0; c < NCLIENT; c++)
        CHECK_OK(ferry_tcb_suspend(pc[c].tcb));
    return true;
}

const struct utest utests_ipc_cross[] = {
    UTEST(ipc_cross_space),
    UTEST(ipc_stress),
};
const size_t utests_ipc_cross_n = sizeof utests_ipc_cross / sizeof utests_ipc_cross[0];
