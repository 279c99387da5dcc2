/* kstring.h: the few string and memory routines the freestanding kernel and user space need (lib/string.c). */
#ifndef FERRY_KSTRING_H
#define FERRY_KSTRING_H

#include <types.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
