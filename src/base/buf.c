/* buf.c - shared, reference-counted byte buffers (buf.h). */
#include "buf.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define BUF_POOL_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUF_POOL_ON 0
#endif
#endif
#ifndef BUF_POOL_ON
#define BUF_POOL_ON 1
#endif

/* The pool of freed buf_take buffers (buf.h). */
static struct {
    pthread_mutex_t mu;
    struct buf *v[BUF_POOL_N];
    unsigned n;
    uint64_t hits;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

__attribute__((weak)) void buf_seam_parked(const void *p) { (void)p; }
__attribute__((weak)) void buf_seam_adopted(const void *p, size_t size)
{
    (void)p;
    (void)size;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    free(b);
}

/* Keeps b (its last reference just dropped) in the pool; false when full. */
static bool pool_put(struct buf *b)
{
    bool kept = false;
    if (!BUF_POOL_ON || !b->pooled || b->cap < BUF_POOL_KEEP)
        return false;
    pthread_mutex_lock(&pool.mu);
    if (pool.n < BUF_POOL_N) {
        /* Before another thread can take it out. */
        buf_seam_parked(b->p);
        buf_seam_parked(b);
        pool.v[pool.n++] = b;
        kept = true;
    }
    pthread_mutex_unlock(&pool.mu);
    return kept;
}

static struct buf *pool_get(void)
{
    struct buf *b = NULL;
    pthread_mutex_lock(&pool.mu);
    if (pool.n > 0) {
        b = pool.v[--pool.n];
        pool.hits++;
    }
    pthread_mutex_unlock(&pool.mu);
    if (b) {
        buf_seam_adopted(b, sizeof *b);
        buf_seam_adopted(b->p, b->cap);
    }
    return b;
}

struct buf *buf_new(size_t cap)
{
    struct buf *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (cap && !(b->p = malloc(cap))) {
        free(b);
        return NULL;
    }
    b->cap = cap;
    b->refs = 1;
    return b;
}

/* Whether p (malloc'ed) is a mapping of its own, which realloc grows by
 * mremap without copying a byte; a block of the heap is copied when it cannot
 * grow in place.  glibc only: its mapped chunks are whole pages with a
 * two-word header, a heap chunk's usable size is one word short of a multiple
 * of 16, so the two never look alike.  Elsewhere (unknown): assumed mapped,
 * which is only slower when wrong. */
static bool alloc_mapped(void *p)
{
#if defined(__GLIBC__)
    /* Worlds on several threads may ask first at once: the same value each time, kept in a
     * relaxed atomic so that the race is defined (and TSan-clean). */
    static _Atomic size_t page_size;
    size_t page = atomic_load_explicit(&page_size, memory_order_relaxed);
    if (!page) {
        long n = sysconf(_SC_PAGESIZE);
        page = n > 0 ? (size_t)n : 4096;
        atomic_store_explicit(&page_size, page, memory_order_relaxed);
    }
    return (malloc_usable_size(p) + 2 * sizeof(size_t)) % page == 0;
#else
    (void)p;
    return true;
#endif
}

/* Resets b as a new buffer of its allocation: len 0, one reference, no memo,
 * a generation no memo was taken at. */
static void buf_reset(struct buf *b)
{
    uint64_t gen = b->gen;
    uint32_t pins = b->pins;
    bool pooled = b->pooled;
    uint8_t *p = b->p;
    size_t m = b->cap;
    memset(b, 0, sizeof *b);
    b->p = p;
    b->cap = m;
    b->gen = gen + 1;
    b->refs = 1;
    b->pins = pins;
    b->pooled = pooled;
}

struct buf *buf_take(size_t cap)
{
    struct buf *b = pool_get();
    uint8_t *p;
    if (!b) {
        if ((b = buf_new(cap)))
            b->pooled = true;
        return b;
    }
    if (b->cap < cap / 2) { /* too small to be worth growing: a new one */
        buf_free(b);
        if ((b = buf_new(cap)))
            b->pooled = true;
        return b;
    }
    if (b->cap < cap && !alloc_mapped(b->p)) {
        /* Its bytes are garbage: a heap block is given back to the heap and
         * the new one taken there (realloc would copy it when it cannot grow
         * in place: a quarter of bench_compaction into-sso's CPU), pages
         * mapped already either way unless the heap grows. */
        free(b->p);
        b->p = NULL;
        b->cap = 0;
        if (!(b->p = malloc(cap))) {
            free(b);
            return NULL;
        }
        b->cap = cap;
    }
    if (b->cap < cap) {
        /* A mapping of malloc's grows by mremap: its pages are kept, nothing
         * copied. */
        if (!(p = realloc(b->p, cap))) {
            buf_free(b);
            if ((b = buf_new(cap)))
                b->pooled = true;
            return b;
        }
        b->p = p;
        b->cap = cap;
    }
    buf_reset(b); /* never a generation a memo of the old bytes was taken at */
    return b;
}

void buf_pool_drain(void)
{
    pthread_mutex_lock(&pool.mu);
    while (pool.n > 0)
        buf_free(pool.v[--pool.n]);
    pthread_mutex_unlock(&pool.mu);
}

unsigned buf_pool_len(void)
{
    unsigned n;
    pthread_mutex_lock(&pool.mu);
    n = pool.n;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

uint64_t buf_pool_hits(void)
{
    uint64_t n;
    pthread_mutex_lock(&pool.mu);
    n = pool.hits;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

struct buf *buf_adopt(uint8_t *p, size_t len, size_t cap)
{
    struct buf *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->p = p;
    b->len = len;
    b->cap = cap;
    b->refs = 1;
    return b;
}

struct buf *buf_ref(struct buf *b)
{
    b->refs++;
    return b;
}

void buf_unref(struct buf *b)
{
    if (!b || --b->refs > 0 || b->pins > 0) /* pinned: buf_unpin frees it */
        return;
    if (!pool_put(b))
        buf_free(b);
}

void buf_pin(struct buf *b)
{
    b->pins++;
}

void buf_unpin(struct buf *b)
{
    if (!b || --b->pins > 0 || b->refs > 0)
        return;
    if (!pool_put(b))
        buf_free(b);
}

void buf_read_now(const struct buf *b, size_t off, size_t n, uint8_t *dst)
{
    size_t have = off < b->len ? b->len - off : 0;
    if (have > n)
        have = n;
    if (have)
        memcpy(dst, b->p + off, have);
    memset(dst + have, 0, n - have);
}

void buf_recycle(struct buf_recycler *r, struct buf *b)
{
    if (!b)
        return;
    if (b->refs != 1 || r->n == BUF_RECYCLE_N) {
        buf_unref(b);
        return;
    }
    r->v[r->n++] = b;
}

struct buf *buf_recycled(struct buf_recycler *r)
{
    struct buf *b;
    if (r->n == 0)
        return NULL;
    b = r->v[--r->n];
    buf_reset(b);
    r->reused++;
    return b;
}

void buf_recycler_drain(struct buf_recycler *r)
{
    while (r->n > 0)
        buf_unref(r->v[--r->n]);
}

int buf_reserve(struct buf *b, size_t n)
{
    uint8_t *p;
    if (n <= b->cap)
        return 0;
    if (buf_shared(b))
        return -1;
    if (!(p = realloc(b->p, n)))
        return -2;
    b->p = p;
    b->cap = n;
    return 0;
}

void buf_trim(struct buf *b)
{
    uint8_t *p;
    if (buf_shared(b) || b->len == 0 || b->len >= b->cap)
        return;
    if (!(p = realloc(b->p, b->len)))
        return;
    b->p = p;
    b->cap = b->len;
}

int buf_append(struct buf *b, const void *src, size_t n)
{
    int rc;
    if (buf_shared(b))
        return -1;
    if (b->len + n < b->len)
        return -2;
    if ((rc = buf_reserve(b, b->len + n)))
        return rc;
    b->gen++;
    if (n)
        memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

uint8_t *buf_wbytes(struct buf *b, size_t off, size_t n)
{
    if (buf_shared(b) || off > b->cap || n > b->cap - off)
        return NULL;
    b->gen++;
    if (off + n > b->len)
        b->len = off + n;
    return b->p + off;
}

int buf_write(struct buf *b, size_t off, const void *src, size_t n)
{
    uint8_t *p = buf_wbytes(b, off, n);
    if (!p)
        return -1;
    if (n)
        memcpy(p, src, n);
    return 0;
}

size_t buf_memo_get(const struct buf *b, int kind, size_t off, size_t len, void *out,
                    size_t outcap)
{
    for (unsigned i = 0; i < BUF_MEMO_N; i++) {
        const struct buf_memo *m = &b->memo[i];
        if (m->kind == kind && kind != 0 && m->gen == b->gen && m->off == off && m->len == len &&
            m->n <= outcap) {
            memcpy(out, m->v, m->n);
            return m->n;
        }
    }
    return 0;
}

void buf_memo_put(struct buf *b, int kind, size_t off, size_t len, const void *v, size_t n)
{
    struct buf_memo *m;
    if (kind == 0 || n == 0 || n > BUF_MEMO_MAX)
        return;
    m = NULL;
    for (unsigned i = 0; i < BUF_MEMO_N && !m; i++)
        if (b->memo[i].kind == kind && b->memo[i].off == off && b->memo[i].len == len)
            m = &b->memo[i]; /* the same value's older generation */
    if (!m) {
        m = &b->memo[b->memo_next];
        b->memo_next = (b->memo_next + 1) % BUF_MEMO_N;
    }
    m->gen = b->gen;
    m->off = off;
    m->len = len;
    m->kind = kind;
    m->n = (uint8_t)n;
    memcpy(m->v, v, n);
}

bool buf_holds(const struct buf *b, const void *p, size_t n, size_t *off)
{
    uintptr_t q = (uintptr_t)p, s = (uintptr_t)b->p;
    if (!b->p || q < s || q - s > b->len || n > b->len - (q - s))
        return false;
    *off = (size_t)(q - s);
    return true;
}
