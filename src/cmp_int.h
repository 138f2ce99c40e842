/*
 * cmp_int.h - the inside of the SSO compaction job, shared by cmp.c (runs,
 * scheduling, index reads), cmp_exec.c (plans: reads, writers, failure) and
 * cmp_commit.c (sanity check, commit).  Not a contract.
 *
 *   struct cmp ─ run (one at a time) ─ srcs[] (candidate SSOs and their indexes)
 *                                    └ jobs[] (force split of one SSO, or the compaction)
 *                                        └ plan state: chunks (coalesced reads), lanes
 *                                          (one per plan output), writers (struct cmp_wout)
 */
#ifndef S3SIM_CMP_INT_H
#define S3SIM_CMP_INT_H

#include "cmp.h"
#include "err.h"
#include "mdc.h"
#include "writer.h"

#define CMP_LOGC "sso-compaction"

struct cmp_job;

/* A candidate SSO of a run and its index. */
struct cmp_srcinfo {
    struct cmp *c;
    int64_t id, size, data_time;
    char key[OBJ_KEY_MAX];
    struct s3_req req;        /* the tail read, then the re-read */
    bool inflight;
    bool reread;              /* the re-read was issued */
    uint64_t from;            /* first byte of the read in flight */
    bool ok;                  /* index read and parsed */
    struct cmp_block *all;    /* every entry (sanity check); owned */
    size_t nall;
    struct cmp_block *live;   /* live entries; owned */
    size_t nlive;
};

/* An output object being written: the new SSO or one stream object. */
struct cmp_wout {
    struct cmp_job *job;
    struct wr *w;             /* NULL until opened; after release NULL again */
    int64_t id;               /* prepared id, -1 until assigned */
    char key[OBJ_KEY_MAX];
    struct obj_index_entry *e; /* entries written, positions in this object; owned */
    size_t ne, cap;
    uint64_t data;            /* data bytes written */
    uint64_t size;            /* object size once sealed (data + index + footer) */
    bool sealed;              /* index and footer written, close submitted */
    bool durable;             /* close answered success */
};

/* A coalesced range of one source object, read by one or more GETs. */
struct cmp_chunk {
    int64_t obj;
    uint64_t start, len;
    uint8_t *buf;             /* owned (or in ref); NULL until read (single GET) */
    struct buf *ref;          /* a single GET's answer shared with the store (s3.h
                                 body_ref): buf points into it, read-only */
    struct s3_seg *segs;      /* or that answer in pieces of the store's buffers (s3.h
                                 s3_result.segs, each a reference): buf is NULL */
    size_t nsegs;
    int reads_left;
    int refs;                 /* plan blocks still to be written from it */
    uint64_t counted;         /* bytes of it counted in the memory counter: len from
                                 the read's submit, less each block handed to a writer */
};

struct cmp_read {
    struct s3_req req;
    struct cmp_job *job;
    struct cmp_chunk *ch;
    uint64_t off, len;        /* within the chunk */
    bool inflight;
    char key[OBJ_KEY_MAX];
};

/* One output of the current plan and its write cursor. */
struct cmp_lane {
    const struct cmp_out *po; /* the plan's output */
    struct cmp_wout *wo;      /* its writer (the job's SSO for COMPACT) */
    size_t cursor;            /* blocks written */
    bool done;                /* all written (split: sealed) */
};

enum cmp_jstate {
    CMP_J_PLAN = 0,   /* running plan job->plan */
    CMP_J_CLOSE,      /* closing the SSO writer */
    CMP_J_AFTER,      /* committed; waiting for closes still running (F15 bug path) */
    CMP_J_RELEASING,  /* failed; waiting for writer releases */
    CMP_J_END,
};

/* One commit unit: the force split of one SSO, or the compaction. */
struct cmp_job {
    struct cmp *c;
    bool split;               /* force split */
    int64_t sso;              /* split: the SSO; else -1 */
    struct cmp_analysis a;
    size_t plan;              /* plan running */
    int64_t next_id;          /* next prepared id to hand out; -1 none */
    int64_t cm_id;            /* the commit in flight: its SSO id, stream objects, inputs */
    size_t cm_nsos, cm_ncompacted;
    int64_t last_id;          /* last prepared id */
    struct cmp_wout sso_out;  /* the new SSO (compaction) */
    struct cmp_wout **sos;    /* stream objects of every plan; owned */
    size_t nsos, sos_cap;
    /* the current plan */
    struct cmp_chunk *chunks;
    size_t nchunks;
    struct cmp_read *reads;
    size_t nreads;
    size_t *blk_chunk;        /* plan block -> chunk index */
    struct cmp_lane *lanes;
    size_t nlanes;
    int reads_inflight;
    int writes_pending;       /* SSO block writes and the flush, not yet answered */
    int closes_pending;
    int releases_pending;
    bool flushed;
    bool failing;             /* inside job_fail's release loop */
    int err;
    char why[192];
    enum cmp_jstate state;
    env_id wait;
    env_id timer;
};

struct cmp_run {
    uint64_t no;
    bool force;
    int64_t started;
    bool truncated;
    bool failed;
    struct cmp_srcinfo *srcs;
    size_t nsrcs;
    int idx_pending;
    struct cmp_job **jobs;
    size_t njobs, cur;
    env_id wait;
    env_id timer;
};

struct cmp {
    struct env *env;
    struct s3_ops *s3;
    struct mdc *md;
    struct wr_mem *mem;
    struct eng_metrics *metrics;
    struct cmp_conf conf;
    struct wr_conf wconf;
    struct wr_ctx *wr;
    uint64_t min_part;
    env_id timer;             /* next periodic run */
    env_id start_timer;       /* a run requested now */
    struct cmp_run *run;      /* the run in progress, or NULL */
    uint64_t runs;            /* runs started */
    bool queued, queued_force;
    bool queued_waits;        /* a queued run waits for the image (mdc_when_current) */
};

/* cmp.c */
void cmp__job_done(struct cmp_job *j);  /* the job ended (j->err says how); deferred */
void cmp__count(struct cmp *c, int what); /* 0 commit, 1 force split */

/* cmp_exec.c */
struct cmp_job *cmp__job_new(struct cmp *c, bool split, int64_t sso);
void cmp__job_start(struct cmp_job *j);
void cmp__job_free(struct cmp_job *j);
void cmp__job_fail(struct cmp_job *j, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void cmp__job_wait(struct cmp_job *j);
void cmp__release_all(struct cmp_job *j, bool wait);

/* cmp_commit.c */
int cmp__seal(struct cmp_wout *o);  /* index + footer, then close */
void cmp__commit(struct cmp_job *j);
const struct cmp_srcinfo *cmp__src(const struct cmp *c, int64_t id);

#endif /* S3SIM_CMP_INT_H */
