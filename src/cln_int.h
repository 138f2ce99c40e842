/*
 * cln_int.h - internals shared by cln.c (lifecycle, shallow deletes) and
 * cln_deep.c (composite deep deletes).  Not a contract.
 */
#ifndef S3SIM_CLN_INT_H
#define S3SIM_CLN_INT_H

#include "cln.h"
#include "obj.h"

/* Per-object volatile state, by object id. */
struct cln_obj {
    uint32_t fails;   /* consecutive failed delete attempts */
    uint32_t inflight; /* cleans currently deleting it */
    int64_t next_try; /* not retried before this time */
};

struct cln_clean;

/* One DeleteObjects of normal objects. */
struct cln_batch {
    struct cln_clean *cl;
    struct s3_req req;
    size_t n;
    int64_t *ids;               /* n ids */
    char (*keys)[OBJ_KEY_MAX];  /* n keys */
    const char **kp;            /* n pointers into keys */
};

/* One composite deep delete: GET, delete links, delete itself. */
struct cln_deep {
    struct cln_clean *cl;
    size_t group;               /* notification group */
    int64_t id;
    int32_t attributes;
    char key[OBJ_KEY_MAX];
    int stage;                  /* CLN_DEEP_* */
    int rc;                     /* outcome */
    struct s3_req req;
    char (*lkeys)[OBJ_KEY_MAX]; /* link keys */
    const char **lkp;
    size_t nlinks;
};

enum { CLN_DEEP_IDLE = 0, CLN_DEEP_GET, CLN_DEEP_LINKS, CLN_DEEP_SELF, CLN_DEEP_DONE };

/* One clean: what one lifecycle check handed to S3. */
struct cln_clean {
    struct cln *c;
    struct cln_clean *next;
    uint64_t seq;               /* clean number, for the logs and waits */
    env_id wait;
    size_t parts_left;          /* batches and composites not finished */
    struct cln_batch *batches;
    size_t nbatches;
    struct cln_deep *deeps;
    size_t ndeeps, deep_next, deep_running;
    size_t *group_left;         /* composites of each group not finished */
    bool *group_failed;
    size_t ngroups;
};

/* An abort of an expired object's upload, or (listing) the
 * ListMultipartUploads of its key that finds them. */
struct cln_abort {
    struct cln *c;
    struct cln_abort *next;
    bool listing;               /* list-uploads of key, then one abort each */
    struct s3_req req;
    char key[OBJ_KEY_MAX];
    char upload_id[S3_UPLOAD_ID_MAX];
    env_id wait;
};

struct cln {
    struct env *env;
    struct s3_ops *inner;       /* below the client layer (borrowed) */
    struct ctl *ctl;            /* the controller (borrowed) */
    struct cln_conf conf;
    struct s3c *s3c;            /* the cleaner's own client; NULL while crashed */
    bool down;                  /* crashed */
    env_id check_timer, ttl_timer;
    int64_t ttl_at;             /* when ttl_timer fires */
    int64_t threshold;          /* objects marked before this are the old generation */
    int64_t last_swap;          /* time of the last generation swap */
    struct cln_obj *objs;       /* by id */
    size_t nobjs;
    struct cln_clean *cleans;   /* in flight */
    int ncleans;
    uint64_t clean_seq;
    struct cln_abort *aborts;   /* in flight */
    int naborts;
    int64_t *buf;               /* scratch: marked ids */
    size_t bufcap;
    struct cln_redel *redel;    /* keys of TTL-expired objects to delete again */
    size_t nredel, capredel;
    bool redel_busy;            /* a second DeleteObjects in flight */
    struct s3_req redel_req;
    char (*redel_keys)[OBJ_KEY_MAX]; /* its keys */
    const char **redel_kp;
    size_t redel_n;
    env_id redel_wait;
    cln_uploads_fn uploads;
    void *uploads_arg;
    struct cln_stats stats;
};

/* cln.c */
struct cln_obj *cln__obj(struct cln *c, int64_t id); /* NULL when out of memory */
void cln__failed(struct cln *c, int64_t id);
void cln__succeeded(struct cln *c, int64_t id);
void cln__part_done(struct cln_clean *cl);
void cln__metadata(char *buf, size_t n, int64_t id);

/* A key to delete once more (see cln.h, Late writes). */
struct cln_redel {
    int64_t at; /* not before */
    char key[OBJ_KEY_MAX];
};

/* cln_redel.c */
void cln__redel_add(struct cln *c, const char *key);
void cln__redel_pump(struct cln *c); /* starts the second deletes that are due */
void cln__redel_drop(struct cln *c); /* crash: forgets them, cancels the call */
void cln__redel_free(struct cln *c);

/* cln_deep.c */
void cln__deep_pump(struct cln_clean *cl);
void cln__deep_free(struct cln_deep *d);

#endif /* S3SIM_CLN_INT_H */
