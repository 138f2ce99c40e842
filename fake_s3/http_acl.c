/* http_acl.c - owners, ACLs (canned, x-amz-grant-* headers, AccessControlPolicy
 * bodies), access decisions, anonymous requests and tagging in the HTTP
 * front (see http_acl.h).  Buckets behave as S3 buckets with Object
 * Ownership "ObjectWriter" (ACLs enabled): an object belongs to whoever
 * wrote it, and the bucket's owner reads another user's object only through
 * a grant (bucket-owner-read, bucket-owner-full-control). */
#include "err.h"
#include "http_acl_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- state -------------------------------------------------------------------- */

void hr_tags_free(struct hr_tags *t)
{
    free(t->blob);
    memset(t, 0, sizeof *t);
}

void hr_obj_free(struct hr_obj *o)
{
    if (!o)
        return;
    free(o->acl.g);
    hr_tags_free(&o->tags);
    free(o);
}

void hr_bacl_free(struct hr_bacl *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->cap; i++) {
        for (struct hr_obj *o = a->tab[i], *next; o; o = next) {
            next = o->next;
            hr_obj_free(o);
        }
    }
    for (struct hr_pending *p = a->pend, *next; p; p = next) {
        next = p->next;
        hr_obj_free(p->o);
        free(p);
    }
    free(a->tab);
    free(a->acl.g);
    hr_tags_free(&a->tags);
    hr_cors_free(a->cors);
    free(a);
}

/* The bucket's state, made on first use (owner: the config's key pair). */
struct hr_bacl *hr_bacl_get(struct hr_bucket *b)
{
    if (!b->acl) {
        b->acl = calloc(1, sizeof *b->acl);
        if (b->acl)
            b->acl->acl.owner = 1;
    }
    return b->acl;
}

int hr_bucket_owner(const struct hr_bucket *b)
{
    return b->acl ? b->acl->acl.owner : 1;
}

static uint32_t hr_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

const char *hr_vid_resolve(const struct hr_bucket *b, const char *key, const char *vid,
                           char buf[S3_VERSION_ID_MAX])
{
    bool marker;
    if (vid)
        return *vid ? vid : "null";
    if (!b->store || fs3_versioning(b->store) == FS3_VER_OFF ||
        fs3_version_current(b->store, key, buf, &marker) != 0)
        return "null";
    return buf;
}

static struct hr_obj **hr_obj_slot(const struct hr_bacl *a, const char *key, const char *vid)
{
    if (!a || !a->cap)
        return NULL;
    struct hr_obj **p = &a->tab[hr_hash(key) & (a->cap - 1)];
    while (*p && (strcmp((*p)->key, key) != 0 || strcmp((*p)->vid, vid) != 0))
        p = &(*p)->next;
    return p;
}

struct hr_obj *hr_obj_find(const struct hr_bucket *b, const char *key, const char *vid)
{
    char buf[S3_VERSION_ID_MAX];
    struct hr_obj **p;
    if (!b->acl || !b->acl->n)
        return NULL; /* the common case: no entry at all, no version to look up */
    p = hr_obj_slot(b->acl, key, hr_vid_resolve(b, key, vid, buf));
    return p ? *p : NULL;
}

void hr_obj_drop(struct hr_bacl *a, const char *key, const char *vid)
{
    struct hr_obj **p = hr_obj_slot(a, key, vid && *vid ? vid : "null");
    if (p && *p) {
        struct hr_obj *o = *p;
        *p = o->next;
        hr_obj_free(o);
        a->n--;
    }
}

void hr_obj_prune(struct hr_bucket *b, const char *key)
{
    struct hr_bacl *a = b->acl;
    if (!a || !a->n)
        return;
    for (struct hr_obj **p = &a->tab[hr_hash(key) & (a->cap - 1)]; *p;) {
        struct hr_obj *o = *p;
        if (strcmp(o->key, key) == 0 && (!b->store || !fs3_version_exists(b->store, key, o->vid))) {
            *p = o->next;
            hr_obj_free(o);
            a->n--;
        } else {
            p = &o->next;
        }
    }
}

/* Puts o (owned from here) in place of key's entry. */
void hr_obj_set(struct hr_bacl *a, struct hr_obj *o)
{
    if (!o->vid[0])
        snprintf(o->vid, sizeof o->vid, "null");
    hr_obj_drop(a, o->key, o->vid);
    if (a->n + 1 > a->cap / 2) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct hr_obj **tab = calloc(cap, sizeof *tab);
        if (!tab) {
            hr_obj_free(o);
            return;
        }
        for (size_t i = 0; i < a->cap; i++) {
            for (struct hr_obj *e = a->tab[i], *next; e; e = next) {
                next = e->next;
                size_t s = hr_hash(e->key) & (cap - 1);
                e->next = tab[s];
                tab[s] = e;
            }
        }
        free(a->tab);
        a->tab = tab;
        a->cap = cap;
    }
    size_t s = hr_hash(o->key) & (a->cap - 1);
    o->next = a->tab[s];
    a->tab[s] = o;
    a->n++;
}

/* --- access ------------------------------------------------------------------- */

static bool hr_grant_matches(const struct hr_grant *g, int user)
{
    switch (g->kind) {
    case HR_G_USER: return user > 0 && g->user == user;
    case HR_G_ALL: return true;
    case HR_G_AUTH: return user > 0;
    default: return false;
    }
}

/* Whether user (0: anonymous) has perm under a (owner: its owner). */
bool hr_allows(const struct hr_acl *a, int user, int perm)
{
    if (user > 0 && user == a->owner && (perm & (HR_P_READ_ACP | HR_P_WRITE_ACP)) == perm)
        return true; /* the owner always reads and writes the ACL */
    if (!a->g)
        return user > 0 && user == a->owner;
    for (size_t i = 0; i < a->n; i++)
        if (hr_grant_matches(&a->g[i], user) && (a->g[i].perm & perm) == perm)
            return true;
    return false;
}

const struct hr_acl *hr_obj_acl(const struct hr_bucket *b, const char *key, const char *vid,
                                struct hr_acl *tmp)
{
    const struct hr_obj *o = hr_obj_find(b, key, vid);
    if (o)
        return &o->acl;
    tmp->owner = hr_bucket_owner(b);
    tmp->n = 0;
    tmp->g = NULL;
    return tmp;
}

const struct hr_acl *hr_bucket_acl(const struct hr_bucket *b, struct hr_acl *tmp)
{
    if (b->acl)
        return &b->acl->acl;
    tmp->owner = 1;
    tmp->n = 0;
    tmp->g = NULL;
    return tmp;
}

static bool hr_deny(struct hr_req *r)
{
    hr_error(r, 403, "AccessDenied", "Access Denied");
    hr_finish(r);
    return true;
}

bool hr_acl_preauth_anon(struct hr_req *r)
{
    struct hr_bucket *b = r->bucket[0] ? hr_bucket_find(r->srv, r->bucket) : NULL;
    struct hr_acl tmp;
    if (b && hr_allows(hr_bucket_acl(b, &tmp), 0, HR_P_WRITE))
        return true;
    hr_count_auth_failure(r->srv);
    hr_error(r, 403, "AccessDenied", "Access Denied");
    return false;
}

const char *hr_acl_requester(const struct hr_req *r)
{
    return hr_user_name(hr_config(r->srv), r->user ? r->user : 1);
}

bool hr_acl_lists_bucket(const struct hr_req *r, const struct hr_bucket *b)
{
    return hr_bucket_owner(b) == (r->user ? r->user : 1);
}

const char *hr_acl_obj_owner(const struct hr_req *r, const struct hr_bucket *b, const char *key,
                             const char *vid)
{
    const struct hr_obj *o = b ? hr_obj_find(b, key, vid) : NULL;
    return hr_user_name(hr_config(r->srv), o ? o->acl.owner : b ? hr_bucket_owner(b) : 1);
}

const char *hr_acl_upload_owner(const struct hr_req *r, const char *upload)
{
    const struct hr_bucket *b = hr_bucket_find(r->srv, r->bucket);
    int u = b ? hr_bucket_owner(b) : 1;
    for (const struct hr_pending *p = b && b->acl ? b->acl->pend : NULL; p; p = p->next) {
        if (strcmp(p->upload, upload) == 0) {
            u = p->o->acl.owner;
            break;
        }
    }
    return hr_user_name(hr_config(r->srv), u);
}

/* --- ACLs in: canned, grant headers, XML ------------------------------------ */

static const char *const hr_perm_names[] = {"READ", "WRITE", "READ_ACP", "WRITE_ACP",
                                            "FULL_CONTROL"};
static const int hr_perm_bits[] = {HR_P_READ, HR_P_WRITE, HR_P_READ_ACP, HR_P_WRITE_ACP, HR_P_FULL};

static int hr_perm_parse(const char *s)
{
    for (size_t i = 0; i < 5; i++)
        if (strcmp(s, hr_perm_names[i]) == 0)
            return hr_perm_bits[i];
    return 0;
}

static const char *hr_perm_name(int perm)
{
    for (size_t i = 0; i < 5; i++)
        if (hr_perm_bits[i] == perm)
            return hr_perm_names[i];
    return "FULL_CONTROL";
}

static void hr_acl_in_fail(struct hr_acl_in *in, const char *code, const char *msg)
{
    if (!in->code) {
        in->code = code;
        snprintf(in->msg, sizeof in->msg, "%s", msg);
    }
}

static void hr_acl_add(struct hr_acl_in *in, int kind, int user, int perm)
{
    if (in->code)
        return;
    if (in->acl.n == HR_MAX_GRANTS) {
        hr_acl_in_fail(in, "MalformedACLError", "an ACL has at most 100 grants");
        return;
    }
    if (in->acl.n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 4;
        struct hr_grant *g = realloc(in->acl.g, cap * sizeof *g);
        if (!g) {
            hr_acl_in_fail(in, "InternalError", "out of memory");
            return;
        }
        in->acl.g = g;
        in->cap = cap;
    }
    in->acl.g[in->acl.n++] = (struct hr_grant){(uint8_t)kind, (uint8_t)perm, user};
}

static int hr_user_by_id(const struct fs3_http_config *c, const char *id)
{
    for (int u = 1; u <= (int)c->nusers + 1; u++)
        if (strcmp(hr_user_name(c, u), id) == 0)
            return u;
    return 0;
}

/* A grantee from its type and ID, URI or e-mail address. */
static void hr_acl_grantee(struct hr_acl_in *in, const struct fs3_http_config *c, const char *id,
                           const char *uri, const char *email, int perm)
{
    if (id) {
        int u = hr_user_by_id(c, id);
        if (!u)
            hr_acl_in_fail(in, "InvalidArgument", "Invalid id");
        hr_acl_add(in, HR_G_USER, u, perm);
    } else if (uri) {
        int kind = strcmp(uri, HR_URI_ALL) == 0    ? HR_G_ALL
                   : strcmp(uri, HR_URI_AUTH) == 0 ? HR_G_AUTH
                   : strcmp(uri, HR_URI_LOG) == 0  ? HR_G_LOG
                                                   : -1;
        if (kind < 0)
            hr_acl_in_fail(in, "InvalidArgument", "Invalid group uri");
        hr_acl_add(in, kind, 0, perm);
    } else if (email) {
        hr_acl_in_fail(in, "UnresolvableGrantByEmailAddress",
                       "The e-mail address you provided does not match any account on record.");
    } else {
        hr_acl_in_fail(in, "MalformedACLError", "a grantee without ID, URI or EmailAddress");
    }
}

/* x-amz-acl on a bucket (is_bucket) or an object of a bucket owned by
 * bucket_owner. */
static void hr_acl_canned(struct hr_acl_in *in, const char *v, bool is_bucket, int bucket_owner)
{
    int o = in->acl.owner;
    if (strcmp(v, "private") == 0) {
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
    } else if (strcmp(v, "public-read") == 0) {
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
        hr_acl_add(in, HR_G_ALL, 0, HR_P_READ);
    } else if (strcmp(v, "public-read-write") == 0) {
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
        hr_acl_add(in, HR_G_ALL, 0, HR_P_READ);
        hr_acl_add(in, HR_G_ALL, 0, HR_P_WRITE);
    } else if (strcmp(v, "authenticated-read") == 0) {
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
        hr_acl_add(in, HR_G_AUTH, 0, HR_P_READ);
    } else if (strcmp(v, "bucket-owner-read") == 0 || strcmp(v, "bucket-owner-full-control") == 0) {
        /* On a bucket S3 ignores them (private). */
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
        if (!is_bucket && bucket_owner != o)
            hr_acl_add(in, HR_G_USER, bucket_owner, v[13] == 'r' ? HR_P_READ : HR_P_FULL);
    } else if (strcmp(v, "log-delivery-write") == 0) {
        hr_acl_add(in, HR_G_USER, o, HR_P_FULL);
        hr_acl_add(in, HR_G_LOG, 0, HR_P_WRITE);
        hr_acl_add(in, HR_G_LOG, 0, HR_P_READ_ACP);
    } else {
        hr_acl_in_fail(in, "InvalidArgument", "the canned ACL is not one S3 knows");
    }
}

static const char *const hr_grant_headers[] = {"x-amz-grant-read", "x-amz-grant-write",
                                               "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                               "x-amz-grant-full-control"};

/* One x-amz-grant-* value: id="..", uri="..", emailAddress=".." items. */
static void hr_acl_grant_header(struct hr_acl_in *in, const struct fs3_http_config *c,
                                const char *v, int perm)
{
    char item[512];
    while (*v && !in->code) {
        while (*v == ' ' || *v == ',')
            v++;
        size_t n = strcspn(v, ",");
        if (n == 0)
            break;
        if (n >= sizeof item) {
            hr_acl_in_fail(in, "InvalidArgument", "a grant is too long");
            return;
        }
        memcpy(item, v, n);
        item[n] = '\0';
        v += n;
        char *eq = strchr(item, '=');
        if (!eq) {
            hr_acl_in_fail(in, "InvalidArgument", "a grant is not type=value");
            return;
        }
        *eq = '\0';
        char *name = item, *val = eq + 1;
        size_t nl = strlen(name);
        while (nl && name[nl - 1] == ' ')
            name[--nl] = '\0';
        while (*val == ' ')
            val++;
        size_t vl = strlen(val);
        while (vl && val[vl - 1] == ' ')
            val[--vl] = '\0';
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (strcasecmp(name, "id") == 0)
            hr_acl_grantee(in, c, val, NULL, NULL, perm);
        else if (strcasecmp(name, "uri") == 0)
            hr_acl_grantee(in, c, NULL, val, NULL, perm);
        else if (strcasecmp(name, "emailAddress") == 0)
            hr_acl_grantee(in, c, NULL, NULL, val, perm);
        else
            hr_acl_in_fail(in, "InvalidArgument", "a grantee type is not id, uri or emailAddress");
    }
}

/* The ACL the headers of r ask for.  *given false (and in->acl.g NULL) when
 * they ask none. */
void hr_acl_headers(struct hr_req *r, struct hr_acl_in *in, bool is_bucket, int bucket_owner,
                    bool *given)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    const char *canned = hr_hdr(r, "x-amz-acl");
    bool grants = false;
    for (size_t i = 0; i < 5; i++)
        grants = grants || hr_hdr(r, hr_grant_headers[i]) != NULL;
    *given = canned || grants;
    if (canned && grants) {
        hr_acl_in_fail(in, "InvalidRequest",
                       "Specifying both Canned ACLs and Header Grants is not allowed");
    } else if (canned) {
        hr_acl_canned(in, canned, is_bucket, bucket_owner);
    } else {
        for (size_t i = 0; i < 5; i++) {
            const char *v = hr_hdr(r, hr_grant_headers[i]);
            if (v)
                hr_acl_grant_header(in, c, v, hr_perm_bits[i]);
        }
    }
}

static void hr_acl_xml_in(struct hr_req *r, struct hr_acl_in *in)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    struct hr_dom *d = hr_dom_parse(r->body.p, r->body.len);
    struct hr_dom *list = d && strcmp(d->name, "AccessControlPolicy") == 0
                              ? hr_dom_child(d, "AccessControlList")
                              : NULL;
    if (!list) {
        hr_acl_in_fail(in, "MalformedACLError",
                       "The XML you provided was not well-formed or did not validate against our "
                       "published schema");
    }
    for (struct hr_dom *g = list ? list->child : NULL; g && !in->code; g = g->next) {
        if (strcmp(g->name, "Grant") != 0)
            continue;
        struct hr_dom *ge = hr_dom_child(g, "Grantee");
        const char *perm = hr_dom_text(g, "Permission");
        int p = perm ? hr_perm_parse(perm) : 0;
        if (!ge || !p) {
            hr_acl_in_fail(in, "MalformedACLError",
                           "The XML you provided was not well-formed or did not validate against "
                           "our published schema");
            break;
        }
        const char *t = ge->type ? strchr(ge->type, ':') : NULL;
        t = t ? t + 1 : ge->type ? ge->type : "";
        if (strcmp(t, "CanonicalUser") == 0)
            hr_acl_grantee(in, c, hr_dom_text(ge, "ID") ? hr_dom_text(ge, "ID") : "", NULL, NULL,
                           p);
        else if (strcmp(t, "Group") == 0)
            hr_acl_grantee(in, c, NULL, hr_dom_text(ge, "URI") ? hr_dom_text(ge, "URI") : "", NULL,
                           p);
        else if (strcmp(t, "AmazonCustomerByEmail") == 0)
            hr_acl_grantee(in, c, NULL, NULL, "", p);
        else
            hr_acl_grantee(in, c, hr_dom_text(ge, "ID"), hr_dom_text(ge, "URI"),
                           hr_dom_text(ge, "EmailAddress"), p);
    }
    hr_dom_free(d);
}

/* Answers r with in's error (and frees in's grants). */
static void hr_acl_in_error(struct hr_req *r, struct hr_acl_in *in)
{
    free(in->acl.g);
    in->acl.g = NULL;
    hr_error(r, strcmp(in->code, "InternalError") == 0 ? 500 : 400, in->code, in->msg);
}

/* A private ACL is kept as g NULL. */
void hr_acl_normalize(struct hr_acl *a)
{
    if (a->n == 1 && a->g[0].kind == HR_G_USER && a->g[0].user == a->owner &&
        a->g[0].perm == HR_P_FULL) {
        free(a->g);
        a->g = NULL;
        a->n = 0;
    }
}

/* --- ACLs out ------------------------------------------------------------------ */

static void hr_owner_xml(struct base_buf *b, const struct fs3_http_config *c, int u)
{
    base_buf_adds(b, "<ID>");
    hr_buf_add_xml(b, hr_user_name(c, u), false);
    base_buf_adds(b, "</ID><DisplayName>");
    hr_buf_add_xml(b, hr_user_name(c, u), false);
    base_buf_adds(b, "</DisplayName>");
}

static void hr_grant_xml(struct base_buf *b, const struct fs3_http_config *c,
                         const struct hr_grant *g)
{
    base_buf_adds(b, "<Grant><Grantee xmlns:xsi=\"" HR_XSI "\" xsi:type=\"");
    if (g->kind == HR_G_USER) {
        base_buf_adds(b, "CanonicalUser\">");
        hr_owner_xml(b, c, g->user);
    } else {
        base_buf_addf(b, "Group\"><URI>%s</URI>",
                      g->kind == HR_G_ALL    ? HR_URI_ALL
                      : g->kind == HR_G_AUTH ? HR_URI_AUTH
                                             : HR_URI_LOG);
    }
    base_buf_addf(b, "</Grantee><Permission>%s</Permission></Grant>", hr_perm_name(g->perm));
}

void hr_acl_answer(struct hr_req *r, const struct hr_acl *a)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    struct base_buf b = {0};
    base_buf_adds(&b, HR_XML_HEAD "<AccessControlPolicy xmlns=\"" HR_XMLNS "\"><Owner>");
    hr_owner_xml(&b, c, a->owner);
    base_buf_adds(&b, "</Owner><AccessControlList>");
    if (!a->g) {
        struct hr_grant g = {HR_G_USER, HR_P_FULL, a->owner};
        hr_grant_xml(&b, c, &g);
    }
    for (size_t i = 0; a->g && i < a->n; i++)
        hr_grant_xml(&b, c, &a->g[i]);
    base_buf_adds(&b, "</AccessControlList></AccessControlPolicy>");
    hr_xml_body(r, 200, &b);
}

/* PutBucketAcl / PutObjectAcl: the new ACL of a resource owned by owner, from
 * the headers or the body.  False when r is answered with an error. */
bool hr_acl_put_in(struct hr_req *r, struct hr_acl_in *in, bool is_bucket, int owner,
                   int bucket_owner)
{
    bool given = false;
    in->acl.owner = owner;
    if (r->body.len > HR_CONFIG_MAX) {
        hr_error(r, 400, "MalformedACLError", "the ACL is over 64 KiB");
        return false;
    }
    hr_acl_headers(r, in, is_bucket, bucket_owner, &given);
    if (!in->code && given && r->body.len)
        hr_acl_in_fail(in, "UnexpectedContent", "This request does not support content");
    if (!in->code && !given) {
        if (!r->body.len)
            hr_acl_in_fail(in, "MissingSecurityHeader",
                           "Your request was missing a required header: x-amz-acl");
        else
            hr_acl_xml_in(r, in);
    }
    if (in->code) {
        hr_acl_in_error(r, in);
        return false;
    }
    hr_acl_normalize(&in->acl);
    return true;
}

/* --- the route ---------------------------------------------------------------------- */

/* The bucket GET parameters that list (READ); other sub-resources of a
 * bucket are its owner's. */
static const char *const hr_list_params[] = {"list-type",
                                             "prefix",
                                             "delimiter",
                                             "marker",
                                             "max-keys",
                                             "encoding-type",
                                             "continuation-token",
                                             "start-after",
                                             "fetch-owner",
                                             "versions",
                                             "key-marker",
                                             "version-id-marker",
                                             "upload-id-marker",
                                             "max-uploads",
                                             "uploads",
                                             NULL};

static bool hr_bucket_allowed(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl tmp;
    const struct hr_acl *a = hr_bucket_acl(b, &tmp);
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (get && !hr_unserved(r, hr_list_params))
        return hr_allows(a, r->user, HR_P_READ);
    if (strcmp(m, "POST") == 0 && hr_has_q(r, "delete"))
        return hr_allows(a, r->user, HR_P_WRITE);
    return r->user > 0 && r->user == a->owner;
}

/* The version an object request names (?versionId), or NULL: the current one. */
static const char *hr_req_vid(const struct hr_req *r)
{
    const char *v = hr_q(r, "versionId");
    return hr_has_q(r, "versionId") ? (v ? v : "") : NULL;
}

/* The version x-amz-copy-source names ("?versionId=V"), or NULL. */
static const char *hr_src_vid(const char *src)
{
    const char *q = strstr(src, "?versionId=");
    return q ? q + 11 : NULL;
}

static bool hr_object_allowed(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl tmp;
    const char *m = r->method;
    int u = r->user;
    /* ListParts: whoever may upload (the object does not exist yet). */
    if ((strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) && !hr_has_q(r, "uploadId"))
        return hr_allows(hr_obj_acl(b, r->key, hr_req_vid(r), &tmp), u, HR_P_READ);
    if (!hr_allows(hr_bucket_acl(b, &tmp), u, HR_P_WRITE))
        return false;
    const char *src = hr_hdr(r, "x-amz-copy-source");
    if (src && strcmp(m, "PUT") == 0) {
        char sb[64];
        char *sk = NULL;
        struct hr_bucket *s;
        bool ok = true;
        if (hr_copy_source(src, sb, sizeof sb, &sk) && (s = hr_bucket_find(r->srv, sb)) != NULL)
            ok = hr_allows(hr_obj_acl(s, sk, hr_src_vid(src), &tmp), u, HR_P_READ);
        free(sk);
        return ok; /* a malformed or missing source: the copy answers it */
    }
    return true;
}

/* CreateBucket: a signed user's, and not of another user's bucket. */
static bool hr_route_create(struct hr_req *r, struct hr_bucket *b)
{
    if (!r->user)
        return hr_deny(r);
    if (b && hr_bucket_owner(b) != r->user) {
        hr_error(r, 409, "BucketAlreadyExists",
                 "The requested bucket name is not available. The bucket namespace is shared "
                 "by all users of the system. Please select a different name and try again.");
        hr_finish(r);
        return true;
    }
    struct hr_acl_in in = {.acl.owner = r->user};
    bool given;
    hr_acl_headers(r, &in, true, r->user, &given);
    free(in.acl.g);
    if (in.code) {
        hr_error(r, 400, in.code, in.msg);
        hr_finish(r);
        return true;
    }
    /* An existing bucket gets its state now: hr_acl_finish then leaves it. */
    if (b && !hr_bacl_get(b)) {
        hr_error(r, 500, "InternalError", "out of memory");
        hr_finish(r);
        return true;
    }
    return false;
}

static bool hr_route_bucket(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl tmp;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (hr_has_q(r, "acl")) {
        if (!hr_allows(hr_bucket_acl(b, &tmp), r->user, get ? HR_P_READ_ACP : HR_P_WRITE_ACP))
            return hr_deny(r);
        hr_bucket_sub(r, HR_SUB_ACL);
        return true;
    }
    if (!hr_bucket_allowed(r, b))
        return hr_deny(r);
    if (hr_has_q(r, "tagging")) {
        hr_bucket_sub(r, HR_SUB_TAGGING);
        return true;
    }
    if (hr_has_q(r, "cors")) {
        hr_bucket_cors(r);
        return true;
    }
    return false;
}

static bool hr_route_object(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl tmp;
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool acl = hr_has_q(r, "acl"), tagging = hr_has_q(r, "tagging");
    if (acl || tagging) {
        const struct hr_acl *oa = hr_obj_acl(b, r->key, hr_req_vid(r), &tmp);
        bool ok = acl ? hr_allows(oa, r->user, get ? HR_P_READ_ACP : HR_P_WRITE_ACP)
                      : r->user > 0 && r->user == oa->owner;
        if (!ok)
            return hr_deny(r);
        hr_obj_sub(r, acl ? HR_SUB_ACL : HR_SUB_TAGGING);
        return true;
    }
    if (!hr_object_allowed(r, b))
        return hr_deny(r);
    bool write = (strcmp(m, "PUT") == 0 && !hr_has_q(r, "uploadId") && r->nq == 0) ||
                 (strcmp(m, "POST") == 0 && hr_has_q(r, "uploads"));
    if (write && !hr_obj_headers_ok(r, b)) {
        hr_finish(r);
        return true;
    }
    if (get) {
        const struct hr_obj *o = hr_obj_find(b, r->key, hr_req_vid(r));
        if (o && o->tags.n)
            hr_header(r, "x-amz-tagging-count", "%zu", o->tags.n);
    }
    return false;
}

bool hr_acl_route(struct hr_req *r)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    if (!c->access_key)
        r->user = 1; /* no authentication: everything is the one user's */
    struct hr_bucket *b = r->bucket[0] ? hr_bucket_find(r->srv, r->bucket) : NULL;
    if (strcmp(r->method, "OPTIONS") == 0) {
        if (b)
            hr_cors_preflight(r, b->acl ? b->acl->cors : NULL);
        else if (r->bucket[0])
            hr_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
        else
            hr_error(r, 400, "BadRequest",
                     "Insufficient information. Origin request header needed.");
        hr_finish(r);
        return true;
    }
    if (!r->bucket[0])
        return r->user ? false : hr_deny(r); /* ListBuckets */
    if (!r->key && strcmp(r->method, "PUT") == 0 && r->nq == 0)
        return hr_route_create(r, b);
    if (!b)
        return false;
    r->b = b;
    if (b->acl && b->acl->cors && hr_hdr(r, "Origin"))
        hr_cors_headers(r, b->acl->cors);
    return r->key ? hr_route_object(r, b) : hr_route_bucket(r, b);
}
