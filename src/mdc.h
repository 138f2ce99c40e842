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
    int64_t node;          /* the broker's node id; -1: the read path's client (no epoch) */
    int64_t rpc_latency_us; /* controller.rpc.latency: one way */
    int64_t rpc_timeout_us; /* controller.rpc.timeout: the broker's request timeout (0: 30 s) */
    int64_t retry_base_us;  /* s3.controller.request.retry.base.delay.ms (0: 500 ms) */
    int64_t retry_max;      /* s3.controller.request.retry.max.count: sends at most (0: no
                               limit) */
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
/* The committed objects of the image (AutoMQ's ObjectManager.getObjectsCount), or 0 when the
 * image has handed out fewer than at_least ids (the count is not needed then). */
int64_t mdc_objects_count(const struct mdc *d, int64_t at_least);
int64_t mdc_id_none(const struct mdc *d);

/* ---- The broker's own streams (what its requests' answers said). ---- */
/* NULL: no such stream.  A stream the broker has not opened yet is opened (its state asked). */
const struct meta_stream *mdc_stream_own(struct mdc *d, int64_t id);
/* (Re)opens a stream: its state asked from the controller again (AutoMQ's openStream; tests
 * that commit behind the broker's back). */
void mdc_stream_open(struct mdc *d, int64_t id);

/* ---- Requests to the controller: asynchronous RPCs (docs/controller.md "RPCs"). ----
 *
 * Each request gets a request id and is delivered to the controller controller.rpc.latency
 * after it is sent; the controller's answer comes back after the same latency.  The request is
 * retried with the same payload (the same request id) as AutoMQ's ControllerRequestSender
 * does: after the broker's request timeout (controller.rpc.timeout: a lost request or answer)
 * and after an answer that asks for a retry, waiting s3.controller.request.retry.base.delay.ms
 * doubled at each send up to 10 s, at most s3.controller.request.retry.max.count sends.
 * Which answers end the request (per op, as ControllerObjectManager and ControllerStreamManager
 * handle them): prepare retries every error; the commits end on NODE_EPOCH_EXPIRED,
 * NODE_EPOCH_NOT_EXIST (ERR_ABORTED), OBJECT_NOT_EXIST, COMPACTED_OBJECTS_NOT_FOUND,
 * STREAM_NOT_EXIST (ERR_NOTFOUND), STREAM_FENCED (ERR_BADSTATE) and retry the rest; trim and
 * delete end on the stream codes and retry the rest.
 *
 * done(arg, rc, first) runs once, from the event loop, never inside the call: rc 0 (or
 * ERR_REDUNDANT) applied; first: prepare's first id, trim's and delete's stream (also when refused).  A broker crash (mdc_crash) or
 * mdc_cancel(d, arg) forgets the callbacks; requests already on their way to the controller
 * are still applied there.  The calls return ERR_NOMEM or 0. */
enum mdc_op {
    MDC_OP_PREPARE = 0,
    MDC_OP_COMMIT_SSO,
    MDC_OP_COMMIT_STREAM,
    MDC_OP_TRIM,
    MDC_OP_DELETE_STREAM,
    MDC_OP_COUNT
};

/* AutoMQ's error codes (Kafka's Errors) the controller answers these requests with. */
enum mdc_code {
    MDC_NONE = 0,
    MDC_NODE_EPOCH_EXPIRED,
    MDC_NODE_EPOCH_NOT_EXIST,
    MDC_OBJECT_NOT_EXIST,
    MDC_COMPACTED_OBJECTS_NOT_FOUND,
    MDC_REDUNDANT_OPERATION,
    MDC_STREAM_FENCED,
    MDC_STREAM_NOT_EXIST,
    MDC_UNKNOWN_SERVER_ERROR,
    MDC_CODE_COUNT
};

/* "rpc-prepare", "rpc-commit-sso", ... and back (-1: unknown). */
const char *mdc_op_name(enum mdc_op op);
int mdc_op_parse(const char *name);
/* "NODE_EPOCH_EXPIRED", ... and back (-1: unknown). */
const char *mdc_code_name(enum mdc_code code);
int mdc_code_parse(const char *name);
/* True when AutoMQ's controller can answer op with code. */
bool mdc_op_answers(enum mdc_op op, enum mdc_code code);

/* The kind of a request (the fault language's kind= on rpc-* ops, docs/controller.md "RPC
 * faults"): the engine job that sent it and, for the stream object compactor, AutoMQ's
 * compaction type (StreamObjectCompactor's MINOR: merged into a normal stream object; MAJOR:
 * linked into a composite; CLEANUP: expired objects dropped, an object id -1 commit, or a
 * composite with expired links rewritten).  trim and delete-stream are OTHER (the stream's
 * owner). */
enum mdc_kind {
    MDC_KIND_OTHER = 0,
    MDC_KIND_WAL_UPLOAD,
    MDC_KIND_SSO_COMPACTION,
    MDC_KIND_FORCE_SPLIT,
    MDC_KIND_MINOR,
    MDC_KIND_MAJOR,
    MDC_KIND_CLEANUP,
    MDC_KIND_COUNT
};
/* "wal-upload", ... "cleanup" and back (-1: unknown). */
const char *mdc_kind_name(enum mdc_kind kind);
int mdc_kind_parse(const char *name);
/* The kinds op can have: bit (1 << enum mdc_kind) each; 0 for trim and delete-stream. */
unsigned mdc_op_kinds(enum mdc_op op);
/* The kind of the next request d sends (its caller's job).  Untagged requests take it from
 * their payload: a commit-sso without compacted objects is a WAL upload's, with them an SSO
 * compaction's; a commit-stream's by its new object (none: cleanup, composite: major, else
 * minor); trim, delete-stream and an untagged prepare are OTHER. */
void mdc_next_kind(struct mdc *d, enum mdc_kind kind);

/* A fault of one send of a request, decided by the fault hook (the scenario's rpc-* rules). */
enum mdc_effect {
    MDC_EFF_NONE = 0,
    MDC_EFF_TIMEOUT, /* not delivered; the broker's timeout fires and it sends again */
    MDC_EFF_LOST,    /* delivered and applied; the answer is lost (timeout, send again) */
    MDC_EFF_STALL,   /* held at the controller past the broker's timeout, then applied (the
                        broker has sent again by then: the late one meets the retry) */
    MDC_EFF_DELAY,   /* delivered delay_us late, answered normally */
    MDC_EFF_ERROR,   /* answered with code, not applied */
};
struct mdc_fault {
    enum mdc_effect effect;
    int64_t delay_us;
    enum mdc_code code;
};
typedef void (*mdc_fault_fn)(void *arg, enum mdc_op op, enum mdc_kind kind,
                             struct mdc_fault *out);
void mdc_set_fault_hook(struct mdc *d, mdc_fault_fn fn, void *arg);

struct mdc_rpc_stats {
    uint64_t calls[MDC_OP_COUNT]; /* sends (rpc.calls.OP), retries included */
    uint64_t retries;             /* sends after the first (rpc.retries) */
    uint64_t fenced;              /* refusals NODE_EPOCH_EXPIRED / NOT_EXIST at the
                                     controller, heard or not (rpc.fenced) */
    uint64_t timeouts;            /* sends whose answer never came */
};
const struct mdc_rpc_stats *mdc_rpc_stats(const struct mdc *d);
/* True while a request, or a delivery or answer of one, is on its way. */
bool mdc_rpc_busy(const struct mdc *d);

typedef void (*mdc_done_fn)(void *arg, int rc, int64_t first);
int mdc_prepare(struct mdc *d, int count, int64_t ttl_us, mdc_done_fn done, void *arg);
int mdc_commit_sso(struct mdc *d, const struct meta_sso_commit *req, mdc_done_fn done, void *arg);
int mdc_commit_stream(struct mdc *d, const struct meta_stream_commit *req, mdc_done_fn done,
                      void *arg);
int mdc_trim(struct mdc *d, int64_t stream, int64_t new_start, mdc_done_fn done, void *arg);
int mdc_stream_delete(struct mdc *d, int64_t stream, mdc_done_fn done, void *arg);
/* True while a delete of the stream is in flight: the broker has closed the stream (AutoMQ's
 * S3Stream.destroy closes it before it asks the controller), the answer has not come yet. */
bool mdc_stream_deleting(const struct mdc *d, int64_t stream);
void mdc_cancel(struct mdc *d, void *arg);

/* Marks objects for deletion at once (a guard of ours for a failed output: not an AutoMQ
 * request, so no RPC). */
int mdc_mark(struct mdc *d, const int64_t *ids, const enum meta_op *ops, size_t n);

/* The broker's node epoch (registered at each mdc_new / mdc_restart of a broker client). */
int64_t mdc_epoch(const struct mdc *d);

/* A writer guard (writer.h's wr_guard_fn; arg is the struct mdc): ERR_ABORTED when the
 * controller expired the object being written (its upload was aborted), as cln_writer_guard. */
int mdc_writer_guard(void *md, const char *key);

/* The image lag drawn for one batch: median lag_us, long tail (p99 = 10 x the median), from
 * one 64-bit random value.  Exposed for the unit test. */
int64_t mdc_lag_draw(int64_t lag_us, uint64_t random);

#endif /* S3SIM_MDC_H */
