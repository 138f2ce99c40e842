/* wait.c - see wait.h. */
#include "wait.h"

#include <stdlib.h>
#include <string.h>

void sim_waits_init(struct sim_waits *w)
{
    memset(w, 0, sizeof *w);
    w->next_id = 1;
    w->last_progress = -1;
}

void sim_waits_free(struct sim_waits *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].who);
        free(w->v[i].what);
    }
    free(w->v);
    sim_waits_init(w);
}

uint64_t sim_waits_begin(struct sim_waits *w, int64_t now, const char *who, const char *what)
{
    struct sim_wait *e;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        struct sim_wait *nv = realloc(w->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        w->v = nv;
        w->cap = cap;
    }
    e = &w->v[w->n];
    e->who = strdup(who ? who : "?");
    e->what = strdup(what ? what : "?");
    if (!e->who || !e->what) {
        free(e->who);
        free(e->what);
        return 0;
    }
    e->id = w->next_id++;
    e->since = now;
    w->n++;
    w->begun++;
    return e->id;
}

/* Waits end mostly in LIFO or near-LIFO order; search from the end. */
static struct sim_wait *sim_waits_find(struct sim_waits *w, uint64_t id)
{
    for (size_t i = w->n; i-- > 0;)
        if (w->v[i].id == id)
            return &w->v[i];
    return NULL;
}

void sim_waits_update(struct sim_waits *w, uint64_t id, const char *what)
{
    struct sim_wait *e = sim_waits_find(w, id);
    char *copy;
    if (e && what && strcmp(e->what, what) == 0)
        return; /* the same text again (most refreshes of a writer's wait) */
    if (!e || !(copy = strdup(what ? what : "?")))
        return;
    free(e->what);
    e->what = copy;
}

void sim_waits_end(struct sim_waits *w, int64_t now, uint64_t id)
{
    struct sim_wait *e = sim_waits_find(w, id);
    size_t i;
    if (!e)
        return;
    i = (size_t)(e - w->v);
    free(e->who);
    free(e->what);
    /* Keep begin order: the report lists waits oldest first. */
    memmove(&w->v[i], &w->v[i + 1], (w->n - i - 1) * sizeof *e);
    w->n--;
    w->ended++;
    w->last_progress = now;
}

const struct sim_wait *sim_waits_oldest(const struct sim_waits *w)
{
    return w->n ? &w->v[0] : NULL;
}
