/* timeline.c - engine job bars and marks from typed events (see timeline.h). */
#include "timeline.h"

#include "fault.h"

#include <stdio.h>
#include <string.h>

void sim_timeline_init(struct sim_timeline *tl, size_t max_events)
{
    tl->nopen = 0;
    tl->max_events = max_events;
}

enum run_lane sim_timeline_lane(enum env_lane lane)
{
    switch (lane) {
    case ENV_LANE_WAL: return RUN_LANE_WAL;
    case ENV_LANE_SSO: return RUN_LANE_SSO;
    case ENV_LANE_STREAM: return RUN_LANE_STREAM;
    case ENV_LANE_CLEANER: return RUN_LANE_CLEANER;
    default: return RUN_LANE_ACTION; /* not sent by the engine */
    }
}

static void tl_add(struct sim_timeline *tl, struct run_result *r, int64_t t0, int64_t t1,
                   enum env_lane lane, bool failed, const char *label)
{
    if (r->nevents < tl->max_events)
        run_result_event(r, t0, t1, sim_timeline_lane(lane), -1, -1, FS3_EFF_NONE, failed, label);
}

/* The open bar of lane and id, or NULL. */
static struct sim_timeline_bar *tl_find(struct sim_timeline *tl, enum env_lane lane, uint64_t id)
{
    for (size_t i = 0; i < tl->nopen; i++)
        if (tl->open[i].lane == lane && tl->open[i].id == id)
            return &tl->open[i];
    return NULL;
}

void sim_timeline_event(struct sim_timeline *tl, struct run_result *r, int64_t now,
                        const struct env_event *ev)
{
    struct sim_timeline_bar *b = tl_find(tl, ev->lane, ev->id);
    const char *text = ev->text ? ev->text : "";
    if (ev->kind == ENV_EVENT_START && (b || tl->nopen < SIM_TIMELINE_OPEN)) {
        if (!b) /* a START again for an open bar restarts it */
            b = &tl->open[tl->nopen++];
        *b = (struct sim_timeline_bar){.lane = ev->lane, .id = ev->id, .t0 = now};
        snprintf(b->label, sizeof b->label, "%s", text);
        return;
    }
    if (ev->kind == ENV_EVENT_END && b) {
        tl_add(tl, r, b->t0, now, ev->lane, ev->failed, text);
        *b = tl->open[--tl->nopen];
        return;
    }
    tl_add(tl, r, now, now, ev->lane, ev->failed, text);
}

void sim_timeline_finish(struct sim_timeline *tl, struct run_result *r, int64_t now)
{
    for (int lane = 0; lane < ENV_LANE_COUNT; lane++)
        for (size_t i = 0; i < tl->nopen; i++) {
            char label[128];
            if ((int)tl->open[i].lane != lane)
                continue;
            snprintf(label, sizeof label, "%s (still running)", tl->open[i].label);
            tl_add(tl, r, tl->open[i].t0, now, tl->open[i].lane, true, label);
        }
}
