/*
 * writer.h - object writers: one PUT for a small object, a multipart upload
 * for a large one, with UploadPartCopy for server-side copies
 * (docs/engine.md "One PUT or multipart", "Copy-write", "Writers" and "Accepted versus durable").
 *
 *   caller --wr_write/wr_copy/wr_flush/wr_close--> struct wr --s3_put/s3_mpu_*--> s3c (retries)
 *
 * A writer starts as a proxy: it buffers everything and, at close, sends one
 * PutObject.  When the bytes written exceed conf.multipart_threshold (32 MiB)
 * it switches to a multipart upload (CreateMultipartUpload at once) and the
 * buffer becomes the pending part.  A pending part is uploaded when it grows
 * beyond max(threshold, min_part_size); close uploads the last pending part
 * of any size, waits for every part and completes with the parts in number
 * order.  wr_copy follows docs/engine.md "Copy-write" (top-up branch included, a negative top-up
 * guarded): small ranges are range-read into the pending part, ranges of at
 * least the minimum part are UploadPartCopy'd as their own part.
 *
 * Accepted versus durable (docs/engine.md "Accepted versus durable"): a write's callback says
 * "accepted": its bytes are uploaded in a part, or parked in the pending part
 * and declared accepted by wr_flush().  Only close's callback says "durable"
 * (the object exists).  S3 rejects a non-final part below the minimum part
 * size, so parked bytes below it cannot be uploaded before close: wr_flush
 * uploads the pending part when it is large enough, and otherwise (when
 * conf.flush_each_batch, the fix of F01) completes the parked writes'
 * callbacks at once, as accepted-and-parked.  With flush_each_batch false
 * (field bug F01), parked writes and the flush wait until close.
 *
 * Memory: the writer copies what it is given (the caller may free or reuse
 * its buffer as soon as wr_write returns; AutoMQ's copyOnWrite is therefore
 * built in) and counts every byte it holds in the context's struct wr_mem.
 *
 * Failure: a part, read, create, put or complete failing for good makes the
 * writer unusable (LMDB's MDB_TXN_ERROR): every waiter is completed with the
 * error (unless conf.complete_waiters is false: field bug F03, write and
 * flush waiters then never hear), later calls return ERR_BADSTATE, and
 * wr_error() tells the cause.  The caller then calls wr_release().
 *
 * Lifetime: wr_open ... [wr_close -> durable] ... wr_release, exactly once.
 * wr_release frees the buffers, completes every outstanding waiter with
 * ERR_CANCELED before it returns, never waits on the parked pending part
 * (unless conf.release_waits_pending, field bug F02: then a multipart
 * writer's release waits for it; a proxy still returns at once), and, when the object
 * was not completed, aborts the multipart upload in the background (unlike
 * AutoMQ, an upload we give up on is always aborted).
 *
 * Callbacks run from the event loop (S3 completions, timers), never from
 * inside the call that registered them, except the ERR_CANCELED completions
 * made by wr_release itself (and release's own callback when its timer cannot
 * be started, out of memory).  Every waiter is visible in the env wait
 * registry, in words a user can act on.
 */
#ifndef S3SIM_WRITER_H
#define S3SIM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "s3.h"

struct conf;

/* Bytes buffered by the engine (writers, compaction caches).  Shared by every
 * user that counts into it; the engine exposes peak as memory.peak. */
struct wr_mem {
    uint64_t now;  /* bytes held right now */
    uint64_t peak; /* the most ever held at once */
};

static inline void wr_mem_add(struct wr_mem *m, uint64_t n)
{
    m->now += n;
    if (m->now > m->peak)
        m->peak = m->now;
}

static inline void wr_mem_sub(struct wr_mem *m, uint64_t n)
{
    m->now -= n < m->now ? n : m->now;
}

struct wr_conf {
    uint64_t multipart_threshold; /* s3.object.multipart.threshold (32 MiB) */
    uint64_t min_part_size;       /* s3.min.part.size (5 MiB) */
    bool flush_each_batch;        /* compaction.flush.each.batch; false: F01 */
    bool release_waits_pending;   /* compaction.release.waits.pending; true: F02 */
    bool complete_waiters;        /* compaction.complete.waiters.on.error; false: F03 */
    bool check_prepared;          /* upload.check.prepared: call the guard (wr_ctx_set_guard) */
    bool abort_on_release;        /* upload.abort.on.release: abort an unfinished upload */
};

/* Called once per waiter: rc 0 (accepted / flushed / durable) or a negative
 * err code (the writer failed, or ERR_CANCELED by wr_release). */
typedef void (*wr_cb)(void *arg, int rc);

struct wr_ctx;
struct wr;

/* Fills conf with the defaults (the fixed behaviour, and the guards of the
 * hardened profile on: the unit tests' baseline; wr_conf_from gives the
 * knobs' values). */
void wr_conf_default(struct wr_conf *conf);

/* Fills wconf from the knob values of c. */
void wr_conf_from(struct wr_conf *wconf, const struct conf *c);

/* A context: the env, the S3 client (normally s3c_ops()), the conf and the
 * memory counter shared by its writers.  All borrowed, they must outlive the
 * context.  Returns ERR_OK, ERR_NOMEM or ERR_INVAL. */
int wr_ctx_new(struct env *env, struct s3_ops *s3, const struct wr_conf *conf, struct wr_mem *mem,
               struct wr_ctx **out);

/* Frees every writer of the context, released or not, cancelling their S3
 * calls and timers; no callback runs.  For engine teardown and crashes. */
void wr_ctx_free(struct wr_ctx *ctx);

/* The last word before an object is made to exist: called with the key just
 * before the final write (the PutObject of a small object, the
 * CompleteMultipartUpload of a large one) is submitted.  A negative return
 * fails the writer with that code instead (close's callback gets it; release
 * aborts the upload).  The engine checks that the object is still PREPARED
 * in the metadata: a writer slower than its object's TTL must not recreate
 * a key the cleaner already deleted (docs/engine.md "Late writes"). */
typedef int (*wr_guard_fn)(void *arg, const char *key);

/* Installs the guard of every writer of ctx (fn NULL: none, the default).
 * It is called only when conf.check_prepared. */
void wr_ctx_set_guard(struct wr_ctx *ctx, wr_guard_fn fn, void *arg);

/* Writers alive in the context (open, or released with background work
 * such as an abort still running). */
int wr_ctx_live(const struct wr_ctx *ctx);

/* The writers' recycler (buf.h): a part's buffer goes there when the part is
 * done (or dropped) and its writer held it alone, as AutoMQ releases an
 * upload's pooled ByteBuf once the call completes; the WAL builds its next
 * object in it (field bug F13: a late attempt then reads the new bytes). */
struct buf_recycler;
struct buf_recycler *wr_ctx_recycler(struct wr_ctx *ctx);

/* Opens a writer of key (copied).  job tags its S3 calls; who (copied) names
 * it in the wait registry ("wal upload 12", "sso compaction 3").  NULL when
 * out of memory.  Nothing is sent before the first write. */
struct wr *wr_open(struct wr_ctx *ctx, const char *key, enum s3_job job, const char *who);

/* Appends len bytes (copied).  cb (may be NULL) says accepted.  Returns 0,
 * ERR_BADSTATE (closed, released or failed), ERR_LIMIT (more than 10000
 * parts), ERR_NOMEM. */
int wr_write(struct wr *w, const uint8_t *buf, size_t len, wr_cb cb, void *arg);

/* As wr_write, but takes buf (malloc'ed) over: when no part is pending it
 * becomes the pending part's buffer (no copy); otherwise it is copied.  buf
 * is the writer's in every case, also on error (then it is freed). */
int wr_write_take(struct wr *w, uint8_t *buf, size_t len, wr_cb cb, void *arg);

/* As wr_write_take for the b->len bytes of a shared buffer (buf.h): the
 * caller's reference is the writer's in every case.  When no part is pending
 * the buffer becomes the pending part's (no copy; it must have no other
 * holder, or the part could not grow); otherwise it is copied and the
 * reference dropped. */
struct buf;
int wr_write_buf(struct wr *w, struct buf *b, wr_cb cb, void *arg);

/* As wr_write for len bytes at p inside the shared buffer ref (buf.h), which
 * must not change while referenced (another holder keeps it, or nobody
 * writes it): the part keeps a piece of ref by reference instead of a copy
 * (AutoMQ's parts are CompositeByteBufs of the written buffers), and sends
 * its pieces as the body's segments (s3.h s3_req.segs).  The caller's
 * reference stays the caller's; the part takes its own.  Copied instead when
 * the S3 backend takes no segments, or for a piece under WR_REF_MIN bytes. */
#define WR_REF_MIN ((size_t)16 << 10)
int wr_write_ref(struct wr *w, struct buf *ref, const uint8_t *p, size_t len, wr_cb cb,
                 void *arg);

/* Appends bytes [start, end) of the object src_key (same bucket), by range
 * reads or UploadPartCopy (docs/engine.md "Copy-write").  cb as for wr_write.  Returns as wr_write,
 * or ERR_INVAL for start > end. */
int wr_copy(struct wr *w, const char *src_key, uint64_t start, uint64_t end, wr_cb cb, void *arg);

/* Called with the bytes of every range read of a copy source, [start, start +
 * len) of src, before they go into a part; a nonzero return fails the writer
 * with that code (a guard of the caller's: the writer itself hands the bytes
 * on as AutoMQ's readAndWrite does).  NULL: none. */
typedef int (*wr_read_check_fn)(void *arg, const char *src, uint64_t start, const uint8_t *bytes,
                                size_t len);
void wr_set_read_check(struct wr *w, wr_read_check_fn fn, void *arg);

/* forceUpload: uploads the pending part if it may be uploaded now (at least
 * the minimum part size, multipart mode), else declares the parked writes
 * accepted (flush_each_batch).  cb fires when every write made before the
 * flush is accepted.  Returns as wr_write. */
int wr_flush(struct wr *w, wr_cb cb, void *arg);

/* True when bytes are parked in the pending part (hasBatchingPart). */
bool wr_has_parked(const struct wr *w);

/* Bytes parked in the pending part (0 when none). */
uint64_t wr_parked_bytes(const struct wr *w);

/* Bytes written so far: the object's size once closed. */
uint64_t wr_size(const struct wr *w);

/* True once the writer switched to a multipart upload. */
bool wr_is_multipart(const struct wr *w);

/* The failure that made the writer unusable, or 0. */
int wr_error(const struct wr *w);

/* Completes the object: PutObject, or the last part then
 * CompleteMultipartUpload.  cb fires once, rc 0 when the object is durable.
 * Returns 0, ERR_BADSTATE (already closing/closed, failed, released), ERR_NOMEM
 * (the close failed at once and its answer could not be scheduled: no callback). */
int wr_close(struct wr *w, wr_cb cb, void *arg);

/* Ends the writer (see the header comment).  cb (may be NULL) fires from the
 * event loop once the writer no longer holds caller-visible state (before
 * wr_release returns when no timer can be started: out of memory); with
 * release_waits_pending (F02) and a parked pending part, it never fires.
 * After this call w must not be used. */
void wr_release(struct wr *w, wr_cb cb, void *arg);

#endif /* S3SIM_WRITER_H */
