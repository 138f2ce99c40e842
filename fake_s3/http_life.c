/* http_life.c - PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration
 * and DeleteBucketLifecycle in the HTTP front (docs/http.md "Lifecycle").  The
 * rules go to the bucket's store (fs3_lifecycle_set), whose one mechanism
 * also applies the s3.lifecycle.abort.incomplete knob (fs3.h "Lifecycle").
 * Served: Expiration (Days, Date) and AbortIncompleteMultipartUpload, a
 * prefix filter (Filter/Prefix or the older Rule/Prefix), Status, ID; other
 * actions and filters answer 501.  Lock held throughout. */
#include "err.h"
#include "fs3.h"
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define HR_LIFE_MAX 1000

struct hr_life_rule {
    char id[256];
    char prefix[S3_MAX_KEY + 1];
    char status[16];
    long expire_days, abort_days;
    int64_t expire_at_unix_us; /* -1 none */
    int actions;
};

struct hr_life_parse {
    struct hr_life_rule *r;
    size_t n;
    bool bad;               /* MalformedXML */
    char unsupported[64];   /* an element not served (501) */
    bool bad_date;          /* a Date not at midnight UTC (400 InvalidArgument) */
};

static long hr_life_days(const char *text, bool *bad)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v <= 0 || v > 100000)
        *bad = true;
    return v;
}

static void hr_life_el(void *arg, const char *path, const char *text)
{
    struct hr_life_parse *p = arg;
    struct hr_life_rule *r = p->n ? &p->r[p->n - 1] : NULL;
    if (!text) {
        if (strcmp(path, "Rule") == 0) {
            struct hr_life_rule *nr =
                p->n < HR_LIFE_MAX ? realloc(p->r, (p->n + 1) * sizeof *nr) : NULL;
            if (!nr) {
                p->bad = true;
                return;
            }
            p->r = nr;
            memset(&p->r[p->n], 0, sizeof *nr);
            p->r[p->n++].expire_at_unix_us = -1;
        } else if (strncmp(path, "Rule/Filter/", 12) == 0 && strcmp(path, "Rule/Filter/Prefix") != 0 &&
                   !p->unsupported[0]) {
            snprintf(p->unsupported, sizeof p->unsupported, "%s", path + 5);
        } else if ((strncmp(path, "Rule/Transition", 15) == 0 ||
                    strncmp(path, "Rule/Noncurrent", 15) == 0 ||
                    strcmp(path, "Rule/Expiration/ExpiredObjectDeleteMarker") == 0) &&
                   !p->unsupported[0]) {
            snprintf(p->unsupported, sizeof p->unsupported, "%s", path + 5);
        }
        return;
    }
    if (!r)
        return;
    if (strcmp(path, "Rule/ID") == 0) {
        p->bad |= strlen(text) >= sizeof r->id;
        snprintf(r->id, sizeof r->id, "%s", text);
    } else if (strcmp(path, "Rule/Prefix") == 0 || strcmp(path, "Rule/Filter/Prefix") == 0) {
        p->bad |= strlen(text) >= sizeof r->prefix;
        snprintf(r->prefix, sizeof r->prefix, "%s", text);
    } else if (strcmp(path, "Rule/Status") == 0) {
        snprintf(r->status, sizeof r->status, "%s", text);
    } else if (strcmp(path, "Rule/Expiration/Days") == 0) {
        r->expire_days = hr_life_days(text, &p->bad);
        r->actions++;
    } else if (strcmp(path, "Rule/Expiration/Date") == 0) {
        struct tm tm = {0};
        const char *end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end || (*end && strcmp(end, "Z") != 0 && strcmp(end, ".000Z") != 0 &&
                     strcmp(end, "+00:00") != 0))
            p->bad = true;
        else if (tm.tm_hour || tm.tm_min || tm.tm_sec)
            p->bad_date = true;
        r->expire_at_unix_us = (int64_t)timegm(&tm) * 1000000;
        r->actions++;
    } else if (strcmp(path, "Rule/AbortIncompleteMultipartUpload/DaysAfterInitiation") == 0) {
        r->abort_days = hr_life_days(text, &p->bad);
        r->actions++;
    }
}

static void hr_life_put(struct hr_req *r)
{
    struct hr_life_parse p = {0};
    struct fs3_lc_rule *rules = NULL;
    int rc = hr_walk_xml(r->body.p, r->body.len, "LifecycleConfiguration", hr_life_el, &p);
    for (size_t i = 0; !rc && !p.bad && i < p.n; i++) {
        struct hr_life_rule *x = &p.r[i];
        p.bad |= (strcmp(x->status, "Enabled") != 0 && strcmp(x->status, "Disabled") != 0) ||
                 (x->actions == 0 && !p.unsupported[0]) ||
                 (x->expire_days && x->expire_at_unix_us >= 0);
        for (size_t j = 0; j < i && x->id[0]; j++)
            if (strcmp(p.r[j].id, x->id) == 0) {
                hr_error(r, 400, "InvalidArgument", "Rule ID must be unique. Found same ID "
                                                    "for more than one rule");
                goto out;
            }
    }
    if (rc || p.bad || p.n == 0) {
        hr_error(r, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
    } else if (p.unsupported[0]) {
        char msg[160];
        snprintf(msg, sizeof msg, "the lifecycle element '%s' is not served by s3sim",
                 p.unsupported);
        hr_error(r, 501, "NotImplemented", msg);
    } else if (p.bad_date) {
        hr_error(r, 400, "InvalidArgument", "'Date' must be at midnight GMT");
    } else if (!(rules = calloc(p.n, sizeof *rules))) {
        hr_error(r, 500, "InternalError", "out of memory");
    } else {
        for (size_t i = 0; i < p.n; i++) {
            rules[i] = (struct fs3_lc_rule){
                p.r[i].id,
                p.r[i].prefix,
                strcmp(p.r[i].status, "Enabled") == 0,
                (int)p.r[i].expire_days,
                p.r[i].expire_at_unix_us >= 0 ? p.r[i].expire_at_unix_us - hr_epoch_us(r->srv)
                                              : ENV_TIME_NEVER,
                (int)p.r[i].abort_days};
        }
        rc = fs3_lifecycle_set(r->b->store, rules, p.n);
        if (rc)
            hr_error(r, 500, "InternalError", err_str(rc));
        else
            r->resp.status = 200;
    }
out:
    free(rules);
    free(p.r);
}

static void hr_life_get(struct hr_req *r)
{
    const struct fs3_lc_rule *rules;
    size_t n = fs3_lifecycle_get(r->b->store, &rules);
    struct base_buf b = {0};
    if (!n) {
        hr_error(r, 404, "NoSuchLifecycleConfiguration",
                 "The lifecycle configuration does not exist");
        return;
    }
    base_buf_adds(&b, HR_XML_HEAD "<LifecycleConfiguration xmlns=\"" HR_XMLNS "\">");
    for (size_t i = 0; i < n; i++) {
        const struct fs3_lc_rule *x = &rules[i];
        base_buf_adds(&b, "<Rule>");
        if (x->id[0]) {
            base_buf_adds(&b, "<ID>");
            hr_buf_add_xml(&b, x->id, false);
            base_buf_adds(&b, "</ID>");
        }
        base_buf_adds(&b, "<Filter><Prefix>");
        hr_buf_add_xml(&b, x->prefix, false);
        base_buf_addf(&b, "</Prefix></Filter><Status>%s</Status>",
                      x->enabled ? "Enabled" : "Disabled");
        if (x->expire_days)
            base_buf_addf(&b, "<Expiration><Days>%d</Days></Expiration>", x->expire_days);
        if (x->expire_at != ENV_TIME_NEVER) {
            char t[32];
            hr_iso_time((x->expire_at + hr_epoch_us(r->srv)) / 1000000, t);
            base_buf_addf(&b, "<Expiration><Date>%s</Date></Expiration>", t);
        }
        if (x->abort_days)
            base_buf_addf(&b,
                          "<AbortIncompleteMultipartUpload><DaysAfterInitiation>%d"
                          "</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
                          x->abort_days);
        base_buf_adds(&b, "</Rule>");
    }
    base_buf_adds(&b, "</LifecycleConfiguration>");
    hr_xml_body(r, 200, &b);
}

bool hr_life_bucket_op(struct hr_req *r)
{
    if (!hr_has_q(r, "lifecycle") || !r->b)
        return false;
    if (!r->b->store)
        hr_error(r, 501, "NotImplemented",
                 "lifecycle is served on buckets with s3sim's own store only");
    else if (strcmp(r->method, "PUT") == 0)
        hr_life_put(r);
    else if (strcmp(r->method, "GET") == 0)
        hr_life_get(r);
    else if (strcmp(r->method, "DELETE") == 0 && fs3_lifecycle_set(r->b->store, NULL, 0) == 0)
        r->resp.status = 204;
    else
        hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
    hr_finish(r);
    return true;
}
