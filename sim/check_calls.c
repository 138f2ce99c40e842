/* check_calls.c - writes-once (docs/checks.md): the engine writes each object
 * key once and deletes it once, unless something failed.
 *
 * The observer (world.c) hands every call the fake S3 saw to
 * world_note_key_call; this file keeps, per key, how often it was written
 * (a PUT or a CompleteMultipartUpload that succeeded, or a late attempt that
 * landed), opened (CreateMultipartUpload), and deleted (a DELETE, or a
 * DeleteObjects entry without an error), and whether a call that changes the
 * key, or any such call of the same job, failed first (a job retries its
 * whole step: a composite whose own key could not be deleted has its links
 * deleted again, as AutoMQ's does).  A second success of the same kind with
 * no such failure before it, and no crash, restart, rpc-* hit or failed
 * allocation, is work the engine did twice: a duplicate delete trigger (F10), an upload sent
 * again after it succeeded, a retry of something that did not fail. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "world_int.h"

enum { K_WRITE, K_OPEN, K_DELETE, K_KINDS };
static const char *const kind_name[K_KINDS] = {"written", "opened for multipart upload",
                                               "deleted"};

struct key_rec {
    char *key;        /* NULL: empty slot */
    uint32_t n[K_KINDS];
    bool failed;      /* a call that changes the key failed (or was hit by a fault) */
};

struct world_keyset {
    struct key_rec *v;
    size_t cap, n;
    uint64_t repeats;       /* unexplained repeats */
    uint64_t calls;         /* successful writes, opens and deletes noted */
    char first[400];        /* the first repeat */
    bool oom;               /* the table could not grow: judged as not judged */
    bool job_failed[S3_JOB_COUNT]; /* a call of the job that changes a key failed */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static struct key_rec *slot(struct key_rec *v, size_t cap, const char *key)
{
    size_t i = (size_t)hash(key) & (cap - 1);
    while (v[i].key && strcmp(v[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &v[i];
}

static bool grow(struct world_keyset *k)
{
    size_t cap = k->cap ? 2 * k->cap : 1024;
    struct key_rec *v = calloc(cap, sizeof *v);
    if (!v)
        return false;
    for (size_t i = 0; i < k->cap; i++)
        if (k->v[i].key)
            *slot(v, cap, k->v[i].key) = k->v[i];
    free(k->v);
    k->v = v;
    k->cap = cap;
    return true;
}

static struct key_rec *get(struct world *w, const char *key)
{
    struct world_keyset *k = w->keyset;
    struct key_rec *r;
    if (!k && !(k = w->keyset = calloc(1, sizeof *k)))
        return NULL;
    if (k->oom || !key || !*key)
        return NULL;
    if (2 * (k->n + 1) > k->cap && !grow(k)) {
        k->oom = true;
        return NULL;
    }
    r = slot(k->v, k->cap, key);
    if (!r->key) {
        if (!(r->key = strdup(key))) {
            k->oom = true;
            return NULL;
        }
        k->n++;
    }
    return r;
}

/* Metadata requests the rpc-* rules disturbed. */
static bool rpc_hit(const struct world *w)
{
    for (size_t i = 0; i < w->nrpc; i++)
        if (w->rpc_rules[i].hits)
            return true;
    return false;
}

static void note(struct world *w, const char *key, unsigned job, int kind, bool ok)
{
    struct key_rec *r = get(w, key);
    struct world_keyset *k = w->keyset;
    char t[32];
    if (!r)
        return;
    if (!ok) {
        r->failed = true;
        k->job_failed[job] = true;
        return;
    }
    k->calls++;
    /* A write between two deletes (a late write the cleaner deletes again),
     * or a delete between two writes, makes the next one new work. */
    if (kind == K_DELETE)
        r->n[K_WRITE] = r->n[K_OPEN] = 0;
    else
        r->n[K_DELETE] = 0;
    /* cleaner.redelete.delay (ours, off in AutoMQ) deletes a TTL-expired
     * object's key a second time on purpose. */
    if (kind == K_DELETE && job == S3_JOB_CLEANER &&
        conf_get(&w->spec->conf, CONF_CLEANER_REDELETE) > 0)
        return;
    if (r->n[kind]++ == 0 || r->failed || k->job_failed[job] || w->disrupt_at >= 0 ||
        w->nomem_at >= 0 || rpc_hit(w))
        return;
    if (k->repeats++ == 0)
        snprintf(k->first, sizeof k->first, "%s %s %" PRIu32 " times (the last at %s) with no "
                 "failed call on it before", key, kind_name[kind], r->n[kind],
                 env_fmt_duration(w->now, t, sizeof t));
}

void world_note_key_call(struct world *w, const struct fs3_call_info *ci)
{
    unsigned job = (unsigned)ci->job < S3_JOB_COUNT ? (unsigned)ci->job : 0;
    /* Answered with success; a delay= fault only made it slow, but a
     * partial= one half-did it.  A late attempt that lands was hit at its
     * submit (and counted failed then); what it stored is a write. */
    bool ok = (ci->outcome == FS3_OUT_ANSWERED || ci->outcome == FS3_OUT_LANDED) &&
              ci->effect != FS3_EFF_PARTIAL && ci->transport == S3_TR_OK &&
              ci->status >= 200 && ci->status < 300 && ci->code == S3E_NONE;
    switch (ci->op) {
    case S3_OP_PUT:
    case S3_OP_MPU_COMPLETE: note(w, ci->key, job, K_WRITE, ok); break;
    case S3_OP_MPU_CREATE: note(w, ci->key, job, K_OPEN, ok); break;
    case S3_OP_MPU_PART:
    case S3_OP_MPU_COPY:
    case S3_OP_MPU_ABORT:
        if (!ok)
            note(w, ci->key, job, K_WRITE, false);
        break;
    case S3_OP_DELETE: note(w, ci->key, job, K_DELETE, ok); break;
    case S3_OP_DELETE_MANY:
        if (ok && ci->deleted) {
            for (size_t i = 0; i < ci->ndeleted; i++)
                note(w, ci->deleted[i].key, job, K_DELETE, ci->deleted[i].code == S3E_NONE);
        } else {
            for (size_t i = 0; ci->keys && i < ci->nkeys; i++)
                note(w, ci->keys[i], job, K_DELETE, false);
        }
        break;
    default: break;
    }
}

bool world_writes_once(struct world *w, char *detail, size_t dsz)
{
    struct world_keyset *k = w->keyset;
    if (k && k->repeats) {
        snprintf(detail, dsz, "%" PRIu64 " writes or deletes repeated a success, first: %s",
                 k->repeats, k->first);
        return false;
    }
    if (k && k->oom) {
        snprintf(detail, dsz, "not judged: out of memory while keeping the keys");
        return true;
    }
    snprintf(detail, dsz, "%" PRIu64 " writes, opens and deletes of %zu keys, none repeated",
             k ? k->calls : 0, k ? k->n : 0);
    return true;
}

void world_keyset_free(struct world *w)
{
    struct world_keyset *k = w->keyset;
    if (!k)
        return;
    for (size_t i = 0; i < k->cap; i++)
        free(k->v[i].key);
    free(k->v);
    free(k);
    w->keyset = NULL;
}
