/* alloc.c - the allocation seam (alloc.h): the --wrap targets of malloc,
 * calloc, realloc, strdup, strndup and free.  The linker sends our code's
 * calls here; __real_NAME is the C library's (or a sanitizer's) allocator. */
#include "alloc.h"

#include "buf.h"

#include <malloc.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define ALLOC_MAX_SITES 2048
/* A bound on malloc's bookkeeping and rounding per allocation (a chunk's
 * header and its alignment to 16 bytes on 64-bit glibc). */
#define ALLOC_SLOP 32

enum alloc_mode { ALLOC_OFF, ALLOC_NTH, ALLOC_SITE, ALLOC_RATE };

/* The injection and recording state of one thread (alloc.h: injection is
 * per thread, so a test's worker threads and other jobs are left alone). */
struct alloc_thread {
    enum alloc_mode mode;          /* what fails */
    uint64_t calls;                /* allocations made by this thread */
    uint64_t bytes;                /* bytes they asked for, plus ALLOC_SLOP each */
    uint64_t countdown;            /* ALLOC_NTH/ALLOC_SITE: fail when it reaches 0 */
    const void *site;              /* ALLOC_SITE: the call site */
    uint64_t rng;                  /* ALLOC_RATE: splitmix64 state */
    uint32_t ppm;                  /* ALLOC_RATE: failures per million */
    uint64_t injected;             /* failures injected since the mode was set */
    bool recording;                /* sim_alloc_record on */
    size_t nsites;                 /* sites recorded */
    const void *sites[ALLOC_MAX_SITES]; /* in order of first allocation */
};

static _Thread_local struct alloc_thread alloc_t;
static atomic_uint_fast64_t alloc_failed; /* the process's failures, real or injected */

static uint64_t alloc_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void alloc_record(struct alloc_thread *t, const void *site)
{
    for (size_t i = t->nsites; i-- > 0;)
        if (t->sites[i] == site)
            return;
    if (t->nsites < ALLOC_MAX_SITES)
        t->sites[t->nsites++] = site;
}

/* Whether this allocation, made from site, is to fail. */
static bool alloc_inject(const void *site)
{
    struct alloc_thread *t = &alloc_t;
    bool fail = false;
    t->calls++;
    if (t->recording)
        alloc_record(t, site);
    switch (t->mode) {
    case ALLOC_OFF:
        return false;
    case ALLOC_NTH:
        fail = --t->countdown == 0;
        break;
    case ALLOC_SITE:
        fail = site == t->site && --t->countdown == 0;
        break;
    case ALLOC_RATE:
        fail = alloc_splitmix(&t->rng) % 1000000u < t->ppm;
        break;
    }
    if (fail) {
        if (t->mode != ALLOC_RATE)
            t->mode = ALLOC_OFF;
        t->injected++;
    }
    return fail;
}

/* ---- the live blocks of spans (alloc.h sim_alloc_span_begin) ----------------------------
 *
 * One table for the process, cut in ALLOC_STRIPES stripes by a hash of the
 * pointer, each an open-addressing table (linear probing, deletion by
 * backward shift) under its own spin lock.  A block allocated in a span is
 * entered with the span's number; any thread's free removes it, so a block
 * handed to another thread (a buffer of the shared pool of src/base/buf.c,
 * a request body in --mode http) is not taken for a leak.  A pointer not in
 * the table (allocated outside every span, or inside the C library: getline,
 * open_memstream, asprintf) is let through untouched.  The tables are the C
 * library's memory (__real_*), never counted themselves. */

#define ALLOC_STRIPES 64
#define ALLOC_STRIPE_CAP0 256

struct alloc_live {
    uintptr_t p;        /* 0: an empty slot */
    const void *site;   /* the return address of the allocating call */
    uint64_t size;      /* bytes asked for */
    uint32_t span;      /* the span it was allocated in */
    uint32_t seq;       /* its allocation number in the span */
};

struct alloc_stripe {
    atomic_flag lock;
    atomic_size_t n;    /* entries (read without the lock only to skip an empty stripe) */
    size_t cap;         /* a power of two, or 0 */
    struct alloc_live *v;
};

static struct alloc_stripe alloc_stripes[ALLOC_STRIPES];
static atomic_uint alloc_next_span;    /* span numbers; 0 is never one */
static _Thread_local uint32_t alloc_span;  /* the calling thread's span, 0: none */
static _Thread_local uint32_t alloc_depth; /* nested begins */
static _Thread_local uint32_t alloc_seq;   /* allocations entered in the span */
static _Thread_local uint64_t alloc_lost;  /* entries the table had no room for */

static uint64_t alloc_hash(uintptr_t p) { return (uint64_t)(p >> 4) * 0x9e3779b97f4a7c15u; }

static struct alloc_stripe *alloc_stripe_of(uintptr_t p)
{
    return &alloc_stripes[alloc_hash(p) >> 58];
}

static size_t alloc_home(const struct alloc_stripe *s, uintptr_t p)
{
    return (size_t)(alloc_hash(p) >> 20) & (s->cap - 1);
}

static void alloc_lock(struct alloc_stripe *s)
{
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
        sched_yield();
}

static void alloc_unlock(struct alloc_stripe *s)
{
    atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* Puts e in s (locked), which has room. */
static void alloc_put(struct alloc_stripe *s, const struct alloc_live *e)
{
    size_t i = alloc_home(s, e->p);
    while (s->v[i].p && s->v[i].p != e->p)
        i = (i + 1) & (s->cap - 1);
    if (!s->v[i].p)
        atomic_store_explicit(&s->n, atomic_load_explicit(&s->n, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    /* An address entered already was freed where we could not see it (by
     * the C library or a library of its own): the new block replaces it. */
    s->v[i] = *e;
}

/* Doubles s (locked); false when there is no memory for it. */
static bool alloc_grow(struct alloc_stripe *s)
{
    size_t cap = s->cap ? s->cap * 2 : ALLOC_STRIPE_CAP0;
    struct alloc_live *old = s->v, *v = __real_calloc(cap, sizeof *v);
    size_t oldcap = s->cap;
    if (!v)
        return false;
    s->v = v;
    s->cap = cap;
    atomic_store_explicit(&s->n, 0, memory_order_relaxed);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].p)
            alloc_put(s, &old[i]);
    __real_free(old);
    return true;
}

static void alloc_enter(void *p, size_t size, const void *site, uint32_t span, uint32_t seq)
{
    struct alloc_stripe *s = alloc_stripe_of((uintptr_t)p);
    struct alloc_live e = {(uintptr_t)p, site, size, span, seq};
    alloc_lock(s);
    if ((atomic_load_explicit(&s->n, memory_order_relaxed) + 1) * 2 > s->cap && !alloc_grow(s))
        alloc_lost++;
    else
        alloc_put(s, &e);
    alloc_unlock(s);
}

/* Empties slot i of s (locked).  Backward shift: each entry after i that
 * may sit at i moves up, so no probe sequence is cut. */
static void alloc_clear(struct alloc_stripe *s, size_t i)
{
    for (size_t j = i;;) {
        size_t k;
        j = (j + 1) & (s->cap - 1);
        if (!s->v[j].p)
            break;
        k = alloc_home(s, s->v[j].p);
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        s->v[i] = s->v[j];
        i = j;
    }
    s->v[i].p = 0;
    atomic_store_explicit(&s->n, atomic_load_explicit(&s->n, memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

/* Takes p out of the table into *out; false when it is not there. */
static bool alloc_remove(const void *p, struct alloc_live *out)
{
    struct alloc_stripe *s = alloc_stripe_of((uintptr_t)p);
    bool found = false;
    if (!p || atomic_load_explicit(&s->n, memory_order_relaxed) == 0)
        return false;
    alloc_lock(s);
    for (size_t i = s->cap ? alloc_home(s, (uintptr_t)p) : 0; s->cap && s->v[i].p;
         i = (i + 1) & (s->cap - 1))
        if (s->v[i].p == (uintptr_t)p) {
            if (out)
                *out = s->v[i];
            alloc_clear(s, i);
            found = true;
            break;
        }
    alloc_unlock(s);
    return found;
}

/* A block our code just got: entered when the thread is in a span. */
static void *alloc_took(void *p, size_t size, const void *site)
{
    if (p && alloc_span)
        alloc_enter(p, size, site, alloc_span, ++alloc_seq);
    return p;
}

void __wrap_free(void *p)
{
    alloc_remove(p, NULL);
    __real_free(p);
}

static void *alloc_failed_now(void)
{
    atomic_fetch_add_explicit(&alloc_failed, 1, memory_order_relaxed);
    return NULL;
}

static void *alloc_malloc(size_t n, const void *site)
{
    void *p;
    alloc_t.bytes += n + ALLOC_SLOP;
    if (alloc_inject(site))
        return alloc_failed_now();
    p = __real_malloc(n);
    return p ? alloc_took(p, n, site) : alloc_failed_now();
}

void *__wrap_malloc(size_t n) { return alloc_malloc(n, __builtin_return_address(0)); }

void *__wrap_calloc(size_t n, size_t size)
{
    void *p;
    const void *site = __builtin_return_address(0);
    alloc_t.bytes += (size && n > (SIZE_MAX >> 8) / size ? SIZE_MAX >> 8 : n * size) + ALLOC_SLOP;
    if (alloc_inject(site))
        return alloc_failed_now();
    p = __real_calloc(n, size);
    /* calloc(0, ...) may answer NULL without failing. */
    if (p)
        return alloc_took(p, n * size, site);
    return !n || !size ? p : alloc_failed_now();
}

void *__wrap_realloc(void *old, size_t n)
{
    void *p;
    const void *site = __builtin_return_address(0);
    struct alloc_live e;
    bool had;
    alloc_t.bytes += n + ALLOC_SLOP;
    if (alloc_inject(site))
        return alloc_failed_now();
    /* Out of the table before the C library may give its address to
     * another thread, back in if realloc fails (old is then still ours). */
    had = alloc_remove(old, &e);
    p = __real_realloc(old, n);
    if (p) {
        /* The block keeps the span and site it was first allocated at; a
         * block from outside every span becomes the calling span's. */
        if (had)
            alloc_enter(p, n, e.site, e.span, e.seq);
        else
            alloc_took(p, n, site);
        return p;
    }
    if (!n) /* realloc(p, 0): p was freed (glibc and ASan), or nothing happened */
        return p;
    if (had)
        alloc_enter(old, (size_t)e.size, e.site, e.span, e.seq);
    return alloc_failed_now();
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = alloc_malloc(n, __builtin_return_address(0));
    return p ? memcpy(p, s, n) : NULL;
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = alloc_malloc(n + 1, __builtin_return_address(0));
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

uint64_t sim_alloc_failures(void)
{
    return atomic_load_explicit(&alloc_failed, memory_order_relaxed);
}

uint64_t sim_alloc_calls(void) { return alloc_t.calls; }
uint64_t sim_alloc_bytes(void) { return alloc_t.bytes; }

void sim_alloc_fail_nth(uint64_t n)
{
    alloc_t.mode = n ? ALLOC_NTH : ALLOC_OFF;
    alloc_t.countdown = n;
    alloc_t.injected = 0;
}

void sim_alloc_fail_site(const void *site, uint64_t nth)
{
    alloc_t.mode = nth ? ALLOC_SITE : ALLOC_OFF;
    alloc_t.site = site;
    alloc_t.countdown = nth;
    alloc_t.injected = 0;
}

void sim_alloc_fail_rate(uint64_t seed, uint32_t ppm)
{
    alloc_t.mode = ppm ? ALLOC_RATE : ALLOC_OFF;
    alloc_t.rng = seed;
    alloc_t.ppm = ppm;
    alloc_t.injected = 0;
}

void sim_alloc_fail_off(void)
{
    alloc_t.mode = ALLOC_OFF;
    alloc_t.injected = 0;
}

uint64_t sim_alloc_injected(void) { return alloc_t.injected; }

void sim_alloc_record(int on)
{
    if (on && !alloc_t.recording)
        alloc_t.nsites = 0;
    alloc_t.recording = on != 0;
}

size_t sim_alloc_sites(const void **sites, size_t cap)
{
    for (size_t i = 0; i < cap && i < alloc_t.nsites; i++)
        sites[i] = alloc_t.sites[i];
    return alloc_t.nsites;
}

void sim_alloc_threads_ready(void)
{
    static atomic_bool done;
    if (!atomic_exchange(&done, true))
        (void)mallinfo2();
}

/* ---- spans ------------------------------------------------------------------------------- */

void sim_alloc_span_begin(void)
{
    if (alloc_depth++ > 0)
        return;
    do
        alloc_span = atomic_fetch_add_explicit(&alloc_next_span, 1, memory_order_relaxed) + 1;
    while (alloc_span == 0);
    alloc_seq = 0;
    alloc_lost = 0;
}

void sim_alloc_forget(const void *p) { alloc_remove(p, NULL); }

/* Adds e's site to out->sites (the first leaked blocks' sites, distinct). */
static void alloc_leak_site(struct sim_alloc_leaks *out, const struct alloc_live *e,
                            uint32_t *first)
{
    size_t i, worst = 0;
    for (i = 0; i < out->nsites; i++)
        if (out->sites[i].site == e->site) {
            out->sites[i].blocks++;
            if (e->seq < first[i])
                first[i] = e->seq;
            return;
        }
    if (out->nsites < SIM_ALLOC_LEAK_SITES) {
        first[out->nsites] = e->seq;
        out->sites[out->nsites++] = (struct sim_alloc_leak_site){e->site, 1};
        return;
    }
    for (i = 1; i < out->nsites; i++)
        if (first[i] > first[worst])
            worst = i;
    if (e->seq < first[worst]) {
        first[worst] = e->seq;
        out->sites[worst] = (struct sim_alloc_leak_site){e->site, 1};
    }
}

void sim_alloc_span_end(struct sim_alloc_leaks *out)
{
    uint32_t span = alloc_span;
    uint32_t first[SIM_ALLOC_LEAK_SITES];
    memset(out, 0, sizeof *out);
    if (alloc_depth == 0 || --alloc_depth > 0)
        return;
    alloc_span = 0;
    out->allocs = alloc_seq;
    out->lost = alloc_lost;
    /* Every block of the span still live is a leak: counted, then dropped
     * from the table (nothing will free it). */
    for (size_t k = 0; k < ALLOC_STRIPES; k++) {
        struct alloc_stripe *s = &alloc_stripes[k];
        if (atomic_load_explicit(&s->n, memory_order_relaxed) == 0)
            continue;
        alloc_lock(s);
        for (size_t i = 0; i < s->cap;) {
            struct alloc_live e = s->v[i];
            if (!e.p || e.span != span) {
                i++;
                continue;
            }
            out->blocks++;
            out->bytes += e.size;
            alloc_leak_site(out, &e, first);
            alloc_clear(s, i); /* may shift an entry not seen yet into i */
        }
        alloc_unlock(s);
    }
    /* The sites in the order of their first leaked block. */
    for (size_t i = 1; i < out->nsites; i++)
        for (size_t j = i; j > 0 && first[j] < first[j - 1]; j--) {
            struct sim_alloc_leak_site t = out->sites[j];
            uint32_t f = first[j];
            out->sites[j] = out->sites[j - 1];
            first[j] = first[j - 1];
            out->sites[j - 1] = t;
            first[j - 1] = f;
        }
}

uint64_t sim_alloc_live(void)
{
    uint64_t n = 0;
    uint32_t span = alloc_span;
    if (!span)
        return 0;
    for (size_t k = 0; k < ALLOC_STRIPES; k++) {
        struct alloc_stripe *s = &alloc_stripes[k];
        if (atomic_load_explicit(&s->n, memory_order_relaxed) == 0)
            continue;
        alloc_lock(s);
        for (size_t i = 0; i < s->cap; i++)
            n += s->v[i].p && s->v[i].span == span;
        alloc_unlock(s);
    }
    return n;
}

/* ---- the buffer pool of src/base/buf.c (buf.h) ------------------------------------------ */

void buf_seam_parked(const void *p) { alloc_remove(p, NULL); }

void buf_seam_adopted(const void *p, size_t size)
{
    alloc_took((void *)p, size, __builtin_return_address(0));
}
