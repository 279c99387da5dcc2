/* supervisor.c: the supervisor, a process of its own.  It is the fault
 * handler of the services boot.conf marks "restart": their faults arrive
 * here as fault IPC; a page fault the pager can serve is passed on
 * (PROC_FAULT) and the thread resumed, anything else ends the service in
 * the process server, and the supervisor restarts it (PROC_RESTART), logs
 * why, and backs off when one keeps crashing.  A service killed by the
 * system is restarted the same way: the process server signals the bound
 * notification and the supervisor asks what ended (PROC_SUPERVISE_NEXT).
 * It never answers the process server, so neither waits for the other. */
#include <stdio.h>
#include <string.h>
#include <ferry/fault.h>
#include <ferry/prog.h>

#define SIGNAL_BADGE (1UL << 62)        /* the process server's signal (a pid is smaller) */
#define BACKOFF_AFTER 3                 /* crashes in a row before backing off */
#define BACKOFF_MAX_YIELDS 256

static struct ferry_ipc_buffer *const ipc = PROC_IPC;

/* Crashes in a row per program (by its boot.conf index), for the back-off:
 * a program that ended again before any other program was restarted
 * counts as crashing in a row. */
static unsigned long last_prog = ~0UL, in_a_row;

/* Restarts everything the process server says ended and was supervised. */
static void restart_pending(void)
{
    for (;;) {
        struct sys_msg m = { 0 };
        if (proc_call(PROC_SUPERVISE_NEXT, 0, NULL, &m) != PROC_OK)
            return;
        unsigned long old = m.w[1], why = m.w[2], prog = m.w[3];
        char name[PROC_NAME_MAX] = "";
        unsigned long words[PROC_NAME_MAX / 8];
        for (unsigned long i = 0; i < PROC_NAME_MAX / 8 && 4 + i < FERRY_MSGINFO_LEN(m.info); i++)
            words[i] = ipc->mr[4 + i];
        memcpy(name, words, sizeof name);
        name[PROC_NAME_MAX - 1] = '\0';
        in_a_row = prog == last_prog ? in_a_row + 1 : 1;
        last_prog = prog;
        if (in_a_row > BACKOFF_AFTER) {
            unsigned long yields = 1UL << (in_a_row - BACKOFF_AFTER < 8 ? in_a_row - BACKOFF_AFTER : 8);
            for (unsigned long i = 0; i < yields && i < BACKOFF_MAX_YIELDS; i++)
                sys_yield();             /* others run first: a crash loop does not starve them */
        }
        const unsigned long w[1] = { old };
        if (proc_call(PROC_RESTART, 1, w, &m) != PROC_OK) {
            printf("supervisor: %s (pid %lu) %s: could not be restarted\n", name, old,
                   why == 1 ? "faulted" : "was killed");
            continue;
        }
        printf("supervisor: %s (pid %lu) %s: restarted as pid %lu (restart %lu)\n", name, old,
               why == 1 ? "faulted" : "was killed", m.w[1], m.w[2]);
    }
}

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
        if (err)
            continue;
        if (m.badge & SIGNAL_BADGE) {
            restart_pending();
            continue;
        }
        /* A fault of a supervised service (badge: its pid). */
        const unsigned long w[5] = { m.badge, FERRY_MSGINFO_LABEL(m.info), m.w[FERRY_FAULT_MR_ADDR],
                                     m.w[FERRY_FAULT_MR_ERROR], m.w[FERRY_FAULT_MR_IP] };
        struct sys_msg r = { 0 };
        if (proc_call(PROC_FAULT, 5, w, &r) == PROC_OK)
            resume = true;               /* the pager mapped the page */
        else
            restart_pending();           /* it ended: its thread gets no answer */
    }
}
