/*
 * http_acl.h - users and access in the HTTP front: the key pairs (the
 * config's pair and fs3_http_config.users), SigV2, the owner of each bucket
 * and object, canned ACLs and grants, anonymous requests, tagging and CORS.
 * Internal to fake_s3/http*.c; every function runs with the loop lock held.
 *
 * What is kept, per bucket (struct hr_bacl, made on first use): the owner,
 * the bucket's ACL, its tags, its CORS rules, and for each object written
 * with something else than the default (owner = the bucket's owner, private,
 * no tags) an entry: owner, ACL, tags.  Entries are kept by key (not by
 * version): a write or a delete of the key replaces or drops it.
 */
#ifndef S3SIM_FAKE_HTTP_ACL_H
#define S3SIM_FAKE_HTTP_ACL_H

#include "http_int.h"

#include <stdbool.h>
#include <stddef.h>

struct hr_bacl;
void hr_bacl_free(struct hr_bacl *a);

/* The user whose access key is ak: 1 + its index (1: the config's pair), or
 * 0 when none; its secret into *secret. */
int hr_user_find(const struct fs3_http_config *c, const char *ak, const char **secret);
/* User u's canonical ID and display name (both its name). */
const char *hr_user_name(const struct fs3_http_config *c, int u);

/* SigV2: "Authorization: AWS AK:sig" or a presigned query (AWSAccessKeyId,
 * Expires, Signature).  Sets r->user; false when r is answered (403). */
bool hr_auth_v2(struct hr_req *r);
bool hr_is_v2_query(const struct hr_req *r);

/* Before the body of an anonymous request is read: true when the bucket's ACL
 * lets anyone write (else r is answered 403). */
bool hr_acl_preauth_anon(struct hr_req *r);

/* After authentication, before routing: answers 403 when the requester may
 * not do what r asks; serves ?acl, ?tagging, ?cors and OPTIONS; adds the
 * CORS and x-amz-tagging-count headers.  True when r is taken (answered or
 * in flight), false to route it as usual. */
bool hr_acl_route(struct hr_req *r);

/* From hr_finish: records what a successful write changed (owners, ACLs,
 * tags of new objects and buckets; entries of deleted keys dropped). */
void hr_acl_finish(struct hr_req *r);

/* Listings: the owner's name of a bucket (ListBuckets shows the requester's
 * buckets only) and of an object version (fetch-owner, ListObjectVersions). */
bool hr_acl_lists_bucket(const struct hr_req *r, const struct hr_bucket *b);
const char *hr_acl_requester(const struct hr_req *r);
const char *hr_acl_obj_owner(const struct hr_req *r, const struct hr_bucket *b, const char *key,
                             const char *vid); /* vid NULL: the current version */
/* The initiator of upload in r's bucket (ListMultipartUploads, ListParts). */
const char *hr_acl_upload_owner(const struct hr_req *r, const char *upload);

/* A tiny DOM over expat for the small XML bodies (ACL, tagging, CORS):
 * element local names, text, and the xsi:type attribute.  Bounded: at most
 * HR_DOM_MAX_NODES elements, 8 levels, text of 4 KiB per element. */
#define HR_DOM_MAX_NODES 4096
struct hr_dom {
    char *name;
    char *text;
    char *type; /* xsi:type, or NULL */
    struct hr_dom *child, *next;
};
/* NULL when malformed or over the bounds. */
struct hr_dom *hr_dom_parse(const char *xml, size_t len);
void hr_dom_free(struct hr_dom *d);
/* The first child named name, or NULL. */
struct hr_dom *hr_dom_child(const struct hr_dom *d, const char *name);
const char *hr_dom_text(const struct hr_dom *d, const char *name);

/* CORS (http_cors.c). */
struct hr_cors;
void hr_cors_free(struct hr_cors *c);
/* Parses a CORSConfiguration; NULL with *code and *msg set when invalid. */
struct hr_cors *hr_cors_parse(const char *xml, size_t len, const char **code, const char **msg);
void hr_cors_xml(const struct hr_cors *c, struct base_buf *b);
/* OPTIONS: answers the preflight request r (c may be NULL: CORS not enabled). */
void hr_cors_preflight(struct hr_req *r, const struct hr_cors *c);
/* An actual request with an Origin: the Access-Control-* headers of the
 * first rule that allows it, if any. */
void hr_cors_headers(struct hr_req *r, const struct hr_cors *c);

#endif /* S3SIM_FAKE_HTTP_ACL_H */
