/* bootconf.c: parsing the boot configuration (format: ferry/bootconf.h). */
#include <ferry/bootconf.h>
#include <kstring.h>

bool proc_name_valid(const char *name, size_t len)
{
    if (len < 2 || len >= PROC_NAME_MAX || name[len - 1] != ':')
        return false;
    for (size_t i = 0; i + 1 < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool bootconf_listed(const char (*list)[PROC_NAME_MAX], unsigned n, const char *name, size_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
            return true;
    return false;
}

const struct bootconf_program *bootconf_find(const struct bootconf *c, const char *name)
{
    for (unsigned i = 0; i < c->n; i++)
        if (strcmp(c->prog[i].name, name) == 0)
            return &c->prog[i];
    return NULL;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Copies the word [s, s+n) into dst (size max); false if it does not fit. */
static bool word_copy(char *dst, size_t max, const char *s, size_t n)
{
    if (n == 0 || n >= max)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* A comma-separated list of names into list[]; NULL or the error. */
static const char *parse_names(const char *s, size_t n, char (*list)[PROC_NAME_MAX], unsigned *count)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (!proc_name_valid(s + i, j - i))
            return "a name must look like \"name:\" (a-z, 0-9, _ or -, then a colon)";
        if (bootconf_listed((const char (*)[PROC_NAME_MAX])list, *count, s + i, j - i))
            return "a name is listed twice";
        if (*count == BOOTCONF_NAMES_MAX)
            return "too many names in one list";
        word_copy(list[(*count)++], PROC_NAME_MAX, s + i, j - i);
        i = j + 1;
        if (j + 1 == n)
            return "a name list ends with a comma";
    }
    return NULL;
}

/* A number: 0x-prefixed hex or decimal, the whole of [s, s+n), at most max. */
static bool parse_number(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0, base = 10;
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        char c = s[i];
        unsigned long d = c >= '0' && c <= '9' ? (unsigned long)(c - '0')
                        : c >= 'a' && c <= 'f' ? (unsigned long)(c - 'a' + 10)
                        : c >= 'A' && c <= 'F' ? (unsigned long)(c - 'A' + 10) : 99;
        if (d >= base)
            return false;
        v = v * base + d;
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* ioport=P[-Q],... into p's ranges. */
static const char *parse_ioports(const char *s, size_t n, struct bootconf_program *p)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, dash = 0;
        while (j < n && s[j] != ',') {
            if (s[j] == '-')
                dash = j;
            j++;
        }
        unsigned long a, b;
        if (dash ? !parse_number(s + i, dash - i, 0xffff, &a) || !parse_number(s + dash + 1, j - dash - 1, 0xffff, &b)
                 : !parse_number(s + i, j - i, 0xffff, &a))
            return "an I/O port range must look like 0x1f0-0x1f7 or 0x3f6 (ports up to 0xffff)";
        if (!dash)
            b = a;
        if (b < a)
            return "an I/O port range ends before it starts";
        if (p->nioport == BOOTCONF_IOPORTS_MAX)
            return "too many I/O port ranges";
        p->ioport[p->nioport].first = (unsigned short)a;
        p->ioport[p->nioport++].last = (unsigned short)b;
        if (j + 1 == n)
            return "a list ends with a comma";
        i = j + 1;
    }
    return NULL;
}

/* irq=L,... (ISA lines 0-15). */
static const char *parse_irqs(const char *s, size_t n, struct bootconf_program *p)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        unsigned long line;
        if (!parse_number(s + i, j - i, 15, &line))
            return "an interrupt line must be a number from 0 to 15";
        for (unsigned k = 0; k < p->nirq; k++)
            if (p->irq[k] == line)
                return "an interrupt line is listed twice";
        if (p->nirq == BOOTCONF_IRQS_MAX)
            return "too many interrupt lines";
        p->irq[p->nirq++] = (unsigned char)line;
        if (j + 1 == n)
            return "a list ends with a comma";
        i = j + 1;
    }
    return NULL;
}

static const char *parse_line(const char *s, size_t n, struct bootconf *out)
{
    struct bootconf_program p;
    memset(&p, 0, sizeof p);
    unsigned field = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t w = i;
        while (i < n && !is_space(s[i]))
            i++;
        const char *word = s + w;
        size_t len = i - w;
        if (field == 0 && !word_copy(p.name, sizeof p.name, word, len))
            return "program name too long";
        else if (field == 1 && !word_copy(p.module, sizeof p.module, word, len))
            return "module name too long";
        else if (field >= 2) {
            if (len == 2 && memcmp(word, "--", 2) == 0) {
                while (i < n && is_space(s[i]))
                    i++;
                size_t end = n;
                while (end > i && is_space(s[end - 1]))
                    end--;
                if (end - i >= sizeof p.args)
                    return "arguments too long";
                memcpy(p.args, s + i, end - i);
                p.args[end - i] = '\0';
                break;
            }
            const char *err = NULL;
            if (len > 7 && memcmp(word, "lookup=", 7) == 0)
                err = parse_names(word + 7, len - 7, p.lookup, &p.nlookup);
            else if (len > 9 && memcmp(word, "register=", 9) == 0)
                err = parse_names(word + 9, len - 9, p.reg, &p.nreg);
            else if (len > 7 && memcmp(word, "ioport=", 7) == 0)
                err = parse_ioports(word + 7, len - 7, &p);
            else if (len > 4 && memcmp(word, "irq=", 4) == 0)
                err = parse_irqs(word + 4, len - 4, &p);
            else if (len == 5 && memcmp(word, "start", 5) == 0)
                p.start = true;
            else if (len == 7 && memcmp(word, "restart", 7) == 0)
                p.restart = true;
            else if (len == 10 && memcmp(word, "mmap_large", 10) == 0)
                p.mmap_large = true;
            else
                err = "unknown word (expected lookup=, register=, ioport=, irq=, start, restart, mmap_large or --)";
            if (err)
                return err;
        }
        field++;
    }
    if (field == 0)
        return NULL;                    /* blank line */
    if (field == 1)
        return "a program needs a name and a module";
    if (bootconf_find(out, p.name))
        return "program named twice";
    if (out->n == BOOTCONF_PROGRAMS_MAX)
        return "too many programs";
    out->prog[out->n++] = p;
    return NULL;
}

const char *bootconf_parse(const char *text, size_t len, struct bootconf *out, unsigned *line)
{
    memset(out, 0, sizeof *out);
    *line = 0;
    size_t i = 0;
    while (i < len && text[i]) {
        size_t start = i, end;
        while (i < len && text[i] && text[i] != '\n')
            i++;
        end = i;
        if (i < len && text[i] == '\n')
            i++;
        ++*line;
        for (size_t k = start; k < end; k++)
            if (text[k] == '#') {
                end = k;
                break;
            }
        const char *err = parse_line(text + start, end - start, out);
        if (err)
            return err;
    }
    return NULL;
}

/* The file name in the loader's string: its first word, after the last '/'. */
void bootconf_module_name(const char *s, char *out, size_t max)
{
    const char *end = s, *base = s;
    while (*end && *end != ' ')
        if (*end++ == '/')
            base = end;
    size_t n = (size_t)(end - base) < max - 1 ? (size_t)(end - base) : max - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}
