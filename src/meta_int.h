/*
 * meta_int.h - internals shared by meta.c and meta_commit.c.  Not a contract:
 * only those two files include it.
 */
#ifndef S3SIM_META_INT_H
#define S3SIM_META_INT_H

#include "meta.h"

/* A growable vector of ids. */
struct meta_idvec {
    int64_t *v;
    size_t n, cap;
};

struct meta_stream_slot {
    bool used;               /* the stream was created */
    struct meta_stream s;    /* its record */
    struct meta_idvec objs;  /* committed stream objects and composites (lazily filtered) */
};

/* Request-id outcomes: open addressing, key 0 = empty. */
struct meta_reqmap {
    uint64_t *keys;
    int *vals;
    size_t n, cap;
};

struct meta {
    char ns[OBJ_NS_MAX + 1];       /* key namespace */
    struct env *env;               /* optional log sink */
    bool id_zero_is_none;          /* F20 switch */
    bool mark_not_idempotent;      /* F06 switch */
    bool ttl_timer_late;           /* F28 switch */
    bool deleted_stream_so_leak;   /* F23 switch */
    struct meta_object **objs;     /* by id; NULL = removed */
    int64_t *link_owner;           /* by id: composite owning it as a link, or -1 */
    size_t cap;                    /* slots of objs and link_owner */
    int64_t next_id;               /* next id to hand out */
    struct meta_stream_slot *streams; /* by stream id */
    size_t nstreams;               /* slots */
    struct meta_idvec prepared;    /* ids prepared (lazily filtered) */
    struct meta_idvec marked;      /* ids in mark order (lazily filtered) */
    struct meta_idvec ssos;        /* committed SSO ids (lazily filtered) */
    uint64_t mark_seq;             /* last mark sequence number */
    size_t listed;                 /* entries pushed on the lazy lists since the last tidy pass */
    size_t stale;                  /* state changes since the last tidy pass */
    struct meta_reqmap reqs;       /* request id -> outcome */
    /* The journal (meta_log.c): what the operations since the last meta_journal_take() touched,
     * so that the controller can write them to its log as records. */
    bool journal;                  /* on: the hooks below record */
    bool jlost;                    /* a hook could not record (no memory): take a full image */
    struct meta_idvec jobjs;       /* object ids touched (may repeat) */
    struct meta_idvec jstreams;    /* stream ids touched */
    struct meta_idvec jlinks;      /* linked ids whose owner changed */
    int64_t jnext;                 /* next_id at the last take */
    bool jreq;                     /* a request outcome was remembered */
    uint64_t jreq_id;
    int jreq_rc;
    int64_t node_epoch[META_NODES]; /* each broker node's registered epoch (0: none) */
    bool jnode[META_NODES];        /* journal: node epochs registered */
    bool append_mode;              /* F05: snapshot records appended, not upserted (meta_log.c) */
};

struct meta_object *meta__obj(const struct meta *m, int64_t id);
struct meta_stream_slot *meta__slot(const struct meta *m, int64_t id);
int meta__reserve(struct meta_idvec *v, size_t extra);
void meta__push(struct meta *m, struct meta_idvec *v, int64_t id); /* after meta__reserve */
void meta__do_mark(struct meta *m, struct meta_object *o, enum meta_op op, int64_t now);
void meta__drop(struct meta *m, int64_t id); /* removes and frees the record */
void meta__tidy(struct meta *m);             /* filters the lazy lists (amortized) */
/* When the timeout timer of prepared object o, (re)armed at now, fires. */
int64_t meta__ttl_timer(const struct meta *m, const struct meta_object *o, int64_t now);
int meta__check_sources(struct meta *m, const int64_t *ids, size_t n, const char *what);
/* Journal hooks (no-ops unless m->journal). */
void meta__dirty_obj(struct meta *m, int64_t id);
void meta__dirty_stream(struct meta *m, int64_t id);
void meta__dirty_link(struct meta *m, int64_t id);
void meta__free_object(struct meta_object *o);
int meta__grow_ids(struct meta *m, size_t n);
int meta__req_get(const struct meta *m, uint64_t req, int *rc);
void meta__req_put(struct meta *m, uint64_t req, int rc);

#endif /* S3SIM_META_INT_H */
