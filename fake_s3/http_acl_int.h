/* http_acl_int.h - what http_acl.c (state, access, ACLs, the route) and
 * http_acl_ops.c (tags, the ?acl/?tagging/?cors operations, the bookkeeping
 * after writes) share.  Not a contract; see http_acl.h. */
#ifndef S3SIM_FAKE_HTTP_ACL_INT_H
#define S3SIM_FAKE_HTTP_ACL_INT_H

#include "http_acl.h"

#include <stdint.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define HR_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define HR_URI_ALL "http://acs.amazonaws.com/groups/global/AllUsers"
#define HR_URI_AUTH "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define HR_URI_LOG "http://acs.amazonaws.com/groups/s3/LogDelivery"

#define HR_MAX_GRANTS 100   /* S3: at most 100 grants in an ACL */
#define HR_CONFIG_MAX 65536 /* bytes of an ACL, tagging or CORS body */
#define HR_MAX_PENDING 4096 /* uploads whose ACL or tags wait for Complete */
#define HR_OBJ_TAGS 10      /* S3: tags per object */
#define HR_BUCKET_TAGS 50   /* S3: tags per bucket */
#define HR_TAG_KEY_MAX 128  /* characters */
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

/* One object version's owner, ACL and tags (a version without an entry has
 * the default: the bucket owner's, private, no tags). */
struct hr_obj {
    struct hr_obj *next;
    struct hr_acl acl; /* acl.owner: the object's owner */
    struct hr_tags tags;
    char vid[S3_VERSION_ID_MAX]; /* its version: "null" for an object written unversioned */
    char key[];
};

struct hr_pending {
    struct hr_pending *next;
    char upload[128];
    struct hr_obj *o;
    struct hr_lockset lock; /* CreateMultipartUpload's lock headers, for the version made */
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

/* An ACL being built, or an error. */
struct hr_acl_in {
    struct hr_acl acl;
    size_t cap;
    const char *code; /* NULL: fine */
    char msg[160];
};

struct hr_tags_in {
    struct hr_tags t;
    size_t max;
    const char *code;
    const char *msg;
};

enum hr_sub { HR_SUB_ACL, HR_SUB_TAGGING };

struct hr_bacl *hr_bacl_get(struct hr_bucket *b);
int hr_bucket_owner(const struct hr_bucket *b);
/* Entries are kept by key and version.  vid: a version id ("" is "null"),
 * or NULL for the key's current version (the store's newest; "null" in a
 * bucket that never had versioning). */
const char *hr_vid_resolve(const struct hr_bucket *b, const char *key, const char *vid,
                           char buf[S3_VERSION_ID_MAX]);
struct hr_obj *hr_obj_find(const struct hr_bucket *b, const char *key, const char *vid);
void hr_obj_drop(struct hr_bacl *a, const char *key, const char *vid);
/* Drops the entries of key's versions the store no longer has (every entry
 * of key on a bucket without a store). */
void hr_obj_prune(struct hr_bucket *b, const char *key);
void hr_obj_set(struct hr_bacl *a, struct hr_obj *o);
void hr_obj_free(struct hr_obj *o);
const struct hr_acl *hr_obj_acl(const struct hr_bucket *b, const char *key, const char *vid,
                                struct hr_acl *tmp);
void hr_acl_headers(struct hr_req *r, struct hr_acl_in *in, bool is_bucket, int bucket_owner,
                    bool *given);
bool hr_acl_put_in(struct hr_req *r, struct hr_acl_in *in, bool is_bucket, int owner,
                   int bucket_owner);
void hr_acl_answer(struct hr_req *r, const struct hr_acl *a);
void hr_acl_normalize(struct hr_acl *a);
void hr_tags_free(struct hr_tags *t);
const struct hr_acl *hr_bucket_acl(const struct hr_bucket *b, struct hr_acl *tmp);
bool hr_allows(const struct hr_acl *a, int user, int perm);
void hr_obj_sub(struct hr_req *r, enum hr_sub sub);
void hr_bucket_sub(struct hr_req *r, enum hr_sub sub);
void hr_bucket_cors(struct hr_req *r);
bool hr_obj_headers_ok(struct hr_req *r, struct hr_bucket *b);
bool hr_copy_source(const char *v, char *bucket, size_t bsz, char **key);

#endif /* S3SIM_FAKE_HTTP_ACL_INT_H */
