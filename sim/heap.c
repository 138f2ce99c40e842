/* heap.c - see heap.h. */
#include "heap.h"

#include <stdlib.h>

#define SIM_NO_SLOT UINT32_MAX

void sim_heap_init(struct sim_heap *h)
{
    h->nodes = NULL;
    h->n = h->cap = 0;
    h->slots = NULL;
    h->nslots = 0;
    h->free_head = SIM_NO_SLOT;
    h->seq = 0;
}

void sim_heap_free(struct sim_heap *h)
{
    free(h->nodes);
    free(h->slots);
    sim_heap_init(h);
}

static inline bool sim_node_less(const struct sim_heap_node *a, const struct sim_heap_node *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline void sim_node_set(struct sim_heap *h, uint32_t pos, struct sim_heap_node node)
{
    h->nodes[pos] = node;
    h->slots[node.slot].pos = pos;
}

static void sim_sift_up(struct sim_heap *h, uint32_t pos)
{
    struct sim_heap_node node = h->nodes[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!sim_node_less(&node, &h->nodes[parent]))
            break;
        sim_node_set(h, pos, h->nodes[parent]);
        pos = parent;
    }
    sim_node_set(h, pos, node);
}

static void sim_sift_down(struct sim_heap *h, uint32_t pos)
{
    struct sim_heap_node node = h->nodes[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && sim_node_less(&h->nodes[child + 1], &h->nodes[child]))
            child++;
        if (!sim_node_less(&h->nodes[child], &node))
            break;
        sim_node_set(h, pos, h->nodes[child]);
        pos = child;
    }
    sim_node_set(h, pos, node);
}

static uint32_t sim_slot_alloc(struct sim_heap *h)
{
    uint32_t s;
    if (h->free_head != SIM_NO_SLOT) {
        s = h->free_head;
        h->free_head = h->slots[s].next_free;
        return s;
    }
    if (h->nslots == SIM_NO_SLOT - 1)
        return SIM_NO_SLOT;
    if ((h->nslots & (h->nslots - 1)) == 0 || h->nslots == 0) {
        uint32_t cap = h->nslots ? h->nslots * 2 : 64;
        struct sim_heap_slot *ns = realloc(h->slots, (size_t)cap * sizeof *ns);
        if (!ns)
            return SIM_NO_SLOT;
        h->slots = ns;
    }
    s = h->nslots++;
    h->slots[s].gen = 1;
    return s;
}

static void sim_slot_release(struct sim_heap *h, uint32_t s)
{
    h->slots[s].fn = NULL;
    h->slots[s].gen++;
    if (h->slots[s].gen == 0)
        h->slots[s].gen = 1;
    h->slots[s].next_free = h->free_head;
    h->free_head = s;
}

uint64_t sim_heap_push(struct sim_heap *h, int64_t time, sim_event_fn fn, void *arg)
{
    uint32_t s;
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        struct sim_heap_node *nn = realloc(h->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return 0;
        h->nodes = nn;
        h->cap = cap;
    }
    s = sim_slot_alloc(h);
    if (s == SIM_NO_SLOT)
        return 0;
    h->slots[s].fn = fn;
    h->slots[s].arg = arg;
    h->nodes[h->n] = (struct sim_heap_node){time, h->seq++, s};
    h->slots[s].pos = h->n;
    h->n++;
    sim_sift_up(h, h->n - 1);
    return ((uint64_t)h->slots[s].gen << 32) | s;
}

static void sim_heap_remove_at(struct sim_heap *h, uint32_t pos)
{
    h->n--;
    if (pos == h->n)
        return;
    sim_node_set(h, pos, h->nodes[h->n]);
    if (pos > 0 && sim_node_less(&h->nodes[pos], &h->nodes[(pos - 1) / 2]))
        sim_sift_up(h, pos);
    else
        sim_sift_down(h, pos);
}

bool sim_heap_cancel(struct sim_heap *h, uint64_t id)
{
    uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
    if (id == 0 || s >= h->nslots || h->slots[s].gen != gen || !h->slots[s].fn)
        return false;
    sim_heap_remove_at(h, h->slots[s].pos);
    sim_slot_release(h, s);
    return true;
}

bool sim_heap_pop(struct sim_heap *h, sim_event_fn *fn, void **arg, int64_t *time)
{
    uint32_t s;
    if (h->n == 0)
        return false;
    s = h->nodes[0].slot;
    *time = h->nodes[0].time;
    *fn = h->slots[s].fn;
    *arg = h->slots[s].arg;
    sim_heap_remove_at(h, 0);
    sim_slot_release(h, s);
    return true;
}
