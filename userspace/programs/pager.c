/* pager.c: the pager, a process of its own.  Every process that is not a
 * server of the system or a supervised service has as its fault endpoint
 * the pager's endpoint badged with its pid: each of its faults arrives
 * here as fault IPC.  The pager asks the process server to serve it
 * (PROC_PAGE: a demand-zero page, a stack page, a copy-on-write copy, from
 * the memory it holds for that process) and resumes the thread with its
 * reply; a fault that cannot be served has ended the process there, and
 * its thread gets no answer.  It never answers the process server, so
 * neither waits for the other. */
#include <ferry/fault.h>
#include <ferry/prog.h>

#define SIGNAL_BADGE (1UL << 62)        /* the process server's signal (a pid is smaller) */

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    struct sys_msg m = { 0 };
    bool resume = false;
    for (;;) {
        if (resume)
            m = (struct sys_msg){ .info = FERRY_MSGINFO(0, 0, 0) };   /* resumes the faulted thread */
        unsigned long err = sys_raw(resume ? FERRY_SYS_REPLY_RECV : FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
        resume = false;
        if (err || (m.badge & SIGNAL_BADGE))
            continue;
        /* A fault (badge: the pid); the process server's answer says
         * whether the thread may go on. */
        struct sys_msg r = { .info = FERRY_MSGINFO(PROC_PAGE, 5, 0),
                             .w = { m.badge, FERRY_MSGINFO_LABEL(m.info), m.w[FERRY_FAULT_MR_ADDR],
                                    m.w[FERRY_FAULT_MR_ERROR] } };
        PROC_IPC->mr[4] = m.w[FERRY_FAULT_MR_IP];
        resume = sys_raw(FERRY_SYS_CALL, PROC_CAP_SERVER, &r) == FERRY_OK && r.w[0] == PROC_OK;
    }
}
