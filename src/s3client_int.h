/*
 * s3client_int.h - the client layer's internals, shared by s3client.c
 * (calls, attempts, permits, timeouts) and s3client_del.c (DeleteObjects
 * batching).  Not a contract: include s3client.h.
 */
#ifndef S3SIM_S3CLIENT_INT_H
#define S3SIM_S3CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "buf.h"
#include "s3.h"
#include "s3client.h"

/* LOST (field bug F22 only): a call whose retry went to a new call; it holds
 * its permit and is never answered. */
enum s3c_state { S3C_ST_IDLE = 0, S3C_ST_QUEUED, S3C_ST_INFLIGHT, S3C_ST_VCHECK, S3C_ST_LOST };
enum s3c_verdict { S3C_OK = 0, S3C_ABORT, S3C_RETRY, S3C_VCHECK };

struct s3c_batch;

struct s3c_call {
    struct s3c *c;
    struct s3c_call *next, *prev; /* the client's list of live calls */
    struct s3c_call *qnext;       /* the permit queue */
    struct s3_req *outer;         /* the caller's request (NULL for a batch child) */
    struct s3_req *origin;        /* F22's re-entered call: whose request it repeats */
    struct s3c_batch *parent;     /* delete-many: the batch this child serves */
    struct s3_req ireq;           /* the attempts' request, a copy of outer */
    struct s3_req vreq;           /* the visibility check GET */
    enum s3c_state state;
    int attempt;           /* attempts started so far */
    bool in_submit;        /* inside the caller's submit() */
    bool give_up;          /* the backoff timer answers with last */
    env_id attempt_timer;  /* the per-attempt timeout */
    env_id backoff_timer;  /* the wait before the next attempt */
    env_id read_timer;     /* GET: the whole-read timeout */
    env_id wait;           /* the wait registry entry */
    struct s3_result last; /* the last failed answer (no owned fields) */
    const char **keys;     /* batch child: its keys (owned array) */
    size_t *pos;           /* batch child: each key's index in the batch */
    /* F27's merged DeleteObjects (conf.delete_per_key false). */
    bool merged;
    struct s3c_dsub *subs; /* the key batches it carries, in key order (owned) */
    char *kbuf;            /* its own copies of the keys (owned) */
    /* put, mpu-part with segments: ireq.segs points to segs (owned: the
     * caller's list with the gens of its checksum), or, for a backend that
     * takes no segments, ireq.body into gather (a reference: one copy). */
    struct s3_seg *segs;
    struct buf *gather;
};

/* F27: one caller's key batch (<= 1000 keys) in the accumulator: queued, or
 * carried by a merged call.  b NULL: its caller cancelled. */
struct s3c_dsub {
    struct s3c_dsub *next;
    struct s3c_batch *b;
    size_t from, n; /* keys [from, from + n) of the batch */
};

struct s3c_batch {
    struct s3c *c;
    struct s3c_batch *next;      /* the client's list of batches */
    struct s3_req *outer;        /* the caller's delete-many */
    struct s3_delete_entry *res; /* one per outer key */
    size_t children;             /* children not yet done */
    env_id wait;
    env_id done_timer; /* a batch with no keys answers from a timer */
    enum s3_code failed; /* F27: a merged call carrying its keys failed */
    /* How S3 answered its calls: a call got a 2xx answer with per-key
     * results (answered), and the last call that failed whole (wfailed:
     * its transport and status).  A batch no 2xx answer settled answers its
     * caller with that failure's transport and status, not 200. */
    bool answered;
    bool wfailed;
    enum s3_transport wtransport;
    int wstatus;
};

/* A retried mpu-create that won: sweep its key's strays once it ends. */
struct s3c_mpu_track {
    struct s3c_mpu_track *next;
    char key[S3_MAX_KEY + 1];
    char upload_id[S3_UPLOAD_ID_MAX];
    enum s3_job job;
};

struct s3c_sweep;
struct s3c_gpc;

struct s3c {
    struct env *env;
    struct s3_ops *inner;
    struct s3c_conf conf;
    struct s3_ops ops;      /* what the engine calls */
    struct s3c_call *calls; /* live calls */
    int ncalls;
    struct s3c_call *qhead, *qtail; /* attempts waiting for a permit */
    struct s3c_batch *batches;      /* live delete-many batches */
    int nbatches;
    struct s3c_mpu_track *tracks; /* retried creates whose upload is still open */
    struct s3c_sweep *sweeps;     /* stray-upload sweeps in progress */
    int nsweeps;
    struct s3c_gpc *gpcs;         /* s3.part.copy get-put: copies in progress */
    struct s3c_dsub *dq_head, *dq_tail; /* F27: the accumulator's queue */
    int dinflight;                      /* F27: merged calls in flight */
    struct s3c_stats stats;
};

/* s3client.c */
const char *s3c_call_key(const struct s3c_call *call);
void s3c_trace(struct s3c_call *call, const struct s3_result *res, const char *what);
void s3c_link(struct s3c *c, struct s3c_call *call);
void s3c_pump(struct s3c *c);
void s3c_call_free(struct s3c_call *call);
int s3c_attempt_go(struct s3c_call *call);
bool s3c_attempts_left(const struct s3c_call *call);
bool s3c_get_short(const struct s3_req *req, const struct s3_result *res);

/* s3client_mpu.c */
void s3c_mpu_note(struct s3c *c, const struct s3_req *outer, const struct s3_result *res,
                  int attempts);
void s3c_mpu_free_all(struct s3c *c);
int s3c_gpc_submit(struct s3c *c, struct s3_req *req);
bool s3c_gpc_cancel(struct s3c *c, struct s3_req *req);

/* s3client_del.c */
void s3c_del_child_answer(struct s3c_call *call, struct s3_result *res);
int s3c_del_submit(struct s3c *c, struct s3_req *req);
void s3c_del_cancel(struct s3c *c, struct s3_req *req);
void s3c_del_free_all(struct s3c *c);
void s3c_dacc_answer(struct s3c_call *call, struct s3_result *res);
void s3c_dacc_call_freed(struct s3c_call *call);

#endif /* S3SIM_S3CLIENT_INT_H */
