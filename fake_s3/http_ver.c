/* http_ver.c - versioning and object lock in the HTTP front (docs/http.md
 * "Versioning and object lock"): PutBucketVersioning / GetBucketVersioning,
 * ListObjectVersions, the versionId of object operations and their answer
 * headers, Put/GetObjectLockConfiguration, Put/GetObjectRetention,
 * Put/GetObjectLegalHold and the lock headers of PutObject.  The state is
 * the store's (fs3.h "Versioning and object lock"), read and changed
 * directly for the configuration and the listing, as ListParts does (buckets
 * with a store only: 501 elsewhere); versioned reads, writes and deletes go
 * through the bucket's s3_ops (fault shim included).  Lock held throughout. */
#include "err.h"
#include "fs3.h"
#include "http_acl.h"
#include "http_int.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* --- a small XML walker: each element's path below the root and its text ---- */

struct hr_walk {
    XML_Parser p;
    int depth;
    char path[256]; /* "Rule/Filter/Prefix" below the root */
    size_t plen[8];
    char text[2048];
    size_t tlen;
    bool bad;
    char root[48];
    hr_walk_fn fn;
    void *arg;
};

static const char *hr_walk_local(const char *name)
{
    const char *c = strrchr(name, ' ');
    return c ? c + 1 : name;
}

static void XMLCALL hr_walk_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct hr_walk *w = ud;
    const char *el = hr_walk_local(name);
    size_t n = strlen(w->path);
    (void)attrs;
    if (w->depth == 0) {
        snprintf(w->root, sizeof w->root, "%s", el);
    } else if (w->depth < 8 && n + strlen(el) + 2 < sizeof w->path) {
        w->plen[w->depth] = n;
        snprintf(w->path + n, sizeof w->path - n, "%s%s", n ? "/" : "", el);
        w->fn(w->arg, w->path, NULL);
    } else {
        w->bad = true;
        XML_StopParser(w->p, XML_FALSE);
    }
    w->depth++;
    w->tlen = 0;
    w->text[0] = 0;
}

static void XMLCALL hr_walk_text(void *ud, const XML_Char *s, int len)
{
    struct hr_walk *w = ud;
    if (w->tlen + (size_t)len >= sizeof w->text) {
        w->bad = true;
        return;
    }
    memcpy(w->text + w->tlen, s, (size_t)len);
    w->tlen += (size_t)len;
    w->text[w->tlen] = 0;
}

static void XMLCALL hr_walk_end(void *ud, const XML_Char *name)
{
    struct hr_walk *w = ud;
    (void)name;
    w->depth--;
    if (w->depth >= 1 && w->depth < 8) {
        w->fn(w->arg, w->path, w->text);
        w->path[w->plen[w->depth]] = 0;
    }
    w->tlen = 0;
    w->text[0] = 0;
}

int hr_walk_xml(const char *xml, size_t len, const char *root, hr_walk_fn fn, void *arg)
{
    struct hr_walk *w = calloc(1, sizeof *w);
    int rc = 0;
    if (!w)
        return ERR_NOMEM;
    if (len > 1 << 20) {
        free(w);
        return ERR_LIMIT;
    }
    w->fn = fn;
    w->arg = arg;
    if (!(w->p = XML_ParserCreateNS(NULL, ' '))) {
        free(w);
        return ERR_NOMEM;
    }
    XML_SetUserData(w->p, w);
    XML_SetElementHandler(w->p, hr_walk_start, hr_walk_end);
    XML_SetCharacterDataHandler(w->p, hr_walk_text);
    if (XML_Parse(w->p, xml ? xml : "", (int)len, XML_TRUE) != XML_STATUS_OK || w->bad ||
        strcmp(w->root, root) != 0)
        rc = ERR_PARSE;
    XML_ParserFree(w->p);
    free(w);
    return rc;
}

static void hr_malformed(struct hr_req *r)
{
    hr_error(r, 400, "MalformedXML",
             "The XML you provided was not well-formed or did not validate against our "
             "published schema");
}

/* "2030-01-02T03:04:05Z" (fraction and a +00:00 zone allowed) as unix µs. */
static bool hr_iso_parse(const char *v, int64_t *us)
{
    struct tm tm = {0};
    const char *p = v ? strptime(v, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    int64_t frac = 0, scale = 1000000;
    if (!p)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
    }
    if (!(strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0 || *p == 0))
        return false;
    *us = (int64_t)timegm(&tm) * 1000000 + frac;
    return true;
}

static void hr_iso_us(int64_t unix_us, char out[40])
{
    time_t t = (time_t)(unix_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + strlen(out), 40 - strlen(out), ".%03dZ", (int)(unix_us % 1000000 / 1000));
}

static void hr_owner_xml(struct base_buf *b, const char *who)
{
    base_buf_adds(b, "<Owner><ID>");
    hr_buf_add_xml(b, who, false);
    base_buf_adds(b, "</ID><DisplayName>");
    hr_buf_add_xml(b, who, false);
    base_buf_adds(b, "</DisplayName></Owner>");
}

static const char *hr_mode_name(enum fs3_lock_mode m)
{
    return m == FS3_LOCK_COMPLIANCE ? "COMPLIANCE" : m == FS3_LOCK_GOVERNANCE ? "GOVERNANCE" : "";
}

static int hr_mode_parse(const char *s)
{
    return !s ? -1
           : strcmp(s, "GOVERNANCE") == 0 ? FS3_LOCK_GOVERNANCE
           : strcmp(s, "COMPLIANCE") == 0 ? FS3_LOCK_COMPLIANCE
                                          : -1;
}

static bool hr_need_store(struct hr_req *r, const char *what)
{
    char msg[128];
    if (r->b && r->b->store)
        return true;
    snprintf(msg, sizeof msg, "%s is served on buckets with s3sim's own store only", what);
    hr_error(r, 501, "NotImplemented", msg);
    return false;
}

/* --- answer headers of object operations ---------------------------------------- */

bool hr_ver_query(struct hr_req *r)
{
    const char *v = hr_q(r, "versionId");
    if (!hr_has_q(r, "versionId"))
        return true;
    if (!v || !*v) {
        hr_error(r, 400, "InvalidArgument", "Version id cannot be the empty string");
        hr_finish(r);
        return false;
    }
    r->sreq.version_id = v;
    return true;
}

void hr_ver_headers(struct hr_req *r, const struct s3_result *res)
{
    struct fs3_version_lock lk;
    if (res->transport != S3_TR_OK)
        return;
    snprintf(r->done_vid, sizeof r->done_vid, "%s", res->version_id);
    r->done_marker = res->delete_marker;
    if (res->version_id[0])
        hr_header(r, "x-amz-version-id", "%s", res->version_id);
    if (res->delete_marker)
        hr_header(r, "x-amz-delete-marker", "true");
    if (res->delete_marker && res->status == 405) {
        char t[40];
        hr_http_time((hr_epoch_us(r->srv) + res->mtime_us) / 1000000, t);
        hr_header(r, "Last-Modified", "%s", t);
    }
    /* A version's lock, on a read of it. */
    if ((r->sreq.op == S3_OP_GET || r->sreq.op == S3_OP_HEAD) && res->status < 300 &&
        res->version_id[0] && r->b && r->b->store && fs3_lock_enabled(r->b->store) &&
        fs3_version_lock_get(r->b->store, r->key, res->version_id, &lk) == 0) {
        char t[40];
        if (lk.mode != FS3_LOCK_NONE) {
            hr_iso_us(hr_epoch_us(r->srv) + lk.until_us, t);
            hr_header(r, "x-amz-object-lock-mode", "%s", hr_mode_name(lk.mode));
            hr_header(r, "x-amz-object-lock-retain-until-date", "%s", t);
        }
        if (lk.legal_hold)
            hr_header(r, "x-amz-object-lock-legal-hold", "ON");
    }
}

bool hr_ver_lock_read(struct hr_req *r, struct hr_lockset *pl, bool quiet)
{
    const char *m = hr_hdr(r, "x-amz-object-lock-mode");
    const char *d = hr_hdr(r, "x-amz-object-lock-retain-until-date");
    const char *h = hr_hdr(r, "x-amz-object-lock-legal-hold");
    int status = 400;
    const char *code = "InvalidArgument", *msg = NULL;
    *pl = (struct hr_lockset){m || d || h, FS3_LOCK_NONE, 0, -1};
    if (!pl->any)
        return true;
    if (!r->b || !r->b->store || !fs3_lock_enabled(r->b->store)) {
        code = "InvalidRequest";
        msg = "Bucket is missing ObjectLockConfiguration";
    } else if (!m != !d) {
        msg = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be "
              "supplied";
    } else if (m && (pl->mode = hr_mode_parse(m)) < 0) {
        msg = "Unknown wormMode directive.";
    } else if (d && !hr_iso_parse(d, &pl->until_unix_us)) {
        msg = "The retain until date is not a valid date";
    } else if (d && pl->until_unix_us <= hr_epoch_us(r->srv) + hr_store_now_us(r->srv)) {
        msg = "The retain until date must be in the future!";
    } else if (h && strcmp(h, "ON") != 0 && strcmp(h, "OFF") != 0) {
        msg = "Legal Hold must be either of 'ON' or 'OFF'";
    }
    if (msg) {
        if (!quiet)
            hr_error(r, status, code, msg);
        return false;
    }
    pl->hold = h ? strcmp(h, "ON") == 0 : -1;
    return true;
}

bool hr_ver_put_check(struct hr_req *r)
{
    struct hr_lockset pl;
    if (hr_ver_lock_read(r, &pl, false))
        return true;
    hr_finish(r);
    return false;
}

void hr_ver_lock_apply(struct hr_req *r, const char *key, const char *vid,
                       const struct hr_lockset *l)
{
    if (!l->any || !vid || !vid[0] || !r->b || !r->b->store)
        return;
    if (l->mode != FS3_LOCK_NONE)
        fs3_version_set_retention(r->b->store, key, vid, (enum fs3_lock_mode)l->mode,
                                  l->until_unix_us - hr_epoch_us(r->srv), true);
    if (l->hold >= 0)
        fs3_version_set_legal_hold(r->b->store, key, vid, l->hold == 1);
}

/* PutObject and CopyObject: the version's lock headers, applied to the new version (checked
 * before the write: they hold unless the date passed since). */
void hr_ver_put_done(struct hr_req *r, const struct s3_result *res)
{
    struct hr_lockset pl;
    hr_ver_headers(r, res);
    if (s3_result_ok(res) && hr_ver_lock_read(r, &pl, true))
        hr_ver_lock_apply(r, r->key, res->version_id, &pl);
}

/* --- DeleteObjects' version ids ------------------------------------------------ */

struct hr_delvids {
    char **vids;
    size_t n, cap;
    bool any, bad;
};

static void hr_delvids_el(void *arg, const char *path, const char *text)
{
    struct hr_delvids *d = arg;
    if (!text && strcmp(path, "Object") == 0) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? 2 * d->cap : 64;
            char **v = cap <= S3_MAX_DELETE_KEYS + 1 ? realloc(d->vids, cap * sizeof *v) : NULL;
            if (!v) {
                d->bad = true;
                return;
            }
            d->vids = v;
            d->cap = cap;
        }
        d->vids[d->n++] = NULL;
    } else if (text && d->n && strcmp(path, "Object/VersionId") == 0) {
        free(d->vids[d->n - 1]);
        d->vids[d->n - 1] = strdup(text);
        d->any = true;
        d->bad |= !d->vids[d->n - 1];
    }
}

int hr_ver_delete_vids(const char *xml, size_t len, size_t nkeys, char ***out)
{
    struct hr_delvids d = {0};
    int rc = hr_walk_xml(xml, len, "Delete", hr_delvids_el, &d);
    *out = NULL;
    if (!rc && (d.bad || d.n != nkeys))
        rc = ERR_PARSE;
    if (!rc && d.any) {
        *out = d.vids;
        return 0;
    }
    for (size_t i = 0; i < d.n; i++)
        free(d.vids[i]);
    free(d.vids);
    return rc;
}

/* --- bucket versioning ------------------------------------------------------------- */

struct hr_kv1 {
    const char *want;
    char val[64];
    bool seen;
};

static void hr_kv1_el(void *arg, const char *path, const char *text)
{
    struct hr_kv1 *k = arg;
    if (text && strcmp(path, k->want) == 0) {
        snprintf(k->val, sizeof k->val, "%s", text);
        k->seen = true;
    }
}

static void hr_versioning_get(struct hr_req *r)
{
    struct base_buf b = {0};
    enum fs3_versioning v = r->b->store ? fs3_versioning(r->b->store) : FS3_VER_OFF;
    base_buf_adds(&b, HR_XML_HEAD "<VersioningConfiguration xmlns=\"" HR_XMLNS "\">");
    if (v != FS3_VER_OFF)
        base_buf_addf(&b, "<Status>%s</Status>", v == FS3_VER_ENABLED ? "Enabled" : "Suspended");
    base_buf_adds(&b, "</VersioningConfiguration>");
    hr_xml_body(r, 200, &b);
}

static void hr_versioning_put(struct hr_req *r)
{
    struct hr_kv1 k = {.want = "Status"};
    int rc;
    if (!hr_need_store(r, "PutBucketVersioning"))
        return;
    if (hr_walk_xml(r->body.p, r->body.len, "VersioningConfiguration", hr_kv1_el, &k) ||
        !k.seen || (strcmp(k.val, "Enabled") != 0 && strcmp(k.val, "Suspended") != 0)) {
        hr_malformed(r);
        return;
    }
    rc = fs3_set_versioning(r->b->store,
                            k.val[0] == 'E' ? FS3_VER_ENABLED : FS3_VER_SUSPENDED);
    if (rc == ERR_BADSTATE)
        hr_error(r, 409, "InvalidBucketState",
                 "An Object Lock configuration is present on this bucket, so the versioning "
                 "state cannot be changed.");
    else if (rc)
        hr_error(r, 500, "InternalError", err_str(rc));
    else
        r->resp.status = 200;
}

/* --- ListObjectVersions -------------------------------------------------------------- */

struct hr_vlist {
    struct hr_req *r;
    struct base_buf items, cps;
    const char *prefix, *delim, *key_marker;
    long max;
    long count;
    bool url, truncated;
    char lastcp[S3_MAX_KEY + 1];
    char next_key[S3_MAX_KEY + 1], next_vid[S3_VERSION_ID_MAX];
};

static bool hr_vlist_one(void *arg, const struct fs3_version_info *v)
{
    struct hr_vlist *l = arg;
    size_t plen = strlen(l->prefix), dlen = l->delim ? strlen(l->delim) : 0;
    const char *d = dlen ? strstr(v->key + plen, l->delim) : NULL;
    size_t cplen = d ? (size_t)(d - v->key) + dlen : 0;
    char t[32];
    if (d && strlen(l->lastcp) == cplen && strncmp(l->lastcp, v->key, cplen) == 0)
        return true; /* same common prefix as the previous entry */
    if (d && strlen(l->key_marker) == cplen && strncmp(l->key_marker, v->key, cplen) == 0)
        return true; /* the marker is this common prefix */
    if (l->count == l->max) {
        l->truncated = l->max > 0;
        return false;
    }
    l->count++;
    if (d) {
        snprintf(l->lastcp, sizeof l->lastcp, "%.*s", (int)cplen, v->key);
        base_buf_adds(&l->cps, "<CommonPrefixes><Prefix>");
        hr_buf_add_xml(&l->cps, l->lastcp, l->url);
        base_buf_adds(&l->cps, "</Prefix></CommonPrefixes>");
        snprintf(l->next_key, sizeof l->next_key, "%s", l->lastcp);
        l->next_vid[0] = 0;
        return true;
    }
    hr_iso_time((hr_epoch_us(l->r->srv) + v->mtime_us) / 1000000, t);
    base_buf_adds(&l->items, v->delete_marker ? "<DeleteMarker><Key>" : "<Version><Key>");
    hr_buf_add_xml(&l->items, v->key, l->url);
    base_buf_addf(&l->items, "</Key><VersionId>%s</VersionId><IsLatest>%s</IsLatest>"
                             "<LastModified>%s</LastModified>",
                  v->version_id, v->latest ? "true" : "false", t);
    if (v->delete_marker) {
        /* A marker's owner: whoever deleted (not kept; the bucket's). */
        hr_owner_xml(&l->items, hr_acl_obj_owner(l->r, l->r->b, v->key, v->version_id));
        base_buf_adds(&l->items, "</DeleteMarker>");
    } else {
        base_buf_adds(&l->items, "<ETag>");
        hr_buf_add_xml(&l->items, v->etag, false);
        base_buf_addf(&l->items, "</ETag><Size>%llu</Size><StorageClass>STANDARD</StorageClass>",
                      (unsigned long long)v->size);
        hr_owner_xml(&l->items, hr_acl_obj_owner(l->r, l->r->b, v->key, v->version_id));
        base_buf_adds(&l->items, "</Version>");
    }
    snprintf(l->next_key, sizeof l->next_key, "%s", v->key);
    snprintf(l->next_vid, sizeof l->next_vid, "%s", v->version_id);
    return true;
}

static void hr_list_versions(struct hr_req *r)
{
    struct hr_vlist l = {.r = r, .max = 1000};
    struct base_buf b = {0};
    const char *enc = hr_q(r, "encoding-type"), *vm = hr_q(r, "version-id-marker");
    l.prefix = hr_q(r, "prefix") ? hr_q(r, "prefix") : "";
    l.delim = hr_q(r, "delimiter");
    l.key_marker = hr_q(r, "key-marker") ? hr_q(r, "key-marker") : "";
    l.url = enc && strcmp(enc, "url") == 0;
    if (hr_q_int(r, "max-keys", 0, 1L << 30, &l.max) < 0) {
        hr_error(r, 400, "InvalidArgument", "max-keys must be an integer");
        return;
    }
    if (l.max > 1000)
        l.max = 1000;
    if (vm && *vm && !*l.key_marker) {
        hr_error(r, 400, "InvalidArgument",
                 "A version-id marker cannot be specified without a key marker.");
        return;
    }
    fs3_each_version(r->b->store, l.prefix, l.key_marker, vm ? vm : "", hr_vlist_one, &l);
    base_buf_adds(&b, HR_XML_HEAD "<ListVersionsResult xmlns=\"" HR_XMLNS "\"><Name>");
    hr_buf_add_xml(&b, r->bucket, false);
    base_buf_adds(&b, "</Name><Prefix>");
    hr_buf_add_xml(&b, l.prefix, l.url);
    base_buf_adds(&b, "</Prefix><KeyMarker>");
    hr_buf_add_xml(&b, l.key_marker, l.url);
    base_buf_adds(&b, "</KeyMarker><VersionIdMarker>");
    hr_buf_add_xml(&b, vm ? vm : "", false);
    base_buf_adds(&b, "</VersionIdMarker>");
    if (l.truncated) {
        base_buf_adds(&b, "<NextKeyMarker>");
        hr_buf_add_xml(&b, l.next_key, l.url);
        base_buf_adds(&b, "</NextKeyMarker>");
        if (l.next_vid[0])
            base_buf_addf(&b, "<NextVersionIdMarker>%s</NextVersionIdMarker>", l.next_vid);
    }
    base_buf_addf(&b, "<MaxKeys>%ld</MaxKeys>", l.max);
    if (l.delim && *l.delim) {
        base_buf_adds(&b, "<Delimiter>");
        hr_buf_add_xml(&b, l.delim, l.url);
        base_buf_adds(&b, "</Delimiter>");
    }
    if (l.url)
        base_buf_adds(&b, "<EncodingType>url</EncodingType>");
    base_buf_addf(&b, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    if (l.items.len)
        base_buf_add(&b, l.items.p, l.items.len);
    if (l.cps.len)
        base_buf_add(&b, l.cps.p, l.cps.len);
    base_buf_adds(&b, "</ListVersionsResult>");
    if (l.items.failed || l.cps.failed)
        b.failed = true;
    base_buf_free(&l.items);
    base_buf_free(&l.cps);
    hr_xml_body(r, 200, &b);
}

/* --- object lock: the bucket's configuration ---------------------------------------- */

struct hr_lockcfg {
    char enabled[16], mode[16];
    long days, years;
    bool bad, rule;
};

static void hr_lockcfg_el(void *arg, const char *path, const char *text)
{
    struct hr_lockcfg *c = arg;
    char *end;
    if (!text) {
        c->rule |= strcmp(path, "Rule") == 0;
        return;
    }
    if (strcmp(path, "ObjectLockEnabled") == 0)
        snprintf(c->enabled, sizeof c->enabled, "%s", text);
    else if (strcmp(path, "Rule/DefaultRetention/Mode") == 0)
        snprintf(c->mode, sizeof c->mode, "%s", text);
    else if (strcmp(path, "Rule/DefaultRetention/Days") == 0 ||
             strcmp(path, "Rule/DefaultRetention/Years") == 0) {
        long v = strtol(text, &end, 10);
        c->bad |= *end || v <= 0 || v > 36500;
        *(strstr(path, "/Days") ? &c->days : &c->years) = v;
    }
}

static void hr_lock_get(struct hr_req *r)
{
    struct base_buf b = {0};
    enum fs3_lock_mode m;
    int days, years;
    if (!r->b->store || !fs3_lock_enabled(r->b->store)) {
        hr_error(r, 404, "ObjectLockConfigurationNotFoundError",
                 "Object Lock configuration does not exist for this bucket");
        return;
    }
    fs3_lock_default(r->b->store, &m, &days, &years);
    base_buf_adds(&b, HR_XML_HEAD "<ObjectLockConfiguration xmlns=\"" HR_XMLNS
                                  "\"><ObjectLockEnabled>Enabled</ObjectLockEnabled>");
    if (m != FS3_LOCK_NONE) {
        base_buf_addf(&b, "<Rule><DefaultRetention><Mode>%s</Mode>", hr_mode_name(m));
        if (days)
            base_buf_addf(&b, "<Days>%d</Days>", days);
        else
            base_buf_addf(&b, "<Years>%d</Years>", years);
        base_buf_adds(&b, "</DefaultRetention></Rule>");
    }
    base_buf_adds(&b, "</ObjectLockConfiguration>");
    hr_xml_body(r, 200, &b);
}

static void hr_lock_put(struct hr_req *r)
{
    struct hr_lockcfg c = {0};
    int mode = FS3_LOCK_NONE, rc;
    if (!hr_need_store(r, "PutObjectLockConfiguration"))
        return;
    if (hr_walk_xml(r->body.p, r->body.len, "ObjectLockConfiguration", hr_lockcfg_el, &c) ||
        c.bad || strcmp(c.enabled, "Enabled") != 0 ||
        (c.rule && ((mode = hr_mode_parse(c.mode)) < 0 || (c.days > 0) == (c.years > 0)))) {
        hr_malformed(r);
        return;
    }
    if (!fs3_lock_enabled(r->b->store)) {
        /* S3 lets a bucket with versioning Enabled turn the lock on. */
        if (fs3_versioning(r->b->store) != FS3_VER_ENABLED) {
            hr_error(r, 409, "InvalidBucketState",
                     "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                     "configuration");
            return;
        }
        if ((rc = fs3_lock_enable(r->b->store)) != 0) {
            hr_error(r, 500, "InternalError", err_str(rc));
            return;
        }
    }
    fs3_lock_set_default(r->b->store, (enum fs3_lock_mode)mode, (int)c.days, (int)c.years);
    r->resp.status = 200;
}

/* CreateBucket's x-amz-bucket-object-lock-enabled: true. */
void hr_ver_bucket_created(struct hr_req *r)
{
    const char *h = hr_hdr(r, "x-amz-bucket-object-lock-enabled");
    struct hr_bucket *b = hr_bucket_find(r->srv, r->bucket);
    if (h && strcasecmp(h, "true") == 0 && b && b->store)
        fs3_lock_enable(b->store);
}

/* --- object lock: a version's retention and legal hold ------------------------------ */

struct hr_retcfg {
    char mode[16], until[64], status[8];
};

static void hr_retcfg_el(void *arg, const char *path, const char *text)
{
    struct hr_retcfg *c = arg;
    if (!text)
        return;
    if (strcmp(path, "Mode") == 0)
        snprintf(c->mode, sizeof c->mode, "%s", text);
    else if (strcmp(path, "RetainUntilDate") == 0)
        snprintf(c->until, sizeof c->until, "%s", text);
    else if (strcmp(path, "Status") == 0)
        snprintf(c->status, sizeof c->status, "%s", text);
}

/* The error of a version lookup (fs3_lock_target's codes). */
static void hr_lock_target_error(struct hr_req *r, int rc, const char *vid)
{
    if (rc == ERR_NOTFOUND && vid)
        hr_error(r, 404, "NoSuchVersion", "The specified version does not exist.");
    else if (rc == ERR_NOTFOUND)
        hr_error(r, 404, "NoSuchKey", "The specified key does not exist.");
    else if (rc == ERR_INVAL && vid && strlen(vid) != 32 && strcmp(vid, "null") != 0)
        hr_error(r, 400, "InvalidArgument", "Invalid version id specified");
    else if (rc == ERR_INVAL)
        hr_error(r, 405, "MethodNotAllowed",
                 "The specified method is not allowed against this resource.");
    else
        hr_error(r, 500, "InternalError", err_str(rc));
}

static void hr_retention_op(struct hr_req *r, bool hold)
{
    const char *vid = hr_q(r, "versionId");
    struct fs3_version_lock lk;
    struct base_buf b = {0};
    struct hr_retcfg c = {0};
    int rc;
    if (!hr_need_store(r, hold ? "Object legal hold" : "Object retention"))
        return;
    if (!fs3_lock_enabled(r->b->store)) {
        hr_error(r, 400, "InvalidRequest", "Bucket is missing Object Lock Configuration");
        return;
    }
    if (vid && !*vid)
        vid = NULL;
    if (strcmp(r->method, "GET") == 0) {
        if ((rc = fs3_version_lock_get(r->b->store, r->key, vid, &lk)) != 0) {
            hr_lock_target_error(r, rc, vid);
            return;
        }
        if (hold) {
            base_buf_addf(&b, HR_XML_HEAD "<LegalHold xmlns=\"" HR_XMLNS
                                          "\"><Status>%s</Status></LegalHold>",
                          lk.legal_hold ? "ON" : "OFF");
        } else if (lk.mode == FS3_LOCK_NONE) {
            hr_error(r, 404, "NoSuchObjectLockConfiguration",
                     "The specified object does not have a ObjectLock configuration");
            return;
        } else {
            char t[40];
            hr_iso_us(hr_epoch_us(r->srv) + lk.until_us, t);
            base_buf_addf(&b, HR_XML_HEAD "<Retention xmlns=\"" HR_XMLNS "\"><Mode>%s</Mode>"
                                          "<RetainUntilDate>%s</RetainUntilDate></Retention>",
                          hr_mode_name(lk.mode), t);
        }
        hr_xml_body(r, 200, &b);
        return;
    }
    if (strcmp(r->method, "PUT") != 0) {
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
        return;
    }
    if (hr_walk_xml(r->body.p, r->body.len, hold ? "LegalHold" : "Retention", hr_retcfg_el, &c)) {
        hr_malformed(r);
        return;
    }
    if (hold) {
        if (strcmp(c.status, "ON") != 0 && strcmp(c.status, "OFF") != 0) {
            hr_malformed(r);
            return;
        }
        rc = fs3_version_set_legal_hold(r->b->store, r->key, vid, c.status[1] == 'N');
    } else {
        int mode = c.mode[0] ? hr_mode_parse(c.mode) : FS3_LOCK_NONE;
        int64_t until = 0;
        const char *bp = hr_hdr(r, "x-amz-bypass-governance-retention");
        if (mode < 0 || (c.mode[0] && !hr_iso_parse(c.until, &until)) ||
            (!c.mode[0] && c.until[0])) {
            hr_malformed(r);
            return;
        }
        if (mode != FS3_LOCK_NONE && until <= hr_epoch_us(r->srv) + hr_store_now_us(r->srv)) {
            hr_error(r, 400, "InvalidArgument", "The retain until date must be in the future!");
            return;
        }
        rc = fs3_version_set_retention(r->b->store, r->key, vid, (enum fs3_lock_mode)mode,
                                       until - hr_epoch_us(r->srv),
                                       bp && strcasecmp(bp, "true") == 0);
    }
    if (rc == ERR_UNSUPPORTED)
        hr_error(r, 403, "AccessDenied", "Access Denied");
    else if (rc)
        hr_lock_target_error(r, rc, vid);
    else
        r->resp.status = 200;
}

/* --- routing ------------------------------------------------------------------------ */

bool hr_ver_bucket_op(struct hr_req *r)
{
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0;
    if (!r->b || hr_life_bucket_op(r))
        return r->b != NULL;
    if (get && hr_has_q(r, "versioning"))
        hr_versioning_get(r);
    else if (put && hr_has_q(r, "versioning"))
        hr_versioning_put(r);
    else if (get && hr_has_q(r, "versions") && r->b->store)
        hr_list_versions(r);
    else if (get && hr_has_q(r, "object-lock"))
        hr_lock_get(r);
    else if (put && hr_has_q(r, "object-lock"))
        hr_lock_put(r);
    else if (strcmp(m, "DELETE") == 0 && r->nq == 0 && r->b->store &&
             fs3_nversions_kept(r->b->store) > 0)
        hr_error(r, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty. You must "
                                           "delete all versions in the bucket.");
    else
        return false;
    hr_finish(r);
    return true;
}

bool hr_ver_object_op(struct hr_req *r)
{
    if (hr_has_q(r, "retention"))
        hr_retention_op(r, false);
    else if (hr_has_q(r, "legal-hold"))
        hr_retention_op(r, true);
    else
        return false;
    hr_finish(r);
    return true;
}
