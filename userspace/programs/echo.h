/* echo.h: the echo: service's protocol (echo.c, and the clients that crash it on purpose). */
#ifndef FERRY_PROGRAMS_ECHO_H
#define FERRY_PROGRAMS_ECHO_H

/* Word 0 of a Call: answered with word 0 + 1 and the caller's badge in
 * word 1; this value instead makes the service write through a null
 * pointer (an injected crash, for the supervisor's tests). */
#define ECHO_CRASH 0xdeadUL

#endif
