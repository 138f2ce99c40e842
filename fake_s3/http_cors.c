/* http_cors.c - a bucket's CORS configuration and how S3 applies it: the
 * OPTIONS preflight (first rule whose AllowedOrigin, AllowedMethod and
 * AllowedHeader all match, else 403) and the Access-Control-* headers of an
 * actual request with an Origin (see http_acl.h). */
#include "http_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HR_CORS_RULES 100 /* S3: at most 100 rules */

struct hr_cors_rule {
    char *id;
    char **origins, **methods, **headers, **expose; /* NULL-terminated */
    long max_age;                                   /* -1: none */
};

struct hr_cors {
    size_t n;
    struct hr_cors_rule r[];
};

static void hr_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void hr_cors_free(struct hr_cors *c)
{
    for (size_t i = 0; c && i < c->n; i++) {
        free(c->r[i].id);
        hr_strv_free(c->r[i].origins);
        hr_strv_free(c->r[i].methods);
        hr_strv_free(c->r[i].headers);
        hr_strv_free(c->r[i].expose);
    }
    free(c);
}

/* The texts of d's children named name, NULL-terminated (an empty vector
 * when none); NULL when out of memory. */
static char **hr_strv(const struct hr_dom *d, const char *name)
{
    size_t n = 0, i = 0;
    for (const struct hr_dom *c = d->child; c; c = c->next)
        n += strcmp(c->name, name) == 0;
    char **v = calloc(n + 1, sizeof *v);
    for (const struct hr_dom *c = d->child; v && c; c = c->next) {
        if (strcmp(c->name, name) != 0)
            continue;
        if (!(v[i++] = strdup(c->text))) {
            hr_strv_free(v);
            return NULL;
        }
    }
    return v;
}

static size_t hr_count_char(const char *s, char ch)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == ch;
    return n;
}

struct hr_cors *hr_cors_parse(const char *xml, size_t len, const char **code, const char **msg)
{
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", NULL};
    static char bad_method[128];
    struct hr_dom *d = hr_dom_parse(xml, len);
    size_t n = 0;
    *code = "MalformedXML";
    *msg = "The XML you provided was not well-formed or did not validate against our published "
           "schema";
    if (!d || strcmp(d->name, "CORSConfiguration") != 0) {
        hr_dom_free(d);
        return NULL;
    }
    for (const struct hr_dom *c = d->child; c; c = c->next)
        n += strcmp(c->name, "CORSRule") == 0;
    if (n == 0 || n > HR_CORS_RULES) {
        hr_dom_free(d);
        return NULL;
    }
    struct hr_cors *cors = calloc(1, sizeof *cors + n * sizeof cors->r[0]);
    bool ok = cors != NULL;
    for (const struct hr_dom *c = d->child; ok && c; c = c->next) {
        if (strcmp(c->name, "CORSRule") != 0)
            continue;
        struct hr_cors_rule *rule = &cors->r[cors->n++];
        const char *id = hr_dom_text(c, "ID"), *age = hr_dom_text(c, "MaxAgeSeconds");
        rule->max_age = -1;
        rule->id = id ? strdup(id) : NULL;
        rule->origins = hr_strv(c, "AllowedOrigin");
        rule->methods = hr_strv(c, "AllowedMethod");
        rule->headers = hr_strv(c, "AllowedHeader");
        rule->expose = hr_strv(c, "ExposeHeader");
        ok = rule->origins && rule->methods && rule->headers && rule->expose && (!id || rule->id);
        ok = ok && rule->origins[0] && rule->methods[0]; /* each at least once */
        if (ok && age) {
            char *end;
            rule->max_age = strtol(age, &end, 10);
            ok = *age && !*end && rule->max_age >= 0;
        }
        for (size_t i = 0; ok && rule->origins[i]; i++) {
            if (hr_count_char(rule->origins[i], '*') > 1) {
                *code = "InvalidRequest";
                *msg = "AllowedOrigin can not have more than one wildcard.";
                ok = false;
            }
        }
        for (size_t i = 0; ok && rule->headers[i]; i++) {
            if (hr_count_char(rule->headers[i], '*') > 1) {
                *code = "InvalidRequest";
                *msg = "AllowedHeader can not have more than one wildcard.";
                ok = false;
            }
        }
        for (size_t i = 0; ok && rule->methods[i]; i++) {
            bool known = false;
            for (const char *const *m = methods; *m; m++)
                known = known || strcmp(*m, rule->methods[i]) == 0;
            if (!known) {
                snprintf(
                    bad_method, sizeof bad_method,
                    "Found unsupported HTTP method in CORS config. Unsupported method is %.40s",
                    rule->methods[i]);
                *code = "InvalidRequest";
                *msg = bad_method;
                ok = false;
            }
        }
    }
    hr_dom_free(d);
    if (!ok) {
        hr_cors_free(cors);
        return NULL;
    }
    return cors;
}

static void hr_cors_tags(struct base_buf *b, const char *tag, char **v)
{
    for (size_t i = 0; v[i]; i++) {
        base_buf_addf(b, "<%s>", tag);
        hr_buf_add_xml(b, v[i], false);
        base_buf_addf(b, "</%s>", tag);
    }
}

void hr_cors_xml(const struct hr_cors *c, struct base_buf *b)
{
    base_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration "
                     "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < c->n; i++) {
        const struct hr_cors_rule *r = &c->r[i];
        base_buf_adds(b, "<CORSRule>");
        if (r->id) {
            base_buf_adds(b, "<ID>");
            hr_buf_add_xml(b, r->id, false);
            base_buf_adds(b, "</ID>");
        }
        hr_cors_tags(b, "AllowedHeader", r->headers);
        hr_cors_tags(b, "AllowedMethod", r->methods);
        hr_cors_tags(b, "AllowedOrigin", r->origins);
        hr_cors_tags(b, "ExposeHeader", r->expose);
        if (r->max_age >= 0)
            base_buf_addf(b, "<MaxAgeSeconds>%ld</MaxAgeSeconds>", r->max_age);
        base_buf_adds(b, "</CORSRule>");
    }
    base_buf_adds(b, "</CORSConfiguration>");
}

/* s against a pattern with at most one '*' (any run of characters). */
static bool hr_wild(const char *pat, const char *s, size_t slen, bool nocase)
{
    const char *star = strchr(pat, '*');
    int (*cmp)(const char *, const char *, size_t) = nocase ? strncasecmp : strncmp;
    if (!star)
        return strlen(pat) == slen && cmp(pat, s, slen) == 0;
    size_t pre = (size_t)(star - pat), post = strlen(star + 1);
    return slen >= pre + post && cmp(pat, s, pre) == 0 && cmp(star + 1, s + slen - post, post) == 0;
}

static bool hr_any(char **v, const char *s, size_t len, bool nocase)
{
    for (size_t i = 0; v[i]; i++)
        if (hr_wild(v[i], s, len, nocase))
            return true;
    return false;
}

/* Every header of the comma-separated list matches an AllowedHeader. */
static bool hr_headers_allowed(const struct hr_cors_rule *rule, const char *list)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m && !hr_any(rule->headers, p, m, true))
            return false;
        p += n;
    }
    return true;
}

static const struct hr_cors_rule *hr_cors_match(const struct hr_cors *c, const char *origin,
                                                const char *method, const char *req_headers)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const struct hr_cors_rule *rule = &c->r[i];
        bool m = false;
        for (size_t j = 0; rule->methods[j]; j++)
            m = m || strcmp(rule->methods[j], method) == 0;
        if (m && hr_any(rule->origins, origin, strlen(origin), false) &&
            hr_headers_allowed(rule, req_headers))
            return rule;
    }
    return NULL;
}

static void hr_cors_list(struct hr_req *r, const char *name, char **v)
{
    char buf[1024];
    size_t o = 0;
    for (size_t i = 0; v[i] && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "", v[i]);
    if (o)
        hr_header(r, name, "%s", buf);
}

static void hr_cors_common(struct hr_req *r, const struct hr_cors_rule *rule, const char *origin)
{
    bool any = rule->origins[0] && strcmp(rule->origins[0], "*") == 0 && !rule->origins[1];
    hr_header(r, "Access-Control-Allow-Origin", "%s", any ? "*" : origin);
    hr_cors_list(r, "Access-Control-Allow-Methods", rule->methods);
    hr_cors_list(r, "Access-Control-Expose-Headers", rule->expose);
    if (rule->max_age >= 0)
        hr_header(r, "Access-Control-Max-Age", "%ld", rule->max_age);
    if (!any)
        hr_header(r, "Access-Control-Allow-Credentials", "true");
    hr_header(r, "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

void hr_cors_preflight(struct hr_req *r, const struct hr_cors *c)
{
    const char *origin = hr_hdr(r, "Origin"), *method = hr_hdr(r, "Access-Control-Request-Method");
    const char *rh = hr_hdr(r, "Access-Control-Request-Headers");
    if (!origin || !method) {
        hr_error(r, 400, "BadRequest",
                 !origin ? "Insufficient information. Origin request header needed."
                         : "Invalid Access-Control-Request-Method: null");
        return;
    }
    if (!c) {
        hr_error(r, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.");
        return;
    }
    const struct hr_cors_rule *rule = hr_cors_match(c, origin, method, rh);
    if (!rule) {
        hr_error(r, 403, "AccessForbidden",
                 "CORSResponse: This CORS request is not allowed. This is usually because the "
                 "evalution of Origin, request method / Access-Control-Request-Method or "
                 "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                 "spec.");
        return;
    }
    hr_cors_common(r, rule, origin);
    if (rh && *rh)
        hr_header(r, "Access-Control-Allow-Headers", "%s", rh);
    r->resp.status = 200;
}

void hr_cors_headers(struct hr_req *r, const struct hr_cors *c)
{
    const char *origin = hr_hdr(r, "Origin");
    const struct hr_cors_rule *rule = origin ? hr_cors_match(c, origin, r->method, NULL) : NULL;
    if (rule)
        hr_cors_common(r, rule, origin);
}
