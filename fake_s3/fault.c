/*
 * fault.c - the fault shim: an s3_ops over the honest store (fault.h).
 *
 * submit(): validate, count, try the rules in order (the first that fires
 * gives the call its effect), draw the call's latency (always exactly one
 * draw, after any prob= draws), then keep the call in a pending list:
 *
 *   none, stale, status, partial, reset,
 *   corrupt, lost                              answer (or apply) after the latency
 *   delay=D                                    after the latency + D
 *   timeout, stall                             never: swallowed at submit
 *   late=D                                     swallowed at submit, applied
 *                                              (never answered) after the
 *                                              latency + D
 *
 * When its timer fires the call is applied on the store (fs3_exec) and
 * answered, except: status= and reset answer without touching the store;
 * lost applies it and answers nothing; stale= applies it as of now - D.
 * A swallowed call stays pending (counted in flight) until the caller
 * cancels it or the shim is freed.
 *
 * partial, per op (docs/scenarios.md "Faults", and our choices for the ops it leaves
 * open):
 *   mpu-part      stores the first half of the body and answers success with
 *                 the store's checksum (and MD5 ETag) of those bytes
 *   mpu-copy      stores the first half of the source range, answers success
 *   mpu-complete  completes the object, answers 500 InternalError
 *   delete-many   deletes the first half of the keys (n/2, rounded down),
 *                 reports the rest as InternalError, answers 200
 *   put           stores the object, answers 500 InternalError
 *   get           answers success with the first half of the body
 *   delete, mpu-create, mpu-abort   applied, answered 500 InternalError
 *   head, list    not applied (nothing to half-do), answered 500
 * When the honest call itself fails (NoSuchKey, InvalidPart...), that real
 * answer is given instead.
 *
 * late (put and mpu-part only; a rule never fires on another op): an attempt
 * the client gave up on while its HTTP write was still running, which the
 * store receives later (field bug F13).  At submit the call copies what it
 * will send (key, upload id, part number, checksum, metadata, conditions)
 * and pins the buffers its body lies in (buf.h "Pins"), since the caller may
 * reuse its request once its attempt timed out and may recycle the buffers
 * once a retry succeeded; it reads the body's bytes when it lands, as they
 * are then (recycled bytes, when the owner reused the buffer).  A body not
 * in a buffer is copied at submit.  When it lands the store applies it like
 * any put or part (a checksum sent with it is verified over the bytes read
 * then: BadDigest keeps the bucket as it was); the observer hears LANDED with
 * the store's answer; nobody else does.  Cancelling it before it lands
 * detaches it from the caller's request; freeing the shim drops it unlanded.
 *
 * corrupt (get only; a rule never fires on another op): the store's answer
 * with one byte of the body inverted (XOR 0xff), at corrupt_at.  The bucket
 * keeps the right bytes: it is the answer that is damaged, as a bad NIC, a
 * proxy or a bit flip in a cache would damage it.  An error answer and an
 * empty body are passed on as they are.
 */
#include "fault.h"

#include "buf.h"
#include "err.h"
#include "fs3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fs3f_rule {
    struct fs3_rule r; /* the rule as added */
    int64_t seen;      /* calls that matched op, key, kind and time */
    int64_t hits;      /* calls it fired on */
};

/* A piece of a late call's body: bytes of a pinned buffer, read when it
 * lands, or (no buffer) a copy taken at submit. */
struct fs3f_piece {
    struct buf *b; /* pinned, or NULL */
    size_t off, len;
    uint8_t *copy; /* b NULL: the bytes */
};

/* What a late call sends when it lands: a put or mpu-part request whose
 * strings and pieces are its own. */
struct fs3f_late {
    struct s3_req req; /* body, body_buf, segs unset until it lands */
    char *key, *upload_id, *meta, *if_match, *if_none_match;
    struct fs3f_piece *pieces;
    size_t npieces;
};

struct fs3f_call {
    struct fs3f_call *prev, *next; /* pending list; free list uses next */
    struct fs3_fault *f;
    struct s3_req *req;            /* the caller's request (borrowed); NULL once a
                                      late call was cancelled (detached) */
    struct fs3f_late *late;        /* late=: what it sends, until it lands */
    env_id timer;                  /* 0: none (swallowed) */
    int64_t submit_us;
    bool swallowed;                /* the observer was told; awaits cancel */
    enum fs3_effect eff;           /* the effect and its parameters, copied */
    int status;
    enum s3_code code;
    int64_t stale_us;
    int64_t delay_us;
    int64_t corrupt_at;
    int rule_line;
    char rule[64];
};

struct fs3_fault {
    struct env *env;
    struct fs3 *store;
    fs3_classify_fn classify;
    void *classify_arg;
    struct s3_ops ops;
    struct fs3f_rule *rules;
    size_t nrules, cap;
    struct fs3f_call *calls, *free_calls;
    uint64_t hits[S3_OP_COUNT][FS3_EFF_COUNT];
    uint64_t calls_by_op[S3_OP_COUNT];
    struct s3_requests received; /* calls accepted, by the job the request names and op */
    fs3_observe_fn observe;
    void *observe_arg;
};

static const char *const fs3_effect_names[FS3_EFF_COUNT] = {
    "none", "status", "timeout", "lost", "stall", "delay", "partial", "stale", "reset", "corrupt",
    "late",
};

const char *fs3_effect_name(enum fs3_effect eff)
{
    return (unsigned)eff < FS3_EFF_COUNT ? fs3_effect_names[eff] : "?";
}

void fs3_rule_init(struct fs3_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    rule->op = FS3_OP_ANY;
    rule->key_glob[0] = '*';
    rule->kind_mask = FS3_KIND_ANY;
    rule->match = FS3_MATCH_ALL;
    rule->prob = 1.0;
    rule->times = -1;
    rule->from_us = 0;
    rule->until_us = ENV_TIME_NEVER;
    rule->effect = FS3_EFF_NONE;
    rule->code = S3E_NONE;
    rule->corrupt_at = -1;
}

/* Iterative glob with one backtrack point, as '*' needs no more. */
bool fs3_glob_match(const char *glob, const char *name)
{
    const char *star = NULL, *resume = NULL;
    while (*name) {
        if (*glob == '*') {
            star = glob++;
            resume = name;
        } else if (*glob == '?' || *glob == *name) {
            glob++;
            name++;
        } else if (star) {
            glob = star + 1;
            name = ++resume;
        } else {
            return false;
        }
    }
    while (*glob == '*')
        glob++;
    return *glob == 0;
}

/* ---- Matching. ------------------------------------------------------------ */

static bool fs3f_key_ok(struct fs3_fault *f, const struct fs3_rule *r, const char *key)
{
    if (!fs3_glob_match(r->key_glob, key))
        return false;
    if ((r->kind_mask & FS3_KIND_ANY) == FS3_KIND_ANY)
        return true;
    return (f->classify ? f->classify(f->classify_arg, key) : FS3_KIND_NONE) & r->kind_mask;
}

/* Does the call's key (any key of a delete-many; a list's prefix) match? */
static bool fs3f_keys_match(struct fs3_fault *f, const struct fs3_rule *r,
                            const struct s3_req *req)
{
    if (r->key_glob[0] == '*' && !r->key_glob[1] &&
        (r->kind_mask & FS3_KIND_ANY) == FS3_KIND_ANY)
        return true;
    if (req->op == S3_OP_DELETE_MANY) {
        for (size_t i = 0; i < req->nkeys; i++)
            if (fs3f_key_ok(f, r, req->keys[i]))
                return true;
        return false;
    }
    if (req->op == S3_OP_LIST || req->op == S3_OP_LIST_UPLOADS)
        return fs3f_key_ok(f, r, req->prefix ? req->prefix : "");
    return fs3f_key_ok(f, r, req->key);
}

/* The kernel's should_fail(): counts the match and decides. */
static bool fs3f_rule_fires(struct fs3_fault *f, struct fs3f_rule *fr, const struct s3_req *req,
                            int64_t now)
{
    const struct fs3_rule *r = &fr->r;
    bool fire = false;
    if ((r->times >= 0 && fr->hits >= r->times) || (r->op != FS3_OP_ANY && r->op != (int)req->op) ||
        (r->job_mask && !(r->job_mask & (1u << (unsigned)req->job))) ||
        (r->effect == FS3_EFF_CORRUPT && req->op != S3_OP_GET) ||
        (r->effect == FS3_EFF_LATE && req->op != S3_OP_PUT && req->op != S3_OP_MPU_PART) ||
        now < r->from_us || now >= r->until_us || !fs3f_keys_match(f, r, req))
        return false;
    fr->seen++;
    switch (r->match) {
    case FS3_MATCH_ALL: fire = true; break;
    case FS3_MATCH_NTH: fire = fr->seen == r->n; break;
    case FS3_MATCH_AFTER: fire = fr->seen > r->n; break;
    case FS3_MATCH_PROB: fire = env_rand_unit(f->env) < r->prob; break;
    }
    if (fire)
        fr->hits++;
    return fire;
}

/* ---- Calls. --------------------------------------------------------------- */

static void fs3f_notify(struct fs3_fault *f, struct fs3f_call *c, enum fs3_outcome out,
                        const struct s3_result *res)
{
    const struct s3_req *req = c->late ? &c->late->req : c->req;
    struct fs3_call_info in;
    if (!f->observe)
        return;
    memset(&in, 0, sizeof in);
    in.op = req->op;
    in.job = req->job;
    if (req->op == S3_OP_LIST || req->op == S3_OP_LIST_UPLOADS)
        in.key = req->prefix ? req->prefix : "";
    else if (req->op == S3_OP_DELETE_MANY)
        in.key = req->nkeys ? req->keys[0] : "";
    else
        in.key = req->key;
    in.nkeys = req->op == S3_OP_DELETE_MANY ? req->nkeys : 0;
    in.keys = req->op == S3_OP_DELETE_MANY ? req->keys : NULL;
    if (req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART)
        in.bytes_sent = req->body_len;
    in.outcome = out;
    in.transport = S3_TR_TIMEOUT;
    if (res) {
        in.status = res->status;
        in.code = res->code;
        if (out == FS3_OUT_ANSWERED || out == FS3_OUT_LANDED) {
            in.transport = res->transport;
            in.bytes_received = res->body_len;
            for (size_t i = 0; req->op == S3_OP_DELETE_MANY && i < res->ndeleted; i++)
                in.nkey_errors += res->deleted[i].code != S3E_NONE;
            if (req->op == S3_OP_DELETE_MANY) {
                in.deleted = res->deleted;
                in.ndeleted = res->ndeleted;
            }
        }
    }
    in.effect = c->eff;
    in.rule = c->rule;
    in.rule_line = c->rule_line;
    in.submit_us = c->submit_us;
    in.answer_us = env_now(f->env);
    f->observe(f->observe_arg, &in);
}

/* ---- late=. ----------------------------------------------------------------- */

static void fs3f_late_free(struct fs3f_late *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->npieces; i++) {
        buf_unpin(l->pieces[i].b);
        free(l->pieces[i].copy);
    }
    free(l->pieces);
    free(l->key);
    free(l->upload_id);
    free(l->meta);
    free(l->if_match);
    free(l->if_none_match);
    free(l);
}

static int fs3f_dup(const char *s, char **out)
{
    *out = NULL;
    return s && !(*out = strdup(s)) ? ERR_NOMEM : 0;
}

/* Keeps bytes [p, p+len) of b (NULL: not in a buffer) for the landing. */
static int fs3f_late_piece(struct fs3f_late *l, struct buf *b, const uint8_t *p, size_t len)
{
    struct fs3f_piece *pc = &l->pieces[l->npieces];
    size_t off;
    memset(pc, 0, sizeof *pc);
    pc->len = len;
    if (b && buf_holds(b, p, len, &off)) {
        pc->b = b;
        pc->off = off;
        buf_pin(b);
    } else if (len && !(pc->copy = malloc(len))) {
        return ERR_NOMEM;
    } else if (len) {
        memcpy(pc->copy, p, len);
    }
    l->npieces++;
    return 0;
}

/* Copies what req will send when it lands (fs3f_late). */
static int fs3f_late_new(const struct s3_req *req, struct fs3f_late **out)
{
    struct fs3f_late *l = calloc(1, sizeof *l);
    size_t n = req->nsegs ? req->nsegs : 1;
    int rc;
    *out = NULL;
    if (!l || !(l->pieces = calloc(n, sizeof *l->pieces))) {
        free(l);
        return ERR_NOMEM;
    }
    l->req.op = req->op;
    l->req.job = req->job;
    l->req.body_len = req->body_len;
    l->req.cksum = req->cksum;
    l->req.part_number = req->part_number;
    if ((rc = fs3f_dup(req->key, &l->key)) || (rc = fs3f_dup(req->upload_id, &l->upload_id)) ||
        (rc = fs3f_dup(req->meta, &l->meta)) || (rc = fs3f_dup(req->if_match, &l->if_match)) ||
        (rc = fs3f_dup(req->if_none_match, &l->if_none_match)))
        goto fail;
    for (size_t i = 0; i < req->nsegs; i++)
        if ((rc = fs3f_late_piece(l, req->segs[i].b, req->segs[i].p, req->segs[i].len)))
            goto fail;
    if (!req->nsegs && (rc = fs3f_late_piece(l, req->body_buf, req->body, req->body_len)))
        goto fail;
    l->req.key = l->key;
    l->req.upload_id = l->upload_id;
    l->req.meta = l->meta;
    l->req.if_match = l->if_match;
    l->req.if_none_match = l->if_none_match;
    *out = l;
    return 0;
fail:
    fs3f_late_free(l);
    return rc;
}

/* The late call lands: its body read now, applied on the store, the observer
 * told; the caller hears nothing. */
static void fs3f_land(struct fs3_fault *f, struct fs3f_call *c)
{
    struct fs3f_late *l = c->late;
    struct s3_req sub = l->req;
    struct s3_result res;
    uint8_t *body = malloc(l->req.body_len ? l->req.body_len : 1);
    size_t at = 0;
    memset(&res, 0, sizeof res);
    if (!body) {
        res.transport = S3_TR_OTHER;
    } else {
        for (size_t i = 0; i < l->npieces; i++) {
            const struct fs3f_piece *pc = &l->pieces[i];
            if (pc->b)
                buf_read_now(pc->b, pc->off, pc->len, body + at);
            else if (pc->len)
                memcpy(body + at, pc->copy, pc->len);
            at += pc->len;
        }
        sub.body = body;
        if (fs3_exec(f->store, &sub, FS3_AS_OF_NOW, &res))
            res.transport = S3_TR_OTHER;
    }
    fs3f_notify(f, c, FS3_OUT_LANDED, &res);
    s3_result_cleanup(&res);
    free(body);
    c->late = NULL;
    fs3f_late_free(l);
}

static void fs3f_unlink(struct fs3_fault *f, struct fs3f_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        f->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = f->free_calls;
    f->free_calls = c;
}

static void fs3f_fail(struct s3_result *res, int status, enum s3_code code, const char *msg)
{
    s3_result_cleanup(res);
    memset(res->etag, 0, sizeof res->etag);
    memset(&res->cksum, 0, sizeof res->cksum);
    memset(res->upload_id, 0, sizeof res->upload_id);
    res->object_size = 0;
    res->truncated = false;
    res->next_token[0] = 0;
    res->transport = S3_TR_OK;
    res->status = status;
    res->code = code;
    snprintf(res->message, sizeof res->message, "%s", msg);
}

#define FS3F_PARTIAL_MSG "We encountered an internal error. Please try again."

static int fs3f_partial_delete_many(struct fs3_fault *f, const struct s3_req *req,
                                    struct s3_result *res)
{
    struct s3_req sub = *req;
    struct s3_delete_entry *d;
    int rc;
    if (req->nkeys == 0 || req->nkeys > S3_MAX_DELETE_KEYS)
        return fs3_exec(f->store, req, FS3_AS_OF_NOW, res);
    sub.nkeys = req->nkeys / 2;
    if (sub.nkeys && (rc = fs3_exec(f->store, &sub, FS3_AS_OF_NOW, res)))
        return rc;
    d = realloc(res->deleted, req->nkeys * sizeof *d);
    if (!d)
        return ERR_NOMEM;
    for (size_t i = sub.nkeys; i < req->nkeys; i++)
        d[i] = (struct s3_delete_entry){.key = req->keys[i], .code = S3E_INTERNAL_ERROR};
    res->deleted = d;
    res->ndeleted = req->nkeys;
    res->transport = S3_TR_OK;
    res->status = 200;
    return 0;
}

/* mpu-part / mpu-copy: store the first half, answer as the store does. */
static int fs3f_partial_part(struct fs3_fault *f, const struct s3_req *req, struct s3_result *res)
{
    struct s3_req sub = *req;
    uint64_t size, end;
    struct s3_seg *segs = NULL;
    int rc;
    if (req->op == S3_OP_MPU_PART && req->nsegs) { /* the first half of the pieces */
        size_t left = req->body_len / 2, n = 0;
        if (!(segs = malloc(req->nsegs * sizeof *segs)))
            return ERR_NOMEM;
        for (size_t i = 0; i < req->nsegs && left > 0; i++, n++) {
            segs[n] = req->segs[i];
            if (segs[n].len > left)
                segs[n].len = left;
            left -= segs[n].len;
        }
        sub.segs = segs;
        sub.nsegs = n;
        sub.body_len = req->body_len / 2;
        sub.segs_memo.alg = S3_CKSUM_NONE; /* taken over all of them */
        if (req->cksum.alg != S3_CKSUM_NONE)
            s3_checksum_segs(req->cksum.alg, segs, n, &sub.cksum);
    } else if (req->op == S3_OP_MPU_PART) {
        sub.body_len = req->body_len / 2;
        if (req->cksum.alg != S3_CKSUM_NONE)
            s3_checksum_compute(req->cksum.alg, req->body, sub.body_len, &sub.cksum);
    } else if (fs3_key_exists(f->store, req->copy_source, &size) &&
               (uint64_t)req->range_start < size) {
        end = req->range_end < 0 ? size : (uint64_t)req->range_end;
        if (end <= size && end - (uint64_t)req->range_start >= 2)
            sub.range_end = req->range_start + (int64_t)((end - (uint64_t)req->range_start) / 2);
    }
    rc = fs3_exec(f->store, &sub, FS3_AS_OF_NOW, res);
    free(segs);
    return rc;
}

static int fs3f_partial(struct fs3_fault *f, const struct s3_req *req, struct s3_result *res)
{
    int rc;
    switch (req->op) {
    case S3_OP_DELETE_MANY: return fs3f_partial_delete_many(f, req, res);
    case S3_OP_MPU_PART:
    case S3_OP_MPU_COPY: return fs3f_partial_part(f, req, res);
    case S3_OP_HEAD:
    case S3_OP_LIST: fs3f_fail(res, 500, S3E_INTERNAL_ERROR, FS3F_PARTIAL_MSG); return 0;
    default: break;
    }
    if ((rc = fs3_exec(f->store, req, FS3_AS_OF_NOW, res)) || !s3_result_ok(res))
        return rc;
    if (req->op == S3_OP_GET && s3_result_flatten(res))
        return ERR_NOMEM;
    if (req->op == S3_OP_GET)
        res->body_len /= 2;
    else
        fs3f_fail(res, 500, S3E_INTERNAL_ERROR, FS3F_PARTIAL_MSG);
    return 0;
}

/* corrupt: inverts one byte of a successful answer's body. */
static int fs3f_corrupt(struct fs3_fault *f, const struct fs3f_call *c, const struct s3_req *req,
                        struct s3_result *res)
{
    int rc = fs3_exec(f->store, req, FS3_AS_OF_NOW, res);
    if (!rc && s3_result_flatten(res)) /* pieces: damage one copy */
        return ERR_NOMEM;
    int64_t at = c->corrupt_at, len;
    if (rc || !s3_result_ok(res) || !res->body || res->body_len == 0)
        return rc;
    len = (int64_t)res->body_len;
    if (at < 0)
        at = at < -len ? 0 : len + at;
    if (at >= len)
        at = len - 1;
    if (res->body_ref) { /* the store's bytes, shared: damage a copy */
        uint8_t *copy = malloc(res->body_len);
        if (!copy)
            return ERR_NOMEM;
        memcpy(copy, res->body, res->body_len);
        buf_unref(res->body_ref);
        res->body_ref = NULL;
        res->body = copy;
    }
    res->body[at] ^= 0xff;
    return 0;
}

/* Builds the answer of c according to its effect. */
static int fs3f_answer(struct fs3_fault *f, struct fs3f_call *c, struct s3_result *res)
{
    const struct s3_req *req = c->req;
    switch (c->eff) {
    case FS3_EFF_STATUS:
        fs3f_fail(res, c->status, c->code ? c->code : s3_default_code(req->op, c->status),
                  "injected fault");
        return 0;
    case FS3_EFF_RESET: res->transport = S3_TR_RESET; return 0;
    case FS3_EFF_PARTIAL: return fs3f_partial(f, req, res);
    case FS3_EFF_CORRUPT: return fs3f_corrupt(f, c, req, res);
    case FS3_EFF_STALE: return fs3_exec(f->store, req, env_now(f->env) - c->stale_us, res);
    default: return fs3_exec(f->store, req, FS3_AS_OF_NOW, res);
    }
}

static void fs3f_fire(void *arg)
{
    struct fs3f_call *c = arg;
    struct fs3_fault *f = c->f;
    struct s3_req *req = c->req;
    struct s3_result res;
    memset(&res, 0, sizeof res);
    c->timer = 0;
    if (c->eff == FS3_EFF_LATE) {
        fs3f_land(f, c);
        if (!c->req) /* the caller gave up already */
            fs3f_unlink(f, c);
        return; /* else it stays swallowed, awaiting the caller's cancel */
    }
    if (c->eff == FS3_EFF_LOST) {
        /* The observer learns what the store did; the caller hears nothing. */
        if (fs3_exec(f->store, req, FS3_AS_OF_NOW, &res))
            res.transport = S3_TR_OTHER;
        c->swallowed = true;
        fs3f_notify(f, c, FS3_OUT_SWALLOWED, &res);
        s3_result_cleanup(&res);
        return;
    }
    if (fs3f_answer(f, c, &res)) {
        memset(&res, 0, sizeof res);
        res.transport = S3_TR_OTHER;
    }
    fs3f_notify(f, c, FS3_OUT_ANSWERED, &res);
    fs3f_unlink(f, c);
    fs3_inflight_add(f->store, -1);
    req->cb(req, &res);
    s3_result_cleanup(&res);
}

/* Tries the rules in order; fills c's effect from the first that fires. */
static void fs3f_match(struct fs3_fault *f, struct fs3f_call *c, const struct s3_req *req)
{
    c->eff = FS3_EFF_NONE;
    c->rule[0] = 0;
    c->rule_line = 0;
    for (size_t i = 0; i < f->nrules; i++) {
        struct fs3f_rule *fr = &f->rules[i];
        if (!fs3f_rule_fires(f, fr, req, c->submit_us))
            continue;
        c->eff = fr->r.effect;
        c->status = fr->r.status;
        c->code = fr->r.code;
        c->stale_us = fr->r.stale_us;
        c->delay_us = fr->r.delay_us;
        c->corrupt_at = fr->r.corrupt_at;
        c->rule_line = fr->r.line;
        memcpy(c->rule, fr->r.name, sizeof c->rule);
        c->rule[sizeof c->rule - 1] = 0;
        return;
    }
}

static int fs3f_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct fs3_fault *f = ops->impl;
    struct fs3f_call *c;
    int64_t delay;
    int rc = fs3_validate(req);
    if (rc)
        return rc;
    if ((c = f->free_calls))
        f->free_calls = c->next;
    else if (!(c = malloc(sizeof *c)))
        return ERR_NOMEM;
    c->f = f;
    c->req = req;
    c->late = NULL;
    c->timer = 0;
    c->swallowed = false;
    c->submit_us = env_now(f->env);
    fs3f_match(f, c, req);
    if (c->eff == FS3_EFF_LATE && (rc = fs3f_late_new(req, &c->late))) {
        c->next = f->free_calls;
        f->free_calls = c;
        return rc;
    }
    delay = fs3_draw_latency(f->store, req);
    c->prev = NULL;
    c->next = f->calls;
    if (f->calls)
        f->calls->prev = c;
    f->calls = c;
    if (c->eff == FS3_EFF_TIMEOUT || c->eff == FS3_EFF_STALL) {
        c->swallowed = true;
    } else {
        if (c->eff == FS3_EFF_DELAY || c->eff == FS3_EFF_LATE)
            delay += c->delay_us;
        c->swallowed = c->eff == FS3_EFF_LATE;
        c->timer = env_timer(f->env, delay, fs3f_fire, c);
        if (!c->timer) {
            fs3f_late_free(c->late);
            c->late = NULL;
            fs3f_unlink(f, c);
            return ERR_NOMEM;
        }
    }
    f->calls_by_op[req->op]++;
    f->received.n[(unsigned)req->job < S3_JOB_COUNT ? req->job : S3_JOB_OTHER][req->op]++;
    f->hits[req->op][c->eff]++;
    fs3_inflight_add(f->store, +1);
    if (c->swallowed)
        fs3f_notify(f, c, FS3_OUT_SWALLOWED, NULL);
    return 0;
}

static void fs3f_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct fs3_fault *f = ops->impl;
    for (struct fs3f_call *c = f->calls; c; c = c->next) {
        if (c->req != req)
            continue;
        if (c->late) { /* still travelling: it lands later, without the caller */
            c->req = NULL;
            fs3_inflight_add(f->store, -1);
            return;
        }
        env_cancel(f->env, c->timer);
        if (!c->swallowed)
            fs3f_notify(f, c, FS3_OUT_CANCELLED, NULL);
        fs3f_unlink(f, c);
        fs3_inflight_add(f->store, -1);
        return;
    }
}

/* ---- Rules and lifecycle. ------------------------------------------------- */

struct fs3_fault *fs3_fault_new(struct env *env, struct fs3 *store, fs3_classify_fn classify,
                                void *classify_arg)
{
    struct fs3_fault *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->env = env;
    f->store = store;
    f->classify = classify;
    f->classify_arg = classify_arg;
    f->ops.impl = f;
    f->ops.name = "fault";
    f->ops.submit = fs3f_submit;
    f->ops.cancel = fs3f_cancel;
    f->ops.segs_ok = true; /* the store's, passed on */
    return f;
}

void fs3_fault_free(struct fs3_fault *f)
{
    struct fs3f_call *c, *next;
    if (!f)
        return;
    for (c = f->calls; c; c = next) {
        next = c->next;
        env_cancel(f->env, c->timer);
        if (c->req) /* (a detached late call left the count at its cancel) */
            fs3_inflight_add(f->store, -1);
        fs3f_late_free(c->late); /* unlanded: its pins go */
        free(c);
    }
    for (c = f->free_calls; c; c = next) {
        next = c->next;
        free(c);
    }
    free(f->rules);
    free(f);
}

struct s3_ops *fs3_fault_ops(struct fs3_fault *f) { return &f->ops; }

static bool fs3f_rule_valid(const struct fs3_rule *r)
{
    if (r->op != FS3_OP_ANY && (r->op < 0 || r->op >= S3_OP_COUNT))
        return false;
    if (r->effect <= FS3_EFF_NONE || r->effect >= FS3_EFF_COUNT)
        return false;
    if (r->match == FS3_MATCH_PROB && !(r->prob >= 0.0 && r->prob <= 1.0))
        return false;
    if ((r->match == FS3_MATCH_NTH && r->n < 1) || (r->match == FS3_MATCH_AFTER && r->n < 0))
        return false;
    if (r->effect == FS3_EFF_STATUS && (r->status < 100 || r->status > 599))
        return false;
    if (r->effect == FS3_EFF_CORRUPT && r->op != FS3_OP_ANY && r->op != S3_OP_GET)
        return false;
    if (r->effect == FS3_EFF_LATE && r->op != FS3_OP_ANY && r->op != S3_OP_PUT &&
        r->op != S3_OP_MPU_PART)
        return false;
    if ((unsigned)r->code >= S3E_COUNT || r->times < -1 || r->delay_us < 0 || r->stale_us < 0)
        return false;
    return memchr(r->name, 0, sizeof r->name) && memchr(r->key_glob, 0, sizeof r->key_glob);
}

int fs3_fault_add(struct fs3_fault *f, const struct fs3_rule *rule)
{
    if (!fs3f_rule_valid(rule))
        return ERR_INVAL;
    if (f->nrules == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct fs3f_rule *n = realloc(f->rules, cap * sizeof *n);
        if (!n)
            return ERR_NOMEM;
        f->rules = n;
        f->cap = cap;
    }
    f->rules[f->nrules++] = (struct fs3f_rule){*rule, 0, 0};
    if (rule->effect == FS3_EFF_STALE)
        fs3_keep_history(f->store, rule->stale_us);
    return 0;
}

size_t fs3_fault_cut_late(struct fs3_fault *f)
{
    struct fs3f_call *c = f->calls, *next;
    size_t n = 0;
    for (; c; c = next) {
        next = c->next;
        if (!c->late || c->req)
            continue;
        env_cancel(f->env, c->timer);
        fs3f_late_free(c->late);
        c->late = NULL;
        fs3f_unlink(f, c);
        n++;
    }
    return n;
}

int fs3_fault_heal(struct fs3_fault *f, const char *name)
{
    size_t j = 0;
    int removed = 0;
    bool all = !name || !strcmp(name, "all");
    for (size_t i = 0; i < f->nrules; i++) {
        if (all || !strcmp(f->rules[i].r.name, name))
            removed++;
        else
            f->rules[j++] = f->rules[i];
    }
    f->nrules = j;
    return removed;
}

size_t fs3_fault_nrules(const struct fs3_fault *f) { return f->nrules; }

uint64_t fs3_fault_hits(const struct fs3_fault *f, int op, enum fs3_effect eff)
{
    uint64_t n = 0;
    if ((unsigned)eff >= FS3_EFF_COUNT)
        return 0;
    if (op != FS3_OP_ANY)
        return op >= 0 && op < S3_OP_COUNT ? f->hits[op][eff] : 0;
    for (int i = 0; i < S3_OP_COUNT; i++)
        n += f->hits[i][eff];
    return n;
}

uint64_t fs3_fault_calls(const struct fs3_fault *f, int op)
{
    uint64_t n = 0;
    if (op != FS3_OP_ANY)
        return op >= 0 && op < S3_OP_COUNT ? f->calls_by_op[op] : 0;
    for (int i = 0; i < S3_OP_COUNT; i++)
        n += f->calls_by_op[i];
    return n;
}

const struct s3_requests *fs3_fault_requests(const struct fs3_fault *f)
{
    return &f->received;
}

void fs3_fault_observe(struct fs3_fault *f, fs3_observe_fn fn, void *arg)
{
    f->observe = fn;
    f->observe_arg = arg;
}
