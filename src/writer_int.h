/*
 * writer_int.h - the writer's internals, shared by writer.c (waiters, parts,
 * lifetime, the API) and writer_io.c (S3 calls, progress, copy-write, the
 * wait registry).  Not a contract: include writer.h.
 */
#ifndef S3SIM_WRITER_INT_H
#define S3SIM_WRITER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "env.h"
#include "s3.h"
#include "writer.h"

enum wr_pst { WR_P_OPEN = 0, WR_P_SEALED, WR_P_BUSY, WR_P_DONE };
enum wr_kind { WR_W_WRITE = 0, WR_W_FLUSH, WR_W_CLOSE };

struct wr_waiter {
    struct wr_waiter *next, *prev; /* w->waiters (outstanding) or w->ready (next only) */
    wr_cb cb;
    void *arg;
    enum wr_kind kind;
    int nparts; /* parts that must still be accepted */
    int rc;     /* the result, once ready */
};

/* A piece of a segmented part: len bytes at off of ref, or of the part's
 * own buffer b when ref is NULL. */
struct wr_seg {
    struct buf *ref; /* a reference of the part's, or NULL */
    size_t off, len;
};

struct wr_part {
    struct wr_part *next;  /* the writer's parts, in number order */
    struct wr_part *qnext; /* the sealed queue */
    struct wr *w;
    int number; /* 1..10000; 0 for the proxy buffer */
    enum wr_pst st;
    struct buf *b; /* data part: owns the bytes (counted in mem), shared with
                      the S3 request while one is in flight */
    uint8_t *buf;  /* b->p, or NULL */
    size_t len, cap; /* bytes of the part (pending range reads included); bytes
                        counted in the memory counter (len, but 0 once freed) */
    size_t own;      /* bytes of b in use (len, unless the part is segmented) */
    struct wr_seg *segs; /* segmented part (wr_write_ref): its pieces in order, or
                            NULL: the part is b's own bytes */
    size_t nsegs, capsegs;
    struct s3_seg *sv;   /* the pieces as the request's segments, once submitted */
    char *src; /* copy part: source key (owned) */
    uint64_t src_start, src_end;
    int reads;             /* range reads still filling buf */
    struct wr_waiter **wt; /* waiters holding bytes here */
    size_t nwt, capwt;
    struct s3_req req;
    char etag[S3_ETAG_MAX];
};

struct wr_read {
    struct wr_read *next, *prev;
    struct wr_part *part;
    size_t off, len;
    char *src;
    struct s3_req req;
};

struct wr {
    struct wr_ctx *ctx;
    struct wr *next, *prev; /* ctx->writers */
    char *key, *who;
    enum s3_job job;
    bool mpu, closing, closed, released, final_busy, create_busy, abort_busy, have_id;
    int err;
    uint64_t size;            /* bytes written so far */
    int nparts, ndone, nbusy; /* numbered parts; done; uploads in flight */
    uint64_t busy_bytes;
    struct wr_part *head, *tail, *pending;
    struct wr_part *sq_head, *sq_tail; /* sealed, not yet submitted */
    struct wr_read *reads;
    int nreads;
    wr_read_check_fn read_check; /* wr_set_read_check (NULL: none) */
    void *read_check_arg;
    struct wr_waiter *waiters; /* outstanding */
    struct wr_waiter *ready, *ready_tail;
    int nwaiters;
    wr_cb close_cb;
    void *close_arg;
    bool close_pending; /* close_cb not yet delivered */
    wr_cb rel_cb;
    void *rel_arg;
    bool rel_hang; /* F02: release waits on the pending part forever */
    int depth;     /* event-loop callbacks in progress */
    env_id deliver_timer, rel_timer;
    env_id wait;
    char upload_id[S3_UPLOAD_ID_MAX];
    struct s3_req create_req, final_req, abort_req;
    struct s3_part *cparts; /* the complete's part list */
};

struct wr_ctx {
    struct env *env;
    struct s3_ops *s3;
    struct wr_conf conf;
    struct wr_mem *mem;
    struct wr *writers;
    int nwriters;
    wr_guard_fn guard; /* before the final write (NULL: none) */
    void *guard_arg;
    struct buf_recycler recycler; /* the parts' released buffers (wr_ctx_recycler) */
};

#define WR_MAX_CHUNK (UINT64_C(5) << 30) /* UploadPartCopy range limit (5 GiB) */

/* ---- shared between writer.c and writer_io.c ------------------------------ */

/* writer.c */
uint64_t wr_upload_limit(const struct wr *w);
struct wr_waiter *wr_waiter_new(struct wr *w, enum wr_kind kind, wr_cb cb, void *arg);
void wr_waiter_ready(struct wr *w, struct wr_waiter *wt, int rc);
int wr_attach(struct wr_part *p, struct wr_waiter *wt);
void wr_part_accept(struct wr *w, struct wr_part *p);
int wr_schedule_deliver(struct wr *w);
struct wr_part *wr_part_new(struct wr *w);
void wr_part_free_buf(struct wr *w, struct wr_part *p);
int wr_part_grow(struct wr *w, struct wr_part *p, size_t n);
int wr_part_placed(struct wr_part *p, size_t n);
int wr_part_segs(struct wr_part *p);
void wr_seal(struct wr *w, struct wr_part *p);
struct wr_part *wr_pending(struct wr *w);
void wr_cancel_io(struct wr *w, bool final_too);
void wr_fail(struct wr *w, int rc, const char *what);
void wr_try_destroy(struct wr *w);
void wr_switch(struct wr *w);
int wr_usable(const struct wr *w);
int wr_api_done(struct wr *w, struct wr_waiter *own);

/* writer_io.c */
void wr_kick(struct wr *w);
void wr_deliver(struct wr *w);
void wr_wait_refresh(struct wr *w);
void wr_start_abort(struct wr *w);

#endif /* S3SIM_WRITER_INT_H */
