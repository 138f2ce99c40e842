/*
 * metric_names.h - the names of the counters that `expect metric NAME OP N`
 * reads (docs/knobs.md "Metrics"), with one line of meaning each.
 *
 * The scenario parser rejects a name not in this table; `s3sim knobs
 * --metrics` prints it; the simulator keeps its counters in an array indexed
 * by enum metric_id (int64_t values[METRIC_COUNT]) and reads them by index.
 *
 * Per-op counters follow S3_OP_TABLE and per-job ones S3_JOB_TABLE, so the
 * id of "s3.calls.<op>" is METRIC_S3_CALLS_OP + op (the same holds for
 * METRIC_S3_FAULTS_OP, METRIC_S3_REQUESTS_OP, and METRIC_S3_CALLS_JOB and
 * METRIC_S3_REQUESTS_JOB + job).
 */
#ifndef S3SIM_METRIC_NAMES_H
#define S3SIM_METRIC_NAMES_H

#include "s3.h"

/* X(ID, "name", "meaning") for the counters that are not per op or job. */
#define METRIC_TABLE(X)                                                                            \
    X(METRIC_S3_CALLS, "s3.calls", "S3 calls that reached the fake S3")                            \
    X(METRIC_S3_FAULTS, "s3.faults", "S3 calls hit by a fault rule")                               \
    X(METRIC_S3_MAX_KEYS_PER_DELETE, "s3.max.keys.per.delete",                                     \
      "the most keys in one DeleteObjects call")                                                   \
    X(METRIC_S3_BYTES_READ, "s3.bytes.read", "body bytes the fake S3 returned (get)")              \
    X(METRIC_S3_BYTES_WRITTEN, "s3.bytes.written",                                                 \
      "body bytes the fake S3 received (put, mpu-part, mpu-copy source range)")                    \
    X(METRIC_S3_RETRIES, "s3.retries", "attempts the engine's client retried")                     \
    X(METRIC_S3_TIMEOUTS, "s3.timeouts", "attempts the engine's client abandoned after a timeout") \
    X(METRIC_S3_REQUESTS, "s3.requests", "S3 requests the engine's clients count as sent, "       \
      "retries included (the engine's own account, which requests-counted compares with what "    \
      "the fake S3 received)")                                                                    \
    X(METRIC_S3_LATE_LANDED, "s3.late.landed",                                                     \
      "late= attempts the fake S3 applied after the client gave up on them")                       \
    X(METRIC_S3_LATE_STORED, "s3.late.stored",                                                     \
      "late= attempts the fake S3 accepted (2xx) when they landed, bytes read then")               \
    X(METRIC_RECORDS_ACKED, "records.acked", "records acknowledged to the producer")               \
    X(METRIC_WAL_UPLOADS, "wal.uploads", "committed WAL uploads")                                  \
    X(METRIC_BROKER_HALTS, "broker.halts",                                                         \
      "broker halts (Runtime.halt) after a WAL upload failed for good")                            \
    X(METRIC_SSO_RUNS, "compaction.sso.runs", "SSO compaction runs started")                       \
    X(METRIC_SSO_COMMITS, "compaction.sso.commits", "SSO compaction runs committed")               \
    X(METRIC_SSO_FAILURES, "compaction.sso.failures", "SSO compaction runs failed")                \
    X(METRIC_FORCE_SPLITS, "compaction.force.splits", "SSOs force split")                          \
    X(METRIC_STREAM_COMMITS, "compaction.stream.commits", "stream object compactions committed")   \
    X(METRIC_STREAM_FAILURES, "compaction.stream.failures", "stream object compactions failed")    \
    X(METRIC_COMPOSITE_CREATED, "objects.composite.created", "composite objects committed")        \
    X(METRIC_CLEANER_DELETED, "cleaner.deleted",                                                   \
      "objects removed after S3 confirmed their deletion")                                         \
    X(METRIC_CLEANER_FAILURES, "cleaner.failures", "failed delete attempts of the cleaner")        \
    X(METRIC_OBJECTS_LIVE, "objects.live", "committed, not marked objects at the end")             \
    X(METRIC_OBJECTS_SSO, "objects.sso", "stream set objects in the metadata at the end")          \
    X(METRIC_OBJECTS_STREAM, "objects.stream", "stream objects in the metadata at the end")        \
    X(METRIC_OBJECTS_COMPOSITE, "objects.composite", "composite objects in the metadata at the end") \
    X(METRIC_OBJECTS_PREPARED, "objects.prepared", "prepared objects in the metadata at the end")  \
    X(METRIC_OBJECTS_MARKED, "objects.marked", "objects marked for deletion at the end")           \
    X(METRIC_BUCKET_KEYS, "bucket.keys", "keys in the bucket at the end")                          \
    X(METRIC_BUCKET_BYTES, "bucket.bytes", "bytes in the bucket at the end")                       \
    X(METRIC_BUCKET_UPLOADS_OPEN, "bucket.uploads.open", "open multipart uploads at the end")      \
    X(METRIC_MEMORY_PEAK, "memory.peak", "the engine's peak buffered bytes")                       \
    X(METRIC_IMAGE_LAG_MAX, "metadata.image.lag.max",                                              \
      "the largest lag (microseconds) of a log batch applied to a broker's metadata image")        \
    X(METRIC_RPC_CALLS, "rpc.calls", "metadata requests the broker sent to the controller, retries " \
      "included")                                                                                  \
    X(METRIC_RPC_CALLS_PREPARE, "rpc.calls.prepare", "prepare-objects requests sent")              \
    X(METRIC_RPC_CALLS_COMMIT_SSO, "rpc.calls.commit-sso", "commit-stream-set-object requests sent") \
    X(METRIC_RPC_CALLS_COMMIT_STREAM, "rpc.calls.commit-stream", "commit-stream-object requests sent") \
    X(METRIC_RPC_CALLS_TRIM, "rpc.calls.trim", "trim-stream requests sent")                        \
    X(METRIC_RPC_CALLS_DELETE_STREAM, "rpc.calls.delete-stream", "delete-stream requests sent")    \
    X(METRIC_RPC_RETRIES, "rpc.retries", "metadata requests sent again (timeout or a retriable answer)") \
    X(METRIC_RPC_FENCED, "rpc.fenced", "metadata requests refused for an old node epoch "          \
      "(NODE_EPOCH_EXPIRED, NODE_EPOCH_NOT_EXIST)")                                                \
    X(METRIC_RPC_FAULTS, "rpc.faults", "sends of metadata requests hit by an rpc-* fault rule")    \
    X(METRIC_RPC_FAULTS_PREPARE, "rpc.faults.prepare", "prepare-objects sends hit by a fault")     \
    X(METRIC_RPC_FAULTS_COMMIT_SSO, "rpc.faults.commit-sso", "commit-stream-set-object sends hit "  \
      "by a fault")                                                                                \
    X(METRIC_RPC_FAULTS_COMMIT_STREAM, "rpc.faults.commit-stream", "commit-stream-object sends "   \
      "hit by a fault")                                                                            \
    X(METRIC_RPC_FAULTS_TRIM, "rpc.faults.trim", "trim-stream sends hit by a fault")               \
    X(METRIC_RPC_FAULTS_DELETE_STREAM, "rpc.faults.delete-stream", "delete-stream sends hit by a " \
      "fault")                                                                                     \
    X(METRIC_LOG_ERROR, "log.error", "engine log lines at level error")                            \
    X(METRIC_ACTIONS_REFUSED, "actions.refused", "actions of the file the engine refused (each " \
      "also an error line; extension)")                                                           \
    X(METRIC_LOG_WARN, "log.warn", "engine log lines at level warn")                               \
    X(METRIC_LOG_INFO, "log.info", "engine log lines at level info")                               \
    X(METRIC_OBJECTS_IDS, "objects.ids", "object ids the controller handed out: the next id " \
      "(race-put id=next, extension)")                                                            \
    X(METRIC_READS, "reads", "reads of the scenario's read actions started (extension)")           \
    X(METRIC_READS_FAILED, "reads.failed", "reads that ended with an error (extension)")           \
    X(METRIC_READS_BYTES, "reads.bytes", "payload bytes the reads returned and compared (extension)") \
    X(METRIC_READS_NOT_FOUND, "reads.not.found", "GETs of the reads answered 404 or NoSuchKey: an " \
      "object gone under a reader (extension)")                                                   \
    X(METRIC_READS_GET_MAX, "reads.get.max", "the largest GET body of the reads, in bytes "       \
      "(extension)")

enum metric_id {
#define METRIC_ENUM_(id, name, help) id,
    METRIC_TABLE(METRIC_ENUM_)
#undef METRIC_ENUM_
    METRIC_S3_CALLS_OP,                                /* s3.calls.<op>, S3_OP_COUNT ids */
    METRIC_S3_FAULTS_OP = METRIC_S3_CALLS_OP + S3_OP_COUNT, /* s3.faults.<op> */
    METRIC_S3_CALLS_JOB = METRIC_S3_FAULTS_OP + S3_OP_COUNT, /* s3.calls.job.<job> */
    METRIC_S3_REQUESTS_OP = METRIC_S3_CALLS_JOB + S3_JOB_COUNT, /* s3.requests.<op> */
    METRIC_S3_REQUESTS_JOB = METRIC_S3_REQUESTS_OP + S3_OP_COUNT, /* s3.requests.job.<job> */
    METRIC_COUNT = METRIC_S3_REQUESTS_JOB + S3_JOB_COUNT
};

/* The name of metric id ("s3.calls.delete-many"), or NULL when id is out of
 * range.  The string is static. */
const char *metric_name(int id);

/* One line of meaning of metric id, or NULL. */
const char *metric_help(int id);

/* The id of the metric called name, or -1. */
int metric_index(const char *name);

/* METRIC_COUNT, for callers that want a function. */
int metric_count(void);

#endif /* S3SIM_METRIC_NAMES_H */
