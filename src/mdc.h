/*
 * mdc.h - the broker's metadata client (docs/controller.md): the only door of the broker side
 * (WAL upload, SSO compaction, stream object compaction, the reader) to the metadata.
 *
 *   reads    go to the broker's image: its own copy of the metadata, built by applying the
 *            controller's log (ctl.h), each batch some time after the controller appended it
 *            (conf.lag_us, metadata.image.lag: the median of a long-tailed draw from the run's
 *            PRNG, p99 ten times the median; 0: at once), batches in log order, as AutoMQ's
 *            brokers replay the KRaft metadata log into their MetadataImage
 *   own      the state of the broker's own streams (end offsets, epochs, deleted or not) is
 *            what the answers to its own requests told it, not the image: AutoMQ's broker
 *            tracks its streams' offsets itself (S3Stream), the image only lags behind
 *   requests (prepare, commit a stream set object, commit a stream object, mark, trim, delete
 *            a stream) go to the controller, whose answer is returned
 *
 * A broker crash drops the image (mdc_crash); the restart rebuilds it from the controller's
 * latest snapshot plus the log after it (mdc_restart).
 *
 * No file of the broker side calls meta.h's store functions or ctl.h: a ctest rule
 * (tests/sh/mdc_seam.sh) greps for it.
 */
#ifndef S3SIM_MDC_H
#define S3SIM_MDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "env.h"
#include "meta.h"

struct conf;

struct mdc_conf {
    int64_t lag_us; /* metadata.image.lag: median lag of a log batch; 0: applied at once */
    bool snapshot_append; /* F05 (#3369): !metadata.image.snapshot.upsert: a snapshot loaded on
                             a non-empty image appends its objects to the image's lists */
};

struct mdc_stats {
    int64_t lag_max_us;     /* metadata.image.lag.max: the largest lag of an applied batch */
    uint64_t batches;       /* batches applied to the image */
    uint64_t reloads;       /* images rebuilt from a snapshot (restarts) */
    uint64_t snapshots;     /* controller snapshots loaded on the image (failovers) */
};

struct mdc;

void mdc_conf_from(struct mdc_conf *conf, const struct conf *c);

/* Creates the client with its image built from ctl's snapshot and log.  ERR_NOMEM, ERR_INVAL. */
int mdc_new(struct env *env, struct ctl *ctl, const struct mdc_conf *conf, struct mdc **out);
void mdc_free(struct mdc *d);

/* Broker crash: the image and the pending batches are dropped (queries answer nothing). */
void mdc_crash(struct mdc *d);
/* Broker restart: image rebuilt from the snapshot and the log.  ERR_NOMEM. */
int mdc_restart(struct mdc *d);

/* The image (the checks compare it with the controller's state), NULL while crashed. */
const struct meta *mdc_image(const struct mdc *d);
const struct mdc_stats *mdc_stats(const struct mdc *d);
/* The log offset the image has applied up to (batches < it). */
int64_t mdc_applied(const struct mdc *d);

/* Calls fn(arg) once the image has applied every batch the controller had appended at the time
 * of this call (at once, before returning, when it already has): a read waits for the image to
 * hold what was committed before it started, as AutoMQ's StreamMetadataManager.fetch waits for
 * the image to reach the offsets asked.  ERR_NOMEM.  mdc_current_cancel(d, arg) forgets it. */
typedef void (*mdc_ready_fn)(void *arg);
int mdc_when_current(struct mdc *d, mdc_ready_fn fn, void *arg);
void mdc_current_cancel(struct mdc *d, void *arg);

/* True when the image has applied every batch the controller appended. */
bool mdc_is_current(const struct mdc *d);

/* Applies every batch still waiting for its lag now (the end-of-run check). */
void mdc_catch_up(struct mdc *d);

/* ---- Reads of the image (meta.h's queries of the same names). ---- */
const struct meta_object *mdc_object_get(const struct mdc *d, int64_t id);
const struct meta_stream *mdc_stream_get(const struct mdc *d, int64_t id);
int64_t mdc_stream_limit(const struct mdc *d);
int mdc_foreach(const struct mdc *d, meta_object_fn fn, void *arg);
int mdc_stream_pieces(const struct mdc *d, int64_t stream, int64_t start, int64_t end,
                      struct meta_piece **out, size_t *n);
const char *mdc_namespace(const struct mdc *d);
int64_t mdc_id_none(const struct mdc *d);

/* ---- The broker's own streams (what its requests' answers said). ---- */
/* NULL: no such stream.  A stream the broker has not opened yet is opened (its state asked). */
const struct meta_stream *mdc_stream_own(struct mdc *d, int64_t id);

/* ---- Requests to the controller (meta.h's operations of the same names). ---- */
int mdc_prepare(struct mdc *d, int count, int64_t ttl_us, int64_t *first);
int mdc_commit_sso(struct mdc *d, const struct meta_sso_commit *req);
int mdc_commit_stream(struct mdc *d, const struct meta_stream_commit *req);
int mdc_mark(struct mdc *d, const int64_t *ids, const enum meta_op *ops, size_t n);
int mdc_trim(struct mdc *d, int64_t stream, int64_t new_start);
int mdc_stream_delete(struct mdc *d, int64_t stream);

/* A writer guard (writer.h's wr_guard_fn; arg is the struct mdc): ERR_ABORTED when the
 * controller expired the object being written (its upload was aborted), as cln_writer_guard. */
int mdc_writer_guard(void *md, const char *key);

/* The image lag drawn for one batch: median lag_us, long tail (p99 = 10 x the median), from
 * one 64-bit random value.  Exposed for the unit test. */
int64_t mdc_lag_draw(int64_t lag_us, uint64_t random);

#endif /* S3SIM_MDC_H */
