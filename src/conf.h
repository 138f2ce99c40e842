/*
 * conf.h - the knob table: every tunable of the engine, the fake S3 and the
 * simulator, with its type, default and meaning (docs/knobs.md "Knobs").
 *
 *   scenario `set KNOB VALUE` / `s3sim run --set KNOB=VALUE`
 *        └─► conf_set() ─► struct conf { int64_t v[CONF_COUNT]; ... }
 *                               └─► engine and simulator read conf_get(conf, CONF_...)
 *   `s3sim knobs` prints CONF_TABLE.
 *
 * The table is an X-macro, so that the enum, the names, the defaults and the
 * printed help can never drift apart.  A knob that AutoMQ also has keeps
 * AutoMQ's exact name and accepts AutoMQ's value form (a bare number for a
 * `.minutes`, `.ms` or size knob is in AutoMQ's unit).  Field-bug knobs name
 * the field bug (docs/engine.md "Field bugs") that their non-default value restores; their
 * default is always the fixed behaviour.
 *
 * Values are stored as int64_t, in one unit per type:
 *   CONF_T_INT       the integer
 *   CONF_T_COUNT     the integer (>= 0), or -1 for `unlimited`
 *   CONF_T_SIZE      bytes
 *   CONF_T_RATE      bytes per second
 *   CONF_T_DURATION  microseconds (bare number: error)
 *   CONF_T_MINUTES   microseconds (bare number: minutes; `5m`, `30s` also work)
 *   CONF_T_MILLIS    microseconds (bare number: milliseconds; `5s` also works)
 *   CONF_T_TIMEOUT   microseconds, or ENV_TIME_NEVER for `none`
 *   CONF_T_PROB      parts per billion (0..1000000000); conf_prob() gives 0..1
 *   CONF_T_BOOL      0 or 1
 *   CONF_T_CKSUM     enum s3_cksum (MD5, CRC32C, CRC32, SHA256, NONE; any case)
 *   CONF_T_STATUS404 the HTTP status itself: 204 or 404
 *   CONF_T_NOTFOUND  0 = `success`, 1 = `error`
 *   CONF_T_REPEAT    0 = `ok`, 1 = `nosuchupload`
 *   CONF_T_PARTCOPY  0 = `native`, 1 = `get-put`
 *   CONF_T_STRING    0; the text is in conf_str() (at most CONF_STR_MAX-1 bytes)
 *   CONF_T_PROFILE   enum conf_profile (automq, hardened)
 *
 * Profiles.  `engine.profile` names a set of defaults.  Under `automq` (the
 * default) every knob takes its table default: the engine behaves as AutoMQ's
 * s3stream does.  Under `hardened` the knobs of CONF_HARDENED take the value
 * given there: the guards of ours that AutoMQ lacks.  The profile is applied
 * before any explicit value: conf_put() remembers which knobs were set, and
 * setting the profile re-applies its defaults to the others only, so the
 * order of `set` lines does not matter.
 *
 * Threading: a struct conf is plain data; the table is const.
 */
#ifndef S3SIM_CONF_H
#define S3SIM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(ID, "name", TYPE, "default", "field bug restored by the other value or NULL", "meaning") */
#define CONF_TABLE(X)                                                                              \
    X(CONF_PROFILE, "engine.profile", CONF_T_PROFILE, "automq", NULL,                              \
      "named set of knob defaults, applied before set lines and --set: automq (AutoMQ's "         \
      "behaviour) or hardened (every guard of ours on)")                                           \
    X(CONF_SSO_INTERVAL, "s3.stream.set.object.compaction.interval.minutes", CONF_T_MINUTES, "5",  \
      NULL, "period of stream set object (SSO) compaction")                                       \
    X(CONF_SSO_CACHE_SIZE, "s3.stream.set.object.compaction.cache.size", CONF_T_SIZE, "200MiB",    \
      NULL, "memory budget of one SSO compaction plan")                                            \
    X(CONF_SSO_STREAM_SPLIT_SIZE, "s3.stream.set.object.compaction.stream.split.size",             \
      CONF_T_SIZE, "8MiB", NULL,                                                                   \
      "a stream's run at least this large is split out into a stream object")                      \
    X(CONF_SSO_FORCE_SPLIT_AGE, "s3.stream.set.object.compaction.force.split.minutes",             \
      CONF_T_MINUTES, "120", NULL, "SSOs older than this are split completely")                    \
    X(CONF_SSO_MAX_NUM, "s3.stream.set.object.compaction.max.num", CONF_T_INT, "500", NULL,        \
      "most SSOs taken by one compaction")                                                         \
    X(CONF_SSO_MAX_STREAMS, "s3.max.stream.num.per.stream.set.object", CONF_T_INT, "20000", NULL,  \
      "most streams one SSO compaction writes into its new SSO")                                   \
    X(CONF_SSO_MAX_SO_PER_COMMIT, "s3.max.stream.object.num.per.commit", CONF_T_INT, "10000",      \
      NULL, "most stream objects one SSO compaction commits")                                      \
    X(CONF_SO_MAX_SIZE, "s3.stream.object.compaction.max.size.bytes", CONF_T_SIZE, "10GiB", NULL,  \
      "largest stream object compaction group")                                                    \
    X(CONF_SO_SPLIT_SIZE, "s3.stream.object.split.size", CONF_T_SIZE, "8MiB", NULL,                \
      "at WAL upload, a stream with this much data gets its own stream object")                    \
    X(CONF_BLOCK_SIZE, "s3.object.block.size", CONF_T_SIZE, "512KiB", NULL,                        \
      "data block size at WAL upload")                                                             \
    X(CONF_PART_SIZE, "s3.object.part.size", CONF_T_SIZE, "16MiB", NULL,                           \
      "part size threshold of the object writers")                                                 \
    X(CONF_DELETE_RETENTION, "s3.object.delete.retention.minutes", CONF_T_MINUTES, "1", NULL,      \
      "how long an object stays marked before the cleaner deletes it")                             \
    X(CONF_WAL_UPLOAD_INTERVAL, "s3.wal.upload.interval.ms", CONF_T_MILLIS, "60000", NULL,         \
      "how often appended records are uploaded as objects")                                        \
    X(CONF_WAL_UPLOAD_THRESHOLD, "s3.wal.upload.threshold", CONF_T_SIZE, "500MiB", NULL,           \
      "appended records past this size are uploaded at once, without waiting for the interval")    \
    X(CONF_MINOR_INTERVAL, "stream.compaction.minor.interval", CONF_T_DURATION, "10m", NULL,       \
      "period of stream object minor compaction (physical merge)")                                 \
    X(CONF_MAJOR_INTERVAL, "stream.compaction.major.interval", CONF_T_DURATION, "60m", NULL,       \
      "period of stream object major compaction (composite objects)")                              \
    X(CONF_SCMP_PRESSURE_OBJECTS, "stream.compaction.major.v1.max.object.threshold", CONF_T_INT,   \
      "400000", NULL,                                                                              \
      "object-count pressure of stream object compaction (AutoMQ's "                               \
      "AUTOMQ_STREAM_COMPACTION_MAJOR_V1_MAX_OBJECT_THRESHOLD): at 90 % of it in the broker's "     \
      "image a stream's turn runs MAJOR_V1 right after its scheduled type")                        \
    X(CONF_SCMP_TYPE_PAUSE, "stream.compaction.metadata.replay.delay", CONF_T_DURATION, "1s",      \
      "F06: 0s = the pressure MAJOR_V1 is planned at once after the first type (before #3483), "    \
      "from an image that may not hold that type's commits yet",                                   \
      "pause between two compaction types of a stream's turn, for the image to replay the first "  \
      "one's commits (AutoMQ's COMPACTION_METADATA_REPLAY_DELAY_MS, #3483)")                       \
    X(CONF_MINOR_SIZE, "stream.compaction.minor.size", CONF_T_SIZE, "4MiB", NULL,                  \
      "minor compaction's (soft) group size; major compaction leaves out smaller normal objects")  \
    X(CONF_DIRTY_MAX, "stream.compaction.cleanup.dirty.bytes", CONF_T_SIZE, "512MiB", NULL,      \
      "CLEANUP_V1: the first living composite is rewritten alone once its estimated bytes below "  \
      "the stream's start pass this (AutoMQ's MAX_DIRTY_BYTES, a constant; smaller in scenarios)") \
    X(CONF_MULTIPART_THRESHOLD, "s3.object.multipart.threshold", CONF_T_SIZE, "32MiB", NULL,       \
      "one PUT up to this size, multipart above; a pending part is uploaded past max(this, min "   \
      "part)")                                                                                     \
    X(CONF_CHECKSUM, "s3.checksum.algorithm", CONF_T_CKSUM, "MD5", NULL,                           \
      "checksum computed before sending and checked against the store: MD5 CRC32C CRC32 SHA256 "   \
      "NONE")                                                                                      \
    X(CONF_OP_TIMEOUT, "s3.op.timeout", CONF_T_TIMEOUT, "10s", NULL,                               \
      "client-side timeout of one S3 call attempt; none waits forever")                            \
    X(CONF_READ_TIMEOUT, "s3.read.timeout", CONF_T_TIMEOUT, "2m", NULL,                            \
      "timeout of a range read as a whole; none waits forever")                                    \
    X(CONF_COPY_TIMEOUT, "s3.copy.timeout", CONF_T_TIMEOUT, "2m", NULL,                            \
      "attempt timeout of UploadPartCopy (doubled per retry up to s3.copy.timeout.max)")           \
    X(CONF_COPY_TIMEOUT_MAX, "s3.copy.timeout.max", CONF_T_TIMEOUT, "10m", NULL,                   \
      "cap of the doubled UploadPartCopy attempt timeout")                                         \
    X(CONF_PART_COPY, "s3.part.copy", CONF_T_PARTCOPY, "native", NULL,                             \
      "how the client copies a range into a multipart upload: native (UploadPartCopy, as AutoMQ) " \
      "or get-put (GetObject of the range, then UploadPart: for servers without UploadPartCopy)")  \
    X(CONF_RETRY_MAX, "s3.retry.max", CONF_T_COUNT, "unlimited", NULL,                             \
      "attempts per S3 call for retryable errors")                                                 \
    X(CONF_RETRY_BACKOFF, "s3.retry.backoff", CONF_T_DURATION, "1s", NULL,                         \
      "first backoff, doubled each attempt, capped at s3.retry.backoff.max, plus jitter")          \
    X(CONF_RETRY_BACKOFF_MAX, "s3.retry.backoff.max", CONF_T_DURATION, "60s", NULL,                \
      "cap of the doubled retry backoff")                                                          \
    X(CONF_INFLIGHT_MAX, "s3.inflight.max", CONF_T_INT, "50", NULL,                                \
      "S3 calls the client keeps in flight at once (permits)")                                     \
    X(CONF_MIN_PART_SIZE, "s3.min.part.size", CONF_T_SIZE, "5MiB", NULL,                           \
      "smallest part the fake S3 accepts (except the last one)")                                   \
    X(CONF_DELETE_MISSING, "s3.delete.missing", CONF_T_STATUS404, "204", NULL,                     \
      "the fake S3's answer to a DeleteObject of an absent key: 204 (AWS) or 404")                 \
    X(CONF_COMPLETE_REPEAT, "s3.complete.repeat", CONF_T_REPEAT, "ok", NULL,                       \
      "the fake S3's answer to a CompleteMultipartUpload of an upload it completed already: ok "   \
      "(200 with the object's ETag, as AWS) or nosuchupload (404 NoSuchUpload, as some stores)")   \
    X(CONF_LIFECYCLE_ABORT, "s3.lifecycle.abort.incomplete", CONF_T_TIMEOUT, "none", NULL,         \
      "the fake S3's bucket lifecycle rule AbortIncompleteMultipartUpload: uploads older than "    \
      "this are aborted (none: a bucket without the rule)")                                        \
    X(CONF_LATENCY, "s3.latency", CONF_T_DURATION, "20ms", NULL,                                   \
      "median latency of a call in the fake S3 (sim mode)")                                        \
    X(CONF_BANDWIDTH, "s3.bandwidth", CONF_T_RATE, "1GiB/s", NULL,                                 \
      "fake S3 transfer rate per call (sim mode)")                                                 \
    X(CONF_BUCKET, "s3.bucket", CONF_T_STRING, "s3sim", NULL, "bucket name (http mode)")           \
    X(CONF_REGION, "s3.region", CONF_T_STRING, "us-east-1", NULL,                                  \
      "region used in SigV4 signatures (http mode)")                                               \
    X(CONF_CLUSTER_ID, "cluster.id", CONF_T_STRING, "s3sim", NULL,                                 \
      "namespace part of every object key")                                                        \
    X(CONF_IMAGE_LAG, "metadata.image.lag", CONF_T_DURATION, "10ms", NULL,                          \
      "median lag of a broker's metadata image behind the controller's log (each batch draws "      \
      "its own, long-tailed: p99 = 10 x the median; 0s: applied at once).  AutoMQ's brokers lag "   \
      "by KRaft's append linger (controller.quorum.append.linger.ms, 1 ms) plus the quorum's and "  \
      "the broker's fetch round trips, about 10 ms in one region")                                   \
    X(CONF_IMAGE_SNAPSHOT_UPSERT, "metadata.image.snapshot.upsert", CONF_T_BOOL, "true",            \
      "F05: false = a snapshot loaded on a non-empty image appends its objects (#3369)",           \
      "a controller snapshot loaded on a broker's non-empty image upserts each object by id")      \
    X(CONF_RPC_LATENCY, "controller.rpc.latency", CONF_T_DURATION, "2ms", NULL,                      \
      "one way of a broker's metadata request to the controller, and of its answer: an "          \
      "in-region network hop plus the KRaft commit of the request's records before the answer")  \
    X(CONF_RPC_TIMEOUT, "controller.rpc.timeout", CONF_T_DURATION, "30s", NULL,                     \
      "the broker's timeout of a request to the controller (Kafka's request.timeout.ms); then "   \
      "it sends the same request again")                                                           \
    X(CONF_RPC_RETRY_BASE, "s3.controller.request.retry.base.delay.ms", CONF_T_MILLIS, "500",      \
      NULL, "first delay before a controller request is sent again, doubled at each send up to "  \
      "10 s (ControllerRequestSender)")                                                            \
    X(CONF_RPC_RETRY_MAX, "s3.controller.request.retry.max.count", CONF_T_INT, "2147483647", NULL, \
      "most sends of one controller request (AutoMQ: Integer.MAX_VALUE)")                         \
    X(CONF_SNAPSHOT_RECORDS, "controller.snapshot.records", CONF_T_INT, "200000", NULL,              \
      "the controller snapshots its metadata at least every this many log records (KRaft: "         \
      "metadata.log.max.record.bytes.between.snapshots 20 MiB at about 100 bytes a record)")       \
    X(CONF_CLEANER_INTERVAL, "cleaner.interval", CONF_T_DURATION, "1s", NULL,                      \
      "period of the controller's object lifecycle check")                                         \
    X(CONF_CLEANER_MAX_PER_ROUND, "cleaner.max.per.round", CONF_T_INT, "2000", NULL,               \
      "most objects one lifecycle round deletes")                                                  \
    X(CONF_PREPARED_TTL, "s3.object.prepared.ttl", CONF_T_DURATION, "60m", NULL,                   \
      "a prepared object not committed by then is marked for deletion")                            \
    X(CONF_HANG_THRESHOLD, "hang.threshold", CONF_T_DURATION, "15m", NULL,                         \
      "a wait still pending at the deadline that began longer ago than this is a hang")            \
    X(CONF_CHECK_ERROR_LOG, "check.error.log", CONF_T_BOOL, "true", NULL,                          \
      "judge the implicit no-error-log check (false: a file that means its error lines)")         \
    X(CONF_CHECK_CAUGHT_UP, "check.caught.up", CONF_T_BOOL, "true", NULL,                          \
      "judge caught-up (false: a file whose knobs or faults keep compaction from catching up)")   \
    X(CONF_CHECK_FAILURES_EXPLAINED, "check.failures.explained", CONF_T_BOOL, "true", NULL,        \
      "judge failures-explained (false: a file whose knob makes the engine fail on purpose)")     \
    X(CONF_CHECK_WRITES_ONCE, "check.writes.once", CONF_T_BOOL, "true", NULL,                      \
      "judge writes-once (false: a file whose knob makes the engine repeat work on purpose)")     \
    X(CONF_CHECK_REQUESTS_COUNTED, "check.requests.counted", CONF_T_BOOL, "true", NULL,            \
      "judge requests-counted (false: a file that means the engine's request counts to differ "   \
      "from what the fake S3 received)")                                                          \
    X(CONF_FLUSH_EACH_BATCH, "compaction.flush.each.batch", CONF_T_BOOL, "true",                   \
      "F01: false = compaction waits for parked sub-minimum-part data",                            \
      "upload what a plan has parked at its end, even below the minimum part size")                \
    X(CONF_RELEASE_WAITS_PENDING, "compaction.release.waits.pending", CONF_T_BOOL, "false",        \
      "F02: true = a failed plan's release waits for the pending part",                            \
      "a failed compaction's writer release waits for its parked pending part")                    \
    X(CONF_COMPLETE_WAITERS, "compaction.complete.waiters.on.error", CONF_T_BOOL, "true",          \
      "F03: false = block waiters are completed on success only",                                  \
      "an upload error completes every block waiter of the writer")                                \
    X(CONF_NOT_FOUND, "deletion.not.found", CONF_T_NOTFOUND, "success",                            \
      "F04: error = a 404 while deleting fails the delete forever",                                \
      "a 404 met while deleting means the object is gone (success), or an error")                  \
    X(CONF_SCMP_TRIM_CLEANUP, "compaction.stream.cleanup.on.trim", CONF_T_BOOL, "false",           \
      "F06: true = each answered trim queues a cleanup of the stream's expired stream objects, "  \
      "run back to back with no spacing: a cleanup right after another lists from an image that " \
      "lacks the first's commit and is refused (before #952)",                                    \
      "a trim triggers a cleanup of the stream's expired stream objects (AutoMQ since #952: "     \
      "no, only the schedule compacts, a stream at most once a minute)")                          \
    X(CONF_SCMP_DEDUPE, "compaction.inputs.dedupe", CONF_T_BOOL, "true",                            \
      "F05: false = the listing of a stream's objects is compacted as it is, duplicates included "  \
      "(before #3370)",                                                                            \
      "stream object compaction drops repeated object ids from its listing, with a warning "       \
      "(#3370's defensive dedupe)")                                                                \
    X(CONF_CLEANER_DEDUP, "cleaner.dedup.inflight", CONF_T_BOOL, "true",                           \
      "F10: false = each lifecycle round re-deletes objects whose delete is in flight",            \
      "one clean in flight: a round skips objects whose deletion is still running")                \
    X(CONF_INT32_GUARD, "index.group.int32.guard", CONF_T_BOOL, "true",                            \
      "F12: false = an index entry's end offset delta may overflow int32",                         \
      "index entries and compaction groups are split before an offset delta overflows int32")     \
    X(CONF_CKSUM_PRECOMPUTE, "upload.checksum.precompute", CONF_T_BOOL, "true",                    \
      "F13: false = a timed-out attempt may send recycled bytes unchecked",                        \
      "body checksums are computed before the buffer is handed to the transport")                  \
    X(CONF_FORCE_SPLIT_WAIT, "force.split.wait.close", CONF_T_BOOL, "true",                        \
      "F15: false = force split commits before its upload completed",                              \
      "force split commits a stream object only after its upload completed")                       \
    X(CONF_COMPLETE_INVALID_ABORT, "upload.complete.invalid.abort", CONF_T_BOOL, "false", NULL,   \
      "CompleteMultipartUpload answered 400 EntityTooSmall, InvalidPart, InvalidPartOrder or "     \
      "MalformedXML fails the upload at once (false: retried forever, as AutoMQ does)")            \
    X(CONF_MAX_DEADLINE, "scenario.max.deadline", CONF_T_DURATION, "168h", NULL,                   \
      "limit on a scenario's deadline (a longer one is refused at its line)")                     \
    X(CONF_MAX_LOAD_RATE, "scenario.max.load.rate", CONF_T_RATE, "1GiB/s", NULL,                  \
      "limit on the rate= of one load action")                                                     \
    X(CONF_MAX_APPEND_BYTES, "scenario.max.append.bytes", CONF_T_SIZE, "4GiB", NULL,              \
      "limit on the bytes= of one append action")                                                  \
    X(CONF_MAX_WRITE_BYTES, "scenario.max.write.bytes", CONF_T_SIZE, "16GiB", NULL,               \
      "limit on the bytes that all appends and loads of a scenario ask for before its deadline")  \
    X(CONF_ID_ZERO_NONE, "meta.id.zero.is.none", CONF_T_BOOL, "false",                             \
      "F20: true = object id 0 means no object", "object id 0 is taken as \"no object\"")          \
    X(CONF_COPY_BACKOFF, "upload.part.copy.timeout.backoff", CONF_T_BOOL, "true",                  \
      "F21: false = UploadPartCopy retries reuse the plain attempt timeout",                       \
      "UploadPartCopy uses s3.copy.timeout, doubled per retry")                                    \
    X(CONF_RETRY_SAME_CALL, "s3.retry.same.call", CONF_T_BOOL, "true",                             \
      "F22 (#1487): false = a failed write attempt is retried by a new call of the public "        \
      "method: the caller's future never completes and its permit is never given back",           \
      "a retried PutObject, CreateMultipartUpload, UploadPart, UploadPartCopy or "                 \
      "CompleteMultipartUpload answers its own caller")                                            \
    X(CONF_DELETE_SPLIT, "s3.delete.objects.split", CONF_T_BOOL, "true",                           \
      "F26 (#1518): false = a DeleteObjects of more than 1000 keys (a composite's links) is sent "  \
      "whole, and the store refuses it (400 MalformedXML) at every attempt",                       \
      "the client splits a DeleteObjects into calls of at most 1000 keys")                         \
    X(CONF_DELETE_PER_KEY, "s3.delete.objects.per.key", CONF_T_BOOL, "true",                       \
      "F27 (#3392/#3393): false = DeleteObjectsAccumulator before the fix: key batches queued "    \
      "while its requests are all in flight are merged across callers (up to 1000 keys), and "    \
      "one key's error (but NoSuchKey) fails the whole request and every caller in it, with no "  \
      "retry but of throttling (429, 503)",                                                        \
      "a DeleteObjects answer is settled per key: retriable keys are retried alone, the others "   \
      "fail only their own caller")                                                                \
    X(CONF_DELETED_STREAM_SO_MARK, "compaction.deleted.stream.objects.mark", CONF_T_BOOL, "true",  \
      "F23 (#806/#808): false = a stream object committed for a stream deleted meanwhile is "      \
      "never deleted",                                                                             \
      "a commit's stream object whose stream was deleted meanwhile is marked for deletion")        \
    X(CONF_SSO_WITHOUT_STREAMS, "compaction.sso.without.streams", CONF_T_BOOL, "true",             \
      "F24 (#2095): false = SSO compaction returns early when none of its SSOs' streams exists "   \
      "(the SSOs leak)",                                                                           \
      "SSO compaction runs even when every stream of its SSOs is deleted (their SSOs are "         \
      "compacted away)")                                                                           \
    X(CONF_SSO_DEAD_COMPACTED, "compaction.sso.dead.objects.compacted", CONF_T_BOOL, "true",       \
      "F25 (#896/#897): false = an SSO whose blocks are all dead is never compacted away",         \
      "an SSO with no live block is listed as compacted (deleted) by the next compaction")         \
    X(CONF_INDEX_ERROR_SKIP, "compaction.index.error.skip", CONF_T_BOOL, "true",                   \
      "F29 (#400): false = a failed index read is taken as a missing object (no live data), "      \
      "which the sanity check then refuses",                                                       \
      "an SSO whose index cannot be read is left out of the compaction run")                       \
    X(CONF_TTL_AT_DEADLINE, "prepared.timeout.at.deadline", CONF_T_BOOL, "true",                   \
      "F28 (#3539): false = a prepared object's timer fires after max(now - deadline, 30 min)",    \
      "a prepared object's timeout timer fires at its deadline")                                   \
    X(CONF_SSO_PREPARED_TTL, "compaction.sso.prepared.ttl", CONF_T_DURATION, "24h", NULL,          \
      "ids prepared by SSO compaction and force split expire after this when not committed")       \
    X(CONF_UPLOAD_CHECK_PREPARED, "upload.check.prepared", CONF_T_BOOL, "false", NULL,             \
      "a writer sends its final PutObject/CompleteMultipartUpload only if its object is still "    \
      "prepared (false: a late write recreates a key the cleaner deleted)")                        \
    X(CONF_WAL_UPLOAD_RETRY, "wal.upload.retry", CONF_T_BOOL, "false", NULL,                      \
      "a WAL upload whose objects fail for good (or whose commit is refused) is written again; "   \
      "false (AutoMQ's S3Storage): the broker halts (Runtime.halt) and restarts 1s later")         \
    X(CONF_CLEANER_REDELETE, "cleaner.redelete.delay", CONF_T_DURATION, "0s", NULL,                \
      "the key of a TTL-expired object is deleted once more this long (at least s3.op.timeout) "   \
      "after its delete, "                                                                         \
      "removing a late write still in flight (0: never)")                                          \
    X(CONF_WR_ABORT_ON_RELEASE, "upload.abort.on.release", CONF_T_BOOL, "false", NULL,             \
      "a writer released or failed before its CompleteMultipartUpload aborts its upload (AutoMQ "  \
      "never calls AbortMultipartUpload)")                                                         \
    X(CONF_SWEEP_STRAYS, "upload.create.sweep.strays", CONF_T_BOOL, "false", NULL,                 \
      "after a retried CreateMultipartUpload, the uploads of the key other than the winner are "   \
      "listed and aborted")                                                                        \
    X(CONF_COMPLETE_ABSENT_FAILS, "upload.complete.absent.fails", CONF_T_BOOL, "false", NULL,      \
      "a CompleteMultipartUpload answered NoSuchUpload whose object is not readable fails the "    \
      "call (AutoMQ retries it)")                                                                  \
    X(CONF_SCMP_RECHECK, "compaction.stream.inputs.recheck", CONF_T_BOOL, "false", NULL,          \
      "right before a stream object compaction's commit, its inputs are checked distinct and "     \
      "still committed in the broker's image, else the step is dropped (AutoMQ sends the commit "  \
      "and the controller refuses it)")                                                            \
    X(CONF_CTL_REQ_DEDUPE, "controller.request.dedupe", CONF_T_BOOL, "false", NULL,              \
      "the controller makes a retried request answer as its first send: it remembers each "       \
      "request id's answer, and a commit with object id -1 whose inputs are already marked is "   \
      "REDUNDANT_OPERATION (AutoMQ's StreamControlManager answers a retried id -1 commit "         \
      "COMPACTED_OBJECTS_NOT_FOUND)")                                                              \
    X(CONF_SCMP_MARK_FAILED, "compaction.stream.failed.output.mark", CONF_T_BOOL, "false", NULL,   \
      "a failed stream-object compaction marks its prepared output for deletion at once (AutoMQ "  \
      "waits for its TTL)")                                                                        \
    X(CONF_SSO_VERIFY_BLOCKS, "compaction.sso.verify.blocks", CONF_T_BOOL, "false", NULL,          \
      "SSO compaction parses every block it copies (magics, lengths, records against the index "   \
      "entry) and fails the run on a malformed one (AutoMQ copies the bytes it read unchecked)")   \
    X(CONF_SCMP_VERIFY_COPY, "compaction.stream.verify.copy", CONF_T_BOOL, "false", NULL,         \
      "stream object compaction checks what it copies: the blocks of every range it reads for a "  \
      "copy-write are parsed against the source's index, and a minor output's size is checked by " \
      "HeadObject before the commit (AutoMQ appends the bytes read unchecked and trusts "          \
      "UploadPartCopy's 200)")                                                                     \
    X(CONF_CLN_TTL_ABORTS, "cleaner.ttl.abort.uploads", CONF_T_BOOL, "false", NULL,                \
      "TTL expiry of a prepared object lists the open uploads of its key and aborts them")         \
    X(CONF_CLN_RETRY_CAP, "cleaner.retry.cap", CONF_T_BOOL, "false", NULL,                         \
      "the cleaner's S3 calls stop after 3 attempts (AutoMQ retries retriable errors without "     \
      "end, so one stuck key keeps the clean in flight)")                                          \
    X(CONF_CLN_OBJ_BACKOFF, "cleaner.object.backoff", CONF_T_BOOL, "false", NULL,                  \
      "an object whose delete failed waits a doubling backoff (s3.retry.backoff..max) before "     \
      "its next attempt")                                                                          \
    X(CONF_CLN_BATCH_HALVING, "cleaner.batch.halving", CONF_T_BOOL, "false", NULL,                 \
      "objects that failed k times go in DeleteObjects batches of 1000 >> k keys (isolating a "    \
      "bad key)")                                                                                  \
    X(CONF_CLN_TTL_DURING_CLEAN, "cleaner.ttl.during.clean", CONF_T_BOOL, "false", NULL,           \
      "TTL expiry runs at each deadline even while a clean is in flight (AutoMQ skips the whole "  \
      "lifecycle check then)")                                                                     \
    X(CONF_CLN_ROUND_EVERY_CHECK, "cleaner.round.every.check", CONF_T_BOOL, "false", NULL,         \
      "a delete round every lifecycle check (cleaner.interval) instead of one per retention "      \
      "period")                                                                                    \
    X(CONF_CLN_NOTIFY_PER_KEY, "cleaner.notify.per.key", CONF_T_BOOL, "false", NULL,               \
      "the keys a partly failed DeleteObjects did delete are removed from metadata (AutoMQ "       \
      "removes a batch only when all of it succeeded)")                                            \
    X(CONF_CLN_DEEP_CONCURRENCY, "cleaner.deep.concurrency", CONF_T_COUNT, "unlimited", NULL,      \
      "composite deep deletes run at once in one clean (AutoMQ: all; open PR #3429: 8)")           \
    X(CONF_CLN_GONE_LINKS, "cleaner.gone.links.redelete", CONF_T_BOOL, "false", NULL,              \
      "a composite whose own key is gone (404) has the links metadata still gives it deleted "     \
      "again before it is reported done")

/*
 * The guards of ours: Y(ID, "value under hardened", "finding it fixes").
 * The table default of these knobs is AutoMQ's behaviour; the finding is a
 * file of scenarios/findings/ (or, named with its folder, another file of
 * scenarios/, as "found/NAME") whose base shows what AutoMQ does without the
 * guard ("" when no scenario of ours shows an outcome the guard changes).  A
 * knob listed here must not be a field-bug knob.
 */
#define CONF_HARDENED(Y)                                                                           \
    Y(CONF_UPLOAD_CHECK_PREPARED, "true", "")                                                      \
    Y(CONF_CLEANER_REDELETE, "2m", "late-write-resurrects")                                        \
    Y(CONF_WAL_UPLOAD_RETRY, "true", "wal-upload-halts")                                           \
    Y(CONF_WR_ABORT_ON_RELEASE, "true", "failed-upload-left-open")                                 \
    Y(CONF_SWEEP_STRAYS, "true", "retried-create-strays")                                          \
    Y(CONF_COMPLETE_ABSENT_FAILS, "true", "found/complete-retried-after-lifecycle-abort")          \
    Y(CONF_SCMP_MARK_FAILED, "true", "deleted-stream-compaction-waits-ttl")                        \
    Y(CONF_SCMP_RECHECK, "true", "")                                                               \
    Y(CONF_CTL_REQ_DEDUPE, "true", "retried-commit-not-found")                                     \
    Y(CONF_SSO_VERIFY_BLOCKS, "true", "")                                                          \
    Y(CONF_SCMP_VERIFY_COPY, "true", "compaction/corrupt-copy-write")                              \
    Y(CONF_CLN_TTL_ABORTS, "true", "expired-upload-left-open")                                     \
    Y(CONF_CLN_RETRY_CAP, "true", "clean-stuck-behind-one-key")                                    \
    Y(CONF_CLN_OBJ_BACKOFF, "true", "")                                                            \
    Y(CONF_CLN_BATCH_HALVING, "true", "")                                                          \
    Y(CONF_CLN_TTL_DURING_CLEAN, "true", "")                                                       \
    Y(CONF_CLN_ROUND_EVERY_CHECK, "true", "")                                                      \
    Y(CONF_CLN_NOTIFY_PER_KEY, "true", "")                                                         \
    Y(CONF_CLN_DEEP_CONCURRENCY, "8", "")                                                          \
    Y(CONF_CLN_GONE_LINKS, "true", "composite-gone-links")

enum conf_id {
#define CONF_ENUM_(id, name, type, def, bug, help) id,
    CONF_TABLE(CONF_ENUM_)
#undef CONF_ENUM_
    CONF_COUNT
};

enum conf_type {
    CONF_T_INT,
    CONF_T_COUNT,
    CONF_T_SIZE,
    CONF_T_RATE,
    CONF_T_DURATION,
    CONF_T_MINUTES,
    CONF_T_MILLIS,
    CONF_T_TIMEOUT,
    CONF_T_PROB,
    CONF_T_BOOL,
    CONF_T_CKSUM,
    CONF_T_STATUS404,
    CONF_T_NOTFOUND,
    CONF_T_REPEAT,
    CONF_T_PARTCOPY,
    CONF_T_STRING,
    CONF_T_PROFILE,
};

/* The values of engine.profile. */
enum conf_profile {
    CONF_PROFILE_AUTOMQ = 0,   /* AutoMQ's s3stream as it is: no guard of ours */
    CONF_PROFILE_HARDENED = 1, /* every guard of ours on */
    CONF_PROFILE_COUNT
};

#define CONF_STR_MAX 128 /* string knob values, NUL included */
#define CONF_ERR_MAX 256 /* a good size for the err buffers below */

/* One row of the table (static, const). */
struct conf_knob {
    const char *name;     /* "s3.op.timeout" */
    enum conf_type type;  /* value kind */
    const char *def;      /* default, as text */
    const char *bug;      /* "F01: false = ..." for field-bug knobs, else NULL */
    const char *help;     /* one line of meaning */
};

/* A set of values.  Plain data: copy it with `=`. */
struct conf {
    int64_t v[CONF_COUNT];                  /* values, in the unit of their type */
    char str[CONF_COUNT][CONF_STR_MAX];     /* CONF_T_STRING values ("" for others) */
    bool expl[CONF_COUNT];                  /* set explicitly (conf_put): kept by a profile */
};

/* The table row of id (id < CONF_COUNT), or NULL. */
const struct conf_knob *conf_knob(enum conf_id id);

/* The id of the knob named name (exact match), or -1. */
int conf_lookup(const char *name);

/* "integer", "size", "duration", "duration (bare: minutes)", ... */
const char *conf_type_name(enum conf_type type);

/* Fills c with every default (profile automq). */
void conf_init(struct conf *c);

/* Fills c with the defaults of profile p (no knob explicit). */
void conf_init_profile(struct conf *c, enum conf_profile p);

/* The default of knob id under profile p, as text (the table's, or the
 * CONF_HARDENED value). */
const char *conf_profile_default(enum conf_id id, enum conf_profile p);

/* The finding a guard knob fixes ("late-write-resurrects"), or NULL when id
 * is not a guard of ours. */
const char *conf_finding(enum conf_id id);

/* "automq" or "hardened". */
const char *conf_profile_name(enum conf_profile p);

/* Stores an already parsed value (str: the text of a string knob, else
 * ignored) and marks the knob explicit.  Setting CONF_PROFILE re-applies the
 * new profile's defaults to every knob not explicit. */
void conf_put(struct conf *c, enum conf_id id, int64_t v, const char *str);

/* Sets knob name to value (text, as in a scenario).  Returns 0, ERR_NOTFOUND
 * for an unknown knob, ERR_INVAL for a bad value; on failure err (may be NULL)
 * gets a sentence such as "unknown knob 'x' (see s3sim knobs)" and c is
 * unchanged. */
int conf_set(struct conf *c, const char *name, const char *value, char *err, size_t errsz);

/* Same, with one "NAME=VALUE" string (the --set form). */
int conf_set_kv(struct conf *c, const char *kv, char *err, size_t errsz);

/* Parses value for knob id into *out (string knobs: checks the length only,
 * *out = 0).  Periods, block/part sizes, budgets and limits must be above 0
 * (a 0 period would fire forever at one instant).  Same errors as conf_set,
 * plus ERR_RANGE for values out of range; *out is untouched on failure. */
int conf_parse_value(enum conf_id id, const char *value, int64_t *out, char *err, size_t errsz);

/* Accessors. */
static inline int64_t conf_get(const struct conf *c, enum conf_id id) { return c->v[id]; }
static inline bool conf_bool(const struct conf *c, enum conf_id id) { return c->v[id] != 0; }
static inline const char *conf_str(const struct conf *c, enum conf_id id) { return c->str[id]; }
static inline double conf_prob(const struct conf *c, enum conf_id id)
{
    return (double)c->v[id] / 1e9;
}

/* Formats the value of id in c the way the table writes defaults ("10s",
 * "200MiB", "unlimited", "MD5", "true").  Returns buf. */
char *conf_format(const struct conf *c, enum conf_id id, char *buf, size_t bufsz);

/* Exact formatting that the parsers read back: a duration (us >= 0) as
 * "1h30m", "1s500ms", "0s"; a size as "200MiB", "1000B" (largest binary unit
 * that divides it), followed by suffix ("" or "/s").  Return buf. */
char *conf_format_duration(int64_t us, char *buf, size_t bufsz);
char *conf_format_size(int64_t bytes, const char *suffix, char *buf, size_t bufsz);

/*
 * The value parsers, shared with the scenario parser.  Each parses the whole
 * string (no leading/trailing spaces), returns 0 or ERR_INVAL / ERR_RANGE and
 * on failure writes a sentence to err (may be NULL) saying what was expected.
 * Overflow of int64 (or of the unit's range) is ERR_RANGE, never a wrap.
 * Numbers are decimal, with an optional fraction where noted (no exponent).
 */

/* Signed decimal integer ("42", "-3"). */
int conf_parse_int(const char *s, int64_t *out, char *err, size_t errsz);

/* Unsigned decimal integer up to UINT64_MAX (seeds). */
int conf_parse_u64(const char *s, uint64_t *out, char *err, size_t errsz);

/* Duration to microseconds: pairs NUMBER UNIT, largest unit first, units us
 * (extension), ms, s, m, h; a fraction is allowed ("1.5s", "1h30m", "8m10s").
 * bare_unit_us: 0 = a bare number is an error; else the unit of a bare number
 * (ENV_USEC_PER_MIN for `.minutes` knobs, ENV_USEC_PER_MS for `.ms`). */
int conf_parse_duration(const char *s, int64_t bare_unit_us, int64_t *out, char *err,
                        size_t errsz);

/* Size to bytes: NUMBER UNIT with B, KiB, MiB, GiB, TiB, KB, MB, GB, TB; a
 * fraction is allowed ("1.5MiB" = 1572864).  bare_ok: a bare number means
 * bytes (knobs), else it is an error.  Negative sizes are errors. */
int conf_parse_size(const char *s, bool bare_ok, int64_t *out, char *err, size_t errsz);

/* Rate to bytes per second: SIZE "/s" ("2MiB/s"); bare_ok as for sizes. */
int conf_parse_rate(const char *s, bool bare_ok, int64_t *out, char *err, size_t errsz);

/* Probability: "0".."1" ("0.25") or a percentage ("25%", "12.5%"). */
int conf_parse_prob(const char *s, double *out, char *err, size_t errsz);

/* Boolean: true / false (any case). */
int conf_parse_bool(const char *s, bool *out, char *err, size_t errsz);

#endif /* S3SIM_CONF_H */
