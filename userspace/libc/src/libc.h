/* libc.h: what the parts of Ferry's libc share: the Call to the process
 * server, the calling thread's IPC buffer, and error translation. */
#ifndef FERRY_LIBC_INTERNAL_H
#define FERRY_LIBC_INTERNAL_H

#include <stddef.h>
#include <ferry/proc.h>
#include <ferry/sys.h>

/* Every thread's FS base is its IPC buffer, whose user_data word holds
 * the buffer's own address (the process server sets both up), so one
 * load finds the calling thread's buffer. */
static inline struct ferry_ipc_buffer *__ipc(void)
{
    struct ferry_ipc_buffer *b;
    __asm__("mov %%fs:%c1, %0" : "=r"(b) : "i"(offsetof(struct ferry_ipc_buffer, user_data)));
    return b;
}

/* The calling thread's index: 0 for the main thread, 1.. for the others
 * (their IPC buffers follow the main thread's, a page each). */
static inline unsigned __thread_index(void)
{
    return (unsigned)(((unsigned long)__ipc() - PROC_IPC_BUFFER) / 4096);
}

/* A Call to the process server with label and words w[0..n) (the first
 * four in registers, the rest through the IPC buffer); returns the
 * kernel's error or, when the Call went through, the reply's word 0. */
unsigned long __proc_call(unsigned long label, unsigned long n, const unsigned long *w,
                          struct sys_msg *m);
/* The same with a byte string: w0 = length, the bytes from word 1. */
unsigned long __proc_call_bytes(unsigned long label, const void *s, size_t len, struct sys_msg *m);

/* errno for a PROC_E_* (or a kernel error); sets errno and returns -1. */
int __set_errno_proc(unsigned long err);

/* A stdio stream: writes buffered (stdout by line), then write(fd);
 * reads straight through read(fd) (src/fstdio.c). */
struct __file {
    int fd;
    int line_buffered;
    int eof, err;
    size_t n;
    char buf[512];
};

/* The descriptor table (src/file.c): an open file of the file: service
 * (handle), or a pipe end (src/pipe.c).  0-2 are the console unless dup2
 * put something there. */
#define FDS_MAX 32
struct __pipe;
struct __fd {
    bool used;
    long handle;
    struct __pipe *pipe;
    bool write_end;
    bool named;                      /* a pipe of the pipe: service (src/npipe.c) */
    const unsigned char *window;     /* O_FERRY_GRANT: the file server's window for it */
};
extern struct __fd __fds[FDS_MAX];
int __fd_free(void);                 /* the lowest free descriptor from 3 on, or -1 (EMFILE) */

/* write(2) on a descriptor of the table (src/file.c); pipes (src/pipe.c). */
long __file_write(int fd, const void *buf, size_t n);
long __pipe_read(int fd, void *buf, size_t n);
long __pipe_write(int fd, const void *buf, size_t n);
int __pipe_close(int fd);
/* Before a fork (+1): every pipe end this process holds gains a holder,
 * the child (false, errno set: no room for it); -1 undoes it when the
 * fork failed.  After it, the parent names the child's holds by its pid
 * (__pipes_forked) and the child forgets its parent's pid (__pipes_child). */
bool __pipes_fork(int delta);
void __pipes_forked(long child);
void __pipes_child(void);
/* At exit: every pipe end is closed, so readers see the end of the data. */
void __pipes_exit(void);

/* Named pipes of the pipe: service (src/npipe.c): open("pipe:NAME"). */
int __npipe_open(const char *name, int flags);
long __npipe_read(int fd, void *buf, size_t n);
long __npipe_write(int fd, const void *buf, size_t n);
int __npipe_close(int fd);

/* Console output (write(1) and write(2)). */
void __console_write(const char *s, size_t n);
/* read(0) with no descriptor 0 of its own: from serial: (src/write.c). */
long __console_read(void *buf, size_t n);

/* Runs the atexit handlers and flushes; exit's first half. */
void __run_atexit(void);

#endif
