/* base_heap.c - the (time, seq) timer heap with O(log n) cancel (see base_heap.h). */
#include "base_heap.h"

#include <stdlib.h>

#define BASE_HEAP_NO_SLOT UINT32_MAX

void base_heap_init(struct base_heap *h)
{
    h->nodes = NULL;
    h->n = h->cap = 0;
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

static inline bool bh_less(const struct base_heap_node *a, const struct base_heap_node *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Stores node at pos and tells its slot where it now is. */
static inline void bh_set(struct base_heap *h, uint32_t pos, struct base_heap_node node)
{
    h->nodes[pos] = node;
    h->slots[node.slot].pos = pos;
}

/* Both sifts move a hole rather than swapping, and write the moving node once. */
static void bh_sift_up(struct base_heap *h, uint32_t pos)
{
    struct base_heap_node node = h->nodes[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!bh_less(&node, &h->nodes[parent]))
            break;
        bh_set(h, pos, h->nodes[parent]);
        pos = parent;
    }
    bh_set(h, pos, node);
}

static void bh_sift_down(struct base_heap *h, uint32_t pos)
{
    struct base_heap_node node = h->nodes[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && bh_less(&h->nodes[child + 1], &h->nodes[child]))
            child++;
        if (!bh_less(&h->nodes[child], &node))
            break;
        bh_set(h, pos, h->nodes[child]);
        pos = child;
    }
    bh_set(h, pos, node);
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
    if (h->nslots == BASE_HEAP_NO_SLOT - 1)
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

static void bh_slot_release(struct base_heap *h, uint32_t s)
{
    h->slots[s].fn = NULL;
    if (++h->slots[s].gen == 0)
        h->slots[s].gen = 1;
    h->slots[s].next_free = h->free_head;
    h->free_head = s;
}

uint64_t base_heap_push(struct base_heap *h, int64_t time, base_heap_fn fn, void *arg)
{
    uint32_t s;
    if (h->n >= BASE_HEAP_NO_SLOT - 1) /* as many as slot handles can name */
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
    h->nodes[h->n] = (struct base_heap_node){time, h->seq++, s};
    h->slots[s].pos = h->n;
    h->n++;
    bh_sift_up(h, h->n - 1);
    return ((uint64_t)h->slots[s].gen << 32) | s;
}

/* Removes the node at pos: the last node fills the hole and moves whichever
 * way restores the order. */
static void bh_remove_at(struct base_heap *h, uint32_t pos)
{
    h->n--;
    if (pos == h->n)
        return;
    bh_set(h, pos, h->nodes[h->n]);
    if (pos > 0 && bh_less(&h->nodes[pos], &h->nodes[(pos - 1) / 2]))
        bh_sift_up(h, pos);
    else
        bh_sift_down(h, pos);
}

bool base_heap_cancel(struct base_heap *h, uint64_t handle)
{
    uint32_t s = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    if (handle == 0 || s >= h->nslots || h->slots[s].gen != gen || !h->slots[s].fn)
        return false;
    bh_remove_at(h, h->slots[s].pos);
    bh_slot_release(h, s);
    return true;
}

bool base_heap_pop(struct base_heap *h, base_heap_fn *fn, void **arg, int64_t *time)
{
    uint32_t s;
    if (h->n == 0)
        return false;
    s = h->nodes[0].slot;
    *time = h->nodes[0].time;
    *fn = h->slots[s].fn;
    *arg = h->slots[s].arg;
    bh_remove_at(h, 0);
    bh_slot_release(h, s);
    return true;
}
