/* http_acl.c - owners, ACLs (canned, x-amz-grant-* headers, AccessControlPolicy
 * bodies), access decisions, anonymous requests and tagging in the HTTP
 * front (see http_acl.h).  Buckets behave as S3 buckets with Object
 * Ownership "ObjectWriter" (ACLs enabled): an object belongs to whoever
 * wrote it, and the bucket's owner reads another user's object only through
 * a grant (bucket-owner-read, bucket-owner-full-control). */
#include "err.h"
#include "http_acl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define HR_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define HR_URI_ALL "http://acs.amazonaws.com/groups/global/AllUsers"
#define HR_URI_AUTH "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define HR_URI_LOG "http://acs.amazonaws.com/groups/s3/LogDelivery"

#define HR_MAX_GRANTS 100     /* S3: at most 100 grants in an ACL */
#define HR_CONFIG_MAX 65536   /* bytes of an ACL, tagging or CORS body */
#define HR_MAX_PENDING 4096   /* uploads whose ACL or tags wait for Complete */
#define HR_OBJ_TAGS 10        /* S3: tags per object */
#define HR_BUCKET_TAGS 50     /* S3: tags per bucket */
#define HR_TAG_KEY_MAX 128    /* characters */
#define HR_TAG_VALUE_MAX 256

enum { HR_P_READ = 1, HR_P_WRITE = 2, HR_P_READ_ACP = 4, HR_P_WRITE_ACP = 8, HR_P_FULL = 15 };
enum { HR_G_USER, HR_G_ALL, HR_G_AUTH, HR_G_LOG };

struct hr_grant {
    uint8_t kind;
    uint8_t perm;
    int user; /* HR_G_USER */
};

/* g NULL: private (the owner's FULL_CONTROL). */
struct hr_acl {
    int owner;
    size_t n;
    struct hr_grant *g;
};

/* "key\0value\0" n times. */
struct hr_tags {
    size_t n, len;
    char *blob;
};

struct hr_obj {
    struct hr_obj *next;
    struct hr_acl acl; /* acl.owner: the object's owner */
    struct hr_tags tags;
    char key[];
};

struct hr_pending {
    struct hr_pending *next;
    char upload[128];
    struct hr_obj *o;
};

struct hr_bacl {
    struct hr_acl acl; /* acl.owner: the bucket's owner */
    struct hr_tags tags;
    bool has_tags;
    struct hr_cors *cors;
    struct hr_obj **tab;
    size_t cap, n;
    struct hr_pending *pend;
    size_t npend;
};

/* --- state -------------------------------------------------------------------- */

static void hr_tags_free(struct hr_tags *t)
{
    free(t->blob);
    memset(t, 0, sizeof *t);
}

static void hr_obj_free(struct hr_obj *o)
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
static struct hr_bacl *hr_bacl_get(struct hr_bucket *b)
{
    if (!b->acl) {
        b->acl = calloc(1, sizeof *b->acl);
        if (b->acl)
            b->acl->acl.owner = 1;
    }
    return b->acl;
}

static int hr_bucket_owner(const struct hr_bucket *b)
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

static struct hr_obj **hr_obj_slot(const struct hr_bacl *a, const char *key)
{
    if (!a || !a->cap)
        return NULL;
    struct hr_obj **p = &a->tab[hr_hash(key) & (a->cap - 1)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static struct hr_obj *hr_obj_find(const struct hr_bucket *b, const char *key)
{
    struct hr_obj **p = hr_obj_slot(b->acl, key);
    return p ? *p : NULL;
}

static void hr_obj_drop(struct hr_bacl *a, const char *key)
{
    struct hr_obj **p = hr_obj_slot(a, key);
    if (p && *p) {
        struct hr_obj *o = *p;
        *p = o->next;
        hr_obj_free(o);
        a->n--;
    }
}

/* Puts o (owned from here) in place of key's entry. */
static void hr_obj_set(struct hr_bacl *a, struct hr_obj *o)
{
    hr_obj_drop(a, o->key);
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
static bool hr_allows(const struct hr_acl *a, int user, int perm)
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

static const struct hr_acl *hr_obj_acl(const struct hr_bucket *b, const char *key,
                                       struct hr_acl *tmp)
{
    const struct hr_obj *o = hr_obj_find(b, key);
    if (o)
        return &o->acl;
    tmp->owner = hr_bucket_owner(b);
    tmp->n = 0;
    tmp->g = NULL;
    return tmp;
}

static const struct hr_acl *hr_bucket_acl(const struct hr_bucket *b, struct hr_acl *tmp)
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

const char *hr_acl_obj_owner(const struct hr_req *r, const struct hr_bucket *b, const char *key)
{
    const struct hr_obj *o = b ? hr_obj_find(b, key) : NULL;
    return hr_user_name(hr_config(r->srv), o ? o->acl.owner : b ? hr_bucket_owner(b) : 1);
}

/* --- ACLs in: canned, grant headers, XML ------------------------------------ */

static const char *const hr_perm_names[] = {"READ", "WRITE", "READ_ACP", "WRITE_ACP",
                                            "FULL_CONTROL"};
static const int hr_perm_bits[] = {HR_P_READ, HR_P_WRITE, HR_P_READ_ACP, HR_P_WRITE_ACP,
                                   HR_P_FULL};

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

/* An ACL being built, or an error. */
struct hr_acl_in {
    struct hr_acl acl;
    size_t cap;
    const char *code; /* NULL: fine */
    char msg[160];
};

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
static void hr_acl_headers(struct hr_req *r, struct hr_acl_in *in, bool is_bucket,
                           int bucket_owner, bool *given)
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
            hr_acl_grantee(in, c, NULL, hr_dom_text(ge, "URI") ? hr_dom_text(ge, "URI") : "",
                           NULL, p);
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
static void hr_acl_normalize(struct hr_acl *a)
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

static void hr_acl_answer(struct hr_req *r, const struct hr_acl *a)
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
static bool hr_acl_put_in(struct hr_req *r, struct hr_acl_in *in, bool is_bucket, int owner,
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

/* --- tags ------------------------------------------------------------------- */

static size_t hr_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((uint8_t)*s & 0xC0) != 0x80;
    return n;
}

struct hr_tags_in {
    struct hr_tags t;
    size_t max;
    const char *code;
    const char *msg;
};

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
                    in->msg = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded "
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
static bool hr_obj_headers_ok(struct hr_req *r, struct hr_bucket *b)
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
static bool hr_copy_source(const char *v, char *bucket, size_t bsz, char **key)
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

enum hr_sub { HR_SUB_ACL, HR_SUB_TAGGING };

static void hr_obj_sub_act(struct hr_req *r, enum hr_sub sub)
{
    struct hr_bacl *a = hr_bacl_get(r->b);
    struct hr_obj *o = hr_obj_find(r->b, r->key);
    struct hr_acl tmp;
    const char *m = r->method;
    if (!a) {
        hr_error(r, 500, "InternalError", "out of memory");
        return;
    }
    if (sub == HR_SUB_ACL && strcmp(m, "GET") == 0) {
        hr_acl_answer(r, hr_obj_acl(r->b, r->key, &tmp));
        return;
    }
    if (sub == HR_SUB_TAGGING && strcmp(m, "GET") == 0) {
        struct hr_tags none = {0};
        hr_tags_answer(r, o ? &o->tags : &none);
        return;
    }
    /* A change: the entry, made from the default when there is none. */
    struct hr_acl_in in = {0};
    struct hr_tags_in tin = {.max = HR_OBJ_TAGS};
    int owner = o ? o->acl.owner : hr_bucket_owner(r->b);
    if (sub == HR_SUB_ACL) {
        if (strcmp(m, "PUT") != 0) {
            hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
            return;
        }
        if (!hr_acl_put_in(r, &in, false, owner, hr_bucket_owner(r->b)))
            return;
    } else if (strcmp(m, "PUT") == 0) {
        hr_tags_xml_in(r, &tin);
        if (tin.code) {
            hr_tags_free(&tin.t);
            hr_error(r, strcmp(tin.code, "InternalError") == 0 ? 500 : 400, tin.code, tin.msg);
            return;
        }
    } else if (strcmp(m, "DELETE") != 0) {
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
        return;
    }
    size_t kl = strlen(r->key) + 1;
    struct hr_obj *n = calloc(1, sizeof *n + kl);
    if (!n) {
        free(in.acl.g);
        hr_tags_free(&tin.t);
        hr_error(r, 500, "InternalError", "out of memory");
        return;
    }
    memcpy(n->key, r->key, kl);
    n->acl.owner = owner;
    if (sub == HR_SUB_ACL) {
        n->acl = in.acl;
        if (o && !hr_tags_copy(&n->tags, &o->tags)) {
            hr_obj_free(n);
            hr_error(r, 500, "InternalError", "out of memory");
            return;
        }
    } else {
        n->tags = tin.t;
        if (o && o->acl.g) {
            n->acl.g = malloc(o->acl.n * sizeof *n->acl.g);
            if (!n->acl.g) {
                hr_obj_free(n);
                hr_error(r, 500, "InternalError", "out of memory");
                return;
            }
            memcpy(n->acl.g, o->acl.g, o->acl.n * sizeof *n->acl.g);
            n->acl.n = o->acl.n;
        }
    }
    if (n->acl.owner == hr_bucket_owner(r->b) && !n->acl.g && !n->tags.n) {
        hr_obj_drop(a, r->key);
        hr_obj_free(n);
    } else {
        hr_obj_set(a, n);
    }
    r->resp.status = sub == HR_SUB_TAGGING && strcmp(m, "DELETE") == 0 ? 204 : 200;
}

static void hr_obj_sub_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    if (!hr_result_failed(r, res))
        hr_obj_sub_act(r, (enum hr_sub)r->step);
    hr_finish(r);
}

/* Object ?acl and ?tagging: the object must exist (a HEAD first). */
static void hr_obj_sub(struct hr_req *r, enum hr_sub sub)
{
    r->step = (int)sub;
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.key = r->key;
    r->sreq.range_end = -1;
    hr_submit(r, r->b->ops, S3_OP_HEAD, hr_obj_sub_done);
}

static void hr_bucket_sub(struct hr_req *r, enum hr_sub sub)
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

static void hr_bucket_cors(struct hr_req *r)
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
        struct hr_cors *c =
            r->body.len <= HR_CONFIG_MAX ? hr_cors_parse(r->body.p, r->body.len, &code, &msg) : NULL;
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

/* --- the route ---------------------------------------------------------------------- */

/* The bucket GET parameters that list (READ); other sub-resources of a
 * bucket are its owner's. */
static const char *const hr_list_params[] = {
    "list-type",   "prefix",      "delimiter",         "marker",           "max-keys",
    "encoding-type", "continuation-token", "start-after", "fetch-owner",   "versions",
    "key-marker",  "version-id-marker", "upload-id-marker", "max-uploads", "uploads",
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

static bool hr_object_allowed(struct hr_req *r, struct hr_bucket *b)
{
    struct hr_acl tmp;
    const char *m = r->method;
    int u = r->user;
    /* ListParts: whoever may upload (the object does not exist yet). */
    if ((strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) && !hr_has_q(r, "uploadId"))
        return hr_allows(hr_obj_acl(b, r->key, &tmp), u, HR_P_READ);
    if (!hr_allows(hr_bucket_acl(b, &tmp), u, HR_P_WRITE))
        return false;
    const char *src = hr_hdr(r, "x-amz-copy-source");
    if (src && strcmp(m, "PUT") == 0) {
        char sb[64];
        char *sk = NULL;
        struct hr_bucket *s;
        bool ok = true;
        if (hr_copy_source(src, sb, sizeof sb, &sk) && (s = hr_bucket_find(r->srv, sb)) != NULL)
            ok = hr_allows(hr_obj_acl(s, sk, &tmp), u, HR_P_READ);
        free(sk);
        return ok; /* a malformed or missing source: the copy answers it */
    }
    return true;
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
            hr_error(r, 400, "BadRequest", "Insufficient information. Origin request header needed.");
        hr_finish(r);
        return true;
    }
    if (!r->bucket[0])
        return r->user ? false : hr_deny(r);
    if (!r->key && strcmp(r->method, "PUT") == 0 && r->nq == 0) {
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
        if (b && !hr_bacl_get(b)) {
            hr_error(r, 500, "InternalError", "out of memory");
            hr_finish(r);
            return true;
        }
        return false;
    }
    if (!b)
        return false;
    r->b = b;
    if (b->acl && b->acl->cors && hr_hdr(r, "Origin"))
        hr_cors_headers(r, b->acl->cors);
    bool acl = hr_has_q(r, "acl"), tagging = hr_has_q(r, "tagging");
    struct hr_acl tmp;
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (!r->key) {
        if (acl) {
            if (!hr_allows(hr_bucket_acl(b, &tmp), r->user, get ? HR_P_READ_ACP : HR_P_WRITE_ACP))
                return hr_deny(r);
            hr_bucket_sub(r, HR_SUB_ACL);
            return true;
        }
        if (!hr_bucket_allowed(r, b))
            return hr_deny(r);
        if (tagging) {
            hr_bucket_sub(r, HR_SUB_TAGGING);
            return true;
        }
        if (hr_has_q(r, "cors")) {
            hr_bucket_cors(r);
            return true;
        }
        return false;
    }
    if (acl || tagging) {
        const struct hr_acl *oa = hr_obj_acl(b, r->key, &tmp);
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
        const struct hr_obj *o = hr_obj_find(b, r->key);
        if (o && o->tags.n)
            hr_header(r, "x-amz-tagging-count", "%zu", o->tags.n);
    }
    return false;
}

/* --- after a successful write ------------------------------------------------------- */

static void hr_pending_add(struct hr_bacl *a, const char *upload, struct hr_obj *o)
{
    struct hr_pending *p = calloc(1, sizeof *p);
    if (!p || strlen(upload) >= sizeof p->upload) {
        free(p);
        hr_obj_free(o);
        return;
    }
    snprintf(p->upload, sizeof p->upload, "%s", upload);
    p->o = o;
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
            if (hr_copy_source(src, sb, sizeof sb, &sk) && (s = hr_bucket_find(r->srv, sb)))
                so = hr_obj_find(s, sk);
            copy = so ? &so->tags : &none;
        }
        struct hr_obj *o = hr_obj_from_req(r, b, r->key, copy);
        free(sk);
        if (o && (a = hr_bacl_get(b)) != NULL)
            hr_obj_set(a, o);
        else if (o)
            hr_obj_free(o);
        else
            hr_obj_drop(a, r->key);
    } else if (strcmp(m, "POST") == 0 && hr_has_q(r, "uploads")) {
        char up[128];
        struct hr_obj *o = hr_obj_from_req(r, b, r->key, NULL);
        if (o && hr_resp_upload(r, up, sizeof up) && (a = hr_bacl_get(b)) != NULL)
            hr_pending_add(a, up, o);
        else
            hr_obj_free(o);
    } else if (strcmp(m, "POST") == 0 && hr_has_q(r, "uploadId")) {
        struct hr_pending *p = hr_pending_take(a, hr_q(r, "uploadId"));
        if (p && strcmp(p->o->key, r->key) == 0)
            hr_obj_set(a, p->o);
        else if (p)
            hr_obj_free(p->o);
        else
            hr_obj_drop(a, r->key);
        free(p);
    } else if (strcmp(m, "DELETE") == 0 && hr_has_q(r, "uploadId")) {
        struct hr_pending *p = hr_pending_take(a, hr_q(r, "uploadId"));
        if (p)
            hr_obj_free(p->o);
        free(p);
    } else if (strcmp(m, "DELETE") == 0 && r->nq == 0) {
        hr_obj_drop(a, r->key);
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
                hr_obj_drop(b->acl, keys[i]);
                free(keys[i]);
            }
            free(keys);
        }
    }
}
