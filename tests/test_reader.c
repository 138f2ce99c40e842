/* test_reader.c - reading stream ranges through metadata and indexes (reader.h), over the fake S3. */
#include "composite.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "meta.h"
#include "obj.h"
#include "reader.h"
#include "testenv.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- Fixture: env, fake S3 (with a counting wrapper), metadata. ------------------------- */

#define NS "_kafka_rd"

static struct tenv T;
static struct fs3 *S;
#include "ctltest.h"
static struct s3_ops COUNT; /* forwards to BACK, counting GETs */
static struct s3_ops *BACK;
static int GETS;

static int count_submit(struct s3_ops *ops, struct s3_req *req)
{
    (void)ops;
    GETS += req->op == S3_OP_GET;
    return BACK->submit(BACK, req);
}

static void count_cancel(struct s3_ops *ops, struct s3_req *req)
{
    (void)ops;
    BACK->cancel(BACK, req);
}

static void setup(void)
{
    struct fs3_config cfg;
    struct meta_conf mc = {NS, NULL, false, false, false, false};
    tenv_init(&T, 1);
    fs3_config_init(&cfg);
    S = fs3_new(&T.env, &cfg);
    ck_assert_ptr_nonnull(S);
    BACK = fs3_ops(S);
    COUNT = (struct s3_ops){NULL, "count", count_submit, count_cancel, false};
    GETS = 0;
    ctltest_new(&T.env, &mc);
    for (int s = 1; s <= 3; s++)
        ck_assert_int_eq(meta_stream_create(M, s), 0);
}

static void teardown(void)
{
    ctltest_free();
    fs3_free(S);
    tenv_free(&T);
}

static uint8_t pb(int64_t stream, int64_t off, size_t i)
{
    return (uint8_t)(stream * 13 + off * 5 + (int64_t)i * 3);
}

/* Puts buf at key, synchronously. */
static void put(const char *key, const uint8_t *buf, size_t len)
{
    struct s3_req req = {.op = S3_OP_PUT, .key = key, .body = buf, .body_len = len};
    struct s3_result res;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    s3_result_cleanup(&res);
}

/* Adds records [a, b) of stream s, one offset each, len payload bytes. */
static void add_range(struct obj_builder *b, int64_t s, int64_t a, int64_t e, uint32_t len)
{
    uint8_t p[256];
    for (int64_t o = a; o < e; o++) {
        struct obj_record r = {s, 0, o, 1, len, p};
        for (uint32_t i = 0; i < len; i++)
            p[i] = pb(s, o, i);
        ck_assert_int_eq(obj_builder_add(b, &r), 0);
    }
}

/* Finishes b, puts it under a fresh id and returns the id and size. */
static int64_t store_obj(struct obj_builder *b, int64_t *size)
{
    uint8_t *buf;
    size_t len;
    int64_t id;
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    ck_assert_int_eq(obj_builder_finish(b, &buf, &len), 0);
    put(meta_object_get(M, id)->key, buf, len);
    free(buf);
    *size = (int64_t)len;
    return id;
}

/* A WAL upload of one SSO holding [a, e) of streams 1 and 2. */
static int64_t sso(int64_t a, int64_t e, uint32_t block)
{
    struct obj_builder_conf conf = {block, 0, true};
    struct obj_builder b;
    struct meta_range r[2] = {{1, a, e}, {2, a, e}};
    struct meta_sso_commit c = {.order_id = -1, .ranges = r, .nranges = 2};
    obj_builder_init(&b, &conf);
    add_range(&b, 1, a, e, 40);
    add_range(&b, 2, a, e, 40);
    c.id = store_obj(&b, &c.size);
    obj_builder_free(&b);
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    return c.id;
}

/* A WAL upload of one stream object [a, e) of stream s. */
static int64_t sobj(int64_t s, int64_t a, int64_t e, uint32_t block)
{
    struct obj_builder_conf conf = {block, 0, true};
    struct obj_builder b;
    struct meta_so so = {.stream = s, .start = a, .end = e};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    obj_builder_init(&b, &conf);
    add_range(&b, s, a, e, 40);
    so.id = store_obj(&b, &so.size);
    obj_builder_free(&b);
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    return so.id;
}

/* ---- Running a read. ------------------------------------------------------------------- */

struct got {
    int64_t next;     /* expected next base */
    int n;            /* records */
    int bad;          /* mismatches */
    int done;         /* done() calls */
    int rc;
    int64_t at;       /* done's next */
    int stop_after;   /* abort after this many records (0: never) */
};

static int on_rec(void *arg, const struct obj_record *r)
{
    struct got *g = arg;
    if (g->n && r->base != g->next)
        g->bad++;
    for (uint32_t i = 0; i < r->len; i++)
        g->bad += r->payload[i] != pb(r->stream, r->base, i);
    g->next = r->base + r->count;
    g->n++;
    return g->stop_after && g->n >= g->stop_after;
}

static void on_done(void *arg, int rc, int64_t next)
{
    struct got *g = arg;
    g->done++;
    g->rc = rc;
    g->at = next;
}

static struct got read_range(struct s3_ops *ops, unsigned flags, int64_t s, int64_t a, int64_t e)
{
    struct rd_conf conf = {.env = &T.env, .s3 = ops, .mdc = MD, .parse_flags = flags, .retries = -1};
    struct got g = {0};
    ck_assert_int_eq(rd_read_start(&conf, s, a, e, on_rec, on_done, &g, NULL), 0);
    ck_assert_int_eq(g.done, 0); /* never from inside the start */
    tenv_run(&T);
    ck_assert_int_eq(g.done, 1);
    return g;
}

/* ---- Tests. ---------------------------------------------------------------------------- */

START_TEST(reader_reads_sso_and_stream_objects)
{
    struct got g;
    sso(0, 50, 200);
    sobj(1, 50, 100, 200);
    g = read_range(&COUNT, 0, 1, 0, 100);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 100);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(g.at, 100);
    ck_assert_int_eq(GETS, 4); /* tail + one data run, per object */
    g = read_range(&COUNT, 0, 2, 20, 30);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 10);
    ck_assert_int_eq(g.bad, 0);
}
END_TEST

START_TEST(reader_max_read_splits_runs)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .max_read = 800, .retries = -1};
    struct got g = {0};
    sobj(3, 0, 60, 200); /* blocks of 5 records of 73 bytes: 375 bytes each, 12 blocks */
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 60, on_rec, on_done, &g, NULL), 0);
    tenv_run(&T);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 60);
    ck_assert_int_eq(GETS, 1 + 6); /* the tail, then two blocks per GET */
}
END_TEST

START_TEST(reader_tail_reread)
{
    struct got g;
    sobj(3, 0, 400, 1); /* one block per record: a 14400-byte index */
    g = read_range(&COUNT, 0, 3, 0, 400);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 400);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(GETS, 3); /* tail, exact re-read, one data run */
}
END_TEST

/* A composite of two stream objects of stream 3 ([0, 30) and [30, 60)); returns
 * its id and the first link's id. */
static int64_t mk_composite(int64_t *link0)
{
    int64_t l1 = sobj(3, 0, 30, 100), l2 = sobj(3, 30, 60, 100), id, src[2] = {l1, l2};
    enum meta_op ops[2] = {META_OP_KEEP_DATA, META_OP_KEEP_DATA};
    struct meta_link links[2] = {{.id = l1, .start = 0, .end = 30}, {.id = l2, .start = 30, .end = 60}};
    struct cobj_writer w;
    uint8_t *buf;
    size_t len;
    struct meta_stream_commit c = {.attributes = META_ATTR_TYPE_COMPOSITE, .stream = 3,
                                   .epoch = -1, .start = 0, .end = 60, .sources = src,
                                   .ops = ops, .nsources = 2, .links = links, .nlinks = 2};
    cobj_writer_init(&w);
    for (int i = 0; i < 2; i++) {
        const struct meta_object *o = meta_object_get(M, src[i]);
        struct s3_req req = {.op = S3_OP_GET, .key = o->key, .range_start = 0, .range_end = -1};
        struct s3_result res;
        struct obj_index idx;
        uint64_t from;
        memset(&res, 0, sizeof res);
        ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
        ck_assert_int_eq(obj_tail_parse(res.body, res.body_len, 0, res.body_len, 0, &idx, &from), 0);
        ck_assert_int_eq(cobj_writer_add(&w, src[i], 0, idx.e, idx.n), 0);
        obj_index_free(&idx);
        s3_result_cleanup(&res);
    }
    ck_assert_int_eq(cobj_writer_finish(&w, &buf, &len), 0);
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    c.id = id;
    c.size = (int64_t)w.retained;
    ck_assert_int_eq(meta_commit_stream(M, &c, 1), 0);
    cobj_writer_free(&w);
    free(buf);
    *link0 = l1;
    return id;
}

START_TEST(reader_composite)
{
    int64_t l1;
    struct got g;
    mk_composite(&l1);
    g = read_range(&COUNT, 0, 3, 10, 50);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 40);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(GETS, 3); /* the composite whole, one run per link */
}
END_TEST

START_TEST(reader_composite_link_missing)
{
    int64_t l1;
    char key[OBJ_KEY_MAX];
    struct got g;
    mk_composite(&l1);
    ck_assert_int_eq(obj_key(l1, NS, key, sizeof key), 0);
    ck_assert_int_eq(fs3_remove(S, key), 0); /* race-delete target=linked */
    g = read_range(&COUNT, 0, 3, 0, 60);
    ck_assert_int_eq(g.rc, ERR_NOTFOUND);
    ck_assert_int_eq(g.at, 0);
    ck_assert_int_eq(GETS, 6); /* (composite + link) x 3 */
    g = read_range(&COUNT, 0, 3, 30, 60); /* the other link still reads */
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 30);
}
END_TEST

START_TEST(reader_missing_key_retries_then_fails)
{
    int64_t id = sobj(3, 0, 10, 100);
    struct got g;
    ck_assert_int_eq(fs3_remove(S, meta_object_get(M, id)->key), 0);
    g = read_range(&COUNT, 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_NOTFOUND);
    ck_assert_int_eq(g.at, 0);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq(GETS, 3); /* first try + 2 re-plans */
}
END_TEST

START_TEST(reader_short_body_is_read_again)
{
    struct fs3_fault *f = fs3_fault_new(&T.env, S, NULL, NULL);
    struct fs3_rule rule;
    struct got g;
    sobj(3, 0, 10, 100);
    fs3_rule_init(&rule);
    rule.op = S3_OP_GET;
    rule.effect = FS3_EFF_PARTIAL;
    rule.times = 1;
    ck_assert_int_eq(fs3_fault_add(f, &rule), 0);
    g = read_range(fs3_fault_ops(f), 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 10);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_uint_eq(fs3_fault_hits(f, S3_OP_GET, FS3_EFF_PARTIAL), 1);
    fs3_fault_free(f);
}
END_TEST

/* A GET answered 404 (whatever its code) or NoSuchKey (whatever its status)
 * means the object is missing: the reader plans again and reads it on the
 * next try. */
/* NoSuchKey means "gone, plan again" whatever the status; a 404 with
 * another code is an S3 error that fails the read at once (AutoMQ's
 * StreamReader recovers from NoSuchKeyException only). */
START_TEST(reader_only_nosuchkey_is_missing)
{
    static const struct {
        int status;
        enum s3_code code;
        int rc, n;
    } cases[] = {{500, S3E_NO_SUCH_KEY, 0, 10},
                 {404, S3E_NO_SUCH_KEY, 0, 10},
                 {404, S3E_NO_SUCH_BUCKET, ERR_S3, 0},
                 {404, S3E_OTHER, ERR_S3, 0}};
    sobj(3, 0, 10, 100);
    for (int i = 0; i < 4; i++) {
        struct fs3_fault *f = fs3_fault_new(&T.env, S, NULL, NULL);
        struct fs3_rule rule;
        struct got g;
        fs3_rule_init(&rule);
        rule.op = S3_OP_GET;
        rule.effect = FS3_EFF_STATUS;
        rule.status = cases[i].status;
        rule.code = cases[i].code;
        rule.times = 1;
        ck_assert_int_eq(fs3_fault_add(f, &rule), 0);
        g = read_range(fs3_fault_ops(f), 0, 3, 0, 10);
        ck_assert_msg(g.rc == cases[i].rc, "case %d: rc %d, want %d", i, g.rc, cases[i].rc);
        ck_assert_int_eq(g.n, cases[i].n);
        ck_assert_uint_eq(fs3_fault_hits(f, S3_OP_GET, FS3_EFF_STATUS), 1);
        fs3_fault_free(f);
    }
}
END_TEST

START_TEST(reader_s3_error_fails)
{
    struct fs3_fault *f = fs3_fault_new(&T.env, S, NULL, NULL);
    struct fs3_rule rule;
    struct got g;
    sobj(3, 0, 10, 100);
    fs3_rule_init(&rule);
    rule.op = S3_OP_GET;
    rule.effect = FS3_EFF_STATUS;
    rule.status = 500;
    ck_assert_int_eq(fs3_fault_add(f, &rule), 0);
    g = read_range(fs3_fault_ops(f), 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_S3);
    ck_assert_int_eq(g.at, 0);
    fs3_fault_free(f);
}
END_TEST

START_TEST(reader_corrupt_block)
{
    struct obj_builder_conf conf = {100, 0, true};
    struct obj_builder b;
    uint8_t *buf;
    size_t len;
    int64_t id;
    struct meta_so so = {.stream = 3, .start = 0, .end = 10};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    struct obj_index idx;
    uint64_t from;
    struct got g;
    obj_builder_init(&b, &conf);
    add_range(&b, 3, 0, 10, 40);
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_int_eq(obj_tail_parse(buf, len, 0, len, 0, &idx, &from), 0);
    ck_assert_uint_eq(idx.n, 4); /* 3 + 3 + 3 + 1 records */
    buf[idx.e[2].pos] = 0x00;    /* third block's magic */
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    so.id = id;
    so.size = (int64_t)len;
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    g = read_range(&COUNT, 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_CORRUPT);
    ck_assert_int_eq(g.at, 6);
    ck_assert_int_eq(g.n, 6);
    obj_index_free(&idx);
    obj_builder_free(&b);
    free(buf);
}
END_TEST

START_TEST(reader_corrupt_footer_is_corrupt)
{
    /* The object's own size, its footer broken: the index cannot be parsed,
     * and the read fails instead of planning from a half-parsed index. */
    struct obj_builder_conf conf = {100, 0, true};
    struct obj_builder b;
    uint8_t *buf;
    size_t len;
    int64_t id;
    struct meta_so so = {.stream = 3, .start = 0, .end = 10};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    struct got g;
    obj_builder_init(&b, &conf);
    add_range(&b, 3, 0, 10, 40);
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    for (size_t i = len - 8; i < len; i++) /* the footer's magic */
        buf[i] ^= 0xA5;
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    so.id = id;
    so.size = (int64_t)len;
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    g = read_range(&COUNT, 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_CORRUPT);
    ck_assert_int_eq(g.n, 0);
    obj_builder_free(&b);
    free(buf);
}
END_TEST

START_TEST(reader_size_mismatch_is_corrupt)
{
    int64_t id = sobj(3, 0, 10, 100);
    uint8_t junk[600];
    struct got g;
    memset(junk, 0x5A, sizeof junk);
    put(meta_object_get(M, id)->key, junk, sizeof junk); /* another object under the key */
    g = read_range(&COUNT, 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_CORRUPT);
    ck_assert_int_eq(g.at, 0);
}
END_TEST

/* A committed object whose recorded size is 0 (no engine job commits one: every object has a
 * footer) cannot hold the range: the read ends with ERR_CORRUPT, once, without a GET. */
START_TEST(reader_zero_size_object_is_corrupt)
{
    struct meta_so so = {.stream = 3, .start = 0, .end = 10, .size = 0};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    struct got g;
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &so.id), 0);
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    g = read_range(&COUNT, 0, 3, 0, 10);
    ck_assert_int_eq(g.rc, ERR_CORRUPT);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq(g.at, 0);
    ck_assert_int_eq(GETS, 0);
}
END_TEST

START_TEST(reader_hole_in_metadata)
{
    struct got g;
    sobj(3, 0, 10, 100);
    g = read_range(&COUNT, 0, 3, 5, 20);
    ck_assert_int_eq(g.rc, ERR_NOTFOUND);
    ck_assert_int_eq(g.at, 10);
    ck_assert_int_eq(g.n, 5);
    g = read_range(&COUNT, 0, 1, 0, 1); /* nothing at all */
    ck_assert_int_eq(g.rc, ERR_NOTFOUND);
    ck_assert_int_eq(g.at, 0);
}
END_TEST

START_TEST(reader_int32_wrap_loses_data)
{
    /* F12: with the guard off, a block whose delta wrapped hides its records. */
    for (int guard = 0; guard < 2; guard++) {
        struct obj_builder_conf conf = {0, OBJ_GROUP_LIMIT, guard};
        struct obj_builder b;
        struct meta_so so = {.stream = 1 + guard, .start = 0, .end = 2 * (int64_t)0x7fff0000};
        struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
        uint8_t p[4] = {0};
        struct obj_record r1 = {so.stream, 0, 0, 0x7fff0000, 4, p};
        struct obj_record r2 = {so.stream, 0, 0x7fff0000, 0x7fff0000, 4, p};
        struct got g;
        obj_builder_init(&b, &conf);
        for (int i = 0; i < 4; i++)
            p[i] = pb(so.stream, 0, (size_t)i);
        ck_assert_int_eq(obj_builder_add(&b, &r1), 0);
        for (int i = 0; i < 4; i++)
            p[i] = pb(so.stream, 0x7fff0000, (size_t)i);
        ck_assert_int_eq(obj_builder_add(&b, &r2), 0);
        so.id = store_obj(&b, &so.size);
        obj_builder_free(&b);
        ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
        g = read_range(&COUNT, OBJ_PARSE_WRAP_OK, so.stream, 0, so.end);
        ck_assert_int_eq(g.rc, guard ? 0 : ERR_NOTFOUND);
        ck_assert_int_eq(g.n, guard ? 2 : 0);
        ck_assert_int_eq(g.bad, 0);
    }
}
END_TEST

/* One stream object of stream 3 with records [0, 5) and [100, 105), range [0, 105). */
static void sparse_object(bool guard, int64_t far)
{
    struct obj_builder_conf conf = {0, 0, guard};
    struct obj_builder b;
    struct meta_so so = {.stream = 3, .start = 0, .end = far + 5};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    obj_builder_init(&b, &conf);
    add_range(&b, 3, 0, 5, 10);
    add_range(&b, 3, far, far + 5, 10);
    so.id = store_obj(&b, &so.size);
    obj_builder_free(&b);
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
}

START_TEST(reader_sparse_offsets)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1};
    struct got g = {0};
    sparse_object(true, 100);
    g = read_range(&COUNT, 0, 3, 0, 105);
    ck_assert_int_eq(g.rc, ERR_NOTFOUND); /* strict: offset 5 has no record */
    ck_assert_int_eq(g.at, 5);
    ck_assert_int_eq(g.n, 5);
    memset(&g, 0, sizeof g);
    conf.holes_ok = true;
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 200, on_rec, on_done, &g, NULL), 0);
    tenv_run(&T);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 10);
    ck_assert_int_eq(g.bad, 1); /* on_rec counts the jump from 5 to 100 */
    ck_assert_int_eq(g.at, 200);
}
END_TEST

START_TEST(reader_sparse_wrap_hides_records)
{
    /* F12 with sparse one-offset records: the guard-off block's delta wraps and
     * the index no longer finds its records; a holes_ok reader returns nothing. */
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1,
                           .parse_flags = OBJ_PARSE_WRAP_OK, .holes_ok = true};
    struct got g = {0};
    sparse_object(false, INT64_C(3000000000));
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, INT64_C(3000000005), on_rec, on_done, &g, NULL),
                     0);
    tenv_run(&T);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 0);
}
END_TEST

/* A stream object [a, e) of stream 3 committed by a stream object compaction
 * (no continuity check), replacing source (or none: -1). */
static int64_t merged(int64_t a, int64_t e, int64_t source)
{
    struct obj_builder b;
    enum meta_op op = META_OP_DELETE;
    struct meta_stream_commit c = {.stream = 3, .epoch = -1, .start = a, .end = e,
                                   .sources = &source, .ops = &op, .nsources = source >= 0};
    obj_builder_init(&b, NULL);
    add_range(&b, 3, a, e, 40);
    c.id = store_obj(&b, &c.size);
    obj_builder_free(&b);
    ck_assert_int_eq(meta_commit_stream(M, &c, 1), 0);
    return c.id;
}

START_TEST(reader_replans_after_compaction)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1};
    struct got g = {0};
    int64_t b;
    sobj(3, 0, 10, 100);
    b = sobj(3, 10, 20, 100);
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 20, on_rec, on_done, &g, NULL), 0);
    tenv_step_until(&T, 0); /* planned; the first object's tail GET is out */
    ck_assert_int_eq(GETS, 1);
    merged(10, 20, b);      /* b is replaced while the read runs */
    tenv_run(&T);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 20);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(GETS, 4);
}
END_TEST

START_TEST(reader_metadata_hole)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1,
                           .holes_ok = true};
    struct got g;
    sobj(3, 0, 10, 100);
    merged(20, 30, -1);
    g = read_range(&COUNT, 0, 3, 0, 30);
    ck_assert_int_eq(g.rc, ERR_NOTFOUND);
    ck_assert_int_eq(g.at, 10);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 30, on_rec, on_done, &g, NULL), 0);
    tenv_run(&T);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 20);
    ck_assert_int_eq(g.at, 30);
}
END_TEST

START_TEST(reader_async_contract_and_cancel)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1};
    struct got g = {0};
    struct rd_read *rd = NULL;
    sobj(3, 0, 10, 100);
    ck_assert_int_eq(rd_read_start(&conf, 3, 5, 4, on_rec, on_done, &g, NULL), ERR_INVAL);
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 1, NULL, on_done, &g, NULL), ERR_INVAL);
    /* An empty range completes, later. */
    ck_assert_int_eq(rd_read_start(&conf, 3, 4, 4, on_rec, on_done, &g, NULL), 0);
    ck_assert_int_eq(g.done, 0);
    tenv_run(&T);
    ck_assert_int_eq(g.done, 1);
    ck_assert_int_eq(g.rc, 0);
    /* Cancelled before it starts, and while a GET is in flight: no callback. */
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 10, on_rec, on_done, &g, &rd), 0);
    rd_read_cancel(rd);
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 10, on_rec, on_done, &g, &rd), 0);
    tenv_step_until(&T, 1);
    ck_assert_int_eq(GETS, 1);
    rd_read_cancel(rd);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    tenv_run(&T);
    ck_assert_int_eq(g.done, 0);
    /* The record callback can stop the read. */
    g.stop_after = 3;
    ck_assert_int_eq(rd_read_start(&conf, 3, 0, 10, on_rec, on_done, &g, NULL), 0);
    tenv_run(&T);
    ck_assert_int_eq(g.rc, ERR_ABORTED);
    ck_assert_int_eq(g.at, 2);
}
END_TEST

/* Stream ids start at 0 (meta_stream_create takes any id >= 0): stream 0 reads like any other;
 * a negative id is refused at the start. */
START_TEST(reader_stream_ids_from_zero)
{
    struct rd_conf conf = {.env = &T.env, .s3 = &COUNT, .mdc = MD, .retries = -1};
    struct got g = {0};
    ck_assert_int_eq(meta_stream_create(M, 0), 0);
    sobj(0, 0, 20, 100);
    g = read_range(&COUNT, 0, 0, 0, 20);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.n, 20);
    ck_assert_int_eq(g.bad, 0);
    ck_assert_int_eq(g.at, 20);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(rd_read_start(&conf, -1, 0, 1, on_rec, on_done, &g, NULL), ERR_INVAL);
    tenv_run(&T);
    ck_assert_int_eq(g.done, 0);
}
END_TEST

/* ---- Suite. -------------------------------------------------------------------------------- */

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reader_reads_sso_and_stream_objects);
    tcase_add_test(tc, reader_max_read_splits_runs);
    tcase_add_test(tc, reader_tail_reread);
    tcase_add_test(tc, reader_composite);
    tcase_add_test(tc, reader_composite_link_missing);
    tcase_add_test(tc, reader_missing_key_retries_then_fails);
    tcase_add_test(tc, reader_short_body_is_read_again);
    tcase_add_test(tc, reader_s3_error_fails);
    tcase_add_test(tc, reader_corrupt_block);
    tcase_add_test(tc, reader_size_mismatch_is_corrupt);
    tcase_add_test(tc, reader_corrupt_footer_is_corrupt);
    tcase_add_test(tc, reader_zero_size_object_is_corrupt);
    tcase_add_test(tc, reader_hole_in_metadata);
    tcase_add_test(tc, reader_int32_wrap_loses_data);
    tcase_add_test(tc, reader_sparse_offsets);
    tcase_add_test(tc, reader_sparse_wrap_hides_records);
    tcase_add_test(tc, reader_replans_after_compaction);
    tcase_add_test(tc, reader_only_nosuchkey_is_missing);
    tcase_add_test(tc, reader_metadata_hole);
    tcase_add_test(tc, reader_async_contract_and_cancel);
    tcase_add_test(tc, reader_stream_ids_from_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reader_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
