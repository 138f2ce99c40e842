/*
 * scmp_int.h - internals shared by scmp.c (schedule, image, planning,
 * cleanup, commit) and scmp_run.c (executing one group).  Not a contract.
 */
#ifndef S3SIM_SCMP_INT_H
#define S3SIM_SCMP_INT_H

#include "composite.h"
#include "obj.h"
#include "scmp.h"

enum scmp_type { SCMP_CLEANUP = 0, SCMP_MINOR, SCMP_MAJOR, SCMP_REWRITE };

/* An object of the broker's image of a stream. */
struct scmp_obj {
    int64_t id;
    enum meta_kind kind; /* STREAM or COMPOSITE */
    int64_t start, end, size;
};

struct scmp_image {
    struct scmp_obj *v;
    size_t n, cap;
};

/* Per-stream schedule (volatile). */
struct scmp_sched {
    int64_t last_minor, last_major, last_any; /* times */
    struct scmp_image img;
};

/* A member of the group being compacted, with what was read of it. */
struct scmp_member {
    struct scmp_obj o;
    char key[OBJ_KEY_MAX];
    struct obj_index idx; /* normal: its index; composite: merged index */
    struct cobj co;       /* composite: parsed */
    bool loaded;
};

struct scmp_run {
    struct scmp *s;
    int64_t stream;
    enum scmp_type type;
    env_id wait;
    struct scmp_member *m; /* the group */
    size_t n, cur;
    int64_t out_id;        /* prepared output, or -1 */
    char out_key[OBJ_KEY_MAX];
    struct wr *w;
    struct s3_req req;
    uint64_t tail_from;    /* tail read start */
    struct obj_index_entry *oe; /* minor: the new index */
    size_t on;
    uint64_t opos;         /* minor: bytes of data copied */
    uint8_t *tail;         /* minor: index + footer being written */
    struct meta_link *links; /* major: the new composite's links */
    size_t nlinks;
    struct cobj_writer cw;
    char (*xkeys)[OBJ_KEY_MAX]; /* major: expired links to delete now */
    const char **xkp;
    size_t nx;
    size_t xsent;               /* major: expired links whose delete was sent */
    int64_t out_start, out_end, out_size;
    env_id later;          /* a deferred end (scmp_fail_later) */
    void *later_arg;
    bool committing;       /* the commit was sent */
    struct scmp_cut *cuts; /* verify.copy: index entries cut by a read's edge */
    size_t ncuts, capcuts;
};

/* compaction.stream.verify.copy: an index entry of member mi whose bytes came
 * in more than one range read, gathered until whole. */
struct scmp_cut {
    size_t mi, k;
    uint8_t *buf;
    size_t got;
};

struct scmp_cleanup;

struct scmp {
    struct env *env;
    struct s3_ops *inner;     /* below the client (borrowed) */
    struct s3c *s3c;          /* own client; NULL while crashed */
    struct s3_ops *s3;        /* s3c_ops(s3c) */
    struct mdc *md;
    struct wr_mem *mem;
    struct scmp_conf conf;
    struct wr_ctx *wr;        /* NULL while crashed */
    bool down;
    env_id tick;
    int64_t started_at;       /* last (re)start */
    struct scmp_sched *sched; /* by stream id */
    size_t nsched;
    bool pass_running, pass_force;
    int64_t pass_stream;      /* next stream of the pass */
    struct scmp_run *run;     /* the group in flight, or NULL */
    struct scmp_cleanup *cl;  /* the cleanup in flight, or NULL */
    /* The type of a stream's turn in progress (AutoMQ's StreamObjectCompactor.compact0): one
     * listing of the stream (sched[turn_stream].img), its groups run one after the other. */
    int64_t turn_stream;
    enum scmp_type turn_type;
    size_t turn_pos;          /* where the next group is planned from in the listing */
    bool turn_major;          /* object-count pressure: MAJOR_V1 after this type */
    env_id pause;             /* the pause before that MAJOR_V1 (#3483), or 0 */
    bool pressure;            /* this pass runs under object-count pressure (>= 90 %) */
    bool pressure_full;       /* at the threshold itself: MAJOR_V1 takes small objects too */
    uint64_t req_seq;         /* request ids */
    /* compaction.stream.cleanup.on.trim (F06, before #952): streams whose trim was answered,
     * each waiting for a cleanup of its own, run one after the other when no pass runs */
    int64_t *trimq;
    size_t ntrimq, trimq_cap;
    bool trim_cl;             /* the cleanup in flight (cl) is such a trim's */
    env_id trim_kick;         /* the hand-off to the scheduler (a zero-delay timer), or 0 */
    struct scmp_stats stats;
};

/* scmp.c */
void scmp__group_done(struct scmp_run *r, int rc, const char *why);
int scmp__commit(struct scmp_run *r);
struct scmp_cleanup;
void scmp__cleanup_free(struct scmp_cleanup *cl);

/* scmp_run.c */
void scmp__run_start(struct scmp_run *r);
void scmp__run_free(struct scmp_run *r);
void scmp__committed(struct scmp_run *r, int rc);

#endif /* S3SIM_SCMP_INT_H */
