/* trace.c - see trace.h. */
#include "trace.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <string.h>
#include <wchar.h>

#include "err.h"

int sim_trace_init(struct sim_trace *t, FILE *echo)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    memset(t, 0, sizeof *t);
    if (!ctx)
        return ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return ERR_INTERNAL;
    }
    t->ctx = ctx;
    t->echo = echo;
    return 0;
}

void sim_trace_free(struct sim_trace *t)
{
    EVP_MD_CTX_free(t->ctx);
    t->ctx = NULL;
}

/* ---- the records, gathered into t->buf and hashed a buffer at a time ---- */

static void st_flush(struct sim_trace *t)
{
    if (t->len)
        EVP_DigestUpdate(t->ctx, t->buf, t->len);
    t->len = 0;
}

static void st_put(struct sim_trace *t, const void *p, size_t n)
{
    if (t->len + n > sizeof t->buf) {
        st_flush(t);
        if (n > sizeof t->buf) {
            EVP_DigestUpdate(t->ctx, p, n);
            return;
        }
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
}

/* Little-endian whatever the host, so that a trace= is the same everywhere. */
static void st_u64(struct sim_trace *t, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    st_put(t, b, 8);
}

/* A string with its terminator: "ab" then "c" differs from "a" then "bc". */
static void st_str(struct sim_trace *t, const char *s, size_t n)
{
    st_put(t, s, n);
    st_put(t, "", 1);
}

/* The arguments of fmt as printf would consume them, each in a fixed binary
 * form: integers and characters as 8 bytes, floating point as the double's
 * bits, strings (and %.Ns's first N bytes) with their terminator, a '*'
 * width or precision as its int.  Conversions printf does not know end the
 * walk (the format text is hashed anyway; the compiler's format checks keep
 * the callers to printf's rules). */
static void st_args(struct sim_trace *t, const char *fmt, va_list ap)
{
    for (const char *f = strchr(fmt, '%'); f; f = strchr(f, '%')) {
        long prec = -1;
        int lng = 0; /* 'H' hh, 'h', 'l', 'q' ll, 'j', 'z', 't', 'L' */
        f++;
        if (*f == '%') {
            f++;
            continue;
        }
        while (*f && strchr("-+ #0'", *f))
            f++;
        if (*f == '*') {
            st_u64(t, (uint64_t)(int64_t)va_arg(ap, int));
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                f++;
        }
        if (*f == '.') {
            f++;
            if (*f == '*') {
                int p = va_arg(ap, int);
                st_u64(t, (uint64_t)(int64_t)p);
                prec = p;
                f++;
            } else {
                prec = 0;
                for (; *f >= '0' && *f <= '9'; f++)
                    prec = prec < 100000000 ? prec * 10 + (*f - '0') : prec;
            }
        }
        switch (*f) {
        case 'h': lng = f[1] == 'h' ? 'H' : 'h'; f += f[1] == 'h' ? 2 : 1; break;
        case 'l': lng = f[1] == 'l' ? 'q' : 'l'; f += f[1] == 'l' ? 2 : 1; break;
        case 'j': case 'z': case 't': case 'L': lng = *f++; break;
        default: break;
        }
        switch (*f) {
        case 'd': case 'i': {
            int64_t v;
            switch (lng) {
            case 'l': v = va_arg(ap, long); break;
            case 'q': v = va_arg(ap, long long); break;
            case 'j': v = va_arg(ap, intmax_t); break;
            case 'z': v = (int64_t)va_arg(ap, size_t); break;
            case 't': v = va_arg(ap, ptrdiff_t); break;
            case 'H': v = (signed char)va_arg(ap, int); break;
            case 'h': v = (short)va_arg(ap, int); break;
            default: v = va_arg(ap, int); break;
            }
            st_u64(t, (uint64_t)v);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            uint64_t v;
            switch (lng) {
            case 'l': v = va_arg(ap, unsigned long); break;
            case 'q': v = va_arg(ap, unsigned long long); break;
            case 'j': v = va_arg(ap, uintmax_t); break;
            case 'z': v = va_arg(ap, size_t); break;
            case 't': v = (uint64_t)va_arg(ap, ptrdiff_t); break;
            case 'H': v = (unsigned char)va_arg(ap, unsigned); break;
            case 'h': v = (unsigned short)va_arg(ap, unsigned); break;
            default: v = va_arg(ap, unsigned); break;
            }
            st_u64(t, v);
            break;
        }
        case 'c':
            st_u64(t, lng == 'l' ? (uint64_t)va_arg(ap, wint_t) : (uint8_t)va_arg(ap, int));
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A': {
            double d = lng == 'L' ? (double)va_arg(ap, long double) : va_arg(ap, double);
            uint64_t bits;
            memcpy(&bits, &d, 8);
            st_u64(t, bits);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (lng == 'l') /* a wide string: not in this tree's traces; its address */
                st_u64(t, (uint64_t)(uintptr_t)s);
            else if (!s)
                st_str(t, "(null)", 6);
            else
                st_str(t, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
            break;
        }
        case 'p':
            st_u64(t, (uint64_t)(uintptr_t)va_arg(ap, void *));
            break;
        case 'n':
            (void)va_arg(ap, void *);
            break;
        default:
            return;
        }
        f++;
    }
}

void sim_trace_vfmt(struct sim_trace *t, int64_t time_us, const char *actor, size_t textcap,
                    const char *fmt, va_list ap)
{
    if (!t->ctx)
        return;
    if (t->echo) {
        /* The text, as the line-by-line trace printed it: the caller's
         * buffer (textcap), the whole line cut at 1023 bytes. */
        char what[1024], line[1024];
        va_list aq;
        int n;
        va_copy(aq, ap);
        vsnprintf(what, textcap < sizeof what ? textcap : sizeof what, fmt, aq);
        va_end(aq);
        n = snprintf(line, sizeof line, "%" PRId64 " %s %s\n", time_us, actor, what);
        if (n > 0)
            fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, t->echo);
    }
    st_u64(t, (uint64_t)time_us);
    st_str(t, actor, strlen(actor));
    st_str(t, fmt, strlen(fmt));
    st_args(t, fmt, ap);
    t->lines++;
}

void sim_trace_fmt(struct sim_trace *t, int64_t time_us, const char *actor, size_t textcap,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sim_trace_vfmt(t, time_us, actor, textcap, fmt, ap);
    va_end(ap);
}

void sim_trace_line(struct sim_trace *t, int64_t time_us, const char *actor, const char *what)
{
    sim_trace_fmt(t, time_us, actor, 1024, "%s", what);
}

const char *sim_trace_finish(struct sim_trace *t)
{
    unsigned char md[32];
    unsigned int len = 0;
    if (t->hex[0] || !t->ctx)
        return t->hex;
    st_flush(t);
    EVP_DigestFinal_ex(t->ctx, md, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(t->hex + 2 * i, 3, "%02x", md[i]);
    return t->hex;
}
