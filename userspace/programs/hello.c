/* hello.c: prints its name, pid and arguments; "exit=N" makes N its
 * status; "exec=NAME" (its first argument) replaces it in place by
 * program NAME with the arguments after it (status 100 + errno if that
 * was refused); "ctl=PID" tries the process server's control interface
 * on PID with its own capability (status: how many were not refused);
 * "trap" fills its notification slots with its endpoints before it ends
 * (the process server signals those slots at its end: it must not block). */
#include <errno.h>
#include <unistd.h>
#include <ferry/procctl.h>
#include <ferry/prog.h>
#include <ferry/rights.h>

#define PROC_ARGS_MAX_WORDS 32

/* The control interface is the root task's alone: every control label
 * sent on this process's own capability (badged with its pid) must be
 * refused as an unknown request, and a copy of that capability cannot be
 * minted with the control badge (a badge is set once).  Returns how many
 * requests were not refused, plus 100 if the mint went through. */
static int try_control(unsigned long pid)
{
    int answered = 0;
    for (unsigned long label = PROC_CTL_FIRST; label <= PROC_CTL_LAST; label++) {
        struct sys_msg m = { 0 };
        unsigned long w[2] = { pid, 0 };
        if (proc_call(label, 2, w, &m) != PROC_E_BAD_REQUEST) {
            printf("hello: control request %#lx was not refused\n", label);
            answered++;
        }
    }
    const unsigned long slot = PROC_CAP_FIRST_FREE + 8;
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_CNODE_MINT, 6, 1),
                         .w = { slot, 64, PROC_CAP_SERVER, 64 } };
    struct ferry_ipc_buffer *ipc = (struct ferry_ipc_buffer *)PROC_IPC_BUFFER;
    ipc->mr[4] = FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY;
    ipc->mr[5] = PROC_CTL_BADGE;
    ipc->caps_or_badges[0] = PROC_CAP_CNODE;
    if (sys_raw(FERRY_SYS_CALL, PROC_CAP_CNODE, &m) == FERRY_OK) {
        printf("hello: minted the control badge\n");
        answered += 100;
    }
    printf("hello: %d of %d control requests answered\n", answered % 100,
           (int)(PROC_CTL_LAST - PROC_CTL_FIRST + 1));
    return answered;
}

/* Copies of the process server's and the name service's endpoints (ours,
 * badged with our pid) in the slots the process server signals when we
 * end (PROC_NTFN_SLOT0..): a Send there, where a notification is expected,
 * would wait for a receiver for ever.  Returns how many copies failed. */
static int set_trap(void)
{
    int failed = 0;
    const unsigned long from[] = { PROC_CAP_SERVER, PROC_CAP_NAMES };
    for (unsigned i = 0; i < sizeof from / sizeof from[0]; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_CNODE_COPY, FERRY_CNODE_COPY_NARGS, 1),
                             .w = { PROC_NTFN_SLOT0 + i, 64, from[i], 64 } };
        struct ferry_ipc_buffer *ipc = (struct ferry_ipc_buffer *)PROC_IPC_BUFFER;
        ipc->mr[4] = FERRY_RIGHTS_ALL;
        ipc->caps_or_badges[0] = PROC_CAP_CNODE;
        if (sys_raw(FERRY_SYS_CALL, PROC_CAP_CNODE, &m) != FERRY_OK)
            failed++;
    }
    return failed;
}

int main(int argc, char **argv, char **envp)
{
    if (argc > 1 && strcmp(argv[1], "trap") == 0)
        return set_trap();
    int status = 0;
    if (argc > 1 && strncmp(argv[1], "exec=", 5) == 0) {
        char *nargv[PROC_ARGS_MAX_WORDS + 1];   /* argv is on a read-only page */
        int n = 0;
        nargv[n++] = argv[1] + 5;       /* the new program's argv[0] */
        for (int i = 2; i < argc && n < PROC_ARGS_MAX_WORDS; i++)
            nargv[n++] = argv[i];
        nargv[n] = NULL;
        execve(nargv[0], nargv, envp);
        return 100 + errno;
    }
    if (argc > 1 && strncmp(argv[1], "ctl=", 4) == 0) {
        unsigned long pid = 0;
        for (const char *p = argv[1] + 4; *p >= '0' && *p <= '9'; p++)
            pid = pid * 10 + (unsigned long)(*p - '0');
        return try_control(pid);
    }
    printf("hello from pid %lu:", proc_getpid());
    for (int i = 0; i < argc; i++) {
        printf(" %s", argv[i]);
        if (strncmp(argv[i], "exit=", 5) == 0)
            for (const char *p = argv[i] + 5; *p >= '0' && *p <= '9'; p++)
                status = status * 10 + (*p - '0');
    }
    printf("\n");
    return status;
}
