/* acpi.c: the processors' local APIC IDs from ACPI's MADT (RSDP in the EBDA or the BIOS area, then RSDT or XSDT). */
#include <arch/acpi.h>
#include <kstring.h>
#include <mm/physmap.h>
#include <printk.h>

struct __attribute__((packed)) rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;          /* revision >= 2 from here */
    uint64_t xsdt;
    uint8_t xchecksum;
    uint8_t reserved[3];
};

struct __attribute__((packed)) sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
};

struct __attribute__((packed)) madt {
    struct sdt_header h;
    uint32_t lapic_addr, flags;
    uint8_t entries[];
};

#define MADT_LAPIC   0
#define MADT_X2APIC  9
#define MADT_ENABLED BIT(0)
#define MADT_ONLINE_CAPABLE BIT(1)

/* Firmware tables are read through the direct map; anything that claims
 * to lie beyond what the kernel maps is not read (table_ok). */
#define ACPI_MAX_TABLE (1u << 20)

static bool checksum_ok(const void *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
    return sum == 0;
}

static const struct rsdp *rsdp_scan(paddr_t start, paddr_t end)
{
    for (paddr_t pa = start; pa + sizeof(struct rsdp) <= end; pa += 16) {
        const struct rsdp *r = phys_to_virt(pa);
        if (memcmp(r->sig, "RSD PTR ", 8) == 0 && checksum_ok(r, 20))
            return r;
    }
    return NULL;
}

/* ACPI 1.0 5.2.5.1: the first KiB of the EBDA, then 0xe0000-0xfffff. */
static const struct rsdp *rsdp_find(void)
{
    paddr_t ebda = (paddr_t)*(const uint16_t *)phys_to_virt(0x40e) << 4;
    const struct rsdp *r = NULL;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        r = rsdp_scan(ebda, ebda + 1024);
    return r ? r : rsdp_scan(0xe0000, 0x100000);
}

static const struct sdt_header *table_ok(paddr_t pa, paddr_t limit)
{
    if (pa == 0 || pa >= limit)
        return NULL;
    const struct sdt_header *h = phys_to_virt(pa);
    if (h->length < sizeof *h || h->length > ACPI_MAX_TABLE || !checksum_ok(h, h->length))
        return NULL;
    return h;
}

static const struct madt *madt_find(paddr_t limit)
{
    const struct rsdp *r = rsdp_find();
    if (!r)
        return NULL;
    bool x = r->revision >= 2 && r->xsdt && checksum_ok(r, sizeof *r);
    const struct sdt_header *root = table_ok(x ? r->xsdt : r->rsdt, limit);
    if (!root)
        return NULL;
    size_t esz = x ? 8 : 4;
    size_t n = (root->length - sizeof *root) / esz;
    const uint8_t *e = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        paddr_t pa = 0;
        memcpy(&pa, e + i * esz, esz);
        const struct sdt_header *h = table_ok(pa, limit);
        if (h && memcmp(h->sig, "APIC", 4) == 0 && h->length >= sizeof(struct madt))
            return (const struct madt *)h;
    }
    return NULL;
}

unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max, paddr_t limit)
{
    const struct madt *m = madt_find(limit);
    if (!m)
        return 0;
    unsigned n = 0;
    const uint8_t *p = m->entries, *end = (const uint8_t *)m + m->h.length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        uint32_t id = 0, flags = 0;
        bool cpu = false;
        if (p[0] == MADT_LAPIC && p[1] >= 8) {
            id = p[3];
            memcpy(&flags, p + 4, 4);
            cpu = true;
        } else if (p[0] == MADT_X2APIC && p[1] >= 16) {
            memcpy(&id, p + 4, 4);
            memcpy(&flags, p + 8, 4);
            cpu = true;
        }
        /* Only processors present now: online-capable ones need a hot-plug. */
        if (cpu && (flags & MADT_ENABLED)) {
            bool dup = false;
            for (unsigned i = 0; i < n; i++)
                dup |= ids[i] == id;
            if (!dup && n < max)
                ids[n++] = id;
        }
        p += p[1];
    }
    return n;
}
