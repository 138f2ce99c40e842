/* test_store_ver.c - versioning and object lock of the in-process bucket
 * (fake_s3/fs3.h "Versioning and object lock"), through fs3_exec as the
 * fault shim calls it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs3.h"
#include "testenv.h"

static struct tenv T;
static struct fs3 *S;
static struct s3_result R;

static void setup(void)
{
    tenv_init(&T, 3);
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.latency_us = 0;
    S = fs3_new(&T.env, &cfg);
    ck_assert_ptr_nonnull(S);
    memset(&R, 0, sizeof R);
}

static void teardown(void)
{
    s3_result_cleanup(&R);
    fs3_free(S);
    tenv_free(&T);
}

static void run(struct s3_req *req, enum s3_op op)
{
    s3_result_cleanup(&R);
    memset(&R, 0, sizeof R);
    req->op = op;
    ck_assert_int_eq(fs3_exec(S, req, FS3_AS_OF_NOW, &R), 0);
}

/* Puts body at key, returns the version id (a static copy). */
static const char *put(const char *key, const char *body)
{
    static char vid[4][S3_VERSION_ID_MAX];
    static int n;
    struct s3_req req = {.key = key, .body = (const uint8_t *)body, .body_len = strlen(body)};
    run(&req, S3_OP_PUT);
    ck_assert_int_eq(R.status, 200);
    n = (n + 1) % 4;
    memcpy(vid[n], R.version_id, sizeof vid[n]);
    return vid[n];
}

static void get(const char *key, const char *vid)
{
    struct s3_req req = {.key = key, .range_end = -1, .version_id = vid};
    run(&req, S3_OP_GET);
}

static void del(const char *key, const char *vid, bool bypass)
{
    struct s3_req req = {.key = key, .version_id = vid, .bypass_governance = bypass};
    run(&req, S3_OP_DELETE);
}

static void body_is(const char *want)
{
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.body_len, strlen(want));
    ck_assert(memcmp(R.body, want, R.body_len) == 0);
}

struct vlist {
    char ids[16][S3_VERSION_ID_MAX];
    bool marker[16], latest[16];
    int n;
};

static bool collect(void *arg, const struct fs3_version_info *v)
{
    struct vlist *l = arg;
    if (l->n == 16)
        return false;
    snprintf(l->ids[l->n], S3_VERSION_ID_MAX, "%s", v->version_id);
    l->marker[l->n] = v->delete_marker;
    l->latest[l->n++] = v->latest;
    return true;
}

/* An unversioned bucket answers no version id and keeps nothing. */
START_TEST(store_ver_off_is_plain)
{
    put("k", "a");
    ck_assert_str_eq(R.version_id, "");
    put("k", "b");
    del("k", NULL, false);
    ck_assert_int_eq(R.status, 204);
    ck_assert(!R.delete_marker);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_uint_eq(fs3_nversions_kept(S), 0);
    /* "null" names the object of an unversioned bucket. */
    put("k", "c");
    get("k", "null");
    body_is("c");
    get("k", "00000000000000000000000000000000");
    ck_assert_int_eq(R.status, 404);
    ck_assert_int_eq(R.code, S3E_NO_SUCH_VERSION);
}
END_TEST

START_TEST(store_ver_versions_markers_and_delete_by_id)
{
    char v1[S3_VERSION_ID_MAX], v2[S3_VERSION_ID_MAX], m[S3_VERSION_ID_MAX];
    struct vlist l = {0};
    put("k", "null-one");
    ck_assert_int_eq(fs3_set_versioning(S, FS3_VER_ENABLED), 0);
    memcpy(v1, put("k", "one"), sizeof v1);
    memcpy(v2, put("k", "two"), sizeof v2);
    ck_assert_uint_eq(strlen(v1), 32);
    ck_assert_str_ne(v1, v2);
    get("k", NULL);
    body_is("two");
    ck_assert_str_eq(R.version_id, v2);
    get("k", v1);
    body_is("one");
    get("k", "null");
    body_is("null-one");
    get("k", "not-an-id");
    ck_assert_int_eq(R.status, 400);

    del("k", NULL, false);
    ck_assert_int_eq(R.status, 204);
    ck_assert(R.delete_marker);
    memcpy(m, R.version_id, sizeof m);
    ck_assert(!fs3_key_exists(S, "k", NULL));
    get("k", NULL);
    ck_assert_int_eq(R.status, 404);
    ck_assert(R.delete_marker);
    ck_assert_str_eq(R.version_id, m);
    get("k", m);
    ck_assert_int_eq(R.status, 405);

    fs3_each_version(S, "", "", "", collect, &l);
    ck_assert_int_eq(l.n, 4);
    ck_assert_str_eq(l.ids[0], m);
    ck_assert(l.marker[0] && l.latest[0]);
    ck_assert_str_eq(l.ids[1], v2);
    ck_assert_str_eq(l.ids[2], v1);
    ck_assert_str_eq(l.ids[3], "null");
    ck_assert(!l.latest[1]);
    /* Paging after (k, v2). */
    memset(&l, 0, sizeof l);
    fs3_each_version(S, "", "k", v2, collect, &l);
    ck_assert_int_eq(l.n, 2);
    ck_assert_str_eq(l.ids[0], v1);

    /* The marker deleted: v2 is current again, with its own time. */
    del("k", m, false);
    ck_assert(R.delete_marker);
    get("k", NULL);
    body_is("two");
    /* v2 deleted by id: v1 is current. */
    del("k", v2, false);
    get("k", NULL);
    body_is("one");
    ck_assert_str_eq(R.version_id, v1);
    ck_assert_uint_eq(fs3_nversions_kept(S), 2);
}
END_TEST

START_TEST(store_ver_suspended_replaces_null)
{
    char v1[S3_VERSION_ID_MAX];
    struct vlist l = {0};
    fs3_set_versioning(S, FS3_VER_ENABLED);
    memcpy(v1, put("k", "one"), sizeof v1);
    fs3_set_versioning(S, FS3_VER_SUSPENDED);
    ck_assert_str_eq(put("k", "n1"), "null");
    ck_assert_str_eq(put("k", "n2"), "null");
    fs3_each_version(S, "", "", "", collect, &l);
    ck_assert_int_eq(l.n, 2);
    ck_assert_str_eq(l.ids[0], "null");
    ck_assert_str_eq(l.ids[1], v1);
    get("k", "null");
    body_is("n2");
    del("k", NULL, false);
    ck_assert(R.delete_marker);
    ck_assert_str_eq(R.version_id, "null");
    memset(&l, 0, sizeof l);
    fs3_each_version(S, "", "", "", collect, &l);
    ck_assert_int_eq(l.n, 2);
    ck_assert(l.marker[0]);
}
END_TEST

START_TEST(store_ver_lock_refuses_deletes)
{
    char v1[S3_VERSION_ID_MAX], v2[S3_VERSION_ID_MAX];
    struct fs3_version_lock lk;
    ck_assert_int_eq(fs3_lock_set_default(S, FS3_LOCK_GOVERNANCE, 1, 0), ERR_BADSTATE);
    ck_assert_int_eq(fs3_lock_enable(S), 0);
    ck_assert_int_eq(fs3_versioning(S), FS3_VER_ENABLED);
    ck_assert_int_eq(fs3_set_versioning(S, FS3_VER_SUSPENDED), ERR_BADSTATE);
    ck_assert_int_eq(fs3_lock_set_default(S, FS3_LOCK_GOVERNANCE, 1, 0), 0);
    memcpy(v1, put("g", "gov"), sizeof v1);
    ck_assert_int_eq(fs3_version_lock_get(S, "g", v1, &lk), 0);
    ck_assert_int_eq(lk.mode, FS3_LOCK_GOVERNANCE);
    ck_assert_int_eq(lk.until_us, env_now(&T.env) + 86400 * ENV_USEC_PER_SEC);
    del("g", v1, false);
    ck_assert_int_eq(R.status, 403);
    ck_assert_int_eq(R.code, S3E_ACCESS_DENIED);
    del("g", NULL, false); /* a marker: allowed */
    ck_assert_int_eq(R.status, 204);
    del("g", v1, true); /* governance bypassed */
    ck_assert_int_eq(R.status, 204);
    get("g", v1);
    ck_assert_int_eq(R.status, 404);

    memcpy(v2, put("c", "comp"), sizeof v2);
    ck_assert_int_eq(fs3_version_set_retention(S, "c", v2, FS3_LOCK_COMPLIANCE,
                                               env_now(&T.env) + 10 * ENV_USEC_PER_SEC, true),
                     0);
    ck_assert_int_eq(fs3_version_set_retention(S, "c", v2, FS3_LOCK_COMPLIANCE,
                                               env_now(&T.env) + 5 * ENV_USEC_PER_SEC, true),
                     ERR_UNSUPPORTED);
    del("c", v2, true);
    ck_assert_int_eq(R.status, 403);
    /* The retention ends on the world's clock. */
    T.now += 11 * ENV_USEC_PER_SEC;
    ck_assert_int_eq(fs3_version_set_legal_hold(S, "c", v2, true), 0);
    del("c", v2, false);
    ck_assert_int_eq(R.status, 403);
    ck_assert_int_eq(fs3_version_set_legal_hold(S, "c", v2, false), 0);
    del("c", v2, false);
    ck_assert_int_eq(R.status, 204);
}
END_TEST

START_TEST(store_ver_delete_many_by_version)
{
    char v1[S3_VERSION_ID_MAX];
    fs3_set_versioning(S, FS3_VER_ENABLED);
    memcpy(v1, put("a", "1"), sizeof v1);
    put("b", "2");
    const char *keys[] = {"a", "b"}, *vids[] = {v1, NULL};
    struct s3_req req = {.keys = keys, .nkeys = 2, .version_ids = vids};
    run(&req, S3_OP_DELETE_MANY);
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_eq(R.deleted[0].code, S3E_NONE);
    ck_assert_str_eq(R.deleted[0].version_id, v1);
    ck_assert(!R.deleted[0].delete_marker);
    ck_assert(R.deleted[1].delete_marker);
    ck_assert(!fs3_key_exists(S, "a", NULL));
    ck_assert(!fs3_key_exists(S, "b", NULL));
    ck_assert_uint_eq(fs3_nversions_kept(S), 2); /* b's version and its marker */
}
END_TEST

static void step_to(int64_t until)
{
    while (tenv_step_until(&T, until))
        ;
    T.now = until;
}

/* The knob's rule and the rules set over HTTP act in one pass, on the
 * world's clock: the knob aborts every upload 10 s old, a rule aborts b/
 * uploads one (lifecycle) day old and expires t/ objects two days old. */
START_TEST(store_life_rules_and_knob_in_one_pass)
{
    struct fs3_config cfg;
    fs3_free(S);
    fs3_config_init(&cfg);
    cfg.latency_us = 0;
    cfg.lifecycle_abort_us = 10 * ENV_USEC_PER_SEC;
    cfg.lifecycle_day_us = ENV_USEC_PER_SEC;
    S = fs3_new(&T.env, &cfg);
    struct fs3_lc_rule rules[] = {
        {"abort-b", "b/", true, 0, ENV_TIME_NEVER, 1},
        {"expire-t", "t/", true, 2, ENV_TIME_NEVER, 0},
        {"off", "", false, 1, ENV_TIME_NEVER, 1},
    };
    const struct fs3_lc_rule *got;
    ck_assert_int_eq(fs3_lifecycle_set(S, rules, 3), 0);
    ck_assert_uint_eq(fs3_lifecycle_get(S, &got), 3);
    ck_assert_str_eq(got[1].prefix, "t/");
    struct s3_req a = {.key = "a/x"}, b = {.key = "b/y"};
    run(&a, S3_OP_MPU_CREATE);
    run(&b, S3_OP_MPU_CREATE);
    put("t/o", "expires");
    put("u/o", "stays");
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    step_to(1500 * ENV_USEC_PER_MS);
    ck_assert_uint_eq(fs3_nuploads(S), 1); /* b/y: one day */
    ck_assert(fs3_key_exists(S, "t/o", NULL));
    step_to(2500 * ENV_USEC_PER_MS);
    ck_assert(!fs3_key_exists(S, "t/o", NULL)); /* two days */
    ck_assert(fs3_key_exists(S, "u/o", NULL));  /* the disabled rule never acts */
    step_to(9 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    step_to(10500 * ENV_USEC_PER_MS);
    ck_assert_uint_eq(fs3_nuploads(S), 0); /* a/x: the knob's 10 s */
    /* Rules deleted: the knob's rule stays, expirations stop. */
    ck_assert_int_eq(fs3_lifecycle_set(S, NULL, 0), 0);
    ck_assert_uint_eq(fs3_lifecycle_get(S, &got), 0);
    put("t/p", "stays now");
    step_to(20 * ENV_USEC_PER_SEC);
    ck_assert(fs3_key_exists(S, "t/p", NULL));
}
END_TEST

static Suite *store_ver_suite(void)
{
    Suite *s = suite_create("store_ver");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_ver_off_is_plain);
    tcase_add_test(tc, store_ver_versions_markers_and_delete_by_id);
    tcase_add_test(tc, store_ver_suspended_replaces_null);
    tcase_add_test(tc, store_ver_lock_refuses_deletes);
    tcase_add_test(tc, store_ver_delete_many_by_version);
    tcase_add_test(tc, store_life_rules_and_knob_in_one_pass);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_ver_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
