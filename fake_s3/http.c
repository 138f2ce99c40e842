/* http.c - the libmicrohttpd glue of the fake S3's HTTP front (see http.h). */
#include "http.h"

#include "err.h"
#include "fs3.h"
#include "http_acl.h"
#include "http_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A live request, on the server's list (for shutdown). */
struct hr_node {
    struct hr_req req;
    struct hr_node *prev, *next;
};

struct fs3_http {
    struct fs3_http_config cfg; /* strings and rules below are owned copies */
    struct fs3_rule *rules;
    struct fs3_config store_cfg; /* copy of cfg.store */
    char *access_key, *secret_key, *region;
    struct MHD_Daemon *mhd;
    struct fs3_loop *loop;
    int64_t epoch_us; /* the wall clock when the loop's clock read 0 */
    int port;
    struct hr_bucket buckets[HR_MAX_BUCKETS];
    size_t nbuckets;
    struct hr_node *live; /* every request between URI and completion */
    size_t nsuspended;
    unsigned nconn; /* open connections (MHD's notify callback) */
    uint64_t req_seq; /* requests seen (their ids) */
    bool stopping;
    struct fs3_http_stats stats;
};

int64_t hr_epoch_us(const struct fs3_http *h)
{
    return h->epoch_us;
}

int64_t hr_store_now_us(struct fs3_http *h)
{
    return env_now(fs3_loop_env(h->loop));
}

const struct fs3_http_config *hr_config(struct fs3_http *h)
{
    return &h->cfg;
}

int64_t hr_wall_secs(void)
{
    return (int64_t)time(NULL);
}

void hr_count_auth_failure(struct fs3_http *h)
{
    h->stats.auth_failures++;
}

struct hr_bucket *hr_bucket_find(struct fs3_http *h, const char *name)
{
    for (size_t i = 0; i < h->nbuckets; i++)
        if (strcmp(h->buckets[i].name, name) == 0)
            return &h->buckets[i];
    return NULL;
}

struct hr_bucket *hr_bucket_at(struct fs3_http *h, size_t i)
{
    return i < h->nbuckets ? &h->buckets[i] : NULL;
}

size_t hr_bucket_count(struct fs3_http *h)
{
    return h->nbuckets;
}

/* S3's rules, loosely: 3..63 of [a-z0-9.-], starting and ending alphanumeric. */
static bool hr_bucket_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 3 || len > 63)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!an && ((c != '-' && c != '.') || i == 0 || i == len - 1))
            return false;
    }
    return true;
}

static int hr_bucket_insert(struct fs3_http *h, const char *name, struct s3_ops *ops, bool owned)
{
    if (!hr_bucket_name_ok(name))
        return ERR_INVAL;
    if (hr_bucket_find(h, name))
        return ERR_EXISTS;
    if (h->nbuckets == HR_MAX_BUCKETS)
        return ERR_LIMIT;
    struct hr_bucket *b = &h->buckets[h->nbuckets++];
    memset(b, 0, sizeof *b); /* the slot may hold a copy of a bucket moved by a removal */
    snprintf(b->name, sizeof b->name, "%s", name);
    b->ops = ops;
    b->owned = owned;
    b->created = hr_wall_secs();
    return 0;
}

/* The default factory: a store without latency under a fault shim. */
static int hr_default_create(struct fs3_http *h, struct hr_bucket *b)
{
    struct fs3_config sc;
    struct env *env = fs3_loop_env(h->loop);
    if (h->cfg.store) {
        sc = h->store_cfg;
    } else {
        fs3_config_init(&sc);
        sc.latency_us = h->cfg.latency_us;
        sc.bandwidth = 0;
    }
    b->store = fs3_new(env, &sc);
    b->fault = b->store ? fs3_fault_new(env, b->store, NULL, NULL) : NULL;
    for (size_t i = 0; b->fault && i < h->cfg.nrules; i++) {
        int rc = fs3_fault_add(b->fault, &h->cfg.rules[i]);
        if (rc) {
            fs3_fault_free(b->fault);
            fs3_free(b->store);
            return rc;
        }
    }
    if (!b->fault) {
        fs3_free(b->store);
        return ERR_NOMEM;
    }
    b->ops = fs3_fault_ops(b->fault);
    b->owned = true;
    return 0;
}

int hr_bucket_create(struct fs3_http *h, const char *name)
{
    struct s3_ops *ops = NULL;
    int rc;
    if (!hr_bucket_name_ok(name))
        return ERR_INVAL;
    if (hr_bucket_find(h, name))
        return ERR_EXISTS;
    if (h->cfg.fixed_buckets)
        return ERR_UNSUPPORTED;
    if (!h->cfg.factory.create) {
        struct hr_bucket nb = {0};
        if (h->nbuckets == HR_MAX_BUCKETS)
            return ERR_LIMIT;
        rc = hr_default_create(h, &nb);
        if (rc)
            return rc;
        snprintf(nb.name, sizeof nb.name, "%s", name);
        nb.created = hr_wall_secs();
        h->buckets[h->nbuckets++] = nb;
        return 0;
    }
    rc = h->cfg.factory.create(h->cfg.factory.arg, fs3_loop_env(h->loop), name, &ops);
    if (rc)
        return rc;
    rc = hr_bucket_insert(h, name, ops, true);
    if (!rc && h->cfg.factory.store)
        hr_bucket_find(h, name)->store = h->cfg.factory.store(h->cfg.factory.arg, name);
    if (rc && h->cfg.factory.destroy)
        h->cfg.factory.destroy(h->cfg.factory.arg, name, ops);
    return rc;
}

bool hr_bucket_busy(struct fs3_http *h, const struct hr_bucket *b)
{
    for (struct hr_node *n = h->live; n; n = n->next)
        if (n->req.in_flight && n->req.ops == b->ops)
            return true;
    return false;
}

void hr_bucket_remove(struct fs3_http *h, struct hr_bucket *b)
{
    hr_bacl_free(b->acl);
    if (b->fault) {
        fs3_fault_free(b->fault);
        fs3_free(b->store);
    } else if (b->owned && h->cfg.factory.destroy) {
        h->cfg.factory.destroy(h->cfg.factory.arg, b->name, b->ops);
    }
    *b = h->buckets[--h->nbuckets];
}

int fs3_http_add_bucket(struct fs3_http *h, const char *name, struct s3_ops *ops)
{
    fs3_loop_lock(h->loop);
    int rc = hr_bucket_insert(h, name, ops, false);
    fs3_loop_unlock(h->loop);
    return rc;
}

int fs3_http_create_bucket(struct fs3_http *h, const char *name)
{
    fs3_loop_lock(h->loop);
    int rc = hr_bucket_create(h, name);
    fs3_loop_unlock(h->loop);
    return rc;
}

void hr_finish(struct hr_req *r)
{
    struct fs3_http *h = r->srv;
    hr_acl_finish(r);
    h->stats.requests++;
    if (r->resp.hold) {
        h->stats.held++;
        r->state = HR_HELD;
        return;
    }
    if (r->resp.status >= 400)
        h->stats.errors++;
    if (r->resp.reset)
        h->stats.resets++;
    r->state = HR_DONE;
    if (r->suspended) {
        r->suspended = false;
        h->nsuspended--;
        fs3_loop_transit(h->loop, r->transit, ENV_TRANSIT_ANSWER);
        MHD_resume_connection(r->conn);
    }
}

/* --- requests: creation, headers, body -------------------------------------- */

/* x-amz-request-id (16 upper-case hex digits, as S3's) and x-amz-id-2 (a
 * base64-looking token) from the request's sequence number, mixed so that
 * neighbours do not look alike. */
static void hr_request_ids(struct hr_req *r, uint64_t seq)
{
    uint64_t a = seq * UINT64_C(0x9e3779b97f4a7c15), b = (a ^ (a >> 29)) * UINT64_C(0xbf58476d1ce4e5b9);
    uint8_t raw[24];
    snprintf(r->reqid, sizeof r->reqid, "%016llX", (unsigned long long)a);
    for (int i = 0; i < 24; i++) {
        b ^= b >> 31;
        b *= UINT64_C(0x94d049bb133111eb);
        raw[i] = (uint8_t)(b >> 56);
    }
    hr_b64_encode(raw, sizeof raw, r->id2, sizeof r->id2);
}

static void *hr_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct fs3_http *h = cls;
    struct hr_node *n = calloc(1, sizeof *n);
    (void)conn;
    if (!n)
        return NULL;
    n->req.srv = h;
    n->req.raw_uri = strdup(uri ? uri : "/");
    n->req.body.max = h->cfg.max_body;
    fs3_loop_lock(h->loop);
    hr_request_ids(&n->req, ++h->req_seq);
    n->next = h->live;
    if (h->live)
        h->live->prev = n;
    h->live = n;
    fs3_loop_unlock(h->loop);
    return n;
}

static enum MHD_Result hr_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    struct hr_req *r = cls;
    (void)kind;
    if (r->nhdr == HR_MAX_HEADERS) {
        r->too_many_headers = true;
        return MHD_NO;
    }
    r->hdr[r->nhdr++] = (struct fs3_sig_header){key, value ? value : ""};
    return MHD_YES;
}

static void hr_request_free(struct hr_req *r)
{
    r->srv->stats.buffered -= r->counted;
    r->counted = 0;
    hr_abandon(r);
    free(r->raw_uri);
    free(r->path);
    free(r->qbuf);
    free(r->key);
    free(r->meta);
    base_buf_free(&r->body);
    base_buf_free(&r->resp.hdrs);
    free(r->resp.body);
}

static void hr_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct fs3_http *h = cls;
    struct hr_node *n = *con_cls;
    (void)conn;
    (void)toe;
    if (!n)
        return;
    fs3_loop_lock(h->loop);
    if (n->req.suspended)
        h->nsuspended--;
    hr_request_free(&n->req);
    if (n->prev)
        n->prev->next = n->next;
    else
        h->live = n->next;
    if (n->next)
        n->next->prev = n->prev;
    fs3_loop_unlock(h->loop);
    free(n);
    *con_cls = NULL;
}

/* --- responses ---------------------------------------------------------------- */

/* The reset effect: the first half of the body goes out, then an RST. */
struct hr_rst {
    uint8_t *body;
    size_t len, cut;
    struct MHD_Connection *conn;
};

static ssize_t hr_rst_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct hr_rst *s = cls;
    if (pos < s->cut) {
        size_t n = s->cut - (size_t)pos < max ? s->cut - (size_t)pos : max;
        memcpy(buf, s->body + pos, n);
        return (ssize_t)n;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {1, 0};
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void hr_rst_free(void *cls)
{
    struct hr_rst *s = cls;
    free(s->body);
    free(s);
}

static ssize_t hr_head_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static struct MHD_Response *hr_make_response(struct hr_req *r)
{
    struct hr_resp *rs = &r->resp;
    if (rs->reset) {
        struct hr_rst *s = calloc(1, sizeof *s);
        if (!s)
            return NULL;
        if (!rs->body || rs->body_len < 2) {
            free(rs->body);
            rs->body = (uint8_t *)strdup("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
            rs->body_len = rs->body ? strlen((char *)rs->body) : 0;
        }
        s->body = rs->body;
        s->len = rs->body_len;
        s->cut = rs->body_len / 2;
        s->conn = r->conn;
        rs->body = NULL;
        return MHD_create_response_from_callback(s->len, 16384, hr_rst_read, s, hr_rst_free);
    }
    if (rs->head)
        return MHD_create_response_from_callback(rs->head_len, 4096, hr_head_read, NULL, NULL);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rs->body_len, rs->body ? rs->body : (void *)"",
                                        rs->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp)
        rs->body = NULL;
    return resp;
}

static enum MHD_Result hr_respond(struct hr_req *r)
{
    struct MHD_Response *resp = hr_make_response(r);
    enum MHD_Result ret;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "x-amz-request-id", r->reqid);
    MHD_add_response_header(resp, "x-amz-id-2", r->id2);
    for (char *line = r->resp.hdrs.p; line && *line;) {
        char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
        if (!nl || !colon || colon > nl)
            break;
        *nl = '\0';
        *colon = '\0';
        MHD_add_response_header(resp, line, colon + 2 <= nl ? colon + 2 : "");
        line = nl + 1;
    }
    ret = MHD_queue_response(r->conn, (unsigned)r->resp.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result hr_respond(struct hr_req *r);

/* --- the access handler ---------------------------------------------------- */

static enum MHD_Result hr_first_call(struct hr_req *r, struct MHD_Connection *conn,
                                     const char *method)
{
    const char *cl, *expect, *tr;
    r->conn = conn;
    r->method = method;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, hr_collect_header, r);
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    tr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-s3sim-transit");
    if (tr)
        r->transit = strtoull(tr, NULL, 10);
    if (r->srv->cfg.access_key &&
        ((cl && strtoull(cl, NULL, 10) > r->srv->cfg.preauth_body) ||
         (expect && strcasecmp(expect, "100-continue") == 0) ||
         MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))) {
        /* A large body is read only for a request whose headers are signed
         * right: an anonymous client cannot make the server buffer it.  And
         * MHD sends "100 Continue" after this call unless it queued an
         * answer: as S3, only to a request that authenticated. */
        fs3_loop_lock(r->srv->loop);
        bool ok = hr_preauth(r);
        if (!ok) {
            r->state = HR_DONE;
            r->srv->stats.requests++;
            r->srv->stats.errors++;
        }
        fs3_loop_unlock(r->srv->loop);
        if (!ok)
            return hr_respond(r);
    }
    if (cl && strtoull(cl, NULL, 10) > r->srv->cfg.max_body) {
        /* Answer before the body: MHD sends it and closes the connection. */
        r->body_too_big = true;
        hr_error(r, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        fs3_loop_lock(r->srv->loop);
        r->state = HR_DONE;
        r->srv->stats.requests++;
        r->srv->stats.errors++;
        fs3_loop_unlock(r->srv->loop);
        return hr_respond(r);
    }
    /* The state is read by fs3_http_stop under the lock. */
    fs3_loop_lock(r->srv->loop);
    r->state = HR_BODY;
    fs3_loop_unlock(r->srv->loop);
    return MHD_YES;
}

/* The whole request is in: route it under the lock, answer now if it is
 * done, or suspend the connection until the store answers. */
static enum MHD_Result hr_run(struct fs3_http *h, struct hr_req *r)
{
    fs3_loop_lock(h->loop);
    r->state = HR_WAITING;
    if (h->stopping) {
        fs3_loop_unlock(h->loop);
        return MHD_NO;
    }
    hr_dispatch(r);
    if (r->state == HR_WAITING)
        fs3_loop_run_due(h->loop, 64);
    if (r->state == HR_DONE) {
        fs3_loop_unlock(h->loop);
        return hr_respond(r);
    }
    r->suspended = true;
    h->nsuspended++;
    fs3_loop_transit(h->loop, r->transit, ENV_TRANSIT_PARK);
    MHD_suspend_connection(r->conn);
    fs3_loop_unlock(h->loop);
    return MHD_YES;
}

static enum MHD_Result hr_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct fs3_http *h = cls;
    struct hr_node *n = *con_cls;
    struct hr_req *r;
    (void)url;
    (void)version;
    if (!n)
        return MHD_NO;
    r = &n->req;
    fs3_loop_lock(h->loop);
    enum hr_state st = r->state;
    fs3_loop_unlock(h->loop);
    switch (st) {
    case HR_NEW: return hr_first_call(r, conn, method);
    case HR_BODY:
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            if (!r->body_too_big && !r->over_memory) {
                /* The global cap on request bytes in memory (503 when over). */
                fs3_loop_lock(h->loop);
                if (h->stats.buffered + n > h->cfg.max_memory) {
                    r->over_memory = true;
                    h->stats.over_memory++;
                    h->stats.buffered -= r->counted;
                    r->counted = 0;
                } else {
                    h->stats.buffered += n;
                    r->counted += n;
                }
                fs3_loop_unlock(h->loop);
                if (r->over_memory)
                    base_buf_free(&r->body);
            }
            if (!r->body_too_big && !r->over_memory) {
                base_buf_add(&r->body, upload_data, n);
                if (r->body.failed)
                    r->body_too_big = true;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        return hr_run(h, r);
    case HR_DONE: return hr_respond(r);
    default: return MHD_NO; /* held or waiting: resumed only to be closed */
    }
}

/* --- connections: the limit ------------------------------------------------ */

/* Over max_connections a new connection is closed at once (MHD alone would
 * leave it waiting in the backlog until a slot frees). */
static enum MHD_Result hr_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    struct fs3_http *h = cls;
    bool ok;
    (void)addr;
    (void)len;
    fs3_loop_lock(h->loop);
    ok = h->nconn < h->cfg.max_connections;
    if (!ok)
        h->stats.refused++;
    fs3_loop_unlock(h->loop);
    if (!ok && h->cfg.log)
        h->cfg.log(h->cfg.log_arg, ENV_LOG_WARN, "http",
                   "connection refused: max_connections open already");
    return ok ? MHD_YES : MHD_NO;
}

static void hr_notify_conn(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                           enum MHD_ConnectionNotificationCode code)
{
    struct fs3_http *h = cls;
    (void)conn;
    (void)socket_ctx;
    fs3_loop_lock(h->loop);
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        h->nconn++;
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && h->nconn > 0)
        h->nconn--;
    fs3_loop_unlock(h->loop);
}

/* --- start and stop ------------------------------------------------------- */

static int hr_copy_config(struct fs3_http *h, const struct fs3_http_config *cfg)
{
    h->cfg = *cfg;
    if (!h->cfg.threads)
        h->cfg.threads = 4;
    if (!h->cfg.max_body)
        h->cfg.max_body = (size_t)256 << 20;
    if (!h->cfg.max_skew_secs)
        h->cfg.max_skew_secs = 900;
    if (h->cfg.time_scale <= 0)
        h->cfg.time_scale = 1.0;
    if (!h->cfg.max_memory)
        h->cfg.max_memory = (uint64_t)1 << 30;
    if (!h->cfg.idle_timeout_secs)
        h->cfg.idle_timeout_secs = 30;
    if (!h->cfg.max_connections)
        h->cfg.max_connections = 256;
    if (!h->cfg.preauth_body)
        h->cfg.preauth_body = (size_t)64 << 10;
    h->region = strdup(cfg->region ? cfg->region : "us-east-1");
    h->access_key = cfg->access_key ? strdup(cfg->access_key) : NULL;
    h->secret_key = strdup(cfg->secret_key ? cfg->secret_key : "");
    h->cfg.region = h->region;
    h->cfg.access_key = h->access_key;
    h->cfg.secret_key = h->secret_key;
    h->cfg.bind_addr = NULL;
    if (!h->region || !h->secret_key || (cfg->access_key && !h->access_key))
        return ERR_NOMEM;
    if (cfg->nrules) {
        h->rules = calloc(cfg->nrules, sizeof *h->rules);
        if (!h->rules)
            return ERR_NOMEM;
        memcpy(h->rules, cfg->rules, cfg->nrules * sizeof *h->rules);
    }
    h->cfg.rules = h->rules;
    if (cfg->store) {
        h->store_cfg = *cfg->store;
        h->cfg.store = &h->store_cfg;
    }
    return 0;
}

static void hr_free(struct fs3_http *h)
{
    free(h->region);
    free(h->access_key);
    free(h->secret_key);
    free(h->rules);
    free(h);
}

int fs3_http_start(const struct fs3_http_config *cfg, struct fs3_http **out)
{
    struct fs3_http *h = calloc(1, sizeof *h);
    struct sockaddr_in sa = {0};
    int rc;
    if (!h)
        return ERR_NOMEM;
    rc = hr_copy_config(h, cfg);
    if (!rc)
        rc = fs3_loop_new(h->cfg.time_scale, cfg->seed, cfg->log, cfg->log_arg, &h->loop);
    if (rc == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        h->epoch_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    if (rc) {
        hr_free(h);
        return rc;
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->bind_addr ? cfg->bind_addr : "127.0.0.1", &sa.sin_addr) != 1) {
        fs3_loop_free(h->loop);
        hr_free(h);
        return ERR_INVAL;
    }
    h->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO,
        0, hr_accept, h, hr_access, h, MHD_OPTION_NOTIFY_CONNECTION, hr_notify_conn, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, h->cfg.threads, MHD_OPTION_URI_LOG_CALLBACK, hr_uri_log, h,
        MHD_OPTION_NOTIFY_COMPLETED, hr_completed, h, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(128 * 1024), MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.idle_timeout_secs,
        MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections + 64, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        1024u, MHD_OPTION_END);
    if (!h->mhd) {
        fs3_loop_free(h->loop);
        hr_free(h);
        return ERR_IO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : cfg->port;
    *out = h;
    return 0;
}

int fs3_http_port(const struct fs3_http *h)
{
    return h->port;
}

struct fs3_loop *fs3_http_loop(struct fs3_http *h)
{
    return h->loop;
}

void fs3_http_get_stats(struct fs3_http *h, struct fs3_http_stats *out)
{
    fs3_loop_lock(h->loop);
    *out = h->stats;
    fs3_loop_unlock(h->loop);
}

/* Resumes every suspended connection so that MHD can close it, and waits
 * (up to 2 s) until they are gone: MHD may not stop with any suspended. */
static void hr_release_suspended(struct fs3_http *h)
{
    fs3_loop_lock(h->loop);
    h->stopping = true;
    for (struct hr_node *n = h->live; n; n = n->next) {
        if (n->req.suspended) {
            n->req.suspended = false;
            n->req.state = HR_HELD;
            h->nsuspended--;
            MHD_resume_connection(n->req.conn);
        }
    }
    fs3_loop_unlock(h->loop);
    for (int i = 0; i < 200; i++) {
        fs3_loop_lock(h->loop);
        bool busy = false;
        for (struct hr_node *n = h->live; n; n = n->next)
            busy = busy || n->req.state == HR_HELD;
        fs3_loop_unlock(h->loop);
        if (!busy)
            break;
        usleep(10000);
    }
}

void fs3_http_stop(struct fs3_http *h)
{
    if (!h)
        return;
    hr_release_suspended(h);
    MHD_stop_daemon(h->mhd);
    fs3_loop_lock(h->loop);
    while (h->nbuckets > 0)
        hr_bucket_remove(h, &h->buckets[h->nbuckets - 1]);
    fs3_loop_unlock(h->loop);
    fs3_loop_free(h->loop);
    hr_free(h);
}
