/* cln_ledger.c - the upload ledger: an s3_ops wrapper remembering open
 * multipart uploads by key (see cln.h). */
#include "cln.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "obj.h"

struct cln_ledger_entry {
    char key[OBJ_KEY_MAX];
    char upload_id[S3_UPLOAD_ID_MAX];
};

/* A watched call: our copy of the request, submitted to the inner ops. */
struct cln_ledger_call {
    struct cln_ledger *l;
    struct s3_req inner;
    struct s3_req *outer;
    struct cln_ledger_call *prev, *next;
};

struct cln_ledger {
    struct s3_ops ops;
    struct s3_ops *inner;
    struct cln_ledger_entry *v;
    size_t n, cap;
    struct cln_ledger_call *calls;
};

static bool cln_ledger_watched(enum s3_op op)
{
    return op == S3_OP_MPU_CREATE || op == S3_OP_MPU_COMPLETE || op == S3_OP_MPU_ABORT;
}

static void cln_ledger_add(struct cln_ledger *l, const char *key, const char *upload_id)
{
    if (!key || !upload_id[0])
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct cln_ledger_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return; /* not remembered: the upload will not be aborted by TTL */
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n].key, OBJ_KEY_MAX, "%s", key);
    snprintf(l->v[l->n].upload_id, S3_UPLOAD_ID_MAX, "%s", upload_id);
    l->n++;
}

static void cln_ledger_forget(struct cln_ledger *l, const char *upload_id)
{
    for (size_t i = 0; upload_id && i < l->n; i++) {
        if (strcmp(l->v[i].upload_id, upload_id) == 0) {
            l->v[i] = l->v[--l->n];
            return;
        }
    }
}

static void cln_ledger_unlink(struct cln_ledger_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->l->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void cln_ledger_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_ledger_call *c = req->arg;
    struct cln_ledger *l = c->l;
    struct s3_req *outer = c->outer;
    bool ok = s3_result_ok(res);
    if (req->op == S3_OP_MPU_CREATE && ok)
        cln_ledger_add(l, req->key, res->upload_id);
    else if (req->op != S3_OP_MPU_CREATE && (ok || res->code == S3E_NO_SUCH_UPLOAD))
        cln_ledger_forget(l, req->upload_id);
    cln_ledger_unlink(c);
    free(c);
    outer->cb(outer, res);
}

static int cln_ledger_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct cln_ledger *l = ops->impl;
    struct cln_ledger_call *c;
    int rc;
    if (!cln_ledger_watched(req->op))
        return l->inner->submit(l->inner, req);
    c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->l = l;
    c->outer = req;
    c->inner = *req;
    c->inner.cb = cln_ledger_cb;
    c->inner.arg = c;
    rc = l->inner->submit(l->inner, &c->inner);
    if (rc) {
        free(c);
        return rc;
    }
    c->next = l->calls;
    if (l->calls)
        l->calls->prev = c;
    l->calls = c;
    return 0;
}

static void cln_ledger_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct cln_ledger *l = ops->impl;
    if (!cln_ledger_watched(req->op)) {
        l->inner->cancel(l->inner, req);
        return;
    }
    for (struct cln_ledger_call *c = l->calls; c; c = c->next) {
        if (c->outer == req) {
            l->inner->cancel(l->inner, &c->inner);
            cln_ledger_unlink(c);
            free(c);
            return;
        }
    }
}

int cln_ledger_new(struct s3_ops *inner, struct cln_ledger **out)
{
    struct cln_ledger *l;
    if (!inner)
        return ERR_INVAL;
    l = calloc(1, sizeof *l);
    if (!l)
        return ERR_NOMEM;
    l->inner = inner;
    l->ops = (struct s3_ops){l, "ledger", cln_ledger_submit, cln_ledger_cancel, inner->segs_ok};
    *out = l;
    return 0;
}

void cln_ledger_free(struct cln_ledger *l)
{
    if (!l)
        return;
    while (l->calls) {
        struct cln_ledger_call *c = l->calls;
        l->inner->cancel(l->inner, &c->inner);
        cln_ledger_unlink(c);
        free(c);
    }
    free(l->v);
    free(l);
}

struct s3_ops *cln_ledger_ops(struct cln_ledger *l) { return &l->ops; }

size_t cln_ledger_uploads(void *arg, const char *key, char (*ids)[S3_UPLOAD_ID_MAX], size_t max)
{
    struct cln_ledger *l = arg;
    size_t k = 0;
    for (size_t i = 0; i < l->n && k < max; i++)
        if (strcmp(l->v[i].key, key) == 0)
            snprintf(ids[k++], S3_UPLOAD_ID_MAX, "%s", l->v[i].upload_id);
    return k;
}

size_t cln_ledger_open(const struct cln_ledger *l) { return l->n; }
