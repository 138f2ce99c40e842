/*
 * test_s3client_mpu.c - the client layer over the real fake store and its
 * fault shim: stray uploads of retried creates are aborted after the winner
 * ends (src/s3client_mpu.c), a 2xx GET with a truncated body is retried, and
 * list-uploads passes through with list's retries; s3.part.copy get-put
 * copies a range by GET + UploadPart into the same bytes as UploadPartCopy.  (test_s3client.c covers
 * the rest over a scripted mock.)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clenv.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "s3.h"
#include "s3client.h"

static struct clenv E;
static struct fs3 *S;
static struct fs3_fault *F;
static struct s3c *C;
static struct s3c_conf CONF;

static void setup(void)
{
    struct fs3_config cfg;
    clenv_init(&E, 7);
    E.quiet = 1;
    fs3_config_init(&cfg);
    cfg.min_part_size = 1;
    S = fs3_new(&E.env, &cfg);
    F = fs3_fault_new(&E.env, S, NULL, NULL);
    ck_assert_ptr_nonnull(S);
    ck_assert_ptr_nonnull(F);
    s3c_conf_default(&CONF);
    C = NULL;
}

static void teardown(void)
{
    s3c_free(C);
    fs3_fault_free(F);
    fs3_free(S);
    clenv_fini(&E);
}

static void client(void)
{
    ck_assert_int_eq(s3c_new(&E.env, fs3_fault_ops(F), &CONF, &C), 0);
}

static void fault(enum s3_op op, int nth, enum fs3_effect eff, int status)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = op;
    r.match = FS3_MATCH_NTH;
    r.n = nth;
    r.effect = eff;
    r.status = status;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

struct got {
    int n;
    int ok;
    int status;
    char upload_id[S3_UPLOAD_ID_MAX];
    uint8_t body[256];
    size_t body_len;
    size_t nentries;
    enum s3_code code;
    char etag[S3_ETAG_MAX];
};

static void got_cb(struct s3_req *req, struct s3_result *res)
{
    struct got *g = req->arg;
    g->n++;
    g->ok = s3_result_ok(res);
    g->status = res->status;
    snprintf(g->upload_id, sizeof g->upload_id, "%s", res->upload_id);
    if (res->body && res->body_len <= sizeof g->body) {
        memcpy(g->body, res->body, res->body_len);
        g->body_len = res->body_len;
    }
    g->nentries = res->nentries;
    g->code = res->code;
    snprintf(g->etag, sizeof g->etag, "%s", res->etag);
}

static uint8_t BODY[100];

/* Runs one call through the client to its answer. */
static void call(enum s3_op op, struct s3_req *req, struct got *g)
{
    memset(g, 0, sizeof *g);
    req->job = S3_JOB_WAL_UPLOAD;
    ck_assert_int_eq(s3_submit_op(s3c_ops(C), op, req, got_cb, g), 0);
    while (g->n == 0 && clenv_step(&E))
        ;
    ck_assert_int_eq(g->n, 1);
}

static void create(const char *key, struct got *g)
{
    struct s3_req r;
    memset(&r, 0, sizeof r);
    r.key = key;
    call(S3_OP_MPU_CREATE, &r, g);
}

/* One part and the complete of upload id of key. */
static void part_and_complete(const char *key, const char *id, struct got *g)
{
    struct s3_req r;
    struct s3_part p;
    memset(&r, 0, sizeof r);
    r.key = key;
    r.upload_id = id;
    r.part_number = 1;
    r.body = BODY;
    r.body_len = sizeof BODY;
    call(S3_OP_MPU_PART, &r, g);
    ck_assert_int_eq(g->ok, 1);
    memset(&p, 0, sizeof p);
    p.number = 1;
    memset(&r, 0, sizeof r);
    r.key = key;
    r.upload_id = id;
    r.parts = &p;
    r.nparts = 1;
    call(S3_OP_MPU_COMPLETE, &r, g);
}

START_TEST(s3client_mpu_lost_create_stray_aborted_after_complete)
{
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_LOST, 0);
    client();
    create("obj/1", &g);
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    /* The lost attempt's upload and the winner are both open. */
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_CREATE], 2);
    /* Nothing is swept while the winner is still being written. */
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_LIST_UPLOADS), 0);
    part_and_complete("obj/1", id, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(s3c_stats(C)->mpu_sweeps, 1); /* started, listing */
    ck_assert_int_gt(s3c_pending(C), 0);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert(fs3_key_exists(S, "obj/1", NULL));
    ck_assert_uint_eq(s3c_stats(C)->mpu_sweeps, 1);
    ck_assert_uint_eq(s3c_stats(C)->mpu_strays_aborted, 1);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_ABORT], 1);
    ck_assert_ptr_null(sim_waits_oldest(&E.waits));
}
END_TEST

/* A Complete applied on the store whose answer was lost is retried.  The
 * store answers the repeat 200 with the object's ETag (s3.complete.repeat ok,
 * as AWS) or 404 NoSuchUpload (nosuchupload, as some stores): the call
 * succeeds either way, the second time through a visibility check. */
static void lost_complete(bool repeat_ok)
{
    struct fs3_config cfg = *fs3_config(S);
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    fs3_fault_free(F);
    fs3_free(S);
    cfg.complete_repeat_ok = repeat_ok;
    S = fs3_new(&E.env, &cfg);
    F = fs3_fault_new(&E.env, S, NULL, NULL);
    ck_assert_ptr_nonnull(F);
    fault(S3_OP_MPU_COMPLETE, 1, FS3_EFF_LOST, 0);
    client();
    create("obj/c", &g);
    snprintf(id, sizeof id, "%s", g.upload_id);
    part_and_complete("obj/c", id, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_int_eq(g.status, 200);
    ck_assert(fs3_key_exists(S, "obj/c", NULL));
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_COMPLETE], 2);
    ck_assert_uint_eq(s3c_stats(C)->visibility_checks, repeat_ok ? 0 : 1);
}

START_TEST(s3client_mpu_lost_complete_repeat_ok)
{
    lost_complete(true);
}
END_TEST

START_TEST(s3client_mpu_lost_complete_repeat_nosuchupload)
{
    lost_complete(false);
}
END_TEST

/* upload.create.sweep.strays false (AutoMQ): the lost attempt's upload stays open. */
START_TEST(s3client_mpu_automq_stray_left_open)
{
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    CONF.sweep_strays = false;
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_LOST, 0);
    client();
    create("obj/1", &g);
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    part_and_complete("obj/1", id, &g);
    ck_assert_int_eq(g.ok, 1);
    clenv_run(&E, 100000);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_LIST_UPLOADS), 0);
    ck_assert_uint_eq(s3c_stats(C)->mpu_sweeps, 0);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    ck_assert(fs3_key_exists(S, "obj/1", NULL));
}
END_TEST

START_TEST(s3client_mpu_sweep_keeps_other_keys_and_winner_of_abort)
{
    struct got g, other;
    struct s3_req r;
    char id[S3_UPLOAD_ID_MAX];
    client();
    create("obj/10", &other); /* same prefix, another key: never touched */
    ck_assert_int_eq(other.ok, 1);
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_PARTIAL, 0); /* applied, answered 500 */
    create("obj/1", &g);
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    ck_assert_uint_eq(fs3_nuploads(S), 3);
    /* The winner is aborted by its writer: the stray goes too. */
    memset(&r, 0, sizeof r);
    r.key = "obj/1";
    r.upload_id = id;
    call(S3_OP_MPU_ABORT, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 1); /* obj/10's upload */
    ck_assert_uint_eq(s3c_stats(C)->mpu_strays_aborted, 1);
}
END_TEST

START_TEST(s3client_mpu_failed_create_sweeps_at_once)
{
    struct got g;
    CONF.retry_max = 2;
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_PARTIAL, 0);
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_LOST, 0); /* counts what rule 1 let through */
    client();
    create("obj/2", &g);
    ck_assert_int_eq(g.ok, 0);
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_uint_eq(s3c_stats(C)->mpu_strays_aborted, 2);
}
END_TEST

START_TEST(s3client_mpu_clean_create_never_lists)
{
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    client();
    create("obj/3", &g);
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    part_and_complete("obj/3", id, &g);
    ck_assert_int_eq(g.ok, 1);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_LIST_UPLOADS), 0);
    ck_assert_uint_eq(s3c_stats(C)->mpu_sweeps, 0);
}
END_TEST

/* A retried create's winner whose writer gave up (neither completed nor
 * aborted) keeps its track; a later clean upload of the same key (the object
 * written again) is no retried create: its complete must not take the other
 * upload's track (matched by key and upload id, not either) and start a sweep
 * that keeps the abandoned upload as its winner. */
START_TEST(s3client_mpu_complete_takes_only_its_own_track)
{
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_LOST, 0);
    client();
    create("obj/4", &g); /* stray + tracked winner, abandoned */
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    create("obj/4", &g); /* one clean attempt: not tracked */
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    part_and_complete("obj/4", id, &g);
    ck_assert_int_eq(g.ok, 1);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_uint_eq(s3c_stats(C)->mpu_sweeps, 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_LIST_UPLOADS), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 2); /* the abandoned two, until their winner ends */
}
END_TEST

START_TEST(s3client_mpu_free_during_sweep)
{
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    fault(S3_OP_MPU_CREATE, 1, FS3_EFF_LOST, 0);
    client();
    create("obj/4", &g);
    snprintf(id, sizeof id, "%s", g.upload_id);
    part_and_complete("obj/4", id, &g);
    ck_assert_int_gt(s3c_pending(C), 0);
    s3c_free(C); /* the sweep's list is in flight: cancelled, freed (ASan) */
    C = NULL;
    ck_assert_ptr_null(sim_waits_oldest(&E.waits));
}
END_TEST

static void put_body(const char *key)
{
    struct s3_req r;
    struct got g;
    for (size_t i = 0; i < sizeof BODY; i++)
        BODY[i] = (uint8_t)(i * 7 + 1);
    memset(&r, 0, sizeof r);
    r.key = key;
    r.body = BODY;
    r.body_len = sizeof BODY;
    call(S3_OP_PUT, &r, &g);
    ck_assert_int_eq(g.ok, 1);
}

START_TEST(s3client_truncated_get_body_is_retried)
{
    struct s3_req r;
    struct got g;
    client();
    put_body("k");
    fault(S3_OP_GET, 1, FS3_EFF_PARTIAL, 0); /* 200 with half the body */
    fault(S3_OP_GET, 2, FS3_EFF_PARTIAL, 0); /* the 3rd get (rule 1 took the 1st) */
    memset(&r, 0, sizeof r);
    r.key = "k";
    r.range_start = 10;
    r.range_end = 60;
    call(S3_OP_GET, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(g.body_len, 50);
    ck_assert_mem_eq(g.body, BODY + 10, 50);
    ck_assert_uint_eq(s3c_stats(C)->short_reads, 1);
    /* To the end (range_end -1), and a range past the end: clamped. */
    r.range_end = -1;
    call(S3_OP_GET, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(g.body_len, 90);
    ck_assert_uint_eq(s3c_stats(C)->short_reads, 2);
    r.range_end = 1000;
    call(S3_OP_GET, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(g.body_len, 90);
    ck_assert_uint_eq(s3c_stats(C)->short_reads, 2);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_GET], 5);
}
END_TEST

START_TEST(s3client_truncated_get_exhausted_is_transport_error)
{
    struct s3_req r;
    struct got g;
    CONF.retry_max = 2;
    client();
    put_body("k");
    fault(S3_OP_GET, 1, FS3_EFF_PARTIAL, 0);
    fault(S3_OP_GET, 1, FS3_EFF_PARTIAL, 0);
    memset(&r, 0, sizeof r);
    r.key = "k";
    r.range_end = -1;
    call(S3_OP_GET, &r, &g);
    ck_assert_int_eq(g.ok, 0);
    ck_assert_uint_eq(g.body_len, 0);
    ck_assert_uint_eq(s3c_stats(C)->failures, 1);
}
END_TEST

START_TEST(s3client_list_uploads_retries_like_list)
{
    struct s3_req r;
    struct got g, c1, c2;
    client();
    create("p/a", &c1);
    create("p/b", &c2);
    fault(S3_OP_LIST_UPLOADS, 1, FS3_EFF_STATUS, 503);
    fault(S3_OP_LIST_UPLOADS, 1, FS3_EFF_TIMEOUT, 0);
    memset(&r, 0, sizeof r);
    r.prefix = "p/";
    call(S3_OP_LIST_UPLOADS, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    ck_assert_uint_eq(g.nentries, 2);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_LIST_UPLOADS], 3);
    ck_assert_uint_eq(s3c_stats(C)->calls[S3_OP_LIST_UPLOADS], 1);
}
END_TEST

/* ---- s3.part.copy get-put ---- */

struct copied {
    int ok;             /* every copy and the complete succeeded */
    enum s3_code code;  /* the first failed copy's code */
    char etag[2][S3_ETAG_MAX];
    uint8_t bytes[sizeof BODY];
    size_t len;
};

/* Copies [10, 60) and [60, 100) of "src" into key as parts 1 and 2 of a
 * multipart upload, completes it and reads it back whole. */
static void copy_two_parts(const char *key, struct copied *out)
{
    static const int64_t from[2] = {10, 60}, to[2] = {60, 100};
    struct s3_part p[2];
    struct s3_req r;
    struct got g;
    char id[S3_UPLOAD_ID_MAX];
    memset(out, 0, sizeof *out);
    create(key, &g);
    ck_assert_int_eq(g.ok, 1);
    snprintf(id, sizeof id, "%s", g.upload_id);
    memset(p, 0, sizeof p);
    for (int i = 0; i < 2; i++) {
        memset(&r, 0, sizeof r);
        r.key = key;
        r.upload_id = id;
        r.part_number = i + 1;
        r.copy_source = "src";
        r.range_start = from[i];
        r.range_end = to[i];
        call(S3_OP_MPU_COPY, &r, &g);
        if (!g.ok) {
            out->code = g.code;
            return;
        }
        snprintf(out->etag[i], sizeof out->etag[i], "%s", g.etag);
        p[i].number = i + 1;
        snprintf(p[i].etag, sizeof p[i].etag, "%s", g.etag);
    }
    memset(&r, 0, sizeof r);
    r.key = key;
    r.upload_id = id;
    r.parts = p;
    r.nparts = 2;
    call(S3_OP_MPU_COMPLETE, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    memset(&r, 0, sizeof r);
    r.key = key;
    r.range_end = -1;
    call(S3_OP_GET, &r, &g);
    ck_assert_int_eq(g.ok, 1);
    memcpy(out->bytes, g.body, g.body_len);
    out->len = g.body_len;
    out->ok = 1;
}

/* The same copies natively and by get-put (with a 500, a truncated body and
 * an attempt timeout on its GETs, a 503 on its UploadPart): the same bytes,
 * part ETags that are the bytes' MD5s, and no UploadPartCopy ever reaches the store. */
START_TEST(s3client_part_copy_get_put_same_bytes)
{
    struct copied nat, gp;
    client();
    put_body("src");
    copy_two_parts("native", &nat);
    ck_assert_int_eq(nat.ok, 1);
    ck_assert_uint_eq(nat.len, 90);
    ck_assert_mem_eq(nat.bytes, BODY + 10, 90);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_MPU_COPY), 2);
    s3c_free(C);
    CONF.part_copy_get_put = true;
    client();
    fault(S3_OP_GET, 1, FS3_EFF_STATUS, 500);
    fault(S3_OP_GET, 1, FS3_EFF_PARTIAL, 0);  /* the 2nd get: 200 with half the body */
    fault(S3_OP_GET, 1, FS3_EFF_TIMEOUT, 0);  /* the 3rd: no answer */
    fault(S3_OP_MPU_PART, 1, FS3_EFF_STATUS, 503);
    copy_two_parts("getput", &gp);
    ck_assert_int_eq(gp.ok, 1);
    ck_assert_uint_eq(gp.len, nat.len);
    ck_assert_mem_eq(gp.bytes, nat.bytes, nat.len);
    /* The parts' ETags are the MD5s of their bytes (the in-process store
     * leaves a native copy's "": it computes MD5 lazily, s3.h "ETags"). */
    for (int i = 0; i < 2; i++) {
        char md5[S3_ETAG_MAX];
        s3_etag_md5(BODY + (i ? 60 : 10), i ? 40 : 50, md5);
        ck_assert_str_eq(gp.etag[i], md5);
    }
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_MPU_COPY), 2); /* the native run's only */
    ck_assert_uint_eq(s3c_stats(C)->calls[S3_OP_MPU_COPY], 2);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_COPY], 0);
    ck_assert_uint_eq(s3c_stats(C)->short_reads, 1);
    ck_assert_uint_eq(s3c_stats(C)->timeouts, 1);
    /* 2 copies + the read-back, plus the 500, the short one and the timeout. */
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_GET], 6);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_PART], 3);
    clenv_run(&E, 100000);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_ptr_null(sim_waits_oldest(&E.waits));
}
END_TEST

/* A source that is gone fails the copy as UploadPartCopy would (404
 * NoSuchKey, not retried), and so does a GET failing for good. */
START_TEST(s3client_part_copy_get_put_source_errors)
{
    struct copied gp;
    CONF.part_copy_get_put = true;
    CONF.retry_max = 3;
    client();
    copy_two_parts("nosrc", &gp);
    ck_assert_int_eq(gp.ok, 0);
    ck_assert_int_eq(gp.code, S3E_NO_SUCH_KEY);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_GET], 1);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_PART], 0);
    put_body("src");
    fault(S3_OP_GET, 1, FS3_EFF_STATUS, 500);
    fault(S3_OP_GET, 1, FS3_EFF_STATUS, 500);
    fault(S3_OP_GET, 1, FS3_EFF_STATUS, 500);
    copy_two_parts("failing", &gp);
    ck_assert_int_eq(gp.ok, 0);
    ck_assert_int_eq(gp.code, S3E_INTERNAL_ERROR);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_GET], 4);
    ck_assert_uint_eq(s3c_stats(C)->attempts[S3_OP_MPU_PART], 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_MPU_COPY), 0);
    ck_assert_ptr_null(sim_waits_oldest(&E.waits));
}
END_TEST

/* Cancelled while its GET or its UploadPart is in flight, or the client
 * freed under it: no callback, nothing left (ASan). */
START_TEST(s3client_part_copy_get_put_cancel)
{
    struct s3_req r;
    struct got g, c;
    CONF.part_copy_get_put = true;
    client();
    put_body("src");
    create("dst", &c);
    for (int step = 0; step < 3; step++) {
        memset(&r, 0, sizeof r);
        memset(&g, 0, sizeof g);
        r.job = S3_JOB_STREAM_COMPACTION;
        r.key = "dst";
        r.upload_id = c.upload_id;
        r.part_number = 1;
        r.copy_source = "src";
        r.range_end = -1;
        ck_assert_int_eq(s3_mpu_copy(s3c_ops(C), &r, got_cb, &g), 0);
        if (step >= 1) /* past the GET: the UploadPart is in flight */
            while (fs3_fault_calls(F, S3_OP_MPU_PART) < (uint64_t)step && clenv_step(&E))
                ;
        ck_assert_int_eq(s3c_pending(C), 1);
        if (step == 2) {
            s3c_free(C);
            C = NULL;
        } else {
            s3_cancel(s3c_ops(C), &r);
            ck_assert_int_eq(s3c_pending(C), 0);
            clenv_run(&E, 100000);
        }
        ck_assert_int_eq(g.n, 0);
        ck_assert_ptr_null(sim_waits_oldest(&E.waits));
    }
}
END_TEST

static Suite *s3client_mpu_suite(void)
{
    Suite *s = suite_create("s3client_mpu");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, s3client_mpu_lost_create_stray_aborted_after_complete);
    tcase_add_test(tc, s3client_mpu_automq_stray_left_open);
    tcase_add_test(tc, s3client_mpu_lost_complete_repeat_ok);
    tcase_add_test(tc, s3client_mpu_lost_complete_repeat_nosuchupload);
    tcase_add_test(tc, s3client_mpu_sweep_keeps_other_keys_and_winner_of_abort);
    tcase_add_test(tc, s3client_mpu_failed_create_sweeps_at_once);
    tcase_add_test(tc, s3client_mpu_clean_create_never_lists);
    tcase_add_test(tc, s3client_mpu_free_during_sweep);
    tcase_add_test(tc, s3client_truncated_get_body_is_retried);
    tcase_add_test(tc, s3client_truncated_get_exhausted_is_transport_error);
    tcase_add_test(tc, s3client_list_uploads_retries_like_list);
    tcase_add_test(tc, s3client_mpu_complete_takes_only_its_own_track);
    tcase_add_test(tc, s3client_part_copy_get_put_same_bytes);
    tcase_add_test(tc, s3client_part_copy_get_put_source_errors);
    tcase_add_test(tc, s3client_part_copy_get_put_cancel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(s3client_mpu_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
