/* http_acl_ops.c - tags (x-amz-tagging, Tagging bodies, AWS's limits), the
 * ?acl, ?tagging and ?cors operations, and what a successful write changes
 * in the owners, ACLs and tags kept by key (see http_acl.h). */
#include "http_acl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- tags ------------------------------------------------------------------- */

static size_t hr_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((uint8_t)*s & 0xC0) != 0x80;
    return n;
}

static void hr_tags_add(struct hr_tags_in *in, const char *k, const char *v)
{
    if (in->code)
        return;
    if (in->t.n == in->max) {
        in->code = in->max == HR_OBJ_TAGS ? "BadRequest" : "InvalidTag";
        in->msg = in->max == HR_OBJ_TAGS ? "Object tags cannot be greater than 10"
                                         : "Bucket tag count cannot be greater than 50";
        return;
    }
    size_t kc = hr_utf8_chars(k), vc = hr_utf8_chars(v);
    if (kc == 0 || kc > HR_TAG_KEY_MAX) {
        in->code = "InvalidTag";
        in->msg = kc ? "The TagKey you have provided is too long, max 128"
                     : "The TagKey you have provided is invalid";
        return;
    }
    if (vc > HR_TAG_VALUE_MAX) {
        in->code = "InvalidTag";
        in->msg = "The TagValue you have provided is too long, max 256";
        return;
    }
    if (strncmp(k, "aws:", 4) == 0) {
        in->code = "InvalidTag";
        in->msg = "Your TagKey cannot be prefixed with aws:";
        return;
    }
    const char *p = in->t.blob;
    for (size_t i = 0; i < in->t.n; i++) {
        if (strcmp(p, k) == 0) {
            in->code = "InvalidTag";
            in->msg = "Cannot provide multiple Tags with the same key";
            return;
        }
        p += strlen(p) + 1;
        p += strlen(p) + 1;
    }
    size_t kl = strlen(k) + 1, vl = strlen(v) + 1;
    char *nb = realloc(in->t.blob, in->t.len + kl + vl);
    if (!nb) {
        in->code = "InternalError";
        in->msg = "out of memory";
        return;
    }
    memcpy(nb + in->t.len, k, kl);
    memcpy(nb + in->t.len + kl, v, vl);
    in->t.blob = nb;
    in->t.len += kl + vl;
    in->t.n++;
}

static int hr_hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* x-amz-tagging: "k1=v1&k2=v2", URL-encoded. */
static void hr_tags_header(struct hr_tags_in *in, const char *v)
{
    char *s = strdup(v);
    if (!s) {
        in->code = "InternalError";
        in->msg = "out of memory";
        return;
    }
    for (char *p = s, *next; p && *p && !in->code; p = next) {
        next = strchr(p, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq++ = '\0';
        for (char *f = p; f; f = f == p ? eq : NULL) {
            char *o = f;
            for (char *c = f; *c; c++) {
                int hi, lo;
                if (*c == '%' && (hi = hr_hexv(c[1])) >= 0 && (lo = hr_hexv(c[2])) >= 0) {
                    *o++ = (char)(hi * 16 + lo);
                    c += 2;
                } else if (*c == '%') {
                    in->code = "InvalidArgument";
                    in->msg =
                        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded "
                        "URL query parameters without tag name duplicates.";
                } else {
                    *o++ = *c == '+' ? ' ' : *c;
                }
            }
            *o = '\0';
        }
        hr_tags_add(in, p, eq ? eq : "");
    }
    free(s);
}

static void hr_tags_xml_in(struct hr_req *r, struct hr_tags_in *in)
{
    struct hr_dom *d = r->body.len <= HR_CONFIG_MAX ? hr_dom_parse(r->body.p, r->body.len) : NULL;
    struct hr_dom *set = d && strcmp(d->name, "Tagging") == 0 ? hr_dom_child(d, "TagSet") : NULL;
    if (!set) {
        in->code = "MalformedXML";
        in->msg = "The XML you provided was not well-formed or did not validate against our "
                  "published schema";
    }
    for (struct hr_dom *t = set ? set->child : NULL; t && !in->code; t = t->next) {
        if (strcmp(t->name, "Tag") != 0)
            continue;
        const char *k = hr_dom_text(t, "Key"), *v = hr_dom_text(t, "Value");
        if (!k || !v) {
            in->code = "MalformedXML";
            in->msg = "a Tag without Key or Value";
            break;
        }
        hr_tags_add(in, k, v);
    }
    hr_dom_free(d);
}

static void hr_tags_answer(struct hr_req *r, const struct hr_tags *t)
{
    struct base_buf b = {0};
    base_buf_adds(&b, HR_XML_HEAD "<Tagging xmlns=\"" HR_XMLNS "\"><TagSet>");
    const char *p = t->blob;
    for (size_t i = 0; i < t->n; i++) {
        base_buf_adds(&b, "<Tag><Key>");
        hr_buf_add_xml(&b, p, false);
        p += strlen(p) + 1;
        base_buf_adds(&b, "</Key><Value>");
        hr_buf_add_xml(&b, p, false);
        p += strlen(p) + 1;
        base_buf_adds(&b, "</Value></Tag>");
    }
    base_buf_adds(&b, "</TagSet></Tagging>");
    hr_xml_body(r, 200, &b);
}

static bool hr_tags_copy(struct hr_tags *dst, const struct hr_tags *src)
{
    memset(dst, 0, sizeof *dst);
    if (!src || !src->n)
        return true;
    dst->blob = malloc(src->len);
    if (!dst->blob)
        return false;
    memcpy(dst->blob, src->blob, src->len);
    dst->len = src->len;
    dst->n = src->n;
    return true;
}

/* --- new objects ---------------------------------------------------------------- */

/* The entry a write by r makes for key (owner, ACL and tags from the headers;
 * tags of src when copying them).  NULL when it is the default (or no memory:
 * the default then). */
static struct hr_obj *hr_obj_from_req(struct hr_req *r, struct hr_bucket *b, const char *key,
                                      const struct hr_tags *copy_tags)
{
    int owner = r->user ? r->user : 1, bowner = hr_bucket_owner(b);
    struct hr_acl_in in = {.acl.owner = owner};
    struct hr_tags_in tin = {.max = HR_OBJ_TAGS};
    bool given;
    hr_acl_headers(r, &in, false, bowner, &given);
    if (in.code) {
        free(in.acl.g);
        return NULL;
    }
    if (given)
        hr_acl_normalize(&in.acl);
    const char *th = hr_hdr(r, "x-amz-tagging");
    if (copy_tags) {
        if (!hr_tags_copy(&tin.t, copy_tags))
            tin.code = "InternalError";
    } else if (th) {
        hr_tags_header(&tin, th);
    }
    if (tin.code || (owner == bowner && !in.acl.g && !tin.t.n)) {
        free(in.acl.g);
        hr_tags_free(&tin.t);
        return NULL;
    }
    size_t kl = strlen(key) + 1;
    struct hr_obj *o = calloc(1, sizeof *o + kl);
    if (!o) {
        free(in.acl.g);
        hr_tags_free(&tin.t);
        return NULL;
    }
    memcpy(o->key, key, kl);
    o->acl = in.acl;
    o->tags = tin.t;
    return o;
}

/* Checks the ACL and tagging headers of a write before it is made: false
 * when r is answered 400. */
bool hr_obj_headers_ok(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl_in in = {.acl.owner = r->user ? r->user : 1};
    struct hr_tags_in tin = {.max = HR_OBJ_TAGS};
    bool given;
    hr_acl_headers(r, &in, false, hr_bucket_owner(b), &given);
    free(in.acl.g);
    if (in.code) {
        hr_error(r, strcmp(in.code, "InternalError") == 0 ? 500 : 400, in.code, in.msg);
        return false;
    }
    const char *th = hr_hdr(r, "x-amz-tagging");
    if (th)
        hr_tags_header(&tin, th);
    hr_tags_free(&tin.t);
    if (tin.code) {
        hr_error(r, strcmp(tin.code, "InternalError") == 0 ? 500 : 400, tin.code, tin.msg);
        return false;
    }
    return true;
}

/* x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, maybe with
 * "?versionId=".  Bucket and key into the buffers; false when malformed. */
bool hr_copy_source(const char *v, char *bucket, size_t bsz, char **key)
{
    char *s = strdup(v[0] == '/' ? v + 1 : v), *o;
    if (!s)
        return false;
    s[strcspn(s, "?")] = '\0';
    o = s;
    for (char *c = s; *c; c++) {
        int hi, lo;
        if (*c == '%' && (hi = hr_hexv(c[1])) >= 0 && (lo = hr_hexv(c[2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            c += 2;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= bsz || !slash[1]) {
        free(s);
        return false;
    }
    memcpy(bucket, s, (size_t)(slash - s));
    bucket[slash - s] = '\0';
    memmove(s, slash + 1, strlen(slash + 1) + 1);
    *key = s;
    return true;
}

/* --- requests on ?acl and ?tagging ------------------------------------------------ */

/* Key's entry, made as the default (the bucket owner's, private, no tags)
 * when there is none; NULL when out of memory. */
static struct hr_obj *hr_obj_make(struct hr_bacl *a, struct hr_bucket *b, const char *key,
                                  const char *vid)
{
    struct hr_obj *o = hr_obj_find(b, key, vid);
    size_t kl = strlen(key) + 1;
    if (o || !(o = calloc(1, sizeof *o + kl)))
        return o;
    memcpy(o->key, key, kl);
    snprintf(o->vid, sizeof o->vid, "%s", vid);
    o->acl.owner = hr_bucket_owner(b);
    hr_obj_set(a, o);
    return hr_obj_find(b, key, vid);
}

/* PutObjectAcl, PutObjectTagging, DeleteObjectTagging on an existing object
 * version (r->done_vid: the one its HEAD found). */
static void hr_obj_sub_change(struct hr_req *r, struct hr_bacl *a, enum hr_sub sub)
{
    const struct hr_obj *cur = hr_obj_find(r->b, r->key, r->done_vid);
    struct hr_acl_in in = {0};
    struct hr_tags_in tin = {.max = HR_OBJ_TAGS};
    bool del = strcmp(r->method, "DELETE") == 0;
    if (sub == HR_SUB_ACL &&
        !hr_acl_put_in(r, &in, false, cur ? cur->acl.owner : hr_bucket_owner(r->b),
                       hr_bucket_owner(r->b)))
        return;
    if (sub == HR_SUB_TAGGING && !del)
        hr_tags_xml_in(r, &tin);
    if (tin.code) {
        hr_tags_free(&tin.t);
        hr_error(r, strcmp(tin.code, "InternalError") == 0 ? 500 : 400, tin.code, tin.msg);
        return;
    }
    struct hr_obj *o = hr_obj_make(a, r->b, r->key, r->done_vid);
    if (!o) {
        free(in.acl.g);
        hr_tags_free(&tin.t);
        hr_error(r, 500, "InternalError", "out of memory");
        return;
    }
    if (sub == HR_SUB_ACL) {
        free(o->acl.g);
        o->acl.g = in.acl.g;
        o->acl.n = in.acl.n;
    } else {
        hr_tags_free(&o->tags);
        o->tags = tin.t;
    }
    if (o->acl.owner == hr_bucket_owner(r->b) && !o->acl.g && !o->tags.n)
        hr_obj_drop(a, r->key, r->done_vid); /* the default again */
    r->resp.status = del ? 204 : 200;
}

static void hr_obj_sub_act(struct hr_req *r, enum hr_sub sub)
{
    struct hr_bacl *a = hr_bacl_get(r->b);
    const struct hr_obj *o = hr_obj_find(r->b, r->key, r->done_vid);
    struct hr_acl tmp;
    struct hr_tags none = {0};
    const char *m = r->method;
    if (!a)
        hr_error(r, 500, "InternalError", "out of memory");
    else if (strcmp(m, "GET") == 0 && sub == HR_SUB_ACL)
        hr_acl_answer(r, hr_obj_acl(r->b, r->key, r->done_vid, &tmp));
    else if (strcmp(m, "GET") == 0)
        hr_tags_answer(r, o ? &o->tags : &none);
    else if (strcmp(m, "PUT") == 0 || (sub == HR_SUB_TAGGING && strcmp(m, "DELETE") == 0))
        hr_obj_sub_change(r, a, sub);
    else
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
}

static void hr_obj_sub_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    if (!hr_result_failed(r, res)) {
        /* The version found: ?versionId's, or the current one ("" unversioned). */
        snprintf(r->done_vid, sizeof r->done_vid, "%s", res->version_id);
        if (res->version_id[0] && (enum hr_sub)r->step == HR_SUB_TAGGING)
            hr_header(r, "x-amz-version-id", "%s", res->version_id);
        hr_obj_sub_act(r, (enum hr_sub)r->step);
    }
    hr_finish(r);
}

/* Object ?acl and ?tagging, of ?versionId's version or the current one: the
 * version must exist (a HEAD first: 404 NoSuchKey or NoSuchVersion, 405 for a
 * delete marker). */
void hr_obj_sub(struct hr_req *r, enum hr_sub sub)
{
    r->step = (int)sub;
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.key = r->key;
    r->sreq.range_end = -1;
    if (!hr_ver_query(r))
        return;
    hr_submit(r, r->b->ops, S3_OP_HEAD, hr_obj_sub_done);
}

void hr_bucket_sub(struct hr_req *r, enum hr_sub sub)
{
    struct hr_bacl *a = hr_bacl_get(r->b);
    const char *m = r->method;
    if (!a) {
        hr_error(r, 500, "InternalError", "out of memory");
    } else if (sub == HR_SUB_ACL && strcmp(m, "GET") == 0) {
        hr_acl_answer(r, &a->acl);
    } else if (sub == HR_SUB_ACL && strcmp(m, "PUT") == 0) {
        struct hr_acl_in in = {0};
        if (hr_acl_put_in(r, &in, true, a->acl.owner, a->acl.owner)) {
            free(a->acl.g);
            a->acl = in.acl;
            r->resp.status = 200;
        }
    } else if (sub == HR_SUB_TAGGING && strcmp(m, "GET") == 0) {
        if (a->has_tags)
            hr_tags_answer(r, &a->tags);
        else
            hr_error(r, 404, "NoSuchTagSet", "The TagSet does not exist");
    } else if (sub == HR_SUB_TAGGING && strcmp(m, "PUT") == 0) {
        struct hr_tags_in tin = {.max = HR_BUCKET_TAGS};
        hr_tags_xml_in(r, &tin);
        if (tin.code) {
            hr_tags_free(&tin.t);
            hr_error(r, strcmp(tin.code, "InternalError") == 0 ? 500 : 400, tin.code, tin.msg);
        } else {
            hr_tags_free(&a->tags);
            a->tags = tin.t;
            a->has_tags = true;
            r->resp.status = 204;
        }
    } else if (sub == HR_SUB_TAGGING && strcmp(m, "DELETE") == 0) {
        hr_tags_free(&a->tags);
        a->has_tags = false;
        r->resp.status = 204;
    } else {
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
    }
    hr_finish(r);
}

void hr_bucket_cors(struct hr_req *r)
{
    struct hr_bacl *a = hr_bacl_get(r->b);
    const char *m = r->method;
    if (!a) {
        hr_error(r, 500, "InternalError", "out of memory");
    } else if (strcmp(m, "GET") == 0) {
        struct base_buf b = {0};
        if (!a->cors) {
            hr_error(r, 404, "NoSuchCORSConfiguration", "The CORS configuration does not exist");
        } else {
            hr_cors_xml(a->cors, &b);
            hr_xml_body(r, 200, &b);
        }
    } else if (strcmp(m, "PUT") == 0) {
        const char *code = "MalformedXML", *msg = "the CORS configuration is over 64 KiB";
        struct hr_cors *c = r->body.len <= HR_CONFIG_MAX
                                ? hr_cors_parse(r->body.p, r->body.len, &code, &msg)
                                : NULL;
        if (!c) {
            hr_error(r, 400, code, msg);
        } else {
            hr_cors_free(a->cors);
            a->cors = c;
            r->resp.status = 200;
        }
    } else if (strcmp(m, "DELETE") == 0) {
        hr_cors_free(a->cors);
        a->cors = NULL;
        r->resp.status = 204;
    } else {
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
    }
    hr_finish(r);
}

/* --- after a successful write ------------------------------------------------------- */

static void hr_pending_add(struct hr_bacl *a, const char *upload, struct hr_obj *o,
                           const struct hr_lockset *lock)
{
    struct hr_pending *p = calloc(1, sizeof *p);
    if (!p || strlen(upload) >= sizeof p->upload) {
        free(p);
        hr_obj_free(o);
        return;
    }
    snprintf(p->upload, sizeof p->upload, "%s", upload);
    p->o = o;
    p->lock = *lock;
    p->next = a->pend;
    a->pend = p;
    if (++a->npend > HR_MAX_PENDING) { /* forget the oldest */
        struct hr_pending **q = &a->pend;
        while ((*q)->next)
            q = &(*q)->next;
        hr_obj_free((*q)->o);
        free(*q);
        *q = NULL;
        a->npend--;
    }
}

/* The pending entry of upload (taken out), or NULL. */
static struct hr_pending *hr_pending_take(struct hr_bacl *a, const char *upload)
{
    for (struct hr_pending **q = a ? &a->pend : NULL; q && *q; q = &(*q)->next) {
        if (strcmp((*q)->upload, upload) == 0) {
            struct hr_pending *p = *q;
            *q = p->next;
            a->npend--;
            return p;
        }
    }
    return NULL;
}

/* The UploadId of our own InitiateMultipartUploadResult. */
static bool hr_resp_upload(const struct hr_req *r, char *out, size_t size)
{
    const char *b = (const char *)r->resp.body, *s, *e;
    if (!b || !(s = strstr(b, "<UploadId>")) || !(e = strstr(s, "</UploadId>")))
        return false;
    s += 10;
    if ((size_t)(e - s) >= size)
        return false;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return true;
}

static void hr_finish_object(struct hr_req *r, struct hr_bucket *b)
{
    const char *m = r->method;
    struct hr_bacl *a = b->acl;
    if (strcmp(m, "PUT") == 0 && r->nq == 0) {
        const char *src = hr_hdr(r, "x-amz-copy-source");
        const char *dir = hr_hdr(r, "x-amz-tagging-directive");
        const struct hr_tags *copy = NULL;
        char sb[64];
        char *sk = NULL;
        struct hr_bucket *s;
        struct hr_tags none = {0};
        if (src && !(dir && strcasecmp(dir, "REPLACE") == 0)) {
            const struct hr_obj *so = NULL;
            const char *sv = strstr(src, "?versionId=");
            if (hr_copy_source(src, sb, sizeof sb, &sk) && (s = hr_bucket_find(r->srv, sb)))
                so = hr_obj_find(s, sk, sv ? sv + 11 : NULL);
            copy = so ? &so->tags : &none;
        }
        /* The new version's entry (an unversioned write replaces the null one). */
        struct hr_obj *o = hr_obj_from_req(r, b, r->key, copy);
        free(sk);
        if (o)
            snprintf(o->vid, sizeof o->vid, "%s", r->done_vid);
        if (o && (a = hr_bacl_get(b)) != NULL)
            hr_obj_set(a, o);
        else if (o)
            hr_obj_free(o);
        else
            hr_obj_drop(a, r->key, r->done_vid);
    } else if (strcmp(m, "POST") == 0 && hr_has_q(r, "uploads")) {
        /* Every upload is remembered: its initiator is the listings' Owner. */
        char up[128];
        struct hr_lockset lock;
        struct hr_obj *o = hr_obj_from_req(r, b, r->key, NULL);
        size_t kl = strlen(r->key) + 1;
        if (!o && (o = calloc(1, sizeof *o + kl)) != NULL) {
            memcpy(o->key, r->key, kl);
            o->acl.owner = r->user ? r->user : 1;
        }
        if (!hr_ver_lock_read(r, &lock, true)) /* checked before the create */
            lock.any = false;
        if (o && hr_resp_upload(r, up, sizeof up) && (a = hr_bacl_get(b)) != NULL)
            hr_pending_add(a, up, o, &lock);
        else
            hr_obj_free(o);
    } else if (strcmp(m, "POST") == 0 && hr_has_q(r, "uploadId")) {
        /* The upload's entry becomes the object's.  None: a repeated
         * Complete (200 again), which changes nothing. */
        struct hr_pending *p = hr_pending_take(a, hr_q(r, "uploadId"));
        struct hr_obj *o = p ? p->o : NULL;
        if (o && strcmp(o->key, r->key) == 0)
            hr_ver_lock_apply(r, r->key, r->done_vid, &p->lock);
        if (o && strcmp(o->key, r->key) != 0) {
            hr_obj_free(o);
        } else if (o && (o->acl.owner != hr_bucket_owner(b) || o->acl.g || o->tags.n)) {
            snprintf(o->vid, sizeof o->vid, "%s", r->done_vid);
            hr_obj_set(a, o);
        } else if (o) {
            hr_obj_free(o);
            hr_obj_drop(a, r->key, r->done_vid);
        }
        free(p);
    } else if (strcmp(m, "DELETE") == 0 && hr_has_q(r, "uploadId")) {
        struct hr_pending *p = hr_pending_take(a, hr_q(r, "uploadId"));
        if (p)
            hr_obj_free(p->o);
        free(p);
    } else if (strcmp(m, "DELETE") == 0) {
        /* DeleteObject, of a version or not: the entries of versions gone
         * (not those a delete marker only hides). */
        hr_obj_prune(b, r->key);
    }
}

void hr_acl_finish(struct hr_req *r)
{
    int st = r->resp.status;
    if ((st != 200 && st != 204) || r->resp.reset || r->resp.hold || !r->bucket[0] ||
        strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
        return;
    struct hr_bucket *b = hr_bucket_find(r->srv, r->bucket);
    if (!b || hr_has_q(r, "acl") || hr_has_q(r, "tagging"))
        return;
    if (r->key) {
        hr_finish_object(r, b);
        return;
    }
    if (strcmp(r->method, "PUT") == 0 && r->nq == 0 && !b->acl) {
        /* A new bucket: its owner and ACL. */
        struct hr_acl_in in = {.acl.owner = r->user ? r->user : 1};
        bool given;
        hr_acl_headers(r, &in, true, in.acl.owner, &given);
        struct hr_bacl *a = in.code ? NULL : hr_bacl_get(b);
        if (a) {
            if (given)
                hr_acl_normalize(&in.acl);
            a->acl = in.acl;
        } else {
            free(in.acl.g);
        }
    } else if (strcmp(r->method, "POST") == 0 && hr_has_q(r, "delete") && b->acl && b->acl->n) {
        char **keys = NULL;
        size_t n = 0;
        bool quiet;
        if (hr_parse_delete(r->body.p ? r->body.p : "", r->body.len, &keys, &n, &quiet) == 0) {
            for (size_t i = 0; i < n; i++) {
                hr_obj_prune(b, keys[i]);
                free(keys[i]);
            }
            free(keys);
        }
    }
}
