/* test_knobs.c - no dead knobs: every knob of the table (src/conf.h) is read
 * by the code of src/, sim/ or fake_s3/ outside the table itself; and no dead
 * metrics: every metric of the table (sim/metric_names.h) is written by the
 * simulator (a metric nothing writes reads 0, so `expect metric NAME == 0`
 * could never fail).
 *
 * "Read" means the knob's id (CONF_...) appears in code, not in a comment or
 * a string, of a .c or .h file other than src/conf.c and src/conf.h: the only
 * thing code can do with the id is read the knob's value (conf_get, conf_bool,
 * conf_str, ...).  A knob that `s3sim knobs` lists and nothing reads would let
 * a scenario believe it tuned something. */
#include "conf.h"
#include "err.h"
#include "metric_names.h"

#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KN_ID_(id, name, type, def, bug, help) #id,
static const char *const kn_ids[CONF_COUNT] = {CONF_TABLE(KN_ID_)};
#undef KN_ID_

#define KN_METRIC_(id, name, help) #id,
static const char *const kn_metric_ids[] = {METRIC_TABLE(KN_METRIC_)};
#undef KN_METRIC_
#define KN_NMETRICS (int)(sizeof kn_metric_ids / sizeof *kn_metric_ids)

/* Knobs allowed to be unread, each with the work that will read it.  An entry
 * whose knob is read now fails the test, so that the list only shrinks. */
static const char *const kn_exempt[] = {
    NULL, /* none today: add "CONF_X" entries before the NULL */
};

/* ---- the scanner --------------------------------------------------------------- */

static bool kn_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Marks in seen[] every id of ids[0..n) that text uses as an identifier in
 * code: comments, string and character literals are skipped. */
static void kn_scan_ids(const char *text, const char *const *ids, int n, bool *seen)
{
    const char *p = text;
    while (*p) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q)
                p += p[0] == '\\' && p[1] ? 2 : 1;
            if (*p)
                p++;
        } else if (kn_ident_char(*p)) {
            const char *s = p;
            while (kn_ident_char(*p))
                p++;
            for (int i = 0; i < n; i++)
                if ((size_t)(p - s) == strlen(ids[i]) && !memcmp(s, ids[i], (size_t)(p - s)))
                    seen[i] = true;
        } else {
            p++;
        }
    }
}

static void kn_scan(const char *text, bool seen[CONF_COUNT])
{
    kn_scan_ids(text, kn_ids, CONF_COUNT, seen);
}

static char *kn_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

/* Scans every .c and .h under dir (recursively) but the tables themselves
 * (src/conf.[ch], sim/metric_names.[ch]) for knob ids (seen) and metric ids
 * (mseen); returns the number of files scanned. */
static int kn_scan_dir(const char *dir, bool seen[CONF_COUNT], bool *mseen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            files += kn_scan_dir(path, seen, mseen);
            continue;
        }
        if (n < 3 || e->d_name[n - 2] != '.' || (e->d_name[n - 1] != 'c' && e->d_name[n - 1] != 'h'))
            continue;
        if (strstr(path, "/src/conf.c") || strstr(path, "/src/conf.h") ||
            strstr(path, "/sim/metric_names."))
            continue;
        char *text = kn_read(path);
        ck_assert_msg(text != NULL, "cannot read %s", path);
        kn_scan(text, seen);
        kn_scan_ids(text, kn_metric_ids, KN_NMETRICS, mseen);
        free(text);
        files++;
    }
    closedir(d);
    return files;
}

static bool kn_is_exempt(const char *id)
{
    for (size_t i = 0; i < sizeof kn_exempt / sizeof *kn_exempt && kn_exempt[i]; i++)
        if (strcmp(kn_exempt[i], id) == 0)
            return true;
    return false;
}

/* ---- tests ---------------------------------------------------------------------- */

START_TEST(knobs_scanner_skips_comments_and_strings)
{
    bool seen[CONF_COUNT] = {0};
    kn_scan("/* CONF_BUCKET */ // CONF_REGION\n"
            "const char *s = \"CONF_OP_TIMEOUT\"; char c = '\\'';\n"
            "int x = MY_CONF_LATENCY + CONF_LATENCY_X;\n",
            seen);
    for (int i = 0; i < CONF_COUNT; i++)
        ck_assert_msg(!seen[i], "%s taken as read", kn_ids[i]);
    kn_scan("v = conf_get(c, CONF_LATENCY);", seen);
    ck_assert(seen[CONF_LATENCY]);
    ck_assert(!seen[CONF_BANDWIDTH]);
}
END_TEST

START_TEST(knobs_every_knob_is_read)
{
    const char *root = getenv("S3SIM_SOURCE_DIR");
    static const char *const dirs[] = {"src", "sim", "fake_s3"};
    bool seen[CONF_COUNT] = {0}, mseen[KN_NMETRICS];
    char dir[4096];
    int files = 0, dead = 0;
    ck_assert_msg(root != NULL, "S3SIM_SOURCE_DIR is not set (run through ctest)");
    memset(mseen, 0, sizeof mseen);
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[i]);
        files += kn_scan_dir(dir, seen, mseen);
    }
    ck_assert_int_gt(files, 50);
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        bool exempt = kn_is_exempt(kn_ids[i]);
        if (!seen[i] && !exempt) {
            fprintf(stderr, "dead knob: %s (%s) is in the table but no code reads it\n", k->name,
                    kn_ids[i]);
            dead++;
        }
        ck_assert_msg(!(seen[i] && exempt),
                      "%s (%s) is read now: remove it from kn_exempt in tests/test_knobs.c",
                      k->name, kn_ids[i]);
    }
    ck_assert_msg(dead == 0, "%d knob(s) that nothing reads (listed above)", dead);
}
END_TEST

START_TEST(knobs_every_metric_is_written)
{
    const char *root = getenv("S3SIM_SOURCE_DIR");
    bool seen[CONF_COUNT] = {0}, mseen[KN_NMETRICS];
    char dir[4096];
    int dead = 0;
    ck_assert_msg(root != NULL, "S3SIM_SOURCE_DIR is not set (run through ctest)");
    memset(mseen, 0, sizeof mseen);
    snprintf(dir, sizeof dir, "%s/sim", root);
    ck_assert_int_gt(kn_scan_dir(dir, seen, mseen), 20);
    for (int i = 0; i < KN_NMETRICS; i++)
        if (!mseen[i]) {
            fprintf(stderr, "dead metric: %s (%s) is in the table but nothing writes it\n",
                    metric_name(i), kn_metric_ids[i]);
            dead++;
        }
    ck_assert_msg(dead == 0, "%d metric(s) that nothing writes (listed above)", dead);
}
END_TEST

START_TEST(knobs_bucket_name_checked)
{
    struct conf c;
    char err[CONF_ERR_MAX] = "";
    conf_init(&c);
    ck_assert_int_eq(conf_set(&c, "s3.bucket", "my-bucket.1", err, sizeof err), 0);
    ck_assert_str_eq(conf_str(&c, CONF_BUCKET), "my-bucket.1");
    ck_assert_int_eq(conf_set(&c, "s3.bucket", "Bad_Bucket", err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "bucket name"));
    ck_assert_int_eq(conf_set(&c, "s3.bucket", "ab", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.bucket", "-abc", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.bucket", "abc.", err, sizeof err), ERR_INVAL);
    ck_assert_str_eq(conf_str(&c, CONF_BUCKET), "my-bucket.1"); /* unchanged on failure */
    ck_assert_int_eq(conf_set(&c, "s3.region", "eu-west-1", err, sizeof err), 0);
    ck_assert_str_eq(conf_str(&c, CONF_REGION), "eu-west-1");
}
END_TEST

static Suite *knobs_suite(void)
{
    Suite *s = suite_create("knobs");
    TCase *tc = tcase_create("knobs");
    tcase_add_test(tc, knobs_scanner_skips_comments_and_strings);
    tcase_add_test(tc, knobs_every_knob_is_read);
    tcase_add_test(tc, knobs_every_metric_is_written);
    tcase_add_test(tc, knobs_bucket_name_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(knobs_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
