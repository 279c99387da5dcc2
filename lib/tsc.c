/* tsc.c: which TSC read sequence this CPU supports (see tsc.h), chosen once from CPUID and the tsc= word. */
#include <tsc.h>

enum tsc_method tsc_method = TSC_LFENCE;

void tsc_probe(struct tsc_cpu *c)
{
    uint32_t r[4];
    tsc_cpuid(0, 0, r);
    /* Vendor string order is EBX, EDX, ECX: "Auth" "enti" "cAMD". */
    c->amd = (r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u) ||
             (r[1] == 0x6f677948u && r[3] == 0x6e65476eu && r[2] == 0x656e6975u); /* HygonGenuine */
    c->rdtscp = tsc_has_rdtscp();
    c->lfence_serialising = true;
    if (c->amd) {
        tsc_cpuid(0x80000000u, 0, r);
        c->lfence_serialising = false;
        if (r[0] >= 0x80000021u) {
            tsc_cpuid(0x80000021u, 0, r);
            c->lfence_serialising = (r[0] >> 2) & 1;
        }
    }
}

/* The value of key=... in space-separated words, as [*v, *v+*n). */
static bool word_value(const char *words, const char *key, const char **v, unsigned *n)
{
    unsigned klen = 0;
    while (key[klen])
        klen++;
    for (const char *w = words; w && *w;) {
        while (*w == ' ')
            w++;
        const char *e = w;
        while (*e && *e != ' ')
            e++;
        unsigned i = 0;
        while (i < klen && w + i < e && w[i] == key[i])
            i++;
        if (i == klen && w + klen < e && w[klen] == '=') {
            *v = w + klen + 1;
            *n = (unsigned)(e - *v);
            return true;
        }
        w = e;
    }
    return false;
}

static bool is(const char *v, unsigned n, const char *lit)
{
    unsigned i = 0;
    while (i < n && lit[i] && v[i] == lit[i])
        i++;
    return i == n && !lit[i];
}

enum tsc_method tsc_pick(const struct tsc_cpu *c, const char *words, const char **note)
{
    enum tsc_method best = c->rdtscp ? TSC_RDTSCP : (!c->amd || c->lfence_serialising) ? TSC_LFENCE : TSC_MFENCE;
    const char *v;
    unsigned n;
    if (note)
        *note = NULL;
    if (!word_value(words, "tsc", &v, &n))
        return best;
    if (is(v, n, "lfence"))
        return TSC_LFENCE;
    if (is(v, n, "mfence"))
        return TSC_MFENCE;
    if (is(v, n, "rdtscp")) {
        if (c->rdtscp)
            return TSC_RDTSCP;
        if (note)
            *note = "tsc=rdtscp refused: the CPU does not offer RDTSCP";
        return best;
    }
    if (note)
        *note = "tsc= takes rdtscp, lfence or mfence; ignored";
    return best;
}

const char *tsc_init(const char *words)
{
    struct tsc_cpu c;
    const char *note;
    tsc_probe(&c);
    tsc_method = tsc_pick(&c, words, &note);
    return note;
}

const char *tsc_method_name(enum tsc_method m)
{
    return m == TSC_RDTSCP ? "rdtscp" : m == TSC_MFENCE ? "mfence" : "lfence";
}

const char *tsc_method_seq(enum tsc_method m)
{
    return m == TSC_RDTSCP ? "lfence;rdtsc .. rdtscp;lfence"
         : m == TSC_MFENCE ? "mfence;rdtsc .. mfence;rdtsc;mfence"
                           : "lfence;rdtsc .. lfence;rdtsc;lfence";
}
