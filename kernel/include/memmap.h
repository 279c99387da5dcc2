/* memmap.h: physical memory as sorted lists of ranges; free-frame accounting
 * and the boot-time page allocator that runs before memory becomes untyped. */
#ifndef FERRY_MEMMAP_H
#define FERRY_MEMMAP_H

#include <types.h>

#define MEMMAP_MAX 64

enum mem_type {
    MEM_AVAILABLE = 1,      /* the Multiboot type numbers */
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIM = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct mem_range {
    paddr_t start, end;     /* [start, end) */
    uint32_t type;
};

struct memmap {
    struct mem_range r[MEMMAP_MAX];
    size_t n;
    bool overflow;          /* a range was dropped because the list was full */
};

const char *mem_type_name(uint32_t type);

/* Adds a range, keeping the list sorted by start; overlaps are kept as
 * given (the firmware map is recorded, not judged).  Empty ranges are ignored. */
void memmap_add(struct memmap *m, paddr_t start, paddr_t end, uint32_t type);

/* Builds the list of free memory: available ranges minus every
 * non-available range of the firmware map (reserved wins over available),
 * trimmed to whole pages. */
void memmap_free_from_firmware(const struct memmap *fw, struct memmap *free);

/* Removes [start, end) from a free list (splitting ranges as needed). */
void memmap_remove(struct memmap *free, paddr_t start, paddr_t end);

uint64_t memmap_bytes(const struct memmap *m);
paddr_t memmap_highest(const struct memmap *m);

/* Takes the highest free page that lies wholly below limit; 0 when there
 * is none.  The caller zeroes it. */
paddr_t memmap_take_page(struct memmap *free, paddr_t limit);

/* Takes `bytes` (rounded up to pages) of contiguous free memory aligned to
 * `align` (a power of two, at least a page), as high as possible in the
 * highest range that can hold it; 0 when none can. */
paddr_t memmap_take_range(struct memmap *free, uint64_t bytes, uint64_t align);

#endif
