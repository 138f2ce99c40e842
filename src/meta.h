/*
 * meta.h - the controller's metadata store (docs/engine.md "Object states", "Object kinds and
 * attributes", "Commit semantics" and "Deletion").
 *
 * It models the replicated KRaft log: it survives `crash node=controller`
 * and `crash node=broker`.  Whatever is volatile (the cleaner's timers, an
 * in-flight clean, a compaction run) lives elsewhere and is rebuilt from the
 * queries at the end of this file.
 *
 * Objects:
 *   - ids come from meta_prepare(), from 0, contiguous per call, never
 *     reused.  -1 (META_ID_NONE) is the only "no object" value.
 *   - states: PREPARED (timestamp = deadline) -> COMMITTED (commit time) ->
 *     MARK_DESTROYED (mark time; 0 after TTL expiry) -> removed
 *     (meta_remove(), after S3 confirmed the delete).  KEEP_DATA removes a
 *     committed object at once: a composite owns its bytes from then on.
 *   - kinds: SSO (stream set object), STREAM (stream object), COMPOSITE (a
 *     stream object whose attributes say type composite); a prepared object
 *     has kind NONE until committed.
 *
 * Commits are single atomic steps: everything is validated first, and
 * either every change is applied or none.  A commit carrying a nonzero
 * request id is idempotent: a retry with the same id returns the first
 * outcome and changes nothing (conf.mark_not_idempotent turns this off, F06).
 *
 * Errors (AutoMQ name in brackets):
 *   ERR_NOTFOUND   [OBJECT_NOT_EXIST, COMPACTED_OBJECTS_NOT_FOUND, STREAM_NOT_EXIST]
 *   ERR_REDUNDANT  [REDUNDANT_OPERATION] the new object is already committed:
 *                  nothing changed, callers treat it as success (meta_ok()).
 *   ERR_BADSTATE      stream closed/fenced (epoch), offsets not continuous,
 *                  removing an object that is not marked.
 *   ERR_INVAL      malformed request.
 *   ERR_NOMEM      (nothing changed).
 *
 * Times are env microseconds, passed in by the caller (the store reads no
 * clock).  All returned pointers are borrowed: valid until the next call
 * that changes the store.
 */
#ifndef S3SIM_META_H
#define S3SIM_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "err.h"
#include "obj.h"

#define META_ID_NONE INT64_C(-1)

/* Attribute bits (docs/engine.md "Object kinds and attributes").  Bucket bits stay 0 here (one
 * bucket), except that objects marked while PREPARED get META_ATTR_BUCKET_ALL, as AutoMQ (#1639,
 * #1643). */
#define META_ATTR_TYPE_MASK 3
#define META_ATTR_TYPE_NORMAL 0
#define META_ATTR_TYPE_COMPOSITE 1
#define META_ATTR_BUCKET_SHIFT 2
#define META_ATTR_BUCKET_ALL ((int32_t)0xffff << META_ATTR_BUCKET_SHIFT)
#define META_ATTR_DEEP_DELETE (1 << 18)

enum meta_state {
    META_PREPARED = 1,
    META_COMMITTED = 2,
    META_MARKED = 3, /* MARK_DESTROYED */
};

enum meta_kind {
    META_KIND_NONE = 0, /* prepared, not committed yet */
    META_KIND_SSO,
    META_KIND_STREAM,
    META_KIND_COMPOSITE,
};

/* What a key is, for the fault shim's kind= and the checks. */
enum meta_key_kind {
    META_KEY_NONE = 0,  /* not a known object key (or not an object key) */
    META_KEY_SSO,       /* committed or marked SSO */
    META_KEY_STREAM,    /* committed or marked normal stream object */
    META_KEY_COMPOSITE, /* committed or marked composite object's own key */
    META_KEY_LINKED,    /* removed from the map, bytes owned by a composite */
    META_KEY_PREPARED,  /* prepared, not committed */
};

/* Operation on an input of a stream object compaction (CompactOperations). */
enum meta_op {
    META_OP_DELETE = 0,      /* mark; later delete its own key */
    META_OP_KEEP_DATA = 1,   /* drop the metadata now, keep the bytes (linked) */
    META_OP_DEEP_DELETE = 2, /* mark; composites: links first, then itself */
};

/* AutoMQ's streams are also CLOSED and reopened with a higher epoch when a
 * partition moves between brokers (openStream/closeStream); with one broker
 * whose streams stay open from creation to deletion, that is not modelled:
 * every stream keeps epoch 0, and a commit naming another epoch is fenced. */
enum meta_stream_state {
    META_STREAM_OPEN = 0,
    META_STREAM_DELETED = 2,
};

struct meta_range {
    int64_t stream; /* stream id */
    int64_t start;  /* first offset */
    int64_t end;    /* end offset (exclusive) */
};

/* A link of a composite object: a normal object whose bytes it owns. */
struct meta_link {
    int64_t id;             /* linked object id */
    int64_t start, end;     /* its offsets in the stream */
    int64_t size;           /* its (retained) bytes */
    char key[OBJ_KEY_MAX];  /* its key (filled in by the store) */
};

struct meta_object {
    int64_t id;               /* object id (>= 0) */
    enum meta_state state;    /* PREPARED, COMMITTED or MARKED */
    enum meta_kind kind;      /* NONE while prepared */
    int64_t size;             /* bytes; composite: retained size */
    int32_t attributes;       /* META_ATTR_* */
    int64_t ts;               /* AutoMQ's Timestamp: deadline, commit or mark moment (0 after TTL) */
    int64_t deadline;         /* prepared deadline (kept after commit) */
    int64_t ttl_check;        /* when its timeout timer fires (the deadline; F28: later) */
    int64_t marked_at;        /* when it was marked (real time, also after TTL), or -1 */
    uint64_t mark_seq;        /* mark order, 1-based; 0 when not marked */
    enum meta_op mark_op;     /* how it was marked */
    bool ttl_expired;         /* marked by TTL expiry: may have an open multipart upload */
    char key[OBJ_KEY_MAX];    /* S3 key */
    /* SSO */
    int64_t node;             /* owning node */
    int64_t order_id;         /* order id */
    int64_t data_time;        /* data time, microseconds */
    struct meta_range *ranges; /* one per stream, sorted by stream */
    size_t nranges;
    /* stream object / composite */
    int64_t stream;           /* stream id, or -1 */
    int64_t start, end;       /* offsets */
    /* composite */
    struct meta_link *links;  /* linked objects in offset order */
    size_t nlinks;
};

struct meta_stream {
    int64_t id;               /* stream id */
    enum meta_stream_state state;
    int64_t epoch;            /* bumped by each open */
    int64_t start;            /* start offset (trim) */
    int64_t end;              /* end offset (next offset to commit) */
};

/* Field-bug switches (mapped from knobs by src/conf.h). */
struct meta_conf {
    const char *ns;           /* key namespace, "_kafka_" + cluster (copied) */
    struct env *env;          /* optional: log lines (component "controller") */
    bool id_zero_is_none;     /* F20: meta_id_none() answers 0 instead of -1, so request
                                 builders default "no object" to the valid id 0 */
    bool mark_not_idempotent; /* F06: no request-id dedupe, and an id -1 request whose inputs
                                 are already marked fails (COMPACTED_OBJECTS_NOT_FOUND) */
    bool ttl_timer_late;      /* F28 (#3539): a prepared object's timeout timer fires after
                                 max(now - deadline, 30 min) instead of at its deadline */
    bool deleted_stream_so_leak; /* F23 (#806/#808): a stream object committed for a deleted
                                    stream is committed and forgotten, not marked */
};

struct meta;

/* Creates an empty store.  ERR_INVAL (namespace), ERR_NOMEM. */
int meta_create(const struct meta_conf *conf, struct meta **out);
void meta_destroy(struct meta *m);
/* An empty store with m's namespace and switches.  ERR_NOMEM. */
int meta_create_like(const struct meta *m, struct meta **out);

const char *meta_namespace(const struct meta *m);

/* The "no object" value request builders must use: -1, or 0 under F20. */
int64_t meta_id_none(const struct meta *m);

/* rc == 0 or ERR_REDUNDANT. */
static inline bool meta_ok(int rc) { return rc == 0 || rc == ERR_REDUNDANT; }

/* ---- Streams. -------------------------------------------------------------- */

/* Creates stream id (>= 0) OPEN, epoch 0, offsets [0, 0).  ERR_EXISTS. */
int meta_stream_create(struct meta *m, int64_t id);
/* Moves the start offset forward (a smaller one is a no-op).  ERR_NOTFOUND
 * (unknown or deleted), ERR_RANGE (beyond the end offset).  No object is
 * marked: data below the start is removed lazily (docs/engine.md "Stream deletion and trim"). */
int meta_trim(struct meta *m, int64_t stream, int64_t new_start);
/* Closes then deletes the stream; marks DEEP_DELETE every committed stream
 * object and composite of it (one atomic step).  ERR_NOTFOUND (unknown or
 * already deleted). */
int meta_stream_delete(struct meta *m, int64_t stream, int64_t now);
/* The stream (also a deleted one), or NULL. */
const struct meta_stream *meta_stream_get(const struct meta *m, int64_t id);
/* Highest stream id created + 1. */
int64_t meta_stream_limit(const struct meta *m);

/* ---- Objects: prepare, commit, mark, remove. ------------------------------- */

/* Hands out count (>= 1) contiguous ids, PREPARED with deadline now + ttl.
 * *first = the first.  ERR_INVAL, ERR_NOMEM. */
int meta_prepare(struct meta *m, int count, int64_t ttl_us, int64_t now, int64_t *first);

/* A stream object carried by a WAL upload or an SSO compaction commit. */
struct meta_so {
    int64_t id;             /* a prepared id */
    int64_t size;           /* bytes */
    int64_t stream;         /* its stream */
    int64_t start, end;     /* its offsets */
    int32_t attributes;     /* META_ATTR_* (normal) */
};

/* commitStreamSetObject: WAL upload (ncompacted == 0), SSO compaction, force
 * split (id -1, compacted = [sso]). */
struct meta_sso_commit {
    uint64_t req_id;                /* 0: not deduplicated */
    int64_t node;                   /* the committing node */
    int64_t id;                     /* new SSO id, or -1 */
    int64_t size;                   /* its size */
    int32_t attributes;             /* its attributes */
    int64_t order_id;               /* -1: min order id of the inputs */
    int64_t data_time;              /* uploads: data time; compaction: ignored (min of inputs) */
    const struct meta_range *ranges; /* the new SSO's ranges, one per stream */
    size_t nranges;
    const struct meta_so *sos;      /* new stream objects */
    size_t nsos;
    const int64_t *compacted;       /* SSOs compacted (marked DELETE) */
    size_t ncompacted;
};

/*
 * One atomic commit (docs/engine.md "Commit semantics").  Validation: the new SSO id must be
 * PREPARED (COMMITTED -> ERR_REDUNDANT, nothing changed; else ERR_NOTFOUND); each
 * stream object id PREPARED (COMMITTED -> ERR_REDUNDANT); every compacted id
 * known and not marked (else ERR_NOTFOUND, logged "object <id> not exist when
 * mark destroy object"); for uploads, each stream's ranges must start at its
 * end offset (ERR_BADSTATE).  Effects: the SSO (if id != -1) and the stream
 * objects become COMMITTED; stream objects of streams deleted meanwhile are
 * marked DEEP_DELETE at once; compacted SSOs are marked; uploads advance
 * stream end offsets.  compacted == [id] only rewrites the attributes.
 * Order of the checks: the SSO, the stream objects, then the inputs (an id
 * -1 request with no stream objects whose inputs are all marked or gone is
 * ERR_REDUNDANT).  Under mark_not_idempotent, AutoMQ's order: the SSO, the
 * inputs, then the stream objects, so a retried force split fails with
 * ERR_NOTFOUND (F06).  ERR_INVAL: a malformed request (id -1 with ranges,
 * empty ranges, an id listed twice).
 */
int meta_commit_sso(struct meta *m, const struct meta_sso_commit *c, int64_t now);

/* commitStreamObject: stream object compaction and cleanup. */
struct meta_stream_commit {
    uint64_t req_id;                /* 0: not deduplicated */
    int64_t id;                     /* new object id, or -1 (cleanup) */
    int64_t size;                   /* bytes; composite: retained size */
    int32_t attributes;             /* type composite for a composite */
    int64_t stream;                 /* the stream */
    int64_t epoch;                  /* stream epoch, -1: not checked */
    int64_t start, end;             /* the new object's offsets */
    const int64_t *sources;         /* inputs: the first nsources entries (no more are read) */
    const enum meta_op *ops;        /* one per input */
    size_t nsources;
    const struct meta_link *links;  /* composite: its links (keys filled in by the store) */
    size_t nlinks;
};

/*
 * One atomic commit (docs/engine.md "Commit semantics").  Validation: new id PREPARED (COMMITTED ->
 * ERR_REDUNDANT; else ERR_NOTFOUND); the stream exists, not deleted
 * (ERR_NOTFOUND), epoch matches when given (ERR_BADSTATE); every source known
 * and not marked (ERR_NOTFOUND), except that an id -1 request whose sources
 * are all already marked with the same ops is ERR_REDUNDANT (fixed F06
 * behaviour; not under mark_not_idempotent); KEEP_DATA only for normal
 * committed objects linked by the new composite (ERR_INVAL); each link an
 * id >= 0 (object 0 too) other than the new one's, listed once, that is a
 * KEEP_DATA source of this request or already a link of a composite in the store
 * (ERR_INVAL).  Effects: the new object COMMITTED (kind STREAM or COMPOSITE
 * by attributes), with its links; sources marked / removed per op.
 */
int meta_commit_stream(struct meta *m, const struct meta_stream_commit *c, int64_t now);

/* markDestroyObjects: all-or-nothing.  ERR_NOTFOUND if any id is unknown,
 * marked, or listed twice (nothing changed).  KEEP_DATA removes the record. */
int meta_mark(struct meta *m, const int64_t *ids, const enum meta_op *ops, size_t n,
              int64_t now);

/* Removes MARKED objects after S3 confirmed their deletion.  Ids no longer
 * known are skipped (already removed).  ERR_BADSTATE if one is known but not
 * MARKED (nothing removed).  Links of a removed composite that no newer
 * composite took over are forgotten.  *removed (may be NULL) = count. */
int meta_remove(struct meta *m, const int64_t *ids, size_t n, size_t *removed);

/* ---- Queries. ---------------------------------------------------------------- */

/* The object, or NULL (never prepared, or removed). */
const struct meta_object *meta_object_get(const struct meta *m, int64_t id);

/* Next id meta_prepare() would hand out (= ids ever assigned). */
int64_t meta_next_id(const struct meta *m);

/* Calls fn for every object in id order; fn returning nonzero stops. */
typedef int (*meta_object_fn)(void *arg, const struct meta_object *o);
int meta_foreach(const struct meta *m, meta_object_fn fn, void *arg);

/* Calls fn for every linked object still owned by a known composite:
 * (link, owning composite id). */
typedef int (*meta_link_fn)(void *arg, const struct meta_link *l, int64_t composite);
int meta_foreach_link(const struct meta *m, meta_link_fn fn, void *arg);

/* What the metadata says of the object behind key, now. */
enum meta_key_kind meta_classify_key(const struct meta *m, const char *key);
const char *meta_key_kind_name(enum meta_key_kind k); /* "sso", "stream", ... "none" */
const char *meta_state_name(enum meta_state s);       /* "prepared", ... */

struct meta_counts {
    size_t prepared, committed, marked; /* by state */
    size_t sso, stream, composite;      /* committed, by kind */
    size_t links;                       /* linked objects owned by composites */
};
void meta_count(const struct meta *m, struct meta_counts *c);

/* A piece of a stream's data for the reader, in offset order. */
struct meta_piece {
    int64_t id;          /* object id */
    enum meta_kind kind; /* SSO, STREAM or COMPOSITE */
    int64_t start, end;  /* the stream's range in that object */
    int64_t size;        /* object size (composite: retained) */
};

/* The committed objects holding stream data overlapping [start, end), sorted
 * by start (SSOs, stream objects, composites).  *out is malloc'ed (NULL when
 * *n == 0); the caller frees it.  ERR_NOMEM. */
int meta_stream_pieces(const struct meta *m, int64_t stream, int64_t start, int64_t end,
                       struct meta_piece **out, size_t *n);

/* ---- Cleaner support (docs/engine.md "Deletion"). -------------------------------------------- */

/* Marks every PREPARED object whose deadline is before now (AutoMQ: now >
 * deadline), at most max (0: all), ts 0 and bucket MATCH_ALL; calls fn (may
 * be NULL) for each, so the cleaner can abort multipart uploads of those
 * keys.  Returns the number marked (>= 0). */
int meta_expire_prepared(struct meta *m, int64_t now, size_t max, meta_object_fn fn, void *arg);

/* The earliest deadline of a PREPARED object, or ENV_TIME_NEVER: where the
 * cleaner sets its TTL timer (again after a crash). */
int64_t meta_next_deadline(const struct meta *m);

/* Up to max MARKED ids in mark order (oldest first) into out; returns the
 * count. */
size_t meta_marked(const struct meta *m, int64_t *out, size_t max);

/* ---- Records (meta_log.c): the store as a log. ---------------------------------------------- */

/*
 * Every change of the store can be written as records, in the manner of AutoMQ's KRaft records
 * (S3ObjectRecord, RemoveS3ObjectRecord, S3StreamRecord, AssignedS3ObjectIdRecord...): each record
 * carries the whole new state of one object, stream or link, so applying a record is an upsert
 * keyed by id, and applying the records of a log (or of a snapshot, then the log after it) to an
 * empty store rebuilds the store.  The controller (ctl.h) writes them; brokers' images apply them.
 */
enum meta_rec_kind {
    META_REC_NEXT_ID = 1, /* id = the next object id (AssignedS3ObjectIdRecord) */
    META_REC_STREAM,      /* stream = the stream's new state */
    META_REC_OBJECT,      /* obj = the object's new state (owned deep copy) */
    META_REC_REMOVE,      /* object id removed (RemoveS3ObjectRecord) */
    META_REC_LINK,        /* linked object id now owned by owner (-1: by none) */
    META_REC_REQ,         /* request id req answered rc (our request-id dedupe) */
    META_REC_NODE,        /* node id registered with epoch owner (NodeWALMetadataRecord) */
};

struct meta_rec {
    enum meta_rec_kind kind;
    int64_t id;
    struct meta_object *obj;  /* OBJECT */
    struct meta_stream stream; /* STREAM */
    int64_t owner;            /* LINK: the owner; NODE: the node's epoch */
    uint64_t req;             /* REQ */
    int rc;                   /* REQ */
};

void meta_recs_free(struct meta_rec *r, size_t n);

/* Journal on: every change from now on is remembered until meta_journal_take(). */
void meta_journal(struct meta *m, bool on);
/* The records of the changes since the last take (*n may be 0), malloc'ed.  ERR_NOMEM. */
int meta_journal_take(struct meta *m, struct meta_rec **out, size_t *n);
/* The whole state as records (a snapshot).  ERR_NOMEM. */
int meta_snapshot(const struct meta *m, struct meta_rec **out, size_t *n);
/* Applies records in order.  ERR_NOMEM (the store is then partly updated), ERR_INVAL. */
int meta_apply(struct meta *m, const struct meta_rec *r, size_t n);
/* After a full replay: the lists in the order the live store keeps them (ids; marks by order). */
void meta_replayed(struct meta *m);
/* F05 (before #3370): an image that appends every record to its lists instead of upserting,
 * so a snapshot loaded on a non-empty image lists its objects twice. */
void meta_set_append_mode(struct meta *m, bool on);
/* ---- Node epochs (AutoMQ's NodeWALMetadataRecord: a broker's start writes its new epoch to the
 * metadata log, so a new controller rebuilds the epochs with the rest of the state). ---- */
#define META_NODES 16
/* Registers node's next epoch (journaled): the new epoch (>= 1), or ERR_INVAL (node id out of
 * range). */
int meta_node_register(struct meta *m, int64_t node);
/* The node's registered epoch, 0 when it never registered (or out of range). */
int64_t meta_node_epoch(const struct meta *m, int64_t node);

/* Committed stream objects listed more than once under their stream (F05's duplicates). */
size_t meta_listed_dups(const struct meta *m);
/* 0 when both hold the same objects, streams and links; else 1 and why (the first difference). */
int meta_diff(const struct meta *a, const struct meta *b, char *why, size_t len);

#endif /* S3SIM_META_H */
