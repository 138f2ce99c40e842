/* store_ver.c - versioning and object lock of the fake S3's bucket (fs3.h
 * "Versioning and object lock").
 *
 * The plain store (store.c) keeps one current object per key and knows
 * nothing of versions.  A versioned bucket adds, per key, the list of its
 * versions, newest first, each holding its own fs3_obj that shares the bytes
 * (segments by reference) with the current object: the current object stays
 * the plain store's (so GET, LIST, the stale view and the inspection calls
 * are the plain ones), and this file keeps the list in step with it:
 *   - a write (put, complete) runs the plain path, then records the object
 *     it made as a new version (Enabled) or as the null version (Suspended);
 *   - a delete without version id pushes a delete marker and removes the
 *     current object;
 *   - a delete by version id drops that version; when it was the newest the
 *     next one becomes the current object again (or none, for a marker).
 * A key written before versioning was enabled gets its object recorded as the
 * null version the first time it is touched afterwards.
 * A bucket that never had versioning has s->ver NULL and never comes here
 * unless a request names a version (then every object is its null version). */
#include "err.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fs3_version {
    struct fs3_version *next;     /* the next older version */
    char id[S3_VERSION_ID_MAX];   /* "null" or 32 characters */
    struct fs3_obj *obj;          /* NULL: a delete marker */
    int64_t mtime;                /* when it was made */
    struct fs3_version_lock lock; /* retention and legal hold */
};

struct fs3_vkey {
    struct fs3_hnode h;
    struct fs3_version *head; /* newest first, never NULL while in the table */
    char keybuf[];
};

struct fs3_verset {
    enum fs3_versioning state;
    bool lock;
    enum fs3_lock_mode def_mode;
    int def_days, def_years;
    uint64_t seq;          /* version ids */
    struct fs3_tab keys;   /* struct fs3_vkey */
    uint64_t nversions;    /* versions and markers kept */
};

static const char fs3_vid_alpha[] = "0123456789abcdefghijklmnopqrstuv";

/* ---- the version lists ------------------------------------------------------ */

static struct fs3_verset *fs3_verset(struct fs3 *s)
{
    if (!s->ver && (s->ver = calloc(1, sizeof *s->ver)) != NULL)
        s->ver->state = FS3_VER_OFF;
    return s->ver;
}

static struct fs3_vkey *fs3_vkey_find(struct fs3 *s, const char *key)
{
    size_t klen = strlen(key);
    if (!s->ver)
        return NULL;
    return (struct fs3_vkey *)fs3_tab_get(&s->ver->keys, key, klen, fs3_hash(key, klen));
}

static struct fs3_vkey *fs3_vkey_get(struct fs3 *s, const char *key)
{
    struct fs3_vkey *k = fs3_vkey_find(s, key);
    size_t klen = strlen(key);
    if (k)
        return k;
    if (!(k = malloc(sizeof *k + klen + 1)))
        return NULL;
    memcpy(k->keybuf, key, klen + 1);
    k->h = (struct fs3_hnode){fs3_hash(key, klen), (uint32_t)klen, k->keybuf};
    k->head = NULL;
    if (fs3_tab_put(&s->ver->keys, &k->h)) {
        free(k);
        return NULL;
    }
    return k;
}

static void fs3_version_free(struct fs3 *s, struct fs3_version *v)
{
    fs3_obj_free(v->obj);
    free(v);
    s->ver->nversions--;
}

/* Drops k from the table when it has no version left. */
static void fs3_vkey_tidy(struct fs3 *s, struct fs3_vkey *k)
{
    if (k->head)
        return;
    fs3_tab_del(&s->ver->keys, &k->h);
    free(k);
}

/* A copy of o sharing its bytes. */
static struct fs3_obj *fs3_obj_clone(const struct fs3_obj *o)
{
    struct fs3_obj *c = fs3_obj_new(o->size);
    if (!c)
        return NULL;
    c->nparts = o->nparts;
    c->mtime = o->mtime;
    memcpy(c->etag, o->etag, sizeof c->etag);
    if ((o->part_sizes && !(c->part_sizes = malloc(o->nparts * sizeof *c->part_sizes))) ||
        (o->meta && !(c->meta = strdup(o->meta))) ||
        fs3_segs_slice(&c->segs, &o->segs, 0, o->size)) {
        fs3_obj_free(c);
        return NULL;
    }
    if (o->part_sizes)
        memcpy(c->part_sizes, o->part_sizes, o->nparts * sizeof *c->part_sizes);
    return c;
}

static void fs3_vid_new(struct fs3 *s, char out[S3_VERSION_ID_MAX])
{
    uint64_t a = ++s->ver->seq * UINT64_C(0x9e3779b97f4a7c15), b = a ^ (a >> 29) ^ s->ver->seq;
    for (int i = 0; i < 32; i++) {
        uint64_t *w = i < 16 ? &a : &b;
        out[i] = fs3_vid_alpha[*w & 31];
        *w = (*w >> 5) | (*w << 59);
    }
    out[32] = 0;
}

/* "null", or 32 characters of the alphabet. */
static bool fs3_vid_ok(const char *id)
{
    if (strcmp(id, "null") == 0)
        return true;
    if (strlen(id) != 32)
        return false;
    for (const char *p = id; *p; p++)
        if (!strchr(fs3_vid_alpha, *p))
            return false;
    return true;
}

/* Records the current object of a key that has no version list yet (written
 * before versioning, or in a bucket without it) as its null version. */
static int fs3_adopt(struct fs3 *s, const char *key)
{
    struct fs3_obj *o = fs3_lookup(s, key, FS3_AS_OF_NOW);
    struct fs3_vkey *k;
    struct fs3_version *v;
    if (!o || fs3_vkey_find(s, key))
        return 0;
    if (!(k = fs3_vkey_get(s, key)))
        return ERR_NOMEM;
    if (!(v = calloc(1, sizeof *v)) || !(v->obj = fs3_obj_clone(o))) {
        free(v);
        fs3_vkey_tidy(s, k);
        return ERR_NOMEM;
    }
    snprintf(v->id, sizeof v->id, "null");
    v->mtime = o->mtime;
    k->head = v;
    s->ver->nversions++;
    return 0;
}

/* Unlinks (without freeing) the version named id from k. */
static struct fs3_version *fs3_unlink(struct fs3_vkey *k, const char *id)
{
    for (struct fs3_version **pv = &k->head; *pv; pv = &(*pv)->next) {
        if (strcmp((*pv)->id, id) == 0) {
            struct fs3_version *v = *pv;
            *pv = v->next;
            v->next = NULL;
            return v;
        }
    }
    return NULL;
}

static struct fs3_version *fs3_version_find(struct fs3_vkey *k, const char *id)
{
    for (struct fs3_version *v = k ? k->head : NULL; v; v = v->next)
        if (strcmp(v->id, id) == 0)
            return v;
    return NULL;
}

/* Pushes a new newest version of key: a copy of obj (NULL: a delete marker),
 * with a new id (Enabled) or as the null version (Suspended: the previous
 * null version is dropped).  Its id into vid. */
static int fs3_push(struct fs3 *s, const char *key, const struct fs3_obj *obj, int64_t mtime,
                    char vid[S3_VERSION_ID_MAX])
{
    struct fs3_vkey *k = fs3_vkey_get(s, key);
    struct fs3_version *v;
    if (!k)
        return ERR_NOMEM;
    if (!(v = calloc(1, sizeof *v)) || (obj && !(v->obj = fs3_obj_clone(obj)))) {
        free(v);
        fs3_vkey_tidy(s, k);
        return ERR_NOMEM;
    }
    if (s->ver->state == FS3_VER_SUSPENDED) {
        struct fs3_version *old = fs3_unlink(k, "null");
        if (old)
            fs3_version_free(s, old);
        snprintf(v->id, sizeof v->id, "null");
    } else {
        fs3_vid_new(s, v->id);
    }
    v->mtime = mtime;
    if (obj && s->ver->lock && s->ver->def_mode != FS3_LOCK_NONE) {
        int64_t days = s->ver->def_days ? s->ver->def_days : (int64_t)s->ver->def_years * 365;
        v->lock.mode = s->ver->def_mode;
        v->lock.until_us = mtime + days * 86400 * ENV_USEC_PER_SEC;
    }
    v->next = k->head;
    k->head = v;
    s->ver->nversions++;
    memcpy(vid, v->id, S3_VERSION_ID_MAX);
    return 0;
}

/* Whether the lock keeps v from being deleted now. */
static bool fs3_locked(struct fs3 *s, const struct fs3_version *v, bool bypass)
{
    if (v->lock.legal_hold)
        return true;
    if (v->lock.mode == FS3_LOCK_NONE || env_now(s->env) >= v->lock.until_us)
        return false;
    return !(v->lock.mode == FS3_LOCK_GOVERNANCE && bypass);
}

/* ---- deletes ----------------------------------------------------------------- */

struct fs3_del {
    enum s3_code code; /* S3E_NONE: done */
    int status;
    char vid[S3_VERSION_ID_MAX];
    bool marker;
};

/* Deletes version vid of key for good. */
static int fs3_delete_version(struct fs3 *s, const char *key, const char *vid, bool bypass,
                              struct fs3_del *d)
{
    struct fs3_vkey *k;
    struct fs3_version *v;
    int rc;
    d->status = 204;
    snprintf(d->vid, sizeof d->vid, "%s", vid);
    if (!fs3_vid_ok(vid)) {
        d->code = S3E_INVALID_ARGUMENT;
        d->status = 400;
        return 0;
    }
    if (!fs3_verset(s))
        return ERR_NOMEM;
    if ((rc = fs3_adopt(s, key)) != 0)
        return rc;
    k = fs3_vkey_find(s, key);
    if (!(v = fs3_version_find(k, vid)))
        return 0; /* S3: deleting a version that is not there is a success */
    if (v->obj && fs3_locked(s, v, bypass)) {
        d->code = S3E_ACCESS_DENIED;
        d->status = 403;
        return 0;
    }
    if (v == k->head) {
        struct fs3_version *next = v->next;
        struct fs3_obj *o = next && next->obj ? fs3_obj_clone(next->obj) : NULL;
        if (next && next->obj && !o)
            return ERR_NOMEM;
        if ((rc = fs3_set(s, key, strlen(key), o)) != 0)
            return rc;
        if (o) /* the version keeps its own time */
            o->mtime = next->mtime;
    }
    fs3_unlink(k, vid);
    d->marker = !v->obj;
    fs3_version_free(s, v);
    fs3_vkey_tidy(s, k);
    return 0;
}

/* A delete without version id: a delete marker (versioning on), or the plain
 * delete (a bucket whose versioning was never turned on). */
static int fs3_delete_current(struct fs3 *s, const char *key, struct fs3_del *d)
{
    int rc;
    d->status = 204;
    if ((rc = fs3_adopt(s, key)) != 0 || (rc = fs3_push(s, key, NULL, env_now(s->env), d->vid)))
        return rc;
    d->marker = true;
    return fs3_set(s, key, strlen(key), NULL);
}

int fs3_ver_expire(struct fs3 *s, const char *key)
{
    struct fs3_del d = {0};
    if (!s->ver || s->ver->state == FS3_VER_OFF)
        return fs3_set(s, key, strlen(key), NULL);
    return fs3_delete_current(s, key, &d);
}

static int fs3_ver_delete(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_del d = {0};
    int rc;
    if (strlen(req->key) > S3_MAX_KEY) {
        fs3_res_error(res, 400, S3E_INVALID_ARGUMENT, "KeyTooLongError: Your key is too long");
        return 0;
    }
    if (req->version_id)
        rc = fs3_delete_version(s, req->key, req->version_id, req->bypass_governance, &d);
    else if (!s->ver || s->ver->state == FS3_VER_OFF)
        return fs3_exec_plain(s, req, FS3_AS_OF_NOW, res);
    else
        rc = fs3_delete_current(s, req->key, &d);
    if (rc)
        return rc;
    if (d.code != S3E_NONE) {
        fs3_res_error(res, d.status, d.code,
                      d.code == S3E_ACCESS_DENIED ? "Access Denied"
                                                  : "Invalid version id specified");
        return 0;
    }
    res->status = 204;
    memcpy(res->version_id, d.vid, sizeof res->version_id);
    res->delete_marker = d.marker;
    return 0;
}

static int fs3_ver_delete_many(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    bool plain = !s->ver || s->ver->state == FS3_VER_OFF;
    if (req->nkeys == 0 || req->nkeys > S3_MAX_DELETE_KEYS || (plain && !req->version_ids))
        return fs3_exec_plain(s, req, FS3_AS_OF_NOW, res);
    res->deleted = calloc(req->nkeys, sizeof *res->deleted);
    if (!res->deleted)
        return ERR_NOMEM;
    res->ndeleted = req->nkeys;
    for (size_t i = 0; i < req->nkeys; i++) {
        const char *vid = req->version_ids ? req->version_ids[i] : NULL;
        struct fs3_del d = {0};
        int rc;
        res->deleted[i].key = req->keys[i];
        if (strlen(req->keys[i]) > S3_MAX_KEY) {
            res->deleted[i].code = S3E_INVALID_ARGUMENT;
            continue;
        }
        if (vid)
            rc = fs3_delete_version(s, req->keys[i], vid, req->bypass_governance, &d);
        else if (plain)
            rc = fs3_set(s, req->keys[i], strlen(req->keys[i]), NULL);
        else
            rc = fs3_delete_current(s, req->keys[i], &d);
        res->deleted[i].code = rc ? S3E_INTERNAL_ERROR : d.code;
        memcpy(res->deleted[i].version_id, d.vid, sizeof d.vid);
        res->deleted[i].delete_marker = d.marker;
    }
    res->status = 200;
    return 0;
}

/* ---- reads and writes ---------------------------------------------------------- */

/* get or head of version vid. */
static int fs3_read_version(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    const char *vid = req->version_id;
    struct fs3_vkey *k = fs3_vkey_find(s, req->key);
    struct fs3_version *v = fs3_version_find(k, vid);
    struct fs3_obj *o;
    if (!fs3_vid_ok(vid)) {
        fs3_res_error(res, 400, S3E_INVALID_ARGUMENT, "Invalid version id specified");
        return 0;
    }
    if (v && !v->obj) {
        fs3_res_error(res, 405, S3E_METHOD_NOT_ALLOWED,
                      "The specified method is not allowed against this resource.");
        res->delete_marker = true;
        res->mtime_us = v->mtime;
        memcpy(res->version_id, v->id, sizeof res->version_id);
        return 0;
    }
    /* A key with no list: its current object is its null version. */
    o = v ? v->obj : !k && strcmp(vid, "null") == 0 ? fs3_lookup(s, req->key, FS3_AS_OF_NOW) : NULL;
    if (!o) {
        fs3_res_error(res, 404, S3E_NO_SUCH_VERSION,
                      "The specified version does not exist.");
        return 0;
    }
    int rc = req->op == S3_OP_GET ? fs3_get_obj(req, o, res) : fs3_head_obj(req, o, res);
    if (!rc)
        memcpy(res->version_id, v ? v->id : "null", v ? sizeof res->version_id : 5);
    return rc;
}

/* The current version's id onto a get or head (the marker's on a 404). */
static void fs3_note_current(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_vkey *k = fs3_vkey_find(s, req->key);
    if (!s->ver || s->ver->state == FS3_VER_OFF)
        return;
    if (!k) {
        if (res->status < 300 || res->status == 304)
            snprintf(res->version_id, sizeof res->version_id, "null");
        return;
    }
    if (!k->head->obj && res->status == 404) {
        res->delete_marker = true;
        memcpy(res->version_id, k->head->id, sizeof res->version_id);
    } else if (k->head->obj && (res->status < 300 || res->status == 304)) {
        memcpy(res->version_id, k->head->id, sizeof res->version_id);
    }
}

/* put or complete: the plain path, then its new object as a version. */
static int fs3_ver_write(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_obj *before = fs3_lookup(s, req->key, FS3_AS_OF_NOW), *after;
    int rc;
    if ((rc = fs3_adopt(s, req->key)) != 0 ||
        (rc = fs3_exec_plain(s, req, FS3_AS_OF_NOW, res)) != 0 || !s3_result_ok(res))
        return rc;
    after = fs3_lookup(s, req->key, FS3_AS_OF_NOW);
    /* A repeated Complete answers without writing: nothing new to record. */
    if (!after || after == before) {
        struct fs3_vkey *k = fs3_vkey_find(s, req->key);
        if (k && k->head->obj)
            memcpy(res->version_id, k->head->id, sizeof res->version_id);
        return 0;
    }
    return fs3_push(s, req->key, after, after->mtime, res->version_id);
}

int fs3_ver_exec(struct fs3 *s, const struct s3_req *req, int64_t as_of_us,
                 struct s3_result *res)
{
    bool on = s->ver && s->ver->state != FS3_VER_OFF;
    int rc;
    switch (req->op) {
    case S3_OP_GET:
    case S3_OP_HEAD:
        if (req->version_id && as_of_us == FS3_AS_OF_NOW)
            return fs3_read_version(s, req, res);
        rc = fs3_exec_plain(s, req, as_of_us, res);
        if (!rc && as_of_us == FS3_AS_OF_NOW)
            fs3_note_current(s, req, res);
        return rc;
    case S3_OP_DELETE: return fs3_ver_delete(s, req, res);
    case S3_OP_DELETE_MANY: return fs3_ver_delete_many(s, req, res);
    case S3_OP_PUT:
    case S3_OP_MPU_COMPLETE:
        if (on)
            return fs3_ver_write(s, req, res);
        return fs3_exec_plain(s, req, as_of_us, res);
    default: return fs3_exec_plain(s, req, as_of_us, res);
    }
}

void fs3_ver_free(struct fs3 *s)
{
    if (!s->ver)
        return;
    for (size_t i = 0; i < s->ver->keys.cap; i++) {
        struct fs3_vkey *k = (struct fs3_vkey *)s->ver->keys.slots[i];
        while (k && k->head) {
            struct fs3_version *v = k->head;
            k->head = v->next;
            fs3_version_free(s, v);
        }
        free(k);
    }
    fs3_tab_free(&s->ver->keys);
    free(s->ver);
    s->ver = NULL;
}

/* ---- configuration and inspection ---------------------------------------------- */

int fs3_set_versioning(struct fs3 *s, enum fs3_versioning v)
{
    if (v != FS3_VER_ENABLED && v != FS3_VER_SUSPENDED)
        return ERR_INVAL;
    if (!fs3_verset(s))
        return ERR_NOMEM;
    if (s->ver->lock && v == FS3_VER_SUSPENDED)
        return ERR_BADSTATE;
    s->ver->state = v;
    return 0;
}

enum fs3_versioning fs3_versioning(const struct fs3 *s)
{
    return s->ver ? s->ver->state : FS3_VER_OFF;
}

int fs3_lock_enable(struct fs3 *s)
{
    if (!fs3_verset(s))
        return ERR_NOMEM;
    s->ver->lock = true;
    s->ver->state = FS3_VER_ENABLED;
    return 0;
}

bool fs3_lock_enabled(const struct fs3 *s) { return s->ver && s->ver->lock; }

int fs3_lock_set_default(struct fs3 *s, enum fs3_lock_mode mode, int days, int years)
{
    if (!fs3_lock_enabled(s))
        return ERR_BADSTATE;
    if (mode != FS3_LOCK_NONE && ((days > 0) == (years > 0) || days < 0 || years < 0))
        return ERR_INVAL;
    s->ver->def_mode = mode;
    s->ver->def_days = mode == FS3_LOCK_NONE ? 0 : days;
    s->ver->def_years = mode == FS3_LOCK_NONE ? 0 : years;
    return 0;
}

void fs3_lock_default(const struct fs3 *s, enum fs3_lock_mode *mode, int *days, int *years)
{
    *mode = s->ver ? s->ver->def_mode : FS3_LOCK_NONE;
    *days = s->ver ? s->ver->def_days : 0;
    *years = s->ver ? s->ver->def_years : 0;
}

/* The version vid (NULL: the newest) of key, adopting an unversioned object. */
static int fs3_lock_target(struct fs3 *s, const char *key, const char *vid,
                           struct fs3_version **out)
{
    struct fs3_vkey *k;
    int rc;
    if (vid && !fs3_vid_ok(vid))
        return ERR_INVAL;
    if (!fs3_verset(s))
        return ERR_NOMEM;
    if ((rc = fs3_adopt(s, key)) != 0)
        return rc;
    k = fs3_vkey_find(s, key);
    *out = vid ? fs3_version_find(k, vid) : k ? k->head : NULL;
    if (!*out)
        return ERR_NOTFOUND;
    return (*out)->obj ? 0 : ERR_INVAL;
}

int fs3_version_lock_get(struct fs3 *s, const char *key, const char *vid,
                         struct fs3_version_lock *out)
{
    struct fs3_version *v;
    int rc = fs3_lock_target(s, key, vid, &v);
    if (!rc)
        *out = v->lock;
    return rc;
}

int fs3_version_set_retention(struct fs3 *s, const char *key, const char *vid,
                              enum fs3_lock_mode mode, int64_t until_us, bool bypass)
{
    struct fs3_version *v;
    int rc;
    if (!fs3_lock_enabled(s))
        return ERR_BADSTATE;
    if ((rc = fs3_lock_target(s, key, vid, &v)) != 0)
        return rc;
    if (v->lock.mode != FS3_LOCK_NONE && env_now(s->env) < v->lock.until_us) {
        /* In force: only extended, or (GOVERNANCE) anything with the bypass. */
        bool extends = mode == v->lock.mode && until_us >= v->lock.until_us;
        if (!extends && !(v->lock.mode == FS3_LOCK_GOVERNANCE && bypass))
            return ERR_UNSUPPORTED;
    }
    v->lock.mode = mode;
    v->lock.until_us = mode == FS3_LOCK_NONE ? 0 : until_us;
    return 0;
}

int fs3_version_set_legal_hold(struct fs3 *s, const char *key, const char *vid, bool on)
{
    struct fs3_version *v;
    int rc;
    if (!fs3_lock_enabled(s))
        return ERR_BADSTATE;
    if ((rc = fs3_lock_target(s, key, vid, &v)) != 0)
        return rc;
    v->lock.legal_hold = on;
    return 0;
}

static int fs3_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct fs3_keylist {
    const char **v;
    size_t n, cap;
};

static bool fs3_key_collect(void *arg, const char *key, uint64_t size)
{
    struct fs3_keylist *l = arg;
    (void)size;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        const char **n = realloc(l->v, cap * sizeof *n);
        if (!n)
            return false;
        l->v = n;
        l->cap = cap;
    }
    l->v[l->n++] = key;
    return true;
}

int fs3_each_version(struct fs3 *s, const char *prefix, const char *key_marker,
                     const char *vid_marker, fs3_version_fn fn, void *arg)
{
    struct fs3_keylist l = {0};
    size_t plen = strlen(prefix);
    int rc = 0;
    /* Every key with a version: the listed ones, plus those whose newest
     * version is a marker (absent from the plain store). */
    fs3_each_key(s, fs3_key_collect, &l);
    for (size_t i = 0; s->ver && i < s->ver->keys.cap; i++) {
        struct fs3_vkey *k = (struct fs3_vkey *)s->ver->keys.slots[i];
        if (k && !k->head->obj && !fs3_key_collect(&l, k->keybuf, 0))
            break;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, fs3_str_cmp);
    for (size_t i = 0; i < l.n; i++) {
        const char *key = l.v[i];
        struct fs3_vkey *k = fs3_vkey_find(s, key);
        int c = strcmp(key, key_marker);
        bool skipping = c == 0 && vid_marker[0];
        if (strncmp(key, prefix, plen) != 0 || c < 0 || (c == 0 && !vid_marker[0]))
            continue;
        if (!k) {
            struct fs3_obj *o = fs3_lookup(s, key, FS3_AS_OF_NOW);
            struct fs3_version_info vi = {key, "null", true, false, o->size, fs3_obj_etag(o),
                                          o->mtime};
            if (skipping)
                continue;
            if (!fn(arg, &vi))
                break;
            continue;
        }
        bool stop = false;
        for (struct fs3_version *v = k->head; v && !stop; v = v->next) {
            if (skipping) {
                skipping = strcmp(v->id, vid_marker) != 0;
                continue;
            }
            struct fs3_version_info vi = {key,
                                          v->id,
                                          v == k->head,
                                          !v->obj,
                                          v->obj ? v->obj->size : 0,
                                          v->obj ? fs3_obj_etag(v->obj) : "",
                                          v->mtime};
            stop = !fn(arg, &vi);
        }
        if (stop)
            break;
    }
    free(l.v);
    return rc;
}

uint64_t fs3_nversions_kept(const struct fs3 *s) { return s->ver ? s->ver->nversions : 0; }

int fs3_version_current(struct fs3 *s, const char *key, char out[S3_VERSION_ID_MAX], bool *marker)
{
    struct fs3_vkey *k = fs3_vkey_find(s, key);
    *marker = false;
    if (k && k->head) {
        snprintf(out, S3_VERSION_ID_MAX, "%s", k->head->id);
        *marker = !k->head->obj;
        return 0;
    }
    if (!fs3_lookup(s, key, FS3_AS_OF_NOW))
        return ERR_NOTFOUND;
    snprintf(out, S3_VERSION_ID_MAX, "null");
    return 0;
}

bool fs3_version_exists(struct fs3 *s, const char *key, const char *vid)
{
    struct fs3_vkey *k = fs3_vkey_find(s, key);
    struct fs3_version *v;
    if (k)
        return (v = fs3_version_find(k, vid)) != NULL && v->obj;
    return strcmp(vid, "null") == 0 && fs3_lookup(s, key, FS3_AS_OF_NOW) != NULL;
}
