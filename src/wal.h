/*
 * wal.h - WAL upload: appended records become objects, then metadata, then
 * acknowledgements (docs/engine.md "WAL upload").
 *
 *   eng_append --wal_append--> per-stream buffer (runs of records, no bytes)
 *   every s3.wal.upload.interval.ms:
 *     batch = the whole buffer; per stream: >= s3.stream.object.split.size
 *     (or the only stream) -> its own stream object, the rest -> one SSO
 *     meta_prepare(n ids, TTL s3.object.prepared.ttl): SSO = first id, stream
 *     objects the following ids in ascending stream order
 *     build each object (obj.h builder, payload from the hook) -> writer
 *     (writer.h: one PUT, or multipart) -> all durable -> meta_commit_sso
 *     (order id = SSO id) -> only then hooks->ack for every record.
 *
 * Uploads run one at a time, in order, so acknowledgements are in offset
 * order per stream.  What a failure does depends on conf.retry
 * (wal.upload.retry):
 *   false (AutoMQ, S3Storage.commitDeltaWALUpload): an object write that
 *     failed for good (the client gave up: a 404, NoSuchUpload on a part, the
 *     retry cap) or a refused commit logs "Unexpected exception when commit
 *     stream set object" at error, the exception as the next line, and calls
 *     the halt callback (wal_set_halt): the engine halts the broker
 *     (Runtime.halt(1)); the batch stays in flight until the crash frees it.
 *   true (ours): a failed object write is retried (only the objects not yet
 *     durable, same ids and keys) after min(backoff * 2^n, 60 s); a commit
 *     refused with ERR_NOTFOUND (the prepared ids expired) prepares new ids
 *     and writes everything again; any other commit refusal drops the batch
 *     (its records are never acknowledged: no-data-loss covers acknowledged
 *     records only) and logs an error.
 * wal_free (a broker crash) drops everything not yet acknowledged.  The bytes of objects being
 * built are counted in the writers' struct wr_mem.
 */
#ifndef S3SIM_WAL_H
#define S3SIM_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "eng.h"
#include "env.h"

struct conf;
struct mdc;
struct wr_ctx;
struct wr_mem;
struct wal;

struct wal_conf {
    int64_t interval_us;     /* s3.wal.upload.interval.ms (60 s) */
    uint64_t threshold;      /* s3.wal.upload.threshold (500 MiB): buffered bytes that upload at once */
    uint64_t split_size;     /* s3.stream.object.split.size (8 MiB) */
    uint32_t block_size;     /* s3.object.block.size (512 KiB) */
    uint64_t part_size;      /* s3.object.part.size (16 MiB): the ObjectWriter's part threshold */
    uint64_t min_part_size;  /* s3.min.part.size (5 MiB): the threshold's floor */
    int64_t prepared_ttl_us; /* s3.object.prepared.ttl (60 min) */
    int64_t backoff_us;      /* s3.retry.backoff: first retry delay of a failed upload (1 s) */
    bool int32_guard;        /* index.group.int32.guard (true; false: F12) */
    bool retry;              /* wal.upload.retry (false: a failure halts the broker) */
    int64_t node;            /* the broker's node id (0) */
};

struct wal_stats {
    uint64_t uploads;       /* committed uploads */
    uint64_t records_acked; /* records acknowledged */
    uint64_t retries;       /* upload attempts retried */
    uint64_t dropped;       /* batches dropped after a refused commit */
    uint64_t halts;         /* uploads that failed for good and halted the broker */
    uint64_t objects;       /* objects committed */
};

void wal_conf_default(struct wal_conf *c);
void wal_conf_from(struct wal_conf *wc, const struct conf *c);

/* Creates the uploader and starts its periodic timer.  env, md (the metadata client), writers,
 * mem (where object bytes being built are counted) and hooks are borrowed
 * and must outlive it.  ERR_NOMEM, ERR_INVAL. */
int wal_new(struct env *env, struct mdc *md, struct wr_ctx *writers, struct wr_mem *mem,
            const struct wal_conf *conf, const struct eng_hooks *hooks, struct wal **out);

/* The callback a failure calls when conf.retry is false (once per upload;
 * it must not free the wal synchronously).  Without one the upload stays
 * failed and in flight. */
typedef void (*wal_halt_fn)(void *arg);
void wal_set_halt(struct wal *wal, wal_halt_fn fn, void *arg);

/* Drops every unacknowledged record, releases the writers of an upload in
 * flight (which aborts their multipart uploads), cancels the timers and
 * frees.  No hook runs. */
void wal_free(struct wal *wal);

/* Appends count records of size payload bytes to stream, the first one gap
 * offsets after the stream's current end.  *base (may be NULL) gets the first
 * record's offset.  ERR_NOTFOUND: unknown or deleted stream; ERR_INVAL:
 * count < 1, gap < 0, size > INT32_MAX. */
int wal_append(struct wal *wal, int64_t stream, int64_t count, uint32_t size, int64_t gap,
               int64_t *base);

/* Forgets the buffered records of a deleted stream (never acknowledged). */
void wal_drop_stream(struct wal *wal, int64_t stream);

/* Starts an upload now if none is in flight and records are buffered.
 * Returns 0 (started or nothing to do), ERR_BUSY (one is in flight). */
int wal_upload_now(struct wal *wal);

/* The next offset an append to stream would get (after buffered records). */
int64_t wal_next_offset(const struct wal *wal, int64_t stream);

/* True when nothing is buffered and no upload is in flight. */
bool wal_idle(const struct wal *wal);

const struct wal_stats *wal_stats(const struct wal *wal);

#endif /* S3SIM_WAL_H */
