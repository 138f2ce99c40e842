/* base_buf.c - the growable byte buffer with a cap (see base_buf.h). */
#include "base_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BB_FIRST_CAP 256 /* bytes allocated by the first add */

static bool bb_fail(struct base_buf *b, bool toobig)
{
    b->failed = true;
    b->toobig = toobig;
    return false;
}

/* Makes room for n more bytes and the NUL, within the cap.  Returns false,
 * the buffer marked failed and its bytes kept, when it cannot. */
static bool bb_reserve(struct base_buf *b, size_t n)
{
    size_t need, cap;
    char *p;
    if (b->failed)
        return false;
    if (n > SIZE_MAX - 1 - b->len)
        return bb_fail(b, true);
    need = b->len + n + 1;
    if (b->max && need - 1 > b->max)
        return bb_fail(b, true);
    if (need <= b->cap)
        return true;
    cap = b->cap ? b->cap : BB_FIRST_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (!p)
        return bb_fail(b, false);
    b->p = p;
    b->cap = cap;
    return true;
}

bool base_buf_add(struct base_buf *b, const void *src, size_t n)
{
    if (!bb_reserve(b, n))
        return false;
    if (n)
        memcpy(b->p + b->len, src, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

bool base_buf_adds(struct base_buf *b, const char *s)
{
    return base_buf_add(b, s, strlen(s));
}

bool base_buf_addf(struct base_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->failed)
        return false;
    /* Measure first, then format in place: no length limit, no scratch. */
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bb_fail(b, false);
    if (!bb_reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

char *base_buf_take(struct base_buf *b, size_t *len)
{
    char *p = b->p;
    size_t n = b->len;
    if (b->failed) {
        base_buf_free(b);
        return NULL;
    }
    if (!p)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    if (p && len)
        *len = n;
    return p;
}

void base_buf_free(struct base_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = b->toobig = false;
}
