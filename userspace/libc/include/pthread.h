/* pthread.h: threads of Ferry's libc, a small part of POSIX: create, join,
 * exit, self, and mutexes (a lock word; a waiter yields). */
#ifndef _PTHREAD_H
#define _PTHREAD_H

typedef unsigned long pthread_t;
typedef struct { int unused; } pthread_attr_t;
typedef struct { volatile int locked; } pthread_mutex_t;
typedef struct { int unused; } pthread_mutexattr_t;

#define PTHREAD_MUTEX_INITIALIZER { 0 }

int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict attr,
                   void *(*start)(void *), void *restrict arg);
int pthread_join(pthread_t t, void **ret);
void pthread_exit(void *ret) __attribute__((noreturn));
pthread_t pthread_self(void);
int pthread_mutex_init(pthread_mutex_t *restrict m, const pthread_mutexattr_t *restrict a);
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_trylock(pthread_mutex_t *m);
int pthread_mutex_unlock(pthread_mutex_t *m);
int pthread_mutex_destroy(pthread_mutex_t *m);

#endif
