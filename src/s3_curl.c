/* s3_curl.c - s3_ops over the libcurl multi interface on env_real's loop (see s3_curl.h). */
#include "s3_curl.h"

#include "err.h"
#include "sigv4.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SC_MAX_HEADERS 12
#define SC_URL_MAX (4 * S3_MAX_KEY + 1024)

struct sc_call {
    struct s3_curl *c;
    struct s3_req *req;
    CURL *easy;
    struct curl_slist *hdrs;
    char *xml; /* a request body we made (delete, complete) */
    size_t xml_len;
    uint8_t *body; /* the answer's body */
    size_t len, cap;
    char etag[S3_ETAG_MAX];
    struct s3_checksum ck;
    uint64_t content_length;
    uint64_t range_total;
    bool has_range;
    uint64_t token; /* x-s3sim-transit, with a shared clock (env.h) */
    struct sc_call *prev, *next;
};

struct s3_curl {
    struct s3_ops ops;
    struct env_real *er;
    struct env *env;
    CURLM *multi;
    env_id timer;
    struct sc_call *calls;
    size_t ncalls;
    char *scheme, *host, *region, *bucket, *ak, *sk;
    bool vhost, unsigned_payload;
    long timeout_ms, connect_timeout_ms;
    const struct env_clock *clock; /* the loop's shared clock with a transit hook, or NULL */
    uint64_t tokens;               /* the last transit token */
};

/* Tells the shared clock that a call is on the wire or off it (env.h). */
static void sc_transit(struct s3_curl *c, struct sc_call *k, enum env_transit what)
{
    if (c->clock && k->token)
        c->clock->transit(c->clock->arg, k->token, what);
}

/* A call is on the wire once curl has its connection and sends it: a call
 * queued behind the connection limit does not hold the clock (the calls it
 * waits for may be parked on the front's timers, which need time to pass). */
static int sc_on_prereq(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    struct sc_call *k = arg;
    (void)ip;
    (void)local_ip;
    (void)port;
    (void)local_port;
    sc_transit(k->c, k, ENV_TRANSIT_SEND);
    return CURL_PREREQFUNC_OK;
}

/* --- the multi handle on the env loop ---------------------------------------- */

static void sc_check_done(struct s3_curl *c);

static void sc_on_fd(void *arg, int fd, int events)
{
    struct s3_curl *c = arg;
    int running = 0, flags = ((events & ENV_REAL_IN) ? CURL_CSELECT_IN : 0) |
                             ((events & ENV_REAL_OUT) ? CURL_CSELECT_OUT : 0) |
                             ((events & 4) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(c->multi, fd, flags, &running);
    sc_check_done(c);
}

static int sc_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct s3_curl *c = userp;
    int ev = what == CURL_POLL_IN      ? ENV_REAL_IN
             : what == CURL_POLL_OUT   ? ENV_REAL_OUT
             : what == CURL_POLL_INOUT ? ENV_REAL_IN | ENV_REAL_OUT
                                       : 0;
    (void)e;
    (void)socketp;
    return env_real_watch(c->er, s, ev, sc_on_fd, c) ? -1 : 0;
}

static void sc_on_timer(void *arg)
{
    struct s3_curl *c = arg;
    int running = 0;
    c->timer = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    sc_check_done(c);
}

static int sc_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    struct s3_curl *c = userp;
    (void)m;
    env_cancel(c->env, c->timer);
    c->timer = 0;
    if (timeout_ms >= 0) {
        int64_t us = (int64_t)((double)timeout_ms * 1000.0 / env_real_scale(c->er));
        c->timer = env_timer(c->env, us, sc_on_timer, c);
    }
    return 0;
}

/* --- answers ------------------------------------------------------------------- */

static size_t sc_on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct sc_call *k = arg;
    size_t len = sz * n;
    if (k->len + len > k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16384;
        while (cap < k->len + len)
            cap *= 2;
        uint8_t *b = realloc(k->body, cap);
        if (!b)
            return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
        k->body = b;
        k->cap = cap;
    }
    memcpy(k->body + k->len, p, len);
    k->len += len;
    return len;
}

static int sc_b64_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
    uint8_t tmp[64];
    if (len == 0 || len % 4 || len / 4 * 3 > sizeof tmp)
        return -1;
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    n -= (in[len - 1] == '=') + (in[len - 2] == '=');
    if ((size_t)n > outsz)
        return -1;
    memcpy(out, tmp, (size_t)n);
    return n;
}

/* One answer header line: ETag, Content-Length, Content-Range, checksums. */
static size_t sc_on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct sc_call *k = arg;
    size_t len = sz * n, nl;
    char line[512];
    if (len >= sizeof line)
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) { /* a new answer (after 100 Continue) */
        k->etag[0] = '\0';
        k->ck.alg = S3_CKSUM_NONE;
        k->has_range = false;
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ')
        v++;
    nl = strlen(v);
    if (!strcasecmp(line, "ETag"))
        snprintf(k->etag, sizeof k->etag, "%s", v);
    else if (!strcasecmp(line, "Content-Length"))
        k->content_length = strtoull(v, NULL, 10);
    else if (!strcasecmp(line, "Content-Range") && strchr(v, '/')) {
        k->range_total = strtoull(strchr(v, '/') + 1, NULL, 10);
        k->has_range = true;
    } else if (!strncasecmp(line, "x-amz-checksum-", 15)) {
        int alg = s3_cksum_parse(line + 15);
        int got = alg > S3_CKSUM_MD5 ? sc_b64_decode(v, nl, k->ck.value, sizeof k->ck.value) : -1;
        if (got > 0) {
            k->ck.alg = (enum s3_cksum)alg;
            k->ck.len = (uint8_t)got;
        }
    }
    return len;
}

static enum s3_transport sc_transport(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK: return S3_TR_OK;
    case CURLE_OPERATION_TIMEDOUT: return S3_TR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return S3_TR_CONNECT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return S3_TR_RESET;
    default: return S3_TR_OTHER;
    }
}

/* Fills res from a finished transfer. */
static void sc_result(struct sc_call *k, CURLcode cc, struct s3_result *res)
{
    const struct s3_req *q = k->req;
    long status = 0;
    bool xml = false;
    res->transport = sc_transport(cc);
    if (res->transport != S3_TR_OK) {
        snprintf(res->message, sizeof res->message, "%s", curl_easy_strerror(cc));
        return;
    }
    curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    memcpy(res->etag, k->etag, sizeof res->etag);
    res->cksum = k->ck;
    if (status >= 300) {
        if (k->len && q->op != S3_OP_HEAD)
            s3_curl_parse(q->op, (const char *)k->body, k->len, NULL, 0, res);
        if (res->code == S3E_NONE)
            res->code = s3_default_code(q->op, res->status);
        return;
    }
    switch (q->op) {
    case S3_OP_GET:
        res->object_size = k->has_range ? k->range_total : k->len;
        res->body = k->body ? k->body : calloc(1, 1);
        res->body_len = k->len;
        k->body = NULL;
        return;
    case S3_OP_HEAD: res->object_size = k->content_length; return;
    case S3_OP_LIST:
    case S3_OP_LIST_UPLOADS:
    case S3_OP_DELETE_MANY:
    case S3_OP_MPU_CREATE:
    case S3_OP_MPU_COPY:
    case S3_OP_MPU_COMPLETE: xml = true; break;
    default: return;
    }
    if (xml && s3_curl_parse(q->op, k->body ? (const char *)k->body : "", k->len, q->keys,
                             q->op == S3_OP_DELETE_MANY ? q->nkeys : 0, res)) {
        res->code = S3E_OTHER;
        snprintf(res->message, sizeof res->message, "unparsable %d answer", res->status);
    }
}

static void sc_call_free(struct sc_call *k)
{
    struct s3_curl *c = k->c;
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    c->ncalls--;
    curl_multi_remove_handle(c->multi, k->easy);
    curl_easy_cleanup(k->easy);
    curl_slist_free_all(k->hdrs);
    free(k->xml);
    free(k->body);
    free(k);
}

static void sc_check_done(struct s3_curl *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        struct sc_call *k = NULL;
        struct s3_result res;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&k);
        if (!k)
            continue;
        memset(&res, 0, sizeof res);
        sc_result(k, m->data.result, &res);
        struct s3_req *req = k->req;
        sc_transit(c, k, ENV_TRANSIT_END);
        sc_call_free(k); /* before the callback: it may submit or cancel */
        req->cb(req, &res);
        s3_result_cleanup(&res);
    }
}

/* --- requests -------------------------------------------------------------------- */

/* The headers to sign and send, with their values (borrowed or in vals). */
struct sc_hdrs {
    struct sigv4_header h[SC_MAX_HEADERS];
    size_t n;
    char vals[SC_MAX_HEADERS][S3_MAX_KEY * 3 + 64];
};

static void sc_hdr(struct sc_hdrs *hs, const char *name, const char *fmt, const char *a,
                   long long x, long long y)
{
    if (hs->n == SC_MAX_HEADERS)
        return;
    if (a)
        snprintf(hs->vals[hs->n], sizeof hs->vals[0], fmt, a);
    else
        snprintf(hs->vals[hs->n], sizeof hs->vals[0], fmt, x, y);
    hs->h[hs->n] = (struct sigv4_header){name, hs->vals[hs->n]};
    hs->n++;
}

static void sc_b64(const uint8_t *v, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, v, (int)n);
}

/* The request's checksum header (Content-MD5 or x-amz-checksum-*). */
static void sc_cksum_header(struct sc_hdrs *hs, const struct s3_checksum *ck)
{
    static const char *const names[] = {NULL, "content-md5", "x-amz-checksum-crc32c",
                                        "x-amz-checksum-crc32", "x-amz-checksum-sha256"};
    char b64[64];
    if (ck->alg == S3_CKSUM_NONE || ck->len == 0 || (unsigned)ck->alg > S3_CKSUM_SHA256)
        return;
    sc_b64(ck->value, ck->len, b64);
    sc_hdr(hs, names[ck->alg], "%s", b64, 0, 0);
}

/* The range header value of [start, end) (end -1: to the end). */
static void sc_range(struct sc_hdrs *hs, const char *name, int64_t start, int64_t end)
{
    if (end >= 0)
        sc_hdr(hs, name, "bytes=%lld-%lld", NULL, (long long)start, (long long)end - 1);
    else
        sc_hdr(hs, name, "bytes=%lld-", NULL, (long long)start, 0);
}

/* Appends "&name=enc(value)" to q. */
static int sc_q(char *q, size_t qsz, const char *name, const char *value)
{
    char enc[3 * S3_MAX_KEY + 1];
    size_t len = strlen(q);
    if (sigv4_uri_encode(value, strlen(value), false, enc, sizeof enc) < 0)
        return ERR_LIMIT;
    int n = snprintf(q + len, qsz - len, "%s%s=%s", len ? "&" : "", name, enc);
    return n < 0 || (size_t)n >= qsz - len ? ERR_LIMIT : 0;
}

/* ListMultipartUploads: GET /bucket?uploads&max-uploads&prefix, and the
 * markers from the opaque token "<upload-id-marker>\n<key-marker>" (upload
 * ids have no newline; see s3_curl_xml.c for how it is made). */
static int sc_shape_uploads(const struct s3_req *r, char *q, size_t qsz)
{
    char num[24], id[S3_UPLOAD_ID_MAX];
    const char *nl = r->token ? strchr(r->token, '\n') : NULL;
    int rc = sc_q(q, qsz, "uploads", "");
    snprintf(num, sizeof num, "%d", r->max_keys > 0 ? r->max_keys : 1000);
    rc = rc ? rc : sc_q(q, qsz, "max-uploads", num);
    if (!rc && r->prefix && *r->prefix)
        rc = sc_q(q, qsz, "prefix", r->prefix);
    if (!rc && r->token && *r->token) {
        if (!nl || (size_t)(nl - r->token) >= sizeof id)
            return ERR_INVAL;
        memcpy(id, r->token, (size_t)(nl - r->token));
        id[nl - r->token] = '\0';
        rc = sc_q(q, qsz, "key-marker", nl + 1);
        rc = rc ? rc : sc_q(q, qsz, "upload-id-marker", id);
    }
    return rc;
}

/* Method, query, headers and body of req. */
static int sc_shape(struct sc_call *k, const char **method, char *q, size_t qsz, struct sc_hdrs *hs,
                    const void **body, size_t *blen)
{
    const struct s3_req *r = k->req;
    char num[24];
    int rc = 0;
    *body = NULL;
    *blen = 0;
    q[0] = '\0';
    switch (r->op) {
    case S3_OP_GET:
        *method = "GET";
        if (r->range_start > 0 || r->range_end >= 0)
            sc_range(hs, "range", r->range_start, r->range_end);
        break;
    case S3_OP_HEAD: *method = "HEAD"; break;
    case S3_OP_DELETE: *method = "DELETE"; break;
    case S3_OP_PUT:
    case S3_OP_MPU_PART:
        *method = "PUT";
        *body = r->body ? (const void *)r->body : "";
        *blen = r->body_len;
        sc_cksum_header(hs, &r->cksum);
        break;
    case S3_OP_LIST:
        *method = "GET";
        rc = sc_q(q, qsz, "list-type", "2");
        snprintf(num, sizeof num, "%d", r->max_keys > 0 ? r->max_keys : 1000);
        rc = rc ? rc : sc_q(q, qsz, "max-keys", num);
        if (!rc && r->prefix && *r->prefix)
            rc = sc_q(q, qsz, "prefix", r->prefix);
        if (!rc && r->token && *r->token)
            rc = sc_q(q, qsz, "continuation-token", r->token);
        break;
    case S3_OP_LIST_UPLOADS:
        *method = "GET";
        rc = sc_shape_uploads(r, q, qsz);
        break;
    case S3_OP_DELETE_MANY: {
        struct s3_checksum md5;
        *method = "POST";
        rc = sc_q(q, qsz, "delete", "");
        k->xml = s3_curl_delete_xml(r->keys, r->nkeys, &k->xml_len);
        if (!k->xml)
            return ERR_NOMEM;
        s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)k->xml, k->xml_len, &md5);
        sc_cksum_header(hs, &md5);
        *body = k->xml;
        *blen = k->xml_len;
        break;
    }
    case S3_OP_MPU_CREATE:
        *method = "POST";
        rc = sc_q(q, qsz, "uploads", "");
        *body = "";
        break;
    case S3_OP_MPU_COPY:
    case S3_OP_MPU_COMPLETE:
    case S3_OP_MPU_ABORT:
        *method = r->op == S3_OP_MPU_COPY ? "PUT" : r->op == S3_OP_MPU_ABORT ? "DELETE" : "POST";
        break;
    default: return ERR_INVAL;
    }
    if (!rc && (r->op == S3_OP_MPU_PART || r->op == S3_OP_MPU_COPY)) {
        snprintf(num, sizeof num, "%d", r->part_number);
        rc = sc_q(q, qsz, "partNumber", num);
    }
    if (!rc && r->op >= S3_OP_MPU_PART && r->op <= S3_OP_MPU_ABORT)
        rc = r->upload_id ? sc_q(q, qsz, "uploadId", r->upload_id) : ERR_INVAL;
    if (!rc && r->op == S3_OP_MPU_COPY) {
        char src[3 * S3_MAX_KEY + 64], enc[3 * S3_MAX_KEY + 1];
        if (!r->copy_source ||
            sigv4_uri_encode(r->copy_source, strlen(r->copy_source), true, enc, sizeof enc) < 0)
            return ERR_INVAL;
        snprintf(src, sizeof src, "/%s/%s", k->c->bucket, enc);
        sc_hdr(hs, "x-amz-copy-source", "%s", src, 0, 0);
        if (r->range_start > 0 || r->range_end >= 0)
            sc_range(hs, "x-amz-copy-source-range", r->range_start, r->range_end);
    }
    if (!rc && (r->op == S3_OP_PUT || r->op == S3_OP_GET || r->op == S3_OP_HEAD ||
                r->op == S3_OP_MPU_COMPLETE)) {
        if (r->if_match)
            sc_hdr(hs, "if-match", "%s", r->if_match, 0, 0);
        if (r->if_none_match)
            sc_hdr(hs, "if-none-match", "%s", r->if_none_match, 0, 0);
    }
    if (!rc && r->op == S3_OP_MPU_COMPLETE) {
        k->xml = s3_curl_complete_xml(r->parts, r->nparts, &k->xml_len);
        if (!k->xml)
            return ERR_NOMEM;
        *body = k->xml;
        *blen = k->xml_len;
    }
    return rc;
}

/* Signs the request and sets the easy handle up. */
static int sc_prepare(struct s3_curl *c, struct sc_call *k)
{
    const struct s3_req *r = k->req;
    struct sc_hdrs *hs = calloc(1, sizeof *hs);
    char q[4 * S3_MAX_KEY + 256], path[3 * S3_MAX_KEY + 128], host[300], url[SC_URL_MAX];
    char date[SIGV4_DATE], hash[SIGV4_HEX], auth[2048], line[4 * S3_MAX_KEY];
    const char *method = NULL;
    const void *body;
    size_t blen;
    int rc = hs ? 0 : ERR_NOMEM;
    if (!rc)
        rc = sc_shape(k, &method, q, sizeof q, hs, &body, &blen);
    /* The bucket operations (list, list-uploads, delete-many) have no key. */
    bool keyed = r->op != S3_OP_LIST && r->op != S3_OP_LIST_UPLOADS && r->op != S3_OP_DELETE_MANY;
    if (!rc && keyed && (!r->key || !*r->key))
        rc = ERR_INVAL;
    if (rc)
        goto out;
    /* Path: /bucket/key (path style) or /key on bucket.host (virtual host);
     * the bucket operations: /bucket or /. */
    int n = c->vhost ? snprintf(path, sizeof path, "/")
                     : snprintf(path, sizeof path, keyed ? "/%s/" : "/%s", c->bucket);
    if (keyed &&
        sigv4_uri_encode(r->key, strlen(r->key), true, path + n, sizeof path - (size_t)n) < 0) {
        rc = ERR_INVAL;
        goto out;
    }
    snprintf(host, sizeof host, "%s%s%s", c->vhost ? c->bucket : "", c->vhost ? "." : "", c->host);
    n = snprintf(url, sizeof url, "%s://%s%s%s%s", c->scheme, host, path, q[0] ? "?" : "", q);
    if (n < 0 || (size_t)n >= sizeof url) {
        rc = ERR_LIMIT;
        goto out;
    }
    sigv4_amz_date((int64_t)time(NULL), date);
    if (c->unsigned_payload && body && blen)
        snprintf(hash, sizeof hash, "%s", SIGV4_UNSIGNED_PAYLOAD);
    else
        sigv4_sha256_hex(body ? body : "", blen, hash);
    sc_hdr(hs, "host", "%s", host, 0, 0);
    sc_hdr(hs, "x-amz-date", "%s", date, 0, 0);
    sc_hdr(hs, "x-amz-content-sha256", "%s", hash, 0, 0);
    struct sigv4_req sr = {method, path, q, hs->h, hs->n, hash, date};
    struct sigv4_key key = {c->ak, c->sk, c->region, "s3"};
    rc = sigv4_authorization(&sr, &key, auth, sizeof auth, NULL);
    if (rc)
        goto out;
    for (size_t i = 0; i < hs->n; i++) {
        if (strcmp(hs->h[i].name, "host") == 0)
            continue; /* curl sends Host itself, the same value */
        snprintf(line, sizeof line, "%s: %s", hs->h[i].name, hs->h[i].value);
        k->hdrs = curl_slist_append(k->hdrs, line);
    }
    if (k->token) { /* not signed: the front reads it, a server ignores it */
        snprintf(line, sizeof line, "x-s3sim-transit: %llu", (unsigned long long)k->token);
        k->hdrs = curl_slist_append(k->hdrs, line);
    }
    snprintf(line, sizeof line, "Authorization: %s", auth);
    k->hdrs = curl_slist_append(k->hdrs, line);
    k->hdrs = curl_slist_append(k->hdrs, "Expect:");
    k->hdrs = curl_slist_append(k->hdrs, "Content-Type: application/octet-stream");
    /* A PUT or POST without a body still says so: curl sends no Content-Length
     * then, and S3 answers 411 MissingContentLength (radosgw does, to an
     * UploadPartCopy). */
    if (!body && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        strcmp(method, "DELETE") != 0)
        k->hdrs = curl_slist_append(k->hdrs, "Content-Length: 0");
    if (!k->hdrs) {
        rc = ERR_NOMEM;
        goto out;
    }
    CURL *e = k->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, k->hdrs);
    curl_easy_setopt(e, CURLOPT_PRIVATE, k);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sc_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sc_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, k);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (k->token) {
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, sc_on_prereq);
        curl_easy_setopt(e, CURLOPT_PREREQDATA, k);
    }
    if (c->timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    if (c->connect_timeout_ms)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
out:
    free(hs);
    return rc;
}

static int sc_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct s3_curl *c = ops->impl;
    struct sc_call *k;
    int rc;
    if (!req || !req->cb || (unsigned)req->op >= S3_OP_COUNT)
        return ERR_INVAL;
    if (req->op == S3_OP_DELETE_MANY &&
        (!req->keys || req->nkeys == 0 || req->nkeys > S3_MAX_DELETE_KEYS))
        return ERR_INVAL;
    k = calloc(1, sizeof *k);
    if (!k)
        return ERR_NOMEM;
    k->c = c;
    k->req = req;
    k->token = c->clock ? ++c->tokens : 0;
    k->easy = curl_easy_init();
    rc = k->easy ? sc_prepare(c, k) : ERR_NOMEM;
    if (!rc && curl_multi_add_handle(c->multi, k->easy) != CURLM_OK)
        rc = ERR_IO;
    if (rc) {
        curl_easy_cleanup(k->easy);
        curl_slist_free_all(k->hdrs);
        free(k->xml);
        free(k);
        return rc;
    }
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    c->ncalls++;
    return 0;
}

static void sc_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct s3_curl *c = ops->impl;
    for (struct sc_call *k = c->calls; k; k = k->next) {
        if (k->req == req) {
            sc_transit(c, k, ENV_TRANSIT_END);
            sc_call_free(k);
            return;
        }
    }
}

/* --- life cycle --------------------------------------------------------------- */

int s3_curl_config_from_env(struct s3_curl_config *cfg)
{
    if (!cfg->access_key)
        cfg->access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!cfg->secret_key)
        cfg->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!cfg->region)
        cfg->region = getenv("AWS_REGION") ? getenv("AWS_REGION") : getenv("AWS_DEFAULT_REGION");
    if (!cfg->region)
        cfg->region = "us-east-1";
    return cfg->access_key && cfg->secret_key ? 0 : ERR_NOTFOUND;
}

/* Splits "http://host:port[/]" into scheme and host:port. */
static int sc_endpoint(struct s3_curl *c, const char *ep)
{
    const char *sep = strstr(ep, "://");
    if (!sep || sep == ep)
        return ERR_INVAL;
    c->scheme = strndup(ep, (size_t)(sep - ep));
    c->host = strndup(sep + 3, strcspn(sep + 3, "/"));
    if (!c->scheme || !c->host)
        return ERR_NOMEM;
    return *c->host ? 0 : ERR_INVAL;
}

int s3_curl_new(struct env_real *er, const struct s3_curl_config *cfg, struct s3_curl **out)
{
    struct s3_curl *c;
    int rc;
    if (!cfg->endpoint || !cfg->bucket || !*cfg->bucket || !cfg->access_key || !cfg->secret_key)
        return ERR_INVAL;
    c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->er = er;
    c->env = env_real_env(er);
    c->clock = env_real_clock(er);
    if (c->clock && !c->clock->transit)
        c->clock = NULL;
    rc = sc_endpoint(c, cfg->endpoint);
    c->region = strdup(cfg->region ? cfg->region : "us-east-1");
    c->bucket = strdup(cfg->bucket);
    c->ak = strdup(cfg->access_key);
    c->sk = strdup(cfg->secret_key);
    if (!rc && (!c->region || !c->bucket || !c->ak || !c->sk))
        rc = ERR_NOMEM;
    c->vhost = cfg->virtual_host;
    c->unsigned_payload = cfg->unsigned_payload;
    c->timeout_ms = cfg->timeout_ms;
    c->connect_timeout_ms = cfg->connect_timeout_ms;
    c->multi = rc ? NULL : curl_multi_init();
    if (!rc && !c->multi)
        rc = ERR_IO;
    if (rc) {
        s3_curl_free(c);
        return rc;
    }
    long maxc = cfg->max_connections > 0 ? cfg->max_connections : 16;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sc_socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, sc_timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxc);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, maxc);
    c->ops = (struct s3_ops){c, "curl", sc_submit, sc_cancel, false};
    *out = c;
    return 0;
}

void s3_curl_free(struct s3_curl *c)
{
    if (!c)
        return;
    while (c->calls) {
        sc_transit(c, c->calls, ENV_TRANSIT_END);
        sc_call_free(c->calls);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    env_cancel(c->env, c->timer);
    free(c->scheme);
    free(c->host);
    free(c->region);
    free(c->bucket);
    free(c->ak);
    free(c->sk);
    free(c);
}

struct s3_ops *s3_curl_ops(struct s3_curl *c)
{
    return &c->ops;
}

size_t s3_curl_inflight(const struct s3_curl *c)
{
    return c->ncalls;
}
