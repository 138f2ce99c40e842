/* cln_redel.c - the cleaner's second delete of the keys of TTL-expired
 * objects, against late writes (see cln.h, "Late writes"). */
#include "cln_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define CLN_WHO "cleaner"

/* cleaner.redelete.delay, at least one attempt timeout (s3.op.timeout): a
 * writer's attempt may land that long after it was sent. */
static int64_t cln_redel_delay(const struct cln *c)
{
    int64_t t = c->conf.s3c.op_timeout_us;
    return t != ENV_TIME_NEVER && t > c->conf.redelete_us ? t : c->conf.redelete_us;
}

void cln__redel_add(struct cln *c, const char *key)
{
    struct cln_redel *r;
    if (c->conf.redelete_us <= 0 || !key || !key[0])
        return;
    if (c->nredel == c->capredel) {
        size_t n = c->capredel ? c->capredel * 2 : 16;
        r = realloc(c->redel, n * sizeof *r);
        if (!r) {
            env_logf(c->env, ENV_LOG_WARN, CLN_WHO, "out of memory: %s is not deleted again, "
                     "so a late write of it would stay", key);
            return;
        }
        c->redel = r;
        c->capredel = n;
    }
    r = &c->redel[c->nredel++];
    r->at = env_now(c->env) + cln_redel_delay(c);
    snprintf(r->key, sizeof r->key, "%s", key);
}

size_t cln_redeletes_pending(const struct cln *c) { return c->nredel + c->redel_n; }

static void cln_redel_end(struct cln *c)
{
    env_wait_end(c->env, c->redel_wait);
    c->redel_wait = 0;
    c->redel_busy = false;
    c->redel_n = 0;
}

/* Keys whose second delete failed go back to the list, retried later. */
static void cln_redel_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln *c = req->arg;
    bool whole_ok = res->transport == S3_TR_OK && res->status >= 200 && res->status < 300 &&
                    res->ndeleted == c->redel_n;
    size_t n = c->redel_n, nfail = 0;
    int64_t again = c->conf.backoff_us > 0 ? c->conf.backoff_us : ENV_USEC_PER_SEC;
    c->redel_n = 0;
    for (size_t i = 0; i < n; i++) {
        enum s3_code code = whole_ok ? res->deleted[i].code : S3E_NONE;
        if (whole_ok && (code == S3E_NONE || code == S3E_NO_SUCH_KEY)) {
            c->stats.redeletes++;
            continue;
        }
        nfail++;
        cln__redel_add(c, c->redel_keys[i]);
        if (c->nredel)
            c->redel[c->nredel - 1].at = env_now(c->env) + again;
    }
    if (nfail)
        env_logf(c->env, ENV_LOG_WARN, CLN_WHO, "second delete of %zu keys of expired objects "
                 "failed (%s); retried later", nfail, err_str(s3c_result_err(res)));
    else
        env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "deleted %zu keys of TTL-expired objects a "
                 "second time, first %s (a late write of them is gone)", n, c->redel_keys[0]);
    cln_redel_end(c);
}

/* Moves the due keys (at most CLN_MAX_KEYS) out of the list, in order. */
static size_t cln_redel_take(struct cln *c)
{
    int64_t now = env_now(c->env);
    size_t k = 0, j = 0;
    for (size_t i = 0; i < c->nredel; i++) {
        if (c->redel[i].at <= now && k < CLN_MAX_KEYS) {
            memcpy(c->redel_keys[k], c->redel[i].key, OBJ_KEY_MAX);
            c->redel_kp[k] = c->redel_keys[k];
            k++;
        } else {
            c->redel[j++] = c->redel[i];
        }
    }
    c->nredel = j;
    return k;
}

void cln__redel_pump(struct cln *c)
{
    size_t n;
    if (c->redel_busy || c->nredel == 0 || !c->s3c)
        return;
    if (!c->redel_keys) {
        c->redel_keys = malloc(CLN_MAX_KEYS * sizeof *c->redel_keys);
        c->redel_kp = malloc(CLN_MAX_KEYS * sizeof *c->redel_kp);
        if (!c->redel_keys || !c->redel_kp) {
            free(c->redel_keys), free(c->redel_kp);
            c->redel_keys = NULL, c->redel_kp = NULL;
            return;
        }
    }
    n = cln_redel_take(c);
    if (n == 0)
        return;
    memset(&c->redel_req, 0, sizeof c->redel_req);
    c->redel_req.job = S3_JOB_CLEANER;
    c->redel_req.key = c->redel_kp[0];
    c->redel_req.keys = c->redel_kp;
    c->redel_req.nkeys = n;
    c->redel_n = n;
    c->stats.delete_calls++;
    if (s3_delete_many(s3c_ops(c->s3c), &c->redel_req, cln_redel_cb, c) != 0) {
        for (size_t i = 0; i < n; i++)
            cln__redel_add(c, c->redel_keys[i]); /* retried after the delay */
        c->redel_n = 0;
        return;
    }
    c->redel_busy = true;
    c->redel_wait = env_wait_beginf(c->env, CLN_WHO, "second delete of %zu keys of objects expired "
                                    "by their TTL (against late writes)", n);
}

void cln__redel_drop(struct cln *c)
{
    if (c->redel_busy)
        cln_redel_end(c);
    c->nredel = 0;
}

void cln__redel_free(struct cln *c)
{
    free(c->redel);
    free(c->redel_keys);
    free(c->redel_kp);
    c->redel = NULL;
    c->redel_keys = NULL;
    c->redel_kp = NULL;
    c->nredel = c->capredel = 0;
}
