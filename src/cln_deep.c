/* cln_deep.c - deep delete of composite objects (docs/engine.md
 * "Deleting a composite"): GET the whole composite, delete its linked objects (DeleteObjects,
 * <= 1000 keys a call), then the composite's own key (DeleteObject).  A 404
 * on the GET or on the last delete means an earlier attempt already did it
 * (unless conf.not_found_error: field bug F04).  Notified per group. */
#include "cln_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composite.h"
#include "err.h"

#define CLN_WHO "cleaner"

static void cln_deep_get_cb(struct s3_req *req, struct s3_result *res);
static void cln_deep_links_cb(struct s3_req *req, struct s3_result *res);
static void cln_deep_self_cb(struct s3_req *req, struct s3_result *res);

void cln__deep_free(struct cln_deep *d)
{
    free(d->lkeys);
    free(d->lkp);
    d->lkeys = NULL;
    d->lkp = NULL;
    d->nlinks = 0;
}

/* A group whose composites all finished: notify (remove) when all succeeded. */
static void cln_group_done(struct cln_clean *cl, size_t g)
{
    struct cln *c = cl->c;
    size_t first = g * CLN_GROUP, n = 0, removed = 0;
    int64_t ids[CLN_GROUP];
    if (cl->group_failed[g]) {
        env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "clean %" PRIu64 ": a composite of group %zu "
                 "failed: the group is not notified and will be retried", cl->seq, g);
        return;
    }
    for (size_t i = first; i < cl->ndeeps && i < first + CLN_GROUP; i++)
        ids[n++] = cl->deeps[i].id;
    if (ctl_remove(c->ctl, ids, n, &removed) == 0) {
        c->stats.deleted += removed;
        env_eventf(c->env, ENV_LANE_CLEANER, ENV_EVENT_INSTANT, cl->seq, false,
                   "cleaner removed %zu composites after deep delete", removed);
    }
}

/* The exception AutoMQ logs for a composite whose GET answered 404 (the seed
 * report of F04, before #1920 renamed ObjectNotFoundException). */
#define CLN_EXC_NOT_FOUND                                                                        \
    "java.util.concurrent.CompletionException: com.automq.stream.s3.operator.ObjectStorage$"   \
    "ObjectNotFoundException: software.amazon.awssdk.services.s3.model.NoSuchKeyException: "   \
    "The specified key does not exist."

/* Other S3 failures: an SDK S3Exception wrapped by the future. */
#define CLN_EXC_S3                                                                                \
    "java.util.concurrent.CompletionException: software.amazon.awssdk.services.s3.model."      \
    "S3Exception: "

/* The composite's delete ended with rc (0: its S3 keys are gone).  A failure
 * is logged as AutoMQ's CompositeObject.delete does: at error, the object's
 * metadata on one line, the exception (cause, a Java exception line) as the
 * next line at the same level. */
static void cln_deep_finish(struct cln_deep *d, int rc, const char *cause)
{
    struct cln_clean *cl = d->cl;
    struct cln *c = cl->c;
    char meta[192];
    d->stage = CLN_DEEP_DONE;
    d->rc = rc;
    cln__deep_free(d);
    cl->deep_running--;
    if (rc == 0) {
        cln__succeeded(c, d->id);
        c->stats.composites++;
    } else {
        cln__metadata(meta, sizeof meta, d->id);
        cln__failed(c, d->id);
        cl->group_failed[d->group] = true;
        /* One event, as AutoMQ's LOGGER.error(msg, ex): the exception on the same line. */
        env_logf(c->env, ENV_LOG_ERROR, CLN_WHO, "Delete composite object %s fail: %s", meta,
                 cause);
    }
    if (--cl->group_left[d->group] == 0)
        cln_group_done(cl, d->group);
    /* The extra part keeps cl alive while the pump may finish others. */
    cl->parts_left++;
    cln__deep_pump(cl);
    cln__part_done(cl);
    cln__part_done(cl);
}

static void cln_deep_self(struct cln_deep *d)
{
    struct cln *c = d->cl->c;
    memset(&d->req, 0, sizeof d->req);
    d->req.job = S3_JOB_CLEANER;
    d->req.key = d->key;
    d->stage = CLN_DEEP_SELF;
    c->stats.delete_calls++;
    if (s3_delete(s3c_ops(c->s3c), &d->req, cln_deep_self_cb, d) != 0)
        cln_deep_finish(d, ERR_NOMEM, "java.util.concurrent.CompletionException: java.lang.IllegalStateException: could not submit the DeleteObject");
}

static void cln_deep_links(struct cln_deep *d)
{
    struct cln *c = d->cl->c;
    if (d->nlinks == 0) {
        cln_deep_self(d);
        return;
    }
    memset(&d->req, 0, sizeof d->req);
    d->req.job = S3_JOB_CLEANER;
    d->req.key = d->lkp[0];
    d->req.keys = d->lkp;
    d->req.nkeys = d->nlinks;
    d->stage = CLN_DEEP_LINKS;
    c->stats.delete_calls += (d->nlinks + CLN_MAX_KEYS - 1) / CLN_MAX_KEYS;
    if (s3_delete_many(s3c_ops(c->s3c), &d->req, cln_deep_links_cb, d) != 0)
        cln_deep_finish(d, ERR_NOMEM, "java.util.concurrent.CompletionException: java.lang.IllegalStateException: could not submit the DeleteObjects of its links");
}

static int cln_deep_alloc_links(struct cln_deep *d, size_t n)
{
    d->lkeys = malloc((n ? n : 1) * sizeof *d->lkeys);
    d->lkp = malloc((n ? n : 1) * sizeof *d->lkp);
    if (!d->lkeys || !d->lkp) {
        cln__deep_free(d);
        return ERR_NOMEM;
    }
    d->nlinks = 0;
    return 0;
}

static void cln_deep_add_link(struct cln_deep *d, const char *ns, int64_t id)
{
    if (obj_key(id, ns, d->lkeys[d->nlinks], OBJ_KEY_MAX) != 0)
        return;
    d->lkp[d->nlinks] = d->lkeys[d->nlinks];
    d->nlinks++;
}

/* Links the metadata still gives to this composite. */
struct cln_meta_links {
    struct cln_deep *d;
    const char *ns;
};

static int cln_meta_link(void *arg, const struct meta_link *l, int64_t composite)
{
    struct cln_meta_links *m = arg;
    if (composite == m->d->id)
        cln_deep_add_link(m->d, m->ns, l->id);
    return 0;
}

/* The composite's own key is gone: an earlier attempt deleted its links and
 * then itself.  For safety, links the metadata still gives it are deleted
 * again (idempotent) before it is reported done. */
static void cln_deep_already_gone(struct cln_deep *d)
{
    struct cln *c = d->cl->c;
    const struct meta_object *o = ctl_object_get(c->ctl, d->id);
    struct cln_meta_links ml = {d, ctl_namespace(c->ctl)};
    char meta[192];
    cln__metadata(meta, sizeof meta, d->id);
    env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "Composite object %s not found (NoSuchKey): already "
             "deleted, treated as success", meta);
    if (!c->conf.gone_links || !o || o->nlinks == 0 || cln_deep_alloc_links(d, o->nlinks) != 0) {
        cln_deep_finish(d, 0, "");
        return;
    }
    ctl_foreach_link(c->ctl, cln_meta_link, &ml);
    if (d->nlinks == 0) {
        cln__deep_free(d);
        cln_deep_finish(d, 0, "");
        return;
    }
    d->key[0] = 0; /* no self delete: it is gone */
    cln_deep_links(d);
}

static void cln_deep_get_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_deep *d = req->arg;
    struct cln *c = d->cl->c;
    struct cobj co;
    char cause[320];
    int rc = s3c_result_err(res);
    /* Gone only when S3 says NoSuchKey, as in AutoMQ: only NoSuchKeyException on
     * GetObject becomes ObjectNotExistException, which CompositeObject.delete
     * takes as "already deleted"; a 404 with another code (NoSuchBucket, a
     * proxy's 404) fails the deep delete, retried later. */
    if (rc == ERR_NOTFOUND && res->code == S3E_NO_SUCH_KEY) {
        if (c->conf.not_found_error)
            cln_deep_finish(d, rc, CLN_EXC_NOT_FOUND);
        else
            cln_deep_already_gone(d);
        return;
    }
    if (rc) {
        snprintf(cause, sizeof cause, CLN_EXC_S3 "%s (Service: S3, Status Code: %d, code: %s)",
                 err_str(rc), res->status, s3_code_name(res->code));
        cln_deep_finish(d, rc, cause);
        return;
    }
    rc = cobj_parse(res->body, res->body_len, 0, &co);
    if (rc) {
        cln_deep_finish(d, rc, "java.util.concurrent.CompletionException: java.lang.IllegalArgumentException: the composite object is malformed");
        return;
    }
    if (cln_deep_alloc_links(d, co.nlinks) != 0) {
        cobj_free(&co);
        cln_deep_finish(d, ERR_NOMEM, "java.util.concurrent.CompletionException: java.lang.OutOfMemoryError: out of memory");
        return;
    }
    for (size_t i = 0; i < co.nlinks; i++)
        cln_deep_add_link(d, ctl_namespace(c->ctl), co.links[i].id);
    cobj_free(&co);
    cln_deep_links(d);
}

static void cln_deep_links_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_deep *d = req->arg;
    char cause[320];
    if (res->transport != S3_TR_OK || res->status < 200 || res->status >= 300 ||
        res->code != S3E_NONE) {
        snprintf(cause, sizeof cause, CLN_EXC_S3 "delete of %zu linked objects failed: %s",
                 d->nlinks, res->message[0] ? res->message : s3_code_name(res->code));
        cln_deep_finish(d, ERR_S3, cause);
        return;
    }
    if (!d->key[0]) {
        cln_deep_finish(d, 0, "");
        return;
    }
    cln_deep_self(d);
}

static void cln_deep_self_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_deep *d = req->arg;
    struct cln *c = d->cl->c;
    char cause[320];
    int rc = s3c_result_err(res);
    if (rc == ERR_NOTFOUND && !c->conf.not_found_error)
        rc = 0; /* gone already: the goal is reached */
    if (rc == 0) {
        env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "Delete composite object 0/%" PRId64
                 " success, linked objects: %zu", d->id, d->nlinks);
        cln_deep_finish(d, 0, "");
        return;
    }
    snprintf(cause, sizeof cause, CLN_EXC_S3 "%s (Service: S3, Status Code: %d, code: %s)",
             err_str(rc), res->status, s3_code_name(res->code));
    cln_deep_finish(d, rc, cause);
}

static void cln_deep_start(struct cln_deep *d)
{
    struct cln *c = d->cl->c;
    memset(&d->req, 0, sizeof d->req);
    d->req.job = S3_JOB_CLEANER;
    d->req.key = d->key;
    d->req.range_start = 0;
    d->req.range_end = -1;
    d->stage = CLN_DEEP_GET;
    d->cl->deep_running++;
    if (s3_get(s3c_ops(c->s3c), &d->req, cln_deep_get_cb, d) != 0)
        cln_deep_finish(d, ERR_NOMEM, "java.util.concurrent.CompletionException: java.lang.IllegalStateException: could not submit the GET of the composite");
}

/* Starts composites until cleaner.deep.concurrency run (all at once when
 * unlimited, as AutoMQ does). */
void cln__deep_pump(struct cln_clean *cl)
{
    int lim = cl->c->conf.deep_concurrency; /* AutoMQ: unlimited (-1) */
    while ((lim < 0 || cl->deep_running < (size_t)lim) && cl->deep_next < cl->ndeeps)
        cln_deep_start(&cl->deeps[cl->deep_next++]);
}
