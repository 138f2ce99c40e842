/*
 * reader.h - reads a stream's offset range through the metadata and the
 * object indexes (docs/format.md "A normal object"; docs/engine.md "Reading a composite" and
 * "Readers and deletion").
 *
 *   rd_read_start(stream, [start, end))
 *     -> mdc_stream_pieces() (the image): committed SSOs, stream objects, composites
 *     -> per piece, in offset order:
 *          normal:    GET tail [max(0, size - (8192 + size/1MiB*36)), size),
 *                     once more from the index start if the tail missed it;
 *          composite: GET the whole object, then its links' ranges;
 *        binary-search the index for the cursor, GET runs of adjacent
 *        entries (at most max_read bytes each), validate every block and
 *        record (obj_group_parse), hand records to the caller in order.
 *
 * Every S3 call goes through the s3_ops it is given (the retry client, or
 * the fake directly).  A NoSuchKey answer, an object that left the metadata,
 * or a short body re-plans from the cursor against fresh metadata, at most
 * `retries` times (AutoMQ's stream reader retries twice, docs/engine.md "Readers and deletion").
 *
 * Asynchronous (env.h, s3.h): rd_read_start() returns 0 and done() is called
 * exactly once later, from the event loop (never from inside the start);
 * or it returns an error and done() is never called.  The read registers one
 * wait ("reader", "stream S [a, b): get KEY [x, y)") while it runs.
 */
#ifndef S3SIM_READER_H
#define S3SIM_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "mdc.h"
#include "obj.h"
#include "s3.h"

#define RD_MAX_READ_DEFAULT (16u << 20) /* bytes per data GET */
#define RD_RETRIES_DEFAULT 2

/* A record batch of the stream, in offset order, without overlaps: each
 * batch's end is above the previous one's; the first may begin before
 * start, the last may end after end.  Without holes_ok, each batch begins
 * exactly where the previous one ended (or at or before start).  r->payload is valid during the
 * call only.  Returning nonzero aborts the read (done gets ERR_ABORTED). */
typedef int (*rd_record_fn)(void *arg, const struct obj_record *r);

/* The read ended.  rc 0: every offset of [start, end) was delivered (with
 * holes_ok: every record found in [start, end); next is then end).  Else
 * next is the first offset not delivered, and rc says why: ERR_NOTFOUND (no
 * committed object holds offset next, or its key is gone after the retries),
 * ERR_CORRUPT (a malformed object), ERR_TIMEOUT / ERR_IO (transport),
 * ERR_S3 (another S3 error), ERR_ABORTED (the record callback said stop),
 * ERR_NOMEM. */
typedef void (*rd_done_fn)(void *arg, int rc, int64_t next);

struct rd_conf {
    struct env *env;         /* time, timers, waits, log */
    struct s3_ops *s3;       /* where the GETs go */
    const struct mdc *mdc;   /* the metadata client whose image it reads through (borrowed) */
    unsigned parse_flags;    /* OBJ_PARSE_WRAP_OK in F12 field-bug mode */
    uint32_t max_read;       /* bytes per data GET (0: RD_MAX_READ_DEFAULT) */
    int retries;             /* re-plans after a missing key (-1: RD_RETRIES_DEFAULT) */
    bool holes_ok;           /* offsets that no record covers are skipped instead of
                                failing with ERR_NOTFOUND (streams with sparse offsets);
                                the caller then checks which offsets it got */
};

struct rd_read;

/*
 * Starts reading [start, end) of stream (an id >= 0, as meta_stream_create
 * takes: stream 0 is a stream like any other).  An empty range (end ==
 * start) is no error: done() gets 0 later.  conf is copied; env, s3 and mdc
 * must outlive the read.  *out (may be NULL) receives a handle for
 * rd_read_cancel(), valid until done() has returned.  ERR_INVAL (stream < 0,
 * start < 0, end < start, NULL conf fields or callbacks), ERR_NOMEM.
 */
int rd_read_start(const struct rd_conf *conf, int64_t stream, int64_t start, int64_t end,
                  rd_record_fn on_record, rd_done_fn done, void *arg, struct rd_read **out);

/* Abandons a read (e.g. on a broker crash): cancels its S3 call and timer,
 * ends its wait and frees it; done() is not called. */
void rd_read_cancel(struct rd_read *r);

#endif /* S3SIM_READER_H */
