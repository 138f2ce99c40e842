/* http_list.c - bucket operations and listings of the HTTP front (see http.h).
 *
 * ListObjectsV2 without delimiter or start-after maps one page to one store
 * list call, continuation tokens passed through.  Every other listing
 * (delimiter, start-after, V1 markers, versions) reads the whole prefix from
 * the store, page by page, and pages the answer itself, its token being the
 * last key or common prefix it returned.  Lock held throughout. */
#include "err.h"
#include "http_acl.h"
#include "http_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define HR_SCAN_MAX 2000000 /* keys one scanning listing may hold */

enum hr_list_kind { HR_LIST_V1, HR_LIST_V2, HR_LIST_VERSIONS };

struct hr_entry {
    char *key;
    uint64_t size;
    int64_t mtime_us;
    char etag[S3_ETAG_MAX];
};

struct hr_list {
    enum hr_list_kind kind;
    const char *prefix; /* query strings live in r->qbuf */
    const char *delim;
    const char *start; /* list keys after this one ("" = from the start) */
    const char *token; /* the client's continuation token, or NULL */
    int max_keys;
    bool url;
    bool owner; /* V2 fetch-owner=true (V1 and versions: always) */
    bool direct;
    bool check_empty; /* DeleteBucket's emptiness probe */
    struct hr_entry *e;
    size_t n, cap;
    char next[S3_MAX_KEY + 1]; /* the store's token of the next page */
};

static void hr_list_free(void *p)
{
    struct hr_list *l = p;
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].key);
    free(l->e);
    free(l);
}

static void hr_tag(struct base_buf *b, const char *tag, const char *v, bool url)
{
    base_buf_addf(b, "<%s>", tag);
    hr_buf_add_xml(b, v ? v : "", url);
    base_buf_addf(b, "</%s>", tag);
}

static void hr_entry_xml(struct base_buf *b, struct hr_req *r, const struct hr_list *l,
                         const struct hr_entry *e)
{
    char t[32];
    hr_iso_time((hr_epoch_us(r->srv) + e->mtime_us) / 1000000, t);
    base_buf_adds(b, l->kind == HR_LIST_VERSIONS ? "<Version>" : "<Contents>");
    hr_tag(b, "Key", e->key, l->url);
    if (l->kind == HR_LIST_VERSIONS)
        base_buf_adds(b, "<VersionId>null</VersionId><IsLatest>true</IsLatest>");
    base_buf_addf(b, "<LastModified>%s</LastModified>", t);
    hr_tag(b, "ETag", e->etag, false);
    base_buf_addf(b, "<Size>%llu</Size><StorageClass>STANDARD</StorageClass>",
                  (unsigned long long)e->size);
    if (l->owner) {
        const char *o = hr_acl_obj_owner(r, hr_bucket_find(r->srv, r->bucket), e->key, NULL);
        base_buf_adds(b, "<Owner><ID>");
        hr_buf_add_xml(b, o, false);
        base_buf_adds(b, "</ID><DisplayName>");
        hr_buf_add_xml(b, o, false);
        base_buf_adds(b, "</DisplayName></Owner>");
    }
    base_buf_adds(b, l->kind == HR_LIST_VERSIONS ? "</Version>" : "</Contents>");
}

/* The answer's head, up to the entries. */
static void hr_list_head(struct base_buf *b, struct hr_req *r, const struct hr_list *l)
{
    base_buf_addf(b, HR_XML_HEAD "<%s xmlns=\"" HR_XMLNS "\">",
                  l->kind == HR_LIST_VERSIONS ? "ListVersionsResult" : "ListBucketResult");
    hr_tag(b, "Name", r->bucket, false);
    hr_tag(b, "Prefix", l->prefix, l->url);
    if (l->kind == HR_LIST_V1)
        hr_tag(b, "Marker", l->start, l->url);
    if (l->kind == HR_LIST_VERSIONS) {
        hr_tag(b, "KeyMarker", l->start, l->url);
        base_buf_adds(b, "<VersionIdMarker></VersionIdMarker>");
    }
    if (l->kind == HR_LIST_V2 && l->token)
        hr_tag(b, "ContinuationToken", l->token, false);
    if (l->kind == HR_LIST_V2 && hr_q(r, "start-after"))
        hr_tag(b, "StartAfter", hr_q(r, "start-after"), l->url);
    base_buf_addf(b, "<MaxKeys>%d</MaxKeys>", l->max_keys);
    if (l->delim && *l->delim)
        hr_tag(b, "Delimiter", l->delim, l->url);
    if (l->url)
        base_buf_adds(b, "<EncodingType>url</EncodingType>");
}

static void hr_list_tail(struct base_buf *b, const struct hr_list *l, bool truncated,
                         const char *next, size_t count)
{
    base_buf_addf(b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
    if (l->kind == HR_LIST_V2) {
        base_buf_addf(b, "<KeyCount>%zu</KeyCount>", count);
        if (truncated)
            hr_tag(b, "NextContinuationToken", next, false);
    } else if (truncated) {
        hr_tag(b, l->kind == HR_LIST_V1 ? "NextMarker" : "NextKeyMarker", next, l->url);
        if (l->kind == HR_LIST_VERSIONS)
            base_buf_adds(b, "<NextVersionIdMarker>null</NextVersionIdMarker>");
    }
    base_buf_addf(b, "</%s>",
                  l->kind == HR_LIST_VERSIONS ? "ListVersionsResult" : "ListBucketResult");
}

/* Pages the scanned keys: after start, grouped by the delimiter, max_keys. */
static void hr_scan_answer(struct hr_req *r, struct hr_list *l)
{
    struct base_buf b = {0}, cp = {0};
    size_t plen = strlen(l->prefix), dlen = l->delim ? strlen(l->delim) : 0, count = 0;
    const char *last = "", *lastcp = NULL;
    bool truncated = false;
    hr_list_head(&b, r, l);
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->e[i].key;
        if (strcmp(k, l->start) <= 0)
            continue;
        const char *d = dlen ? strstr(k + plen, l->delim) : NULL;
        size_t cplen = d ? (size_t)(d - k) + dlen : 0;
        if (d && lastcp && strlen(lastcp) == cplen && strncmp(lastcp, k, cplen) == 0)
            continue; /* same common prefix as the previous key */
        if (d && strncmp(l->start, k, cplen) == 0 && strlen(l->start) == cplen)
            continue; /* the marker is this common prefix */
        if ((int)count == l->max_keys) {
            truncated = l->max_keys > 0; /* S3: max-keys=0 is an empty, complete page */
            break;
        }
        count++;
        if (d) {
            lastcp = k;
            base_buf_adds(&cp, "<CommonPrefixes><Prefix>");
            char *pfx = strndup(k, cplen);
            if (pfx)
                hr_buf_add_xml(&cp, pfx, l->url);
            free(pfx);
            base_buf_adds(&cp, "</Prefix></CommonPrefixes>");
            last = k;                  /* compared by prefix below */
            l->e[i].key[cplen] = '\0'; /* the token is the prefix itself */
            last = l->e[i].key;
        } else {
            hr_entry_xml(&b, r, l, &l->e[i]);
            last = k;
        }
    }
    if (cp.len)
        base_buf_add(&b, cp.p, cp.len);
    base_buf_free(&cp);
    hr_list_tail(&b, l, truncated, last, count);
    hr_xml_body(r, 200, &b);
}

static bool hr_list_keep(struct hr_list *l, const struct s3_result *res)
{
    if (l->n + res->nentries > HR_SCAN_MAX)
        return false;
    if (l->n + res->nentries > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->n + res->nentries)
            cap *= 2;
        struct hr_entry *e = realloc(l->e, cap * sizeof *e);
        if (!e)
            return false;
        l->e = e;
        l->cap = cap;
    }
    for (size_t i = 0; i < res->nentries; i++) {
        struct hr_entry *e = &l->e[l->n];
        e->key = strdup(res->entries[i].key);
        if (!e->key)
            return false;
        e->size = res->entries[i].size;
        e->mtime_us = res->entries[i].mtime_us;
        memcpy(e->etag, res->entries[i].etag, sizeof e->etag);
        l->n++;
    }
    return true;
}

static void hr_list_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct hr_list *l = r->op;
    r->in_flight = false;
    if (hr_result_failed(r, res))
        goto done;
    if (l->check_empty) {
        struct hr_bucket *b = hr_bucket_find(r->srv, r->bucket);
        if (res->nentries > 0) {
            hr_error(r, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
        } else if (!b) {
            hr_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
        } else if (hr_bucket_busy(r->srv, b)) {
            /* Another request's call is in flight on the bucket's shim. */
            hr_error(r, 409, "OperationAborted",
                     "A conflicting conditional operation is currently in progress against "
                     "this resource. Please try again.");
        } else {
            hr_bucket_remove(r->srv, b);
            r->resp.status = 204;
        }
        goto done;
    }
    if (l->direct) {
        struct base_buf b = {0};
        hr_list_head(&b, r, l);
        for (size_t i = 0; i < res->nentries; i++) {
            struct hr_entry e = {res->entries[i].key, res->entries[i].size,
                                 res->entries[i].mtime_us, ""};
            memcpy(e.etag, res->entries[i].etag, sizeof e.etag);
            hr_entry_xml(&b, r, l, &e);
        }
        hr_list_tail(&b, l, res->truncated, res->next_token, res->nentries);
        hr_xml_body(r, 200, &b);
        goto done;
    }
    if (!hr_list_keep(l, res)) {
        hr_error(r, 500, "InternalError", "listing too large for s3sim");
        goto done;
    }
    if (res->truncated && res->next_token[0]) {
        snprintf(l->next, sizeof l->next, "%s", res->next_token);
        r->sreq.token = l->next;
        hr_submit(r, r->ops, S3_OP_LIST, hr_list_done);
        return;
    }
    hr_scan_answer(r, l);
done:
    hr_finish(r);
}

static bool hr_list_params(struct hr_req *r, struct hr_list *l)
{
    const char *enc = hr_q(r, "encoding-type");
    l->kind = hr_q(r, "versions")                                          ? HR_LIST_VERSIONS
              : hr_q(r, "list-type") && !strcmp(hr_q(r, "list-type"), "2") ? HR_LIST_V2
                                                                           : HR_LIST_V1;
    l->prefix = hr_q(r, "prefix") ? hr_q(r, "prefix") : "";
    l->delim = hr_q(r, "delimiter");
    long v = 1000;
    const char *lt = hr_q(r, "list-type");
    if (lt && strcmp(lt, "2") != 0)
        return false;
    if (hr_q_int(r, "max-keys", 0, LONG_MAX, &v) < 0)
        return false;
    l->max_keys = v > 1000 ? 1000 : (int)v;
    if (enc && strcmp(enc, "url") != 0)
        return false;
    l->url = enc != NULL;
    l->owner = l->kind != HR_LIST_V2 ||
               (hr_q(r, "fetch-owner") && strcmp(hr_q(r, "fetch-owner"), "true") == 0);
    l->token = l->kind == HR_LIST_V2 ? hr_q(r, "continuation-token") : NULL;
    l->start = l->kind == HR_LIST_V1         ? hr_q(r, "marker")
               : l->kind == HR_LIST_VERSIONS ? hr_q(r, "key-marker")
                                             : (l->token ? l->token : hr_q(r, "start-after"));
    if (!l->start)
        l->start = "";
    l->direct = l->kind == HR_LIST_V2 && (!l->delim || !*l->delim) && !hr_q(r, "start-after") &&
                l->max_keys > 0;
    return true;
}

void hr_list_objects(struct hr_req *r)
{
    struct hr_list *l = calloc(1, sizeof *l);
    if (!l) {
        hr_error(r, 500, "InternalError", "out of memory");
        hr_finish(r);
        return;
    }
    r->op = l;
    r->op_free = hr_list_free;
    if (!hr_list_params(r, l)) {
        hr_error(r, 400, "InvalidArgument", "invalid listing argument");
        hr_finish(r);
        return;
    }
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.prefix = l->prefix;
    r->sreq.token = l->direct ? l->token : NULL;
    r->sreq.max_keys = l->direct ? l->max_keys : 1000;
    hr_submit(r, r->b->ops, S3_OP_LIST, hr_list_done);
}

/* --- ListMultipartUploads ----------------------------------------------------- */

/* The store pages uploads by (key, id) and takes the last id as its token,
 * so upload-id-marker is the store's token; a key-marker alone skips the
 * uploads of keys up to it, within the page.  No delimiter (not served). */
struct hr_uploads {
    const char *prefix, *key_marker, *id_marker;
    int max;
};

static void hr_uploads_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct hr_uploads *u = r->op;
    struct base_buf b = {0};
    const struct s3_list_entry *last = NULL;
    char t[32];
    r->in_flight = false;
    if (hr_result_failed(r, res))
        goto done;
    base_buf_addf(&b, HR_XML_HEAD "<ListMultipartUploadsResult xmlns=\"" HR_XMLNS "\">");
    hr_tag(&b, "Bucket", r->bucket, false);
    hr_tag(&b, "KeyMarker", u->key_marker, false);
    hr_tag(&b, "UploadIdMarker", u->id_marker, false);
    hr_tag(&b, "Prefix", u->prefix, false);
    base_buf_addf(&b, "<MaxUploads>%d</MaxUploads>", u->max);
    for (size_t i = 0; i < res->nentries; i++) {
        const struct s3_list_entry *e = &res->entries[i];
        if (!e->key || !e->upload_id || (!*u->id_marker && strcmp(e->key, u->key_marker) <= 0))
            continue;
        base_buf_adds(&b, "<Upload>");
        hr_tag(&b, "Key", e->key, false);
        hr_tag(&b, "UploadId", e->upload_id, false);
        const char *who = hr_acl_upload_owner(r, e->upload_id);
        for (int k = 0; k < 2; k++) {
            base_buf_adds(&b, k ? "<Owner><ID>" : "<Initiator><ID>");
            hr_buf_add_xml(&b, who, false);
            base_buf_adds(&b, "</ID><DisplayName>");
            hr_buf_add_xml(&b, who, false);
            base_buf_adds(&b, k ? "</DisplayName></Owner>" : "</DisplayName></Initiator>");
        }
        base_buf_adds(&b, "<StorageClass>STANDARD</StorageClass>");
        hr_iso_time((hr_epoch_us(r->srv) + e->mtime_us) / 1000000, t);
        base_buf_addf(&b, "<Initiated>%s</Initiated></Upload>", t);
        last = e;
    }
    if (!last && res->nentries)
        last = &res->entries[res->nentries - 1];
    base_buf_addf(&b, "<IsTruncated>%s</IsTruncated>", res->truncated ? "true" : "false");
    if (res->truncated && last) {
        hr_tag(&b, "NextKeyMarker", last->key, false);
        hr_tag(&b, "NextUploadIdMarker", last->upload_id, false);
    }
    base_buf_adds(&b, "</ListMultipartUploadsResult>");
    hr_xml_body(r, 200, &b);
done:
    hr_finish(r);
}

static void hr_list_uploads(struct hr_req *r)
{
    struct hr_uploads *u = calloc(1, sizeof *u);
    const char *mu = hr_q(r, "max-uploads");
    if (!u) {
        hr_error(r, 500, "InternalError", "out of memory");
        hr_finish(r);
        return;
    }
    r->op = u;
    r->op_free = free;
    u->prefix = hr_q(r, "prefix") ? hr_q(r, "prefix") : "";
    u->key_marker = hr_q(r, "key-marker") ? hr_q(r, "key-marker") : "";
    u->id_marker = hr_q(r, "upload-id-marker") ? hr_q(r, "upload-id-marker") : "";
    u->max = 1000;
    if (mu || (hr_q(r, "delimiter") && *hr_q(r, "delimiter"))) {
        long v = 0;
        if (hr_q_int(r, "max-uploads", 1, LONG_MAX, &v) != 0) {
            hr_error(r, 400, "InvalidArgument", "invalid max-uploads, or a delimiter (not "
                                                "served by s3sim)");
            hr_finish(r);
            return;
        }
        u->max = v > 1000 ? 1000 : (int)v;
    }
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.prefix = u->prefix;
    r->sreq.token = *u->id_marker ? u->id_marker : NULL;
    r->sreq.max_keys = u->max;
    hr_submit(r, r->b->ops, S3_OP_LIST_UPLOADS, hr_uploads_done);
}

/* --- buckets ----------------------------------------------------------------- */

void hr_list_buckets(struct hr_req *r)
{
    struct base_buf b = {0};
    char t[32];
    const char *me = hr_acl_requester(r);
    base_buf_adds(&b, HR_XML_HEAD "<ListAllMyBucketsResult xmlns=\"" HR_XMLNS "\"><Owner><ID>");
    hr_buf_add_xml(&b, me, false);
    base_buf_adds(&b, "</ID><DisplayName>");
    hr_buf_add_xml(&b, me, false);
    base_buf_adds(&b, "</DisplayName></Owner><Buckets>");
    for (size_t i = 0; i < hr_bucket_count(r->srv); i++) {
        if (!hr_acl_lists_bucket(r, hr_bucket_at(r->srv, i)))
            continue; /* S3 lists the requester's buckets */
        base_buf_adds(&b, "<Bucket>");
        hr_tag(&b, "Name", hr_bucket_at(r->srv, i)->name, false);
        hr_iso_time(hr_bucket_at(r->srv, i)->created, t);
        base_buf_addf(&b, "<CreationDate>%s</CreationDate></Bucket>", t);
    }
    base_buf_adds(&b, "</Buckets></ListAllMyBucketsResult>");
    hr_xml_body(r, 200, &b);
}

static void hr_bucket_create_op(struct hr_req *r)
{
    char location[32] = "";
    const char *region = hr_config(r->srv)->region;
    int rc = r->body.len ? hr_parse_bucket_config(r->body.p, r->body.len, location, sizeof location)
                         : 0;
    if (rc) {
        hr_error(r, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
        return;
    }
    rc = hr_bucket_create(r->srv, r->bucket);
    if (rc == ERR_EXISTS && strcmp(region, "us-east-1") == 0) {
        /* S3 in us-east-1 answers 200 to CreateBucket of a bucket you own
         * (elsewhere 409 BucketAlreadyOwnedByYou); the bucket is unchanged. */
        hr_header(r, "Location", "/%s", r->bucket);
        r->resp.status = 200;
    } else if (rc == ERR_EXISTS) {
        hr_error(r, 409, "BucketAlreadyOwnedByYou",
                 "Your previous request to create the named "
                 "bucket succeeded and you already own it.");
    } else if (rc == ERR_INVAL) {
        hr_error(r, 400, "InvalidBucketName", "The specified bucket is not valid.");
    } else if (rc == ERR_UNSUPPORTED) {
        hr_error(r, 403, "AccessDenied", "this s3sim server serves fixed buckets only");
    } else if (rc) {
        hr_error(r, 500, "InternalError", err_str(rc));
    } else {
        struct hr_bucket *b = hr_bucket_find(r->srv, r->bucket);
        if (b)
            snprintf(b->location, sizeof b->location, "%s", location);
        hr_ver_bucket_created(r);
        hr_header(r, "Location", "/%s", r->bucket);
        r->resp.status = 200;
    }
}

/* The bucket's region: its LocationConstraint, else the server's. */
static const char *hr_bucket_region(struct hr_req *r)
{
    return r->b && r->b->location[0] ? r->b->location : hr_config(r->srv)->region;
}

static void hr_bucket_delete_op(struct hr_req *r)
{
    struct hr_list *l = calloc(1, sizeof *l);
    if (!l) {
        hr_error(r, 500, "InternalError", "out of memory");
        hr_finish(r);
        return;
    }
    l->check_empty = true;
    r->op = l;
    r->op_free = hr_list_free;
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.prefix = "";
    r->sreq.max_keys = 1;
    hr_submit(r, r->b->ops, S3_OP_LIST, hr_list_done);
}

static void hr_bucket_get_op(struct hr_req *r)
{
    struct base_buf b = {0};
    const char *region = hr_bucket_region(r);
    if (hr_has_q(r, "location")) {
        base_buf_adds(&b, HR_XML_HEAD "<LocationConstraint xmlns=\"" HR_XMLNS "\">");
        if (strcmp(region, "us-east-1") != 0)
            hr_buf_add_xml(&b, region, false);
        base_buf_adds(&b, "</LocationConstraint>");
        hr_xml_body(r, 200, &b);
    } else if (hr_has_q(r, "uploads")) {
        hr_list_uploads(r);
    } else {
        hr_list_objects(r);
        return;
    }
}

/* The query parameters of the bucket operations served. */
static const char *const hr_bucket_params[] = {
    "list-type", "prefix",     "delimiter",        "marker",     "max-keys",
    "encoding-type", "continuation-token", "start-after", "fetch-owner", "versions",
    "key-marker", "version-id-marker", "upload-id-marker", "max-uploads", "location",
    "acl",       "uploads",    "versioning",       "delete",     "object-lock", "lifecycle", NULL};

void hr_bucket_op(struct hr_req *r)
{
    const char *m = r->method, *sub = hr_unserved(r, hr_bucket_params);
    if (sub) {
        char msg[160];
        snprintf(msg, sizeof msg, "the bucket sub-resource '%.80s' is not served by s3sim", sub);
        hr_error(r, 501, "NotImplemented", msg);
    } else if (hr_ver_bucket_op(r)) {
        return;
    } else if (strcmp(m, "PUT") == 0 && r->nq == 0) {
        hr_bucket_create_op(r);
    } else if (!r->b) {
        hr_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
    } else if (strcmp(m, "HEAD") == 0) {
        hr_header(r, "x-amz-bucket-region", "%s", hr_bucket_region(r));
        r->resp.status = 200;
    } else if (strcmp(m, "GET") == 0) {
        hr_bucket_get_op(r);
        if (r->in_flight || r->state != HR_WAITING)
            return;
    } else if (strcmp(m, "DELETE") == 0 && r->nq == 0) {
        hr_bucket_delete_op(r);
        return;
    } else if (strcmp(m, "POST") == 0 && hr_has_q(r, "delete")) {
        hr_delete_objects(r);
        return;
    } else {
        hr_error(r, 501, "NotImplemented", "this bucket operation is not served by s3sim");
    }
    hr_finish(r);
}
