/* memmap.c: physical memory range lists and free-frame accounting. */
#include <memmap.h>

const char *mem_type_name(uint32_t type)
{
    switch (type) {
    case MEM_AVAILABLE: return "available";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI_RECLAIM: return "ACPI reclaimable";
    case MEM_ACPI_NVS: return "ACPI NVS";
    case MEM_BAD: return "bad";
    default: return "unknown";
    }
}

void memmap_add(struct memmap *m, paddr_t start, paddr_t end, uint32_t type)
{
    if (end <= start)
        return;
    if (m->n == MEMMAP_MAX) {
        m->overflow = true;
        return;
    }
    size_t i = m->n;
    while (i > 0 && m->r[i - 1].start > start) {
        m->r[i] = m->r[i - 1];
        i--;
    }
    m->r[i] = (struct mem_range){ start, end, type };
    m->n++;
}

void memmap_remove(struct memmap *m, paddr_t start, paddr_t end)
{
    if (end <= start)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct mem_range *r = &m->r[i];
        if (r->end <= start || r->start >= end)
            continue;
        if (r->start >= start && r->end <= end) {          /* wholly covered */
            for (size_t j = i; j + 1 < m->n; j++)
                m->r[j] = m->r[j + 1];
            m->n--;
            i--;
        } else if (r->start < start && r->end > end) {     /* hole in the middle */
            paddr_t old_end = r->end;
            r->end = start;
            memmap_add(m, end, old_end, r->type);
        } else if (r->start < start) {                     /* tail cut */
            r->end = start;
        } else {                                           /* head cut */
            r->start = end;
        }
    }
}

void memmap_free_from_firmware(const struct memmap *fw, struct memmap *free)
{
    free->n = 0;
    free->overflow = fw->overflow;
    for (size_t i = 0; i < fw->n; i++)
        if (fw->r[i].type == MEM_AVAILABLE)
            memmap_add(free, ALIGN_UP(fw->r[i].start, PAGE_SIZE),
                       ALIGN_DOWN(fw->r[i].end, PAGE_SIZE), MEM_AVAILABLE);
    /* Sorted by start: coalesce overlapping and adjacent ranges in one pass. */
    size_t out = 0;
    for (size_t i = 0; i < free->n; i++) {
        struct mem_range r = free->r[i];
        if (out > 0 && r.start <= free->r[out - 1].end) {
            if (r.end > free->r[out - 1].end)
                free->r[out - 1].end = r.end;
        } else {
            free->r[out++] = r;
        }
    }
    free->n = out;
    /* Anything the firmware calls not available is not free, even where an
     * available range claims it too. */
    for (size_t i = 0; i < fw->n; i++)
        if (fw->r[i].type != MEM_AVAILABLE)
            memmap_remove(free, ALIGN_DOWN(fw->r[i].start, PAGE_SIZE),
                          ALIGN_UP(fw->r[i].end, PAGE_SIZE));
}

uint64_t memmap_bytes(const struct memmap *m)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < m->n; i++)
        sum += m->r[i].end - m->r[i].start;
    return sum;
}

paddr_t memmap_highest(const struct memmap *m)
{
    paddr_t hi = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->r[i].end > hi)
            hi = m->r[i].end;
    return hi;
}

paddr_t memmap_take_page(struct memmap *m, paddr_t limit)
{
    for (size_t i = m->n; i-- > 0;) {
        struct mem_range *r = &m->r[i];
        if (r->start + PAGE_SIZE > limit)
            continue;
        paddr_t pa = r->end <= limit ? r->end - PAGE_SIZE : ALIGN_DOWN(limit, PAGE_SIZE) - PAGE_SIZE;
        memmap_remove(m, pa, pa + PAGE_SIZE);
        return pa;
    }
    return 0;
}

paddr_t memmap_take_range(struct memmap *m, uint64_t bytes, uint64_t align)
{
    bytes = ALIGN_UP(bytes, PAGE_SIZE);
    if (align < PAGE_SIZE)
        align = PAGE_SIZE;
    for (size_t i = m->n; bytes && i-- > 0;) {
        struct mem_range *r = &m->r[i];
        if (r->end - r->start < bytes)
            continue;
        paddr_t pa = ALIGN_DOWN(r->end - bytes, align);
        if (pa < r->start)
            continue;
        memmap_remove(m, pa, pa + bytes);
        return pa;
    }
    return 0;
}
