/* result.c - see result.h. */
#include "result.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void run_result_free(struct run_result *r)
{
    free(r->file);
    free(r->scenario);
    free(r->variant);
    free(r->summary);
    free(r->replay);
    for (size_t i = 0; i < r->nchecks; i++) {
        free(r->checks[i].name);
        free(r->checks[i].args);
        free(r->checks[i].detail);
    }
    free(r->checks);
    if (r->metric_names)
        for (size_t i = 0; i < r->nmetrics; i++)
            free(r->metric_names[i]);
    free(r->metric_names);
    free(r->metrics);
    for (size_t i = 0; i < r->nwaits; i++) {
        free(r->waits[i].who);
        free(r->waits[i].what);
    }
    free(r->waits);
    for (size_t i = 0; i < r->nevents; i++)
        free(r->events[i].label);
    free(r->events);
    free(r->swarm);
    memset(r, 0, sizeof *r);
}

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
