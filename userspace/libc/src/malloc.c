/* malloc.c: malloc and free over mmap.  Small blocks come in power-of-two
 * classes (16 bytes to 64 KiB) carved from 1 MiB heap regions, each kept
 * on its class's free list when freed (no coalescing: a small, predictable
 * allocator); a region costs only the pages touched, since the pager makes
 * them on first touch.  Larger blocks get a mapping of their own, returned
 * by free.  One lock word serialises threads. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HDR         16                 /* keeps blocks 16-byte aligned */
#define MIN_SHIFT   4
#define MAX_SHIFT   16
#define CLASSES     (MAX_SHIFT - MIN_SHIFT + 1)
#define HEAP_REGION (1UL << 20)
#define LARGE       0xffffffffUL       /* class word of a block mapped on its own */

struct hdr {
    unsigned long cls;                 /* class index, or LARGE */
    unsigned long len;                 /* LARGE: the mapping's length */
};

static void *free_list[CLASSES];
static char *heap_next, *heap_end;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned class_of(size_t n)
{
    unsigned c = 0;
    while ((1UL << (c + MIN_SHIFT)) < n + HDR)
        c++;
    return c;
}

static void *small_alloc(unsigned c)
{
    if (free_list[c]) {
        void *p = free_list[c];
        free_list[c] = *(void **)p;
        return p;
    }
    size_t size = 1UL << (c + MIN_SHIFT);
    if ((size_t)(heap_end - heap_next) < size) {
        char *r = mmap(NULL, HEAP_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r == MAP_FAILED)
            return NULL;
        heap_next = r;                 /* what was left of the last region is dropped */
        heap_end = r + HEAP_REGION;
    }
    struct hdr *h = (struct hdr *)heap_next;
    heap_next += size;
    h->cls = c;
    return h + 1;
}

void *malloc(size_t n)
{
    if (n > (1UL << MAX_SHIFT) - HDR) {
        if (n > SIZE_MAX - HDR - 4095) {
            errno = ENOMEM;
            return NULL;
        }
        size_t len = (n + HDR + 4095) & ~4095UL;
        struct hdr *h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (h == MAP_FAILED)
            return NULL;
        h->cls = LARGE;
        h->len = len;
        return h + 1;
    }
    pthread_mutex_lock(&lock);
    void *p = small_alloc(class_of(n));
    pthread_mutex_unlock(&lock);
    if (!p)
        errno = ENOMEM;
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    if (h->cls == LARGE) {
        munmap(h, h->len);
        return;
    }
    pthread_mutex_lock(&lock);
    *(void **)p = free_list[h->cls];
    free_list[h->cls] = p;
    pthread_mutex_unlock(&lock);
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    struct hdr *h = (struct hdr *)p - 1;
    size_t have = h->cls == LARGE ? h->len - HDR : (1UL << (h->cls + MIN_SHIFT)) - HDR;
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, have);
        free(p);
    }
    return q;
}
