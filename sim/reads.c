/*
 * reads.c - the scenario's consumers (`read`, extension) and its out-of-band writer (`race-put`,
 * extension).
 *
 * A `read` line is a consumer of each stream it names.  Each time it fires, the consumer fetches
 * from its position through the engine's read path (eng_read: the read path's metadata image, the
 * object indexes, S3 GETs of job `reader`, whatever fault rules are active) up to the
 * acknowledged end, or `bytes=` of payload.  Every record a read returns is compared with the
 * payload the producer wrote (sim/payload.c); a wrong byte, a wrong size or a record skipped by a
 * read that said it was complete is a finding of `reads-correct`.  A read that ends with an error
 * is no finding: it counts in `reads.failed`, and the consumer's position stays after the last
 * record it got, where its next fetch (the next firing of an `every` line) starts again, as a
 * Kafka consumer fetches again after an error.  One fetch per consumer at a time: a firing while
 * the previous fetch runs is skipped.
 *
 * The read path's own metadata client survives a broker crash (eng.h), so a fetch in flight
 * goes on; a fetch that starts while the broker is down fails at once (a consumer's fetch needs
 * its broker).
 */
#include "reads.h"

#include "err.h"
#include "obj.h"
#include "payload.h"
#include "world_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One consumer: one stream of one `read` line. */
struct world_reader {
    struct world *w;
    const struct scn_event *ev;
    int stream;
    int64_t pos;      /* next offset to read; -1 before the first fetch */
    bool busy;        /* a fetch in flight */
    bool started;     /* `reads` counted for the current fetch */
    int64_t first;    /* where the current fetch began */
    int64_t budget;   /* payload bytes it may still return (-1: up to the end) */
    int64_t expect;   /* next offset of the current piece [expect, hi) */
    int64_t hi;
    uint32_t size;    /* record size of the piece's acknowledged run */
    int64_t got;      /* payload bytes the fetch returned */
    int64_t t0;
};

static void reads_bad(struct world *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void reads_bad(struct world *w, const char *fmt, ...)
{
    va_list ap;
    if (w->reads_bad++)
        return;
    va_start(ap, fmt);
    vsnprintf(w->reads_first, sizeof w->reads_first, fmt, ap);
    va_end(ap);
}

static void reader_next(struct world_reader *r);

static void reader_end(struct world_reader *r, int rc, const char *why)
{
    struct world *w = r->w;
    r->busy = false;
    if (rc) {
        w->metrics[METRIC_READS_FAILED]++;
        world_tracef(w, "consumer", "line %d stream %d read [%" PRId64 ", ...) failed at %" PRId64
                     ": %s", r->ev->line, r->stream, r->first, r->pos, why);
        world_event(w, RUN_LANE_ACTION, r->t0, true, "read stream %d from %" PRId64
                    " failed at %" PRId64 ": %s", r->stream, r->first, r->pos, why);
        return;
    }
    world_tracef(w, "consumer", "line %d stream %d read [%" PRId64 ", %" PRId64 ") %" PRId64
                 " bytes", r->ev->line, r->stream, r->first, r->pos, r->got);
    world_event(w, RUN_LANE_ACTION, r->t0, false, "read stream %d [%" PRId64 ", %" PRId64 ")",
                r->stream, r->first, r->pos);
}

static void reader_rec(void *arg, int64_t offset, const uint8_t *payload, size_t len)
{
    struct world_reader *r = arg;
    struct world *w = r->w;
    long at;
    if (w->reads_closed || offset < r->expect || offset >= r->hi)
        return; /* a batch overlapping the piece: not this piece's to judge */
    if (offset > r->expect)
        reads_bad(w, "line %d: stream %d: the read skipped records %" PRId64 "..%" PRId64,
                  r->ev->line, r->stream, r->expect, offset - 1);
    if (len != r->size)
        reads_bad(w, "line %d: stream %d offset %" PRId64 ": %zu payload bytes, want %u",
                  r->ev->line, r->stream, offset, len, r->size);
    else if ((at = sim_payload_check(w->seed, r->stream, offset, payload, len)) >= 0)
        reads_bad(w, "line %d: stream %d offset %" PRId64 ": payload differs at byte %ld",
                  r->ev->line, r->stream, offset, at);
    w->metrics[METRIC_READS_BYTES] += (int64_t)len;
    r->got += (int64_t)len;
    if (r->budget > 0)
        r->budget = r->budget > (int64_t)len ? r->budget - (int64_t)len : 0;
    r->expect = offset + 1;
    r->pos = r->expect;
}

static void reader_done(void *arg, int rc)
{
    struct world_reader *r = arg;
    struct world *w = r->w;
    if (w->reads_closed) {
        r->busy = false;
        return;
    }
    world_clock(w);
    if (rc) {
        reader_end(r, rc, err_str(rc));
        return;
    }
    if (r->expect < r->hi) {
        /* The read path said every offset was delivered. */
        reads_bad(w, "line %d: stream %d: a complete read of [%" PRId64 ", %" PRId64
                  ") returned nothing from %" PRId64, r->ev->line, r->stream, r->expect, r->hi,
                  r->expect);
        r->pos = r->hi;
    }
    reader_next(r);
}

/* Reads the next piece: the part of one acknowledged run from the position on, within the
 * budget; or ends the fetch at the acknowledged end. */
static void reader_next(struct world_reader *r)
{
    struct world *w = r->w;
    const struct world_stream *s = &w->streams[r->stream];
    const struct world_run *run = NULL;
    int64_t lo, hi;
    int rc;
    for (size_t i = 0; i < s->n; i++)
        if (s->runs[i].base + s->runs[i].count > r->pos) {
            run = &s->runs[i];
            break;
        }
    if (!run || r->budget == 0) {
        reader_end(r, 0, NULL);
        return;
    }
    lo = run->base > r->pos ? run->base : r->pos;
    hi = run->base + run->count;
    if (r->budget > 0) {
        int64_t n = r->budget / (int64_t)run->size;
        if (n < 1)
            n = 1; /* a fetch returns at least one record, as Kafka's */
        if (hi - lo > n)
            hi = lo + n;
    }
    r->pos = r->expect = lo;
    r->hi = hi;
    r->size = run->size;
    rc = eng_read(w->eng, r->stream, lo, hi, reader_rec, reader_done, r);
    if (rc)
        reader_end(r, rc, err_str(rc));
}

static void reader_fire(struct world *w, const struct scn_event *ev, struct world_reader *r)
{
    const struct scn_action *a = &ev->act;
    const struct meta_stream *ms = meta_stream_get(eng_meta(w->eng), r->stream);
    const struct world_stream *s = &w->streams[r->stream];
    int64_t end = s->n ? s->runs[s->n - 1].base + s->runs[s->n - 1].count : 0;
    if (r->busy) {
        world_tracef(w, "consumer", "line %d stream %d: the previous read still runs",
                     ev->line, r->stream);
        return;
    }
    if (!ms || ms->state == META_STREAM_DELETED) {
        world_tracef(w, "consumer", "line %d stream %d: deleted, nothing to read", ev->line,
                     r->stream);
        return;
    }
    if (r->pos < 0)
        r->pos = a->from_offset >= 0 ? a->from_offset
                 : a->from_ppm >= 0  ? (int64_t)((double)end * a->from_ppm / 1e6)
                                     : ms->start;
    if (r->pos < ms->start)
        r->pos = ms->start; /* trimmed away: start again at the earliest offset */
    w->metrics[METRIC_READS]++;
    r->busy = true;
    r->first = r->pos;
    r->budget = a->bytes > 0 ? a->bytes : -1;
    r->got = 0;
    r->t0 = w->now;
    if (w->broker_down) {
        reader_end(r, ERR_IO, "the broker is down");
        return;
    }
    reader_next(r);
}

void world_do_read(struct world *w, struct world_timed *t)
{
    const struct scn_event *ev = t->ev;
    int lo = ev->act.stream ? ev->act.stream : 1;
    int hi = ev->act.stream ? ev->act.stream : w->nstreams;
    if (w->reads_closed)
        return;
    if (!t->readers) {
        t->readers = calloc((size_t)w->nstreams + 1, sizeof *t->readers);
        if (!t->readers) {
            world_tracef(w, "consumer", "line %d: out of memory", ev->line);
            return;
        }
        for (int i = 0; i <= w->nstreams; i++) {
            t->readers[i].w = w;
            t->readers[i].ev = ev;
            t->readers[i].stream = i;
            t->readers[i].pos = -1;
        }
    }
    for (int i = lo; i <= hi && i <= w->nstreams; i++)
        reader_fire(w, ev, &t->readers[i]);
}

void world_reads_close(struct world *w)
{
    w->reads_closed = true;
}

void world_reads_free(struct world *w)
{
    free(w->foreign);
    w->foreign = NULL;
    w->nforeign = w->capforeign = 0;
    for (size_t i = 0; w->timed && i < w->spec->nevents; i++) {
        free(w->timed[i].readers);
        w->timed[i].readers = NULL;
    }
}

/* ---- the out-of-band writer ------------------------------------------------------------- */

static void world_put_done(struct s3_req *req, struct s3_result *res)
{
    (void)req;
    (void)res;
}

void world_do_race_put(struct world *w, const struct scn_action *a)
{
    const struct meta *m = eng_meta(w->eng);
    char key[sizeof a->key];
    int64_t id = -1;
    uint8_t *body;
    struct s3_req req;
    struct s3_result res;
    int rc;
    if (!w->store) {
        world_tracef(w, "racer", "race-put skipped: no fake store (--endpoint)");
        return;
    }
    if (a->key[0]) {
        snprintf(key, sizeof key, "%s", a->key);
    } else {
        id = a->put_next ? meta_next_id(m) + a->put_id : a->put_id;
        if (obj_key(id, meta_namespace(m), key, sizeof key) != 0) {
            world_tracef(w, "racer", "race-put: no key for object %" PRId64, id);
            return;
        }
    }
    body = malloc(a->bytes ? (size_t)a->bytes : 1);
    if (!body) {
        world_tracef(w, "racer", "race-put %s: out of memory", key);
        return;
    }
    /* Bytes no producer wrote: the payload of stream 0, which no scenario has. */
    sim_payload_fill(w->seed, 0, id < 0 ? 0 : id, body, (size_t)a->bytes);
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.op = S3_OP_PUT;
    req.key = key;
    req.body = body;
    req.body_len = (size_t)a->bytes;
    req.cb = world_put_done;
    world_lock(w);
    /* What the metadata says of the key now (none: the engine does not own it). */
    const char *kind = meta_key_kind_name(meta_classify_key(m, key));
    rc = fs3_exec(w->store, &req, FS3_AS_OF_NOW, &res);
    world_unlock(w);
    s3_result_cleanup(&res);
    free(body);
    if (rc == 0 && w->nforeign == w->capforeign) {
        size_t cap = w->capforeign ? w->capforeign * 2 : 8;
        struct world_foreign *nf = realloc(w->foreign, cap * sizeof *nf);
        if (nf) {
            w->foreign = nf;
            w->capforeign = cap;
        }
    }
    if (rc == 0 && w->nforeign < w->capforeign) {
        snprintf(w->foreign[w->nforeign].key, sizeof w->foreign[w->nforeign].key, "%s", key);
        w->foreign[w->nforeign].size = (uint64_t)a->bytes;
        w->nforeign++;
    }
    world_tracef(w, "racer", "put %s (%" PRId64 " bytes; the metadata: %s; next id %" PRId64
                 ") rc=%d", key, a->bytes, kind, meta_next_id(m), rc);
    world_event(w, RUN_LANE_ACTION, w->now, rc != 0, "race-put %.100s", key);
}

bool world_foreign_key(const struct world *w, const char *key, uint64_t size)
{
    for (size_t i = 0; i < w->nforeign; i++)
        if (w->foreign[i].size == size && strcmp(w->foreign[i].key, key) == 0)
            return true;
    return false;
}
