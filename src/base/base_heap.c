/* base_heap.c - the (time, seq) timer heap, 4-ary, with lazy O(1) cancel (see base_heap.h). */
#include "base_heap.h"

#include <stdlib.h>

#define BASE_HEAP_NO_SLOT UINT32_MAX
#define BH_D 4 /* children per node */
#define BH_SLOT_BITS 24
#define BH_SLOT_MASK ((UINT32_C(1) << BH_SLOT_BITS) - 1)
#define BH_SLOT(x) ((uint32_t)((x)->seqslot & BH_SLOT_MASK))

void base_heap_init(struct base_heap *h)
{
    h->nodes = NULL;
    h->n = h->cap = h->live = 0;
    h->slots = NULL;
    h->nslots = h->slot_cap = 0;
    h->free_head = BASE_HEAP_NO_SLOT;
    h->seq = 0;
}

void base_heap_free(struct base_heap *h)
{
    free(h->nodes);
    free(h->slots);
    base_heap_init(h);
}

/* Branch-free: the heap's comparisons are coin flips a predictor cannot learn. */
static inline bool bh_less(const struct base_heap_node *a, const struct base_heap_node *b)
{
    /* seq is unique and above the slot bits: comparing seqslot compares seq */
    return (a->time < b->time) | ((a->time == b->time) & (a->seqslot < b->seqslot));
}

static inline bool bh_dead(const struct base_heap *h, const struct base_heap_node *x)
{
    return !h->slots[BH_SLOT(x)].fn;
}

/* Both sifts move a hole rather than swapping, and write the moving node once. */
static void bh_sift_up(struct base_heap *h, uint32_t pos, struct base_heap_node node)
{
    while (pos > 0) {
        uint32_t parent = (pos - 1) / BH_D;
        if (!bh_less(&node, &h->nodes[parent]))
            break;
        h->nodes[pos] = h->nodes[parent];
        pos = parent;
    }
    h->nodes[pos] = node;
}

static void bh_sift_down(struct base_heap *h, uint32_t pos, struct base_heap_node node)
{
    struct base_heap_node *a = h->nodes;
    uint32_t n = h->n;
    for (;;) {
        uint32_t first = BH_D * pos + 1, best;
        if (first + BH_D <= n) { /* all four children: a branch-free tournament */
            uint32_t x = first + bh_less(&a[first + 1], &a[first]);
            uint32_t y = first + 2 + bh_less(&a[first + 3], &a[first + 2]);
            best = bh_less(&a[y], &a[x]) ? y : x;
        } else if (first < n) {
            best = first;
            for (uint32_t c = first + 1; c < n; c++)
                if (bh_less(&a[c], &a[best]))
                    best = c;
        } else {
            break;
        }
        if (!bh_less(&a[best], &node))
            break;
        a[pos] = a[best];
        pos = best;
    }
    a[pos] = node;
}

/* Removes the top node.  Bottom-up (Floyd): the hole goes down to a leaf
 * along the smaller children without comparing them to the last node, which
 * then fills it and climbs (it belongs near the bottom: a popped event's
 * successor is usually due late), one comparison per level less. */
static void bh_remove_top(struct base_heap *h)
{
    struct base_heap_node *a = h->nodes;
    uint32_t n = --h->n, pos = 0, first;
    if (n == 0)
        return;
    while ((first = BH_D * pos + 1) + BH_D <= n) {
        /* The hole's next step is a child of one of these four: their 16
         * children (four lines) are fetched while the four are compared,
         * instead of one line after each comparison (bench_heap: +2 %). */
        if (BH_D * first + 1 < n) {
            const char *g = (const char *)(a + BH_D * first + 1);
            __builtin_prefetch(g);
            __builtin_prefetch(g + 64);
            __builtin_prefetch(g + 128);
            __builtin_prefetch(g + 192);
        }
        uint32_t x = first + bh_less(&a[first + 1], &a[first]);
        uint32_t y = first + 2 + bh_less(&a[first + 3], &a[first + 2]);
        uint32_t best = bh_less(&a[y], &a[x]) ? y : x;
        a[pos] = a[best];
        pos = best;
    }
    if (first < n) {
        uint32_t best = first;
        for (uint32_t c = first + 1; c < n; c++)
            if (bh_less(&a[c], &a[best]))
                best = c;
        a[pos] = a[best];
        pos = best;
    }
    bh_sift_up(h, pos, a[n]);
}

/* Returns arr (elements of size sz) grown so that it holds want of them, the
 * capacity *cap doubling from 64, or NULL when out of memory (arr and *cap are
 * then unchanged).  want > *cap. */
static void *bh_grow(void *arr, uint32_t *cap, uint32_t want, size_t sz)
{
    uint32_t c = *cap ? *cap : 64;
    while (c < want)
        c = c > UINT32_MAX / 2 ? UINT32_MAX : c * 2;
    arr = realloc(arr, (size_t)c * sz);
    if (arr)
        *cap = c;
    return arr;
}

static uint32_t bh_slot_alloc(struct base_heap *h)
{
    uint32_t s;
    if (h->free_head != BASE_HEAP_NO_SLOT) {
        s = h->free_head;
        h->free_head = h->slots[s].next_free;
        return s;
    }
    if (h->nslots > BH_SLOT_MASK)
        return BASE_HEAP_NO_SLOT;
    if (h->nslots == h->slot_cap) {
        struct base_heap_slot *p = bh_grow(h->slots, &h->slot_cap, h->nslots + 1, sizeof *p);
        if (!p)
            return BASE_HEAP_NO_SLOT;
        h->slots = p;
    }
    s = h->nslots++;
    h->slots[s].gen = 1;
    return s;
}

/* Cancels the slot's event: a stale handle no longer matches, the node is dead. */
static void bh_slot_kill(struct base_heap *h, uint32_t s)
{
    h->slots[s].fn = NULL;
    if (++h->slots[s].gen == 0)
        h->slots[s].gen = 1;
}

/* Gives the slot back once its node left the array. */
static void bh_slot_free(struct base_heap *h, uint32_t s)
{
    h->slots[s].next_free = h->free_head;
    h->free_head = s;
}

/* Keeps the live nodes only and rebuilds the heap bottom-up (Floyd). */
static void bh_compact(struct base_heap *h)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (!bh_dead(h, &h->nodes[i]))
            h->nodes[k++] = h->nodes[i];
        else
            bh_slot_free(h, BH_SLOT(&h->nodes[i]));
    h->n = k;
    for (uint32_t i = k > 1 ? (k - 2) / BH_D + 1 : 0; i-- > 0;)
        bh_sift_down(h, i, h->nodes[i]);
}

uint64_t base_heap_push(struct base_heap *h, int64_t time, base_heap_fn fn, void *arg)
{
    uint32_t s;
    if (h->n - h->live > h->live + 1024)
        bh_compact(h);
    if (h->n >= BASE_HEAP_NO_SLOT - 1 || h->seq >> (64 - BH_SLOT_BITS))
        return 0;
    if (h->n == h->cap) {
        struct base_heap_node *p = bh_grow(h->nodes, &h->cap, h->n + 1, sizeof *p);
        if (!p)
            return 0;
        h->nodes = p;
    }
    s = bh_slot_alloc(h);
    if (s == BASE_HEAP_NO_SLOT)
        return 0;
    h->slots[s].fn = fn;
    h->slots[s].arg = arg;
    h->n++;
    h->live++;
    bh_sift_up(h, h->n - 1, (struct base_heap_node){time, h->seq++ << BH_SLOT_BITS | s});
    return ((uint64_t)h->slots[s].gen << 32) | s;
}

bool base_heap_cancel(struct base_heap *h, uint64_t handle)
{
    uint32_t s = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    if (handle == 0 || s >= h->nslots || h->slots[s].gen != gen || !h->slots[s].fn)
        return false;
    bh_slot_kill(h, s); /* its node is dead from now on, its slot freed with it */
    h->live--;
    return true;
}

void base_heap_skip_dead(struct base_heap *h)
{
    while (h->n && bh_dead(h, &h->nodes[0])) {
        bh_slot_free(h, BH_SLOT(&h->nodes[0]));
        bh_remove_top(h);
    }
}

bool base_heap_pop(struct base_heap *h, base_heap_fn *fn, void **arg, int64_t *time)
{
    uint32_t s;
    base_heap_skip_dead(h);
    if (h->n == 0)
        return false;
    s = BH_SLOT(&h->nodes[0]);
    *time = h->nodes[0].time;
    *fn = h->slots[s].fn;
    *arg = h->slots[s].arg;
    bh_remove_top(h);
    bh_slot_kill(h, s);
    bh_slot_free(h, s);
    h->live--;
    return true;
}
