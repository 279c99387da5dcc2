/* fmt.c: printf-style formatting without libc, shared by kernel and user space. */
#include <fmt.h>
#include <stdbool.h>
#include <stdint.h>

struct spec {
    bool left, zero, plus, space, alt;
    int width, prec;           /* prec < 0: none given */
    int length;                /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size/ptrdiff/intmax */
};

static int put_repeat(fmt_put_fn put, void *arg, char c, int n)
{
    for (int i = 0; i < n; i++)
        put(c, arg);
    return n > 0 ? n : 0;
}

static int put_str(fmt_put_fn put, void *arg, const struct spec *s, const char *str)
{
    if (!str)
        str = "(null)";
    int len = 0;
    while (str[len] && (s->prec < 0 || len < s->prec))
        len++;
    int out = 0;
    if (!s->left)
        out += put_repeat(put, arg, ' ', s->width - len);
    for (int i = 0; i < len; i++)
        put(str[i], arg);
    out += len;
    if (s->left)
        out += put_repeat(put, arg, ' ', s->width - len);
    return out;
}

static int put_num(fmt_put_fn put, void *arg, const struct spec *s, uint64_t v,
                   bool neg, unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (s->prec == 0 && n == 1 && buf[0] == '0')
        n = 0;                              /* "%.0d" of 0 prints nothing */

    char sign = neg ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
    int plen = 0;
    while (prefix && prefix[plen])
        plen++;
    int zeros = s->prec > n ? s->prec - n : 0;
    int body = (sign ? 1 : 0) + plen + zeros + n;
    int pad = s->width > body ? s->width - body : 0;
    if (s->zero && !s->left && s->prec < 0) {
        zeros += pad;
        pad = 0;
    }
    int out = 0;
    if (!s->left)
        out += put_repeat(put, arg, ' ', pad);
    if (sign) {
        put(sign, arg);
        out++;
    }
    for (int i = 0; i < plen; i++)
        put(prefix[i], arg);
    out += plen;
    out += put_repeat(put, arg, '0', zeros);
    for (int i = n - 1; i >= 0; i--)
        put(buf[i], arg);
    out += n;
    if (s->left)
        out += put_repeat(put, arg, ' ', pad);
    return out;
}

static uint64_t arg_unsigned(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned int);
    case -1: return (unsigned short)va_arg(*ap, unsigned int);
    case 0:  return va_arg(*ap, unsigned int);
    case 1:  return va_arg(*ap, unsigned long);
    default: return va_arg(*ap, unsigned long long);
    }
}

static int64_t arg_signed(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 0:  return va_arg(*ap, int);
    case 1:  return va_arg(*ap, long);
    default: return va_arg(*ap, long long);
    }
}

int fmt_vformat(fmt_put_fn put, void *arg, const char *fmt, va_list ap_in)
{
    va_list ap;
    va_copy(ap, ap_in);
    int out = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(*p, arg);
            out++;
            continue;
        }
        struct spec s = { .prec = -1 };
        for (;; p++) {
            char f = p[1];
            if (f == '-') s.left = true;
            else if (f == '0') s.zero = true;
            else if (f == '+') s.plus = true;
            else if (f == ' ') s.space = true;
            else if (f == '#') s.alt = true;
            else break;
        }
        p++;
        if (*p == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.left = true;
                s.width = -s.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                s.width = s.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            s.prec = 0;
            if (*p == '*') {
                s.prec = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    s.prec = s.prec * 10 + (*p++ - '0');
            }
        }
        if (*p == 'h') {
            s.length = -1;
            if (*++p == 'h') { s.length = -2; p++; }
        } else if (*p == 'l') {
            s.length = 1;
            if (*++p == 'l') { s.length = 2; p++; }
        } else if (*p == 'z' || *p == 't' || *p == 'j') {
            s.length = 3;
            p++;
        }
        switch (*p) {
        case 'd': case 'i': {
            int64_t v = arg_signed(&s, &ap);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out += put_num(put, arg, &s, mag, v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            out += put_num(put, arg, &s, arg_unsigned(&s, &ap), false, 10, false, NULL);
            break;
        case 'x': case 'X': {
            uint64_t v = arg_unsigned(&s, &ap);
            const char *pre = s.alt && v ? (*p == 'x' ? "0x" : "0X") : NULL;
            out += put_num(put, arg, &s, v, false, 16, *p == 'X', pre);
            break;
        }
        case 'o':
            out += put_num(put, arg, &s, arg_unsigned(&s, &ap), false, 8, false, s.alt ? "0" : NULL);
            break;
        case 'p':
            s.length = 2;
            out += put_num(put, arg, &s, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
            break;
        case 's':
            out += put_str(put, arg, &s, va_arg(ap, const char *));
            break;
        case 'c': {
            char c[2] = { (char)va_arg(ap, int), 0 };
            s.prec = -1;
            if (!c[0]) {                     /* a NUL char still counts as one */
                out += put_repeat(put, arg, ' ', s.left ? 0 : s.width - 1);
                put(0, arg);
                out += 1 + put_repeat(put, arg, ' ', s.left ? s.width - 1 : 0);
            } else {
                out += put_str(put, arg, &s, c);
            }
            break;
        }
        case '%':
            put('%', arg);
            out++;
            break;
        case '\0':
            p--;                             /* a lone '%' at the end */
            break;
        default:                             /* unknown: print it as written */
            put('%', arg);
            put(*p, arg);
            out += 2;
            break;
        }
    }
    va_end(ap);
    return out;
}

struct sbuf {
    char *buf;
    size_t n, pos;
};

static void sbuf_put(char c, void *arg)
{
    struct sbuf *b = arg;
    if (b->pos + 1 < b->n)
        b->buf[b->pos] = c;
    b->pos++;
}

int fmt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct sbuf b = { buf, n, 0 };
    int len = fmt_vformat(sbuf_put, &b, fmt, ap);
    if (n > 0)
        buf[b.pos < n ? b.pos : n - 1] = '\0';
    return len;
}

int fmt_snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = fmt_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return len;
}

struct fmt_buf {
    fmt_write_fn write;
    size_t n;
    char buf[256];
};

static void fmt_buf_put(char c, void *arg)
{
    struct fmt_buf *b = arg;
    b->buf[b->n++] = c;
    if (b->n == sizeof b->buf) {
        b->write(b->buf, b->n);
        b->n = 0;
    }
}

int fmt_vprint(fmt_write_fn write, const char *fmt, va_list ap)
{
    struct fmt_buf b = { .write = write, .n = 0 };
    int n = fmt_vformat(fmt_buf_put, &b, fmt, ap);
    if (b.n)
        write(b.buf, b.n);
    return n;
}
