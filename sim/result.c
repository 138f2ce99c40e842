/* result.c - see result.h. */
#include "result.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"

/* Calls fn on every block r owns: run_result_free frees them, and
 * run_result_forget takes them out of the leak gate's count, from one list. */
static void result_each(struct run_result *r, void (*fn)(const void *))
{
    fn(r->file);
    fn(r->scenario);
    fn(r->variant);
    fn(r->summary);
    fn(r->replay);
    for (size_t i = 0; i < r->nchecks; i++) {
        fn(r->checks[i].name);
        fn(r->checks[i].args);
        fn(r->checks[i].detail);
    }
    fn(r->checks);
    if (r->metric_names)
        for (size_t i = 0; i < r->nmetrics; i++)
            fn(r->metric_names[i]);
    fn(r->metric_names);
    fn(r->metrics);
    for (size_t i = 0; i < r->nwaits; i++) {
        fn(r->waits[i].who);
        fn(r->waits[i].what);
    }
    fn(r->waits);
    for (size_t i = 0; i < r->nevents; i++)
        fn(r->events[i].label);
    fn(r->events);
    fn(r->swarm);
}

static void result_free_block(const void *p) { free((void *)p); }

void run_result_free(struct run_result *r)
{
    result_each(r, result_free_block);
    memset(r, 0, sizeof *r);
}

void run_result_forget(struct run_result *r) { result_each(r, sim_alloc_forget); }

int run_result_event(struct run_result *r, int64_t t0, int64_t t1, enum run_lane lane, int op,
                     int job, int effect, bool failed, const char *label)
{
    struct run_event *e;
    if (r->nevents == r->cap_events) {
        size_t cap = r->cap_events ? r->cap_events * 2 : 256;
        struct run_event *ne = realloc(r->events, cap * sizeof *ne);
        if (!ne)
            return ERR_NOMEM;
        r->events = ne;
        r->cap_events = cap;
    }
    e = &r->events[r->nevents];
    e->label = strdup(label ? label : "");
    if (!e->label)
        return ERR_NOMEM;
    e->t0_us = t0;
    e->t1_us = t1;
    e->lane = lane;
    e->op = op;
    e->job = job;
    e->effect = effect;
    e->failed = failed;
    r->nevents++;
    return 0;
}
