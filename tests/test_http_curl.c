/* test_http_curl.c - the real runtime: env_real's loop and timers, and the
 * libcurl client s3_curl against the fake S3's HTTP front on loopback. */
#include "env_real.h"
#include "err.h"
#include "fault.h"
#include "http.h"
#include "s3_curl.h"
#include "s3client.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* --- fixture ------------------------------------------------------------------- */

static struct fs3_http *srv;
static struct env_real *er;
static struct s3_curl *cli;
static struct s3_ops *ops;

static void setup_with(const struct fs3_rule *rules, size_t nrules, long timeout_ms, bool vhost)
{
    struct fs3_http_config hc = {0};
    struct env_real_config ec = {.seed = 7, .time_scale = 1.0};
    char ep[64];
    hc.access_key = "AK";
    hc.secret_key = "SK";
    hc.threads = 2;
    hc.rules = rules;
    hc.nrules = nrules;
    ck_assert_int_eq(fs3_http_start(&hc, &srv), 0);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bkt"), 0);
    ck_assert_int_eq(env_real_new(&ec, &er), 0);
    snprintf(ep, sizeof ep, "http://%s:%d", vhost ? "localhost" : "127.0.0.1", fs3_http_port(srv));
    struct s3_curl_config cc = {.endpoint = ep,
                                .bucket = "bkt",
                                .access_key = "AK",
                                .secret_key = "SK",
                                .timeout_ms = timeout_ms,
                                .virtual_host = vhost,
                                .unsigned_payload = vhost};
    ck_assert_int_eq(s3_curl_new(er, &cc, &cli), 0);
    ops = s3_curl_ops(cli);
}

static void teardown_all(void)
{
    s3_curl_free(cli);
    env_real_free(er);
    fs3_http_stop(srv);
    cli = NULL;
    er = NULL;
    srv = NULL;
}

/* --- helpers: one call, synchronously -------------------------------------------- */

struct out {
    bool done;
    bool in_submit;
    bool cb_in_submit;
    struct s3_result res; /* copied; body, entries and deleted kept */
};

static void on_done(struct s3_req *req, struct s3_result *res)
{
    struct out *o = req->arg;
    o->cb_in_submit = o->in_submit;
    o->done = true;
    o->res = *res;
    res->body = NULL; /* taken */
    res->entries = NULL;
    res->nentries = 0;
    res->deleted = NULL;
    res->ndeleted = 0;
}

static bool is_done(void *arg)
{
    return ((struct out *)arg)->done;
}

static void call(enum s3_op op, struct s3_req *req, struct out *o)
{
    memset(o, 0, sizeof *o);
    o->in_submit = true;
    ck_assert_int_eq(s3_submit_op(ops, op, req, on_done, o), 0);
    o->in_submit = false;
    ck_assert(env_real_run_until(er, is_done, o, 10 * ENV_USEC_PER_SEC));
    ck_assert(!o->cb_in_submit);
}

static void out_free(struct out *o)
{
    s3_result_cleanup(&o->res);
}

static void expect_ok(struct out *o)
{
    ck_assert_msg(s3_result_ok(&o->res), "transport %d status %d code %s: %s", o->res.transport,
                  o->res.status, s3_code_name(o->res.code), o->res.message);
}

/* --- tests ----------------------------------------------------------------------- */

static void round_trip(bool vhost)
{
    struct out o;
    setup_with(NULL, 0, 5000, vhost);
    struct s3_req put = {
        .key = "dir/a key+1", .body = (const uint8_t *)"hello world", .body_len = 11};
    s3_checksum_compute(S3_CKSUM_CRC32C, put.body, put.body_len, &put.cksum);
    call(S3_OP_PUT, &put, &o);
    expect_ok(&o);
    ck_assert(s3_checksum_equal(&o.res.cksum, &put.cksum));
    ck_assert_str_eq(o.res.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    struct s3_req get = {.key = "dir/a key+1", .range_start = 6, .range_end = -1};
    call(S3_OP_GET, &get, &o);
    expect_ok(&o);
    ck_assert_int_eq(o.res.status, 206);
    ck_assert_uint_eq(o.res.body_len, 5);
    ck_assert_int_eq(memcmp(o.res.body, "world", 5), 0);
    ck_assert_uint_eq(o.res.object_size, 11);
    out_free(&o);
    struct s3_req head = {.key = "dir/a key+1"};
    call(S3_OP_HEAD, &head, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.object_size, 11);
    struct s3_req list = {.prefix = "dir/", .max_keys = 10};
    call(S3_OP_LIST, &list, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.nentries, 1);
    ck_assert_str_eq(o.res.entries[0].key, "dir/a key+1");
    ck_assert_uint_eq(o.res.entries[0].size, 11);
    out_free(&o);
    const char *keys[] = {"dir/a key+1", "absent <&>"};
    struct s3_req dm = {.keys = keys, .nkeys = 2};
    call(S3_OP_DELETE_MANY, &dm, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.ndeleted, 2);
    ck_assert_int_eq(o.res.deleted[0].code, S3E_NONE);
    ck_assert_int_eq(o.res.deleted[1].code, S3E_NONE);
    out_free(&o);
    call(S3_OP_GET, &get, &o);
    ck_assert_int_eq(o.res.status, 404);
    ck_assert_int_eq(o.res.code, S3E_NO_SUCH_KEY);
    out_free(&o);
    teardown_all();
}

/* Conditional writes over HTTP: 32 PutObject If-None-Match:* of one key in
 * flight at once, exactly one 200 and the rest 412; then If-Match and a
 * conditional GET (304) through the client's headers. */
struct cw_count {
    int done, ok, failed412, other;
};

static void cw_done(struct s3_req *req, struct s3_result *res)
{
    struct cw_count *n = req->arg;
    n->done++;
    if (s3_result_ok(res))
        n->ok++;
    else if (res->status == 412 && res->code == S3E_PRECONDITION_FAILED)
        n->failed412++;
    else
        n->other++;
}

static bool cw_all(void *arg)
{
    return ((struct cw_count *)arg)->done == 32;
}

START_TEST(s3_curl_conditional_writes)
{
    struct cw_count n = {0};
    struct s3_req reqs[32];
    char bodies[32][16];
    struct out o;
    setup_with(NULL, 0, 5000, false);
    for (int i = 0; i < 32; i++) {
        snprintf(bodies[i], sizeof bodies[i], "writer-%02d", i);
        reqs[i] = (struct s3_req){.key = "manifest", .body = (const uint8_t *)bodies[i],
                                  .body_len = strlen(bodies[i]), .if_none_match = "*",
                                  .arg = &n};
        ck_assert_int_eq(s3_submit_op(ops, S3_OP_PUT, &reqs[i], cw_done, &n), 0);
    }
    ck_assert(env_real_run_until(er, cw_all, &n, 20 * ENV_USEC_PER_SEC));
    ck_assert_int_eq(n.ok, 1);
    ck_assert_int_eq(n.failed412, 31);
    ck_assert_int_eq(n.other, 0);

    struct s3_req head = {.key = "manifest"};
    call(S3_OP_HEAD, &head, &o);
    expect_ok(&o);
    char etag[S3_ETAG_MAX];
    memcpy(etag, o.res.etag, sizeof etag);
    out_free(&o);
    struct s3_req cas = {.key = "manifest", .body = (const uint8_t *)"v2", .body_len = 2,
                         .if_match = "\"00000000000000000000000000000000\""};
    call(S3_OP_PUT, &cas, &o);
    ck_assert_int_eq(o.res.status, 412);
    ck_assert_int_eq(o.res.code, S3E_PRECONDITION_FAILED);
    out_free(&o);
    cas.if_match = etag;
    call(S3_OP_PUT, &cas, &o);
    expect_ok(&o);
    out_free(&o);
    struct s3_req get = {.key = "manifest", .range_end = -1, .if_none_match = etag};
    call(S3_OP_GET, &get, &o);
    ck_assert_int_eq(o.res.status, 200); /* etag is the old version's */
    ck_assert_mem_eq(o.res.body, "v2", 2);
    memcpy(etag, o.res.etag, sizeof etag);
    out_free(&o);
    get.if_none_match = etag;
    call(S3_OP_GET, &get, &o);
    ck_assert_int_eq(o.res.status, 304);
    ck_assert_int_eq(o.res.code, S3E_NONE);
    ck_assert_uint_eq(o.res.body_len, 0);
    out_free(&o);
    teardown_all();
}
END_TEST

START_TEST(s3_curl_round_trip_path_style)
{
    round_trip(false);
}
END_TEST

/* Virtual-host style, and bodies signed as UNSIGNED-PAYLOAD. */
START_TEST(s3_curl_round_trip_virtual_host)
{
    round_trip(true);
}
END_TEST

START_TEST(s3_curl_multipart)
{
    struct out o;
    size_t big = 5u << 20;
    uint8_t *data = malloc(big);
    char uid[S3_UPLOAD_ID_MAX];
    struct s3_part parts[3];
    memset(data, 'm', big);
    setup_with(NULL, 0, 5000, false);
    struct s3_req src = {.key = "src", .body = data, .body_len = 100};
    call(S3_OP_PUT, &src, &o);
    expect_ok(&o);
    struct s3_req cr = {.key = "mp"};
    call(S3_OP_MPU_CREATE, &cr, &o);
    expect_ok(&o);
    snprintf(uid, sizeof uid, "%s", o.res.upload_id);
    ck_assert_uint_gt(strlen(uid), 0);
    struct s3_req p1 = {
        .key = "mp", .upload_id = uid, .part_number = 1, .body = data, .body_len = big};
    s3_checksum_compute(S3_CKSUM_MD5, data, big, &p1.cksum);
    call(S3_OP_MPU_PART, &p1, &o);
    expect_ok(&o);
    parts[0] = (struct s3_part){.number = 1};
    snprintf(parts[0].etag, sizeof parts[0].etag, "%s", o.res.etag);
    struct s3_req p2 = {.key = "mp",
                        .upload_id = uid,
                        .part_number = 2,
                        .copy_source = "src",
                        .range_start = 10,
                        .range_end = 20};
    call(S3_OP_MPU_COPY, &p2, &o);
    expect_ok(&o);
    parts[1] = (struct s3_part){.number = 2};
    snprintf(parts[1].etag, sizeof parts[1].etag, "%s", o.res.etag);
    struct s3_req cp = {.key = "mp", .upload_id = uid, .parts = parts, .nparts = 2};
    call(S3_OP_MPU_COMPLETE, &cp, &o);
    expect_ok(&o);
    ck_assert_msg(strstr(o.res.etag, "-2\"") != NULL, "%s", o.res.etag);
    struct s3_req head = {.key = "mp"};
    call(S3_OP_HEAD, &head, &o);
    ck_assert_uint_eq(o.res.object_size, big + 10);
    struct s3_req ab = {.key = "mp", .upload_id = uid};
    call(S3_OP_MPU_ABORT, &ab, &o);
    ck_assert_int_eq(o.res.status, 404);
    ck_assert_int_eq(o.res.code, S3E_NO_SUCH_UPLOAD);
    /* Invalid requests fail at submit, with no callback. */
    struct s3_req bad = {.key = "mp"};
    ck_assert_int_eq(s3_submit_op(ops, S3_OP_MPU_PART, &bad, on_done, &o), ERR_INVAL);
    struct s3_req nokey = {0};
    ck_assert_int_eq(s3_submit_op(ops, S3_OP_GET, &nokey, on_done, &o), ERR_INVAL);
    free(data);
    teardown_all();
}
END_TEST

static struct fs3_rule rule(int op, const char *glob, enum fs3_effect eff, int status)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = op;
    snprintf(r.key_glob, sizeof r.key_glob, "%s", glob);
    r.effect = eff;
    r.status = status;
    return r;
}

START_TEST(s3_curl_faults_map_to_results)
{
    struct fs3_rule rules[4] = {
        rule(S3_OP_GET, "reset", FS3_EFF_RESET, 0),
        rule(S3_OP_GET, "stall", FS3_EFF_STALL, 0),
        rule(S3_OP_PUT, "busy", FS3_EFF_STATUS, 503),
        rule(S3_OP_MPU_COMPLETE, "*", FS3_EFF_STATUS, 200),
    };
    struct out o;
    rules[3].code = S3E_INTERNAL_ERROR;
    setup_with(rules, 4, 1500, false);
    struct s3_req put = {.key = "reset", .body = (const uint8_t *)"0123456789", .body_len = 10};
    call(S3_OP_PUT, &put, &o);
    expect_ok(&o);
    struct s3_req get = {.key = "reset", .range_end = -1};
    call(S3_OP_GET, &get, &o);
    ck_assert_int_eq(o.res.transport, S3_TR_RESET);
    out_free(&o);
    struct s3_req st = {.key = "stall", .range_end = -1};
    call(S3_OP_GET, &st, &o);
    ck_assert_int_eq(o.res.transport, S3_TR_TIMEOUT);
    struct s3_req busy = {.key = "busy", .body = (const uint8_t *)"x", .body_len = 1};
    call(S3_OP_PUT, &busy, &o);
    ck_assert_int_eq(o.res.status, 503);
    ck_assert_int_eq(o.res.code, S3E_SLOW_DOWN);
    struct s3_req cr = {.key = "k"};
    call(S3_OP_MPU_CREATE, &cr, &o);
    char uid[S3_UPLOAD_ID_MAX];
    snprintf(uid, sizeof uid, "%s", o.res.upload_id);
    struct s3_part part = {.number = 1};
    struct s3_req cp = {.key = "k", .upload_id = uid, .parts = &part, .nparts = 1};
    call(S3_OP_MPU_COMPLETE, &cp, &o);
    ck_assert_int_eq(o.res.transport, S3_TR_OK);
    ck_assert_int_eq(o.res.status, 200);
    ck_assert_int_eq(o.res.code, S3E_INTERNAL_ERROR);
    ck_assert(!s3_result_ok(&o.res));
    teardown_all();
}
END_TEST

START_TEST(s3_curl_cancel_and_free_in_flight)
{
    struct fs3_rule rules[1] = {rule(S3_OP_GET, "stall*", FS3_EFF_STALL, 0)};
    struct out o1, o2;
    setup_with(rules, 1, 0, false);
    struct s3_req a = {.key = "stall-a", .range_end = -1}, b = {.key = "stall-b", .range_end = -1};
    memset(&o1, 0, sizeof o1);
    memset(&o2, 0, sizeof o2);
    ck_assert_int_eq(s3_get(ops, &a, on_done, &o1), 0);
    ck_assert_int_eq(s3_get(ops, &b, on_done, &o2), 0);
    ck_assert_uint_eq(s3_curl_inflight(cli), 2);
    env_real_run_once(er, 50 * ENV_USEC_PER_MS);
    s3_cancel(ops, &a);
    ck_assert_uint_eq(s3_curl_inflight(cli), 1);
    for (int i = 0; i < 5; i++)
        env_real_run_once(er, 20 * ENV_USEC_PER_MS);
    ck_assert(!o1.done);
    ck_assert(!o2.done);
    teardown_all(); /* frees the client with b still in flight: no callback */
    ck_assert(!o2.done);
}
END_TEST

START_TEST(s3_curl_connection_refused)
{
    struct env_real_config ec = {.seed = 1};
    struct out o;
    ck_assert_int_eq(env_real_new(&ec, &er), 0);
    struct s3_curl_config cc = {.endpoint = "http://127.0.0.1:1",
                                .bucket = "b",
                                .access_key = "a",
                                .secret_key = "s",
                                .timeout_ms = 2000};
    ck_assert_int_eq(s3_curl_new(er, &cc, &cli), 0);
    ops = s3_curl_ops(cli);
    struct s3_req h = {.key = "k"};
    call(S3_OP_HEAD, &h, &o);
    ck_assert_int_eq(o.res.transport, S3_TR_CONNECT);
    s3_curl_free(cli);
    env_real_free(er);
    cli = NULL;
    er = NULL;
    struct s3_curl_config none = {
        .endpoint = "nohost", .bucket = "b", .access_key = "a", .secret_key = "s"};
    ck_assert_int_eq(env_real_new(&ec, &er), 0);
    ck_assert_int_eq(s3_curl_new(er, &none, &cli), ERR_INVAL);
    env_real_free(er);
}
END_TEST

/* ListMultipartUploads over loopback: pages by (key, upload id) through the
 * opaque token (both markers), by prefix; an aborted upload is gone. */
START_TEST(s3_curl_list_uploads_pages)
{
    struct out o;
    const char *keys[] = {"u/a", "u/a", "u/b", "v/c"};
    char ids[4][S3_UPLOAD_ID_MAX], token[S3_MAX_KEY + 1];
    setup_with(NULL, 0, 5000, false);
    for (int i = 0; i < 4; i++) {
        struct s3_req cr = {.key = keys[i]};
        call(S3_OP_MPU_CREATE, &cr, &o);
        expect_ok(&o);
        snprintf(ids[i], sizeof ids[i], "%s", o.res.upload_id);
        out_free(&o);
    }
    struct s3_req l1 = {.prefix = "u/", .max_keys = 2};
    call(S3_OP_LIST_UPLOADS, &l1, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.nentries, 2);
    ck_assert(o.res.truncated);
    ck_assert_ptr_nonnull(strchr(o.res.next_token, '\n'));
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(o.res.entries[i].key, "u/a");
        ck_assert_ptr_nonnull(o.res.entries[i].upload_id);
    }
    ck_assert_str_ne(o.res.entries[0].upload_id, o.res.entries[1].upload_id);
    snprintf(token, sizeof token, "%s", o.res.next_token);
    out_free(&o);
    struct s3_req l2 = {.prefix = "u/", .max_keys = 2, .token = token};
    call(S3_OP_LIST_UPLOADS, &l2, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.nentries, 1);
    ck_assert(!o.res.truncated);
    ck_assert_str_eq(o.res.entries[0].key, "u/b");
    ck_assert_str_eq(o.res.entries[0].upload_id, ids[2]);
    out_free(&o);
    struct s3_req ab = {.key = "u/b", .upload_id = ids[2]};
    call(S3_OP_MPU_ABORT, &ab, &o);
    expect_ok(&o);
    out_free(&o);
    struct s3_req l3 = {.prefix = "u/b"};
    call(S3_OP_LIST_UPLOADS, &l3, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.nentries, 0);
    out_free(&o);
    struct s3_req l4 = {0};
    call(S3_OP_LIST_UPLOADS, &l4, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.nentries, 3);
    ck_assert_str_eq(o.res.entries[2].key, "v/c");
    ck_assert_str_eq(o.res.entries[2].upload_id, ids[3]);
    out_free(&o);
    /* A token that is not ours fails at submit. */
    struct s3_req bad = {.token = "no-newline"};
    ck_assert_int_eq(s3_submit_op(ops, S3_OP_LIST_UPLOADS, &bad, on_done, &o), ERR_INVAL);
    teardown_all();
}
END_TEST

START_TEST(s3_curl_xml_answers)
{
    struct s3_result r;
    const char *err = "<?xml version=\"1.0\"?><Error><Code>NoSuchUpload</Code>"
                      "<Message>gone &amp; lost</Message></Error>";
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(s3_curl_parse(S3_OP_MPU_COMPLETE, err, strlen(err), NULL, 0, &r), 0);
    ck_assert_int_eq(r.code, S3E_NO_SUCH_UPLOAD);
    ck_assert_str_eq(r.message, "gone & lost");
    const char *dr = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key>"
                     "<Code>AccessDenied</Code></Error></DeleteResult>";
    const char *keys[] = {"a", "b", "c"};
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(s3_curl_parse(S3_OP_DELETE_MANY, dr, strlen(dr), keys, 3, &r), 0);
    ck_assert_int_eq(r.deleted[0].code, S3E_NONE);
    ck_assert_int_eq(r.deleted[1].code, S3E_ACCESS_DENIED);
    ck_assert_int_eq(r.deleted[2].code, S3E_INTERNAL_ERROR); /* not reported */
    s3_result_cleanup(&r);
    const char *lr = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                     "<IsTruncated>true</IsTruncated><Contents><Key>k1</Key><Size>5</Size>"
                     "<ETag>\"e\"</ETag></Contents><NextContinuationToken>t2"
                     "</NextContinuationToken></ListBucketResult>";
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(s3_curl_parse(S3_OP_LIST, lr, strlen(lr), NULL, 0, &r), 0);
    ck_assert_uint_eq(r.nentries, 1);
    ck_assert_str_eq(r.entries[0].key, "k1");
    ck_assert_str_eq(r.next_token, "t2");
    ck_assert(r.truncated);
    s3_result_cleanup(&r);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(s3_curl_parse(S3_OP_LIST, "<List", 5, NULL, 0, &r), ERR_PARSE);
    s3_result_cleanup(&r);
    const char *ur = "<ListMultipartUploadsResult><Bucket>b</Bucket><UploadIdMarker>"
                     "</UploadIdMarker><Upload><Key>k &amp; 1</Key><UploadId>id1</UploadId>"
                     "</Upload><Upload><Key>k2</Key><UploadId>id2</UploadId></Upload>"
                     "<IsTruncated>true</IsTruncated><NextKeyMarker>k2</NextKeyMarker>"
                     "<NextUploadIdMarker>id2</NextUploadIdMarker></ListMultipartUploadsResult>";
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(s3_curl_parse(S3_OP_LIST_UPLOADS, ur, strlen(ur), NULL, 0, &r), 0);
    ck_assert_uint_eq(r.nentries, 2);
    ck_assert_str_eq(r.entries[0].key, "k & 1");
    ck_assert_str_eq(r.entries[0].upload_id, "id1");
    ck_assert_str_eq(r.entries[1].upload_id, "id2");
    ck_assert_str_eq(r.next_token, "id2\nk2");
    ck_assert_str_eq(r.upload_id, ""); /* not the create's field */
    s3_result_cleanup(&r);
    size_t len;
    char *x = s3_curl_delete_xml(keys, 2, &len);
    ck_assert_ptr_nonnull(strstr(x, "<Object><Key>b</Key></Object>"));
    free(x);
}
END_TEST

/* The engine's retry layer over s3_curl: a 503, a stalled attempt (timed out
 * and cancelled by the layer) and a reset are each retried to success, the
 * same classification as in sim mode. */
START_TEST(s3_curl_under_the_retry_layer)
{
    struct fs3_rule rules[3] = {
        rule(S3_OP_PUT, "flaky", FS3_EFF_STATUS, 503),
        rule(S3_OP_GET, "flaky", FS3_EFF_STALL, 0),
        rule(S3_OP_HEAD, "flaky", FS3_EFF_RESET, 0),
    };
    struct s3c_conf sc;
    struct s3c *s3c = NULL;
    struct out o;
    for (int i = 0; i < 3; i++) {
        rules[i].match = FS3_MATCH_NTH;
        rules[i].n = 1;
    }
    setup_with(rules, 3, 0, false);
    s3c_conf_default(&sc);
    sc.op_timeout_us = 500 * ENV_USEC_PER_MS;
    sc.retry_backoff_us = 10 * ENV_USEC_PER_MS;
    sc.retry_max = 5;
    ck_assert_int_eq(s3c_new(env_real_env(er), s3_curl_ops(cli), &sc, &s3c), 0);
    ops = s3c_ops(s3c);
    struct s3_req put = {.key = "flaky", .body = (const uint8_t *)"retried", .body_len = 7};
    call(S3_OP_PUT, &put, &o);
    expect_ok(&o);
    struct s3_req get = {.key = "flaky", .range_end = -1};
    call(S3_OP_GET, &get, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.body_len, 7);
    out_free(&o);
    struct s3_req head = {.key = "flaky"};
    call(S3_OP_HEAD, &head, &o);
    expect_ok(&o);
    ck_assert_uint_eq(o.res.object_size, 7);
    const struct s3c_stats *st = s3c_stats(s3c);
    ck_assert_uint_ge(st->retries, 3);
    ck_assert_uint_ge(st->timeouts, 1);
    s3c_free(s3c);
    teardown_all();
}
END_TEST

/* --- env_real --------------------------------------------------------------------- */

static void tick(void *arg)
{
    (*(int *)arg)++;
}

static void order_cb(void *arg)
{
    int *p = arg;
    p[0] = p[0] * 10 + p[1];
}

START_TEST(env_real_timers_waits_and_scale)
{
    struct env_real_config ec = {.seed = 3, .time_scale = 0.01};
    int n = 0;
    ck_assert_int_eq(env_real_new(&ec, &er), 0);
    struct env *env = env_real_env(er);
    /* 1 virtual second at scale 0.01 passes in about 10 ms. */
    int64_t t0 = env_now(env);
    env_id id = env_timer(env, ENV_USEC_PER_SEC, tick, &n);
    env_id gone = env_timer(env, 0, tick, &n);
    env_cancel(env, gone);
    ck_assert_uint_ne(id, 0);
    while (n == 0)
        env_real_run_once(er, 100 * ENV_USEC_PER_MS);
    ck_assert_int_eq(n, 1);
    ck_assert_int_ge(env_now(env) - t0, ENV_USEC_PER_SEC);
    /* Same-time timers fire in start order. */
    int a[2] = {0, 1}, b[2] = {0, 2};
    int seq[2] = {0, 0};
    (void)a;
    (void)b;
    seq[1] = 1;
    env_timer(env, 0, order_cb, seq);
    env_real_run_once(er, 0);
    ck_assert_int_eq(seq[0], 1);
    ck_assert_uint_eq(env_real_timers(er), 0);
    env_id w1 = env_wait_beginf(env, "job", "object %d", 5);
    env_id w2 = env_wait_beginf(env, "job2", "x");
    ck_assert_uint_eq(env_real_nwaits(er), 2);
    env_wait_end(env, w1);
    ck_assert_uint_eq(env_real_nwaits(er), 1);
    env_wait_end(env, w2);
    ck_assert_uint_eq(env_real_nwaits(er), 0);
    ck_assert_uint_ne(env_rand(env), env_rand(env));
    env_real_free(er);
    er = NULL;
}
END_TEST

/* --- suite ------------------------------------------------------------------------ */

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("http_curl");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, s3_curl_round_trip_path_style);
    tcase_add_test(tc, s3_curl_conditional_writes);
    tcase_add_test(tc, s3_curl_round_trip_virtual_host);
    tcase_add_test(tc, s3_curl_multipart);
    tcase_add_test(tc, s3_curl_faults_map_to_results);
    tcase_add_test(tc, s3_curl_cancel_and_free_in_flight);
    tcase_add_test(tc, s3_curl_under_the_retry_layer);
    tcase_add_test(tc, s3_curl_connection_refused);
    tcase_add_test(tc, s3_curl_list_uploads_pages);
    tcase_add_test(tc, s3_curl_xml_answers);
    tcase_add_test(tc, env_real_timers_waits_and_scale);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
