/*
 * eng.h - the engine facade: what the simulator (and the http-mode runner)
 * drives.  One struct eng is one "cluster": a broker side (WAL upload, SSO
 * compaction, stream object compaction, reader) and a controller side (the
 * metadata store and the cleaner), as separate objects so that a crash of one
 * side loses only that side's volatile state.
 *
 *        sim/world.c --eng_append/trim/delete/compact/crash--> struct eng
 *                                                               |  broker: wal, cmp, scmp, reader
 *                                                               |  controller: meta, cleaner
 *                                       env (time, timers, random, waits, log)
 *                                       s3_ops (fake S3 + fault shim, or s3_curl)
 *
 * Everything is asynchronous and single-threaded: calls return at once, work
 * continues from env timers and S3 completions.
 */
#ifndef S3SIM_ENG_H
#define S3SIM_ENG_H

#include <stdbool.h>
#include <stdint.h>

#include "mdc.h"
#include "env.h"
#include "s3.h"

struct conf;
struct meta;
struct eng;

/* Fills buf[0..len) with the payload of the record at (stream, offset).  The
 * simulator makes it a pure function of (seed, stream, offset), so that
 * no-data-loss can regenerate the expected bytes. */
typedef void (*eng_payload_fn)(void *arg, int64_t stream, int64_t offset, uint8_t *buf,
                               size_t len);

/* Called when records [base, base + count) of stream are acknowledged (their
 * WAL upload committed).  record_size: payload bytes of each record. */
typedef void (*eng_ack_fn)(void *arg, int64_t stream, int64_t base, int64_t count,
                           uint32_t record_size);

/* The broker halted (a WAL upload failed for good and wal.upload.retry is
 * false: AutoMQ's Runtime.halt(1)); called from a timer, after the failure's
 * log lines.  The hook crashes the broker (eng_crash_broker) and restarts it
 * (eng_restart_broker) after crash's default pause (1 s), as a process
 * supervisor would.  Without a hook the engine does both itself. */
typedef void (*eng_halt_fn)(void *arg);

struct eng_hooks {
    eng_payload_fn payload; /* required */
    eng_ack_fn ack;         /* may be NULL */
    void *arg;              /* passed to all */
    eng_halt_fn halt;       /* may be NULL: the engine restarts the broker itself */
};

/* Counters (docs/knobs.md "Metrics").  Read at any time. */
struct eng_metrics {
    uint64_t records_acked;
    uint64_t wal_uploads;
    uint64_t sso_runs, sso_commits, sso_failures;
    uint64_t force_splits;
    uint64_t stream_commits, stream_failures;
    uint64_t composite_created;
    uint64_t cleaner_deleted, cleaner_failures;
    uint64_t broker_halts; /* Runtime.halt of the broker (a WAL upload failed for good) */
    uint64_t s3_retries;  /* attempts retried by the engine's S3 clients (all jobs) */
    uint64_t s3_timeouts; /* attempts they abandoned after the attempt timeout */
    struct s3_requests s3_requests; /* requests they sent, by job and op: every attempt
                                       (retries too) and visibility check the S3 below
                                       accepted; crashed clients' too (requests-counted) */
    uint64_t memory_now;  /* bytes buffered right now (uploads + compaction) */
    uint64_t memory_peak; /* the most ever buffered at once */
    int64_t image_lag_max_us; /* the largest lag of a batch applied to a metadata image */
    uint64_t rpc_calls[5];    /* the broker's metadata requests sent, by enum mdc_op (retries
                                 too) */
    uint64_t rpc_retries;     /* sends after a request's first */
    uint64_t rpc_fenced;      /* answers NODE_EPOCH_EXPIRED or NODE_EPOCH_NOT_EXIST */
};

/* The fault hook of the broker's requests to the controller (mdc.h mdc_set_fault_hook). */
void eng_set_rpc_fault(struct eng *eng, mdc_fault_fn fn, void *arg);

/* Creates an engine.  env, s3 and conf are borrowed and must outlive it.
 * Streams 1..nstreams exist (open, empty) at creation.  Returns NULL when out
 * of memory.  Starts the periodic jobs (WAL upload, compactions, cleaner). */
struct eng *eng_new(struct env *env, struct s3_ops *s3, const struct conf *conf,
                    const struct eng_hooks *hooks, int nstreams);

/* Stops everything, cancels every timer and S3 call, frees everything. */
void eng_free(struct eng *eng);

/* The producer appends count records of record_size payload bytes to stream,
 * the first one gap offsets after the stream's current end (gap 0: contiguous).
 * Offsets are assigned here; acknowledgement comes later through hooks->ack.
 * Returns 0, ERR_NOTFOUND for an unknown or deleted stream, ERR_BADSTATE while
 * the broker is down (the records are refused). */
int eng_append(struct eng *eng, int64_t stream, int64_t count, uint32_t record_size, int64_t gap);

/* Moves stream's start offset forward to offset (clamped to its end). */
int eng_trim(struct eng *eng, int64_t stream, int64_t offset);

/* The stream's end offset (of acknowledged data), or -1 if unknown/deleted. */
int64_t eng_stream_end(struct eng *eng, int64_t stream);

/* Drops a stream and all its data (closed, then deleted; objects marked). */
int eng_delete_stream(struct eng *eng, int64_t stream);

/* Starts an SSO compaction (or a stream object compaction pass) now. */
int eng_compact_sso(struct eng *eng, bool force);
int eng_compact_stream(struct eng *eng, bool force);

/* Crash and restart one side: crash loses that side's volatile state
 * (in-flight jobs, writers, timers, unacknowledged appends, an in-flight
 * clean); committed metadata and the bucket survive. */
void eng_crash_broker(struct eng *eng);
void eng_restart_broker(struct eng *eng);
void eng_crash_controller(struct eng *eng);
void eng_restart_controller(struct eng *eng);

/* True when no engine job is running or waiting (no WAL upload in flight,
 * no compaction, no clean in flight), ignoring idle periodic timers. */
bool eng_idle(struct eng *eng);

/* Counters. */
const struct eng_metrics *eng_metrics(struct eng *eng);

/* The controller's metadata (its state), for the checks and the fault classifier.  Borrowed:
 * valid until the next engine event (a controller failover rebuilds it). */
const struct meta *eng_meta(struct eng *eng);
/* Image i (0: the broker's, 1: the read path's), or NULL (no such image, or the broker is
 * down): the image-consistent check. */
const struct meta *eng_image(struct eng *eng, int i);
struct ctl;
struct mdc;
struct ctl *eng_ctl(struct eng *eng);
struct mdc *eng_mdc(struct eng *eng, int i);

/* Reads records [start, end) of stream through the engine's read path
 * (metadata, object indexes, S3), asynchronously.  For each record found,
 * rec(arg, offset, payload, len) is called; then done(arg, rc) once.
 * Used by the no-data-loss check. */
typedef void (*eng_rec_fn)(void *arg, int64_t offset, const uint8_t *payload, size_t len);
typedef void (*eng_done_fn)(void *arg, int rc);
int eng_read(struct eng *eng, int64_t stream, int64_t start, int64_t end, eng_rec_fn rec,
             eng_done_fn done, void *arg);

#endif /* S3SIM_ENG_H */
