/* test_campaign.c - `s3sim campaign`: failure signatures (numbers masked, the
 * hang's wait shape), their file names, and a short campaign end to end. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "campaign.h"
#include "cmd.h"
#include "err.h"
#include "result.h"

static void add_check(struct run_result *r, const char *name, const char *args, bool ok,
                      const char *detail)
{
    r->checks = realloc(r->checks, (r->nchecks + 1) * sizeof *r->checks);
    r->checks[r->nchecks++] = (struct run_check){strdup(name), strdup(args), false, !ok ? false : true,
                                                 ok, detail ? strdup(detail) : NULL, 3};
}

static void add_wait(struct run_result *r, const char *who, const char *what)
{
    r->waits = realloc(r->waits, (r->nwaits + 1) * sizeof *r->waits);
    r->waits[r->nwaits++] = (struct run_wait){strdup(who), strdup(what), 1, 2};
}

static char *sig_of(struct run_result *r)
{
    static char buf[1024];
    return campaign_signature(r, buf, sizeof buf);
}

START_TEST(signature_masks_numbers)
{
    struct run_result a = {0}, b = {0}, c = {0}, p = {0};
    char sa[1024];
    a.verdict = b.verdict = c.verdict = RUN_FAIL;
    add_check(&a, "no-data-loss", "", true, "all acked records read back");
    add_check(&a, "converged", "within=15m", false,
              "never quiescent after 49m00s: 0 objects prepared, 40 marked");
    add_check(&b, "no-data-loss", "", true, "x");
    add_check(&b, "converged", "within=15m", false,
              "never quiescent after 1h02m: 17 objects prepared, 3 marked");
    add_check(&c, "converged", "within=15m", false, "quiescent only at 20m, after within=15m");
    {
        struct run_result m = {0};
        m.verdict = RUN_FAIL;
        add_check(&m, "metric", "s3.faults == 0", false, "s3.faults = 12 (want == 0), 0x1f, 1.5MiB");
        ck_assert_str_eq(sig_of(&m), "check=metric s3.faults == 0: s3.faults = N (want == N), N, N");
        run_result_free(&m);
    }
    snprintf(sa, sizeof sa, "%s", sig_of(&a));
    ck_assert_str_eq(sa, "check=converged within=15m: never quiescent after N: N objects "
                         "prepared, N marked");
    ck_assert_str_eq(sa, sig_of(&b));           /* counts and times differ: same bug */
    ck_assert_str_ne(sa, sig_of(&c));           /* another detail shape: another signature */
    add_check(&p, "converged", "", true, "ok");
    ck_assert_str_eq(sig_of(&p), "");           /* a passing run has none */
    p.verdict = RUN_ERROR;
    ck_assert_str_eq(sig_of(&p), "error");
    run_result_free(&a);
    run_result_free(&b);
    run_result_free(&c);
    run_result_free(&p);
}
END_TEST

START_TEST(signature_hang_wait_shape)
{
    struct run_result a = {0}, b = {0}, c = {0};
    char sa[1024];
    a.verdict = b.verdict = c.verdict = RUN_FAIL;
    a.hang = b.hang = c.hang = true;
    add_wait(&a, "sso-compaction 7", "upload part 3 of object 12");
    add_wait(&a, "writer", "release of block 0x1f");
    add_wait(&a, "sso-compaction 8", "upload part 4 of object 13");
    /* The same waits in another order, other numbers, one of them twice. */
    add_wait(&b, "writer", "release of block 0x2a");
    add_wait(&b, "sso-compaction 1", "upload part 9 of object 99");
    add_wait(&c, "cleaner", "delete of object 5");
    snprintf(sa, sizeof sa, "%s", sig_of(&a));
    ck_assert_str_eq(sa, "hang: sso-compaction N: upload part N of object N | writer: release "
                         "of block N");
    ck_assert_str_eq(sa, sig_of(&b));
    ck_assert_str_eq(sig_of(&c), "hang: cleaner: delete of object N");
    run_result_free(&a);
    run_result_free(&b);
    run_result_free(&c);
}
END_TEST

START_TEST(slug_is_a_file_name)
{
    char s1[80], s2[80];
    campaign_slug("check=log error match=\"Delete composite\" count == 0: N lines", s1, sizeof s1);
    static const char want[] = "check-log-error-match-delete-composite-count-0-n-lines-";
    ck_assert_int_eq(strncmp(s1, want, strlen(want)), 0);
    ck_assert_uint_eq(strlen(s1), strlen(want) + 8);
    ck_assert_uint_eq(strspn(s1 + strlen(want), "0123456789abcdef"), 8);
    /* Signatures alike in their first 60 characters still get two names. */
    campaign_slug("check=converged within=15m: never quiescent after N: N objects prepared, "
                  "N marked", s1, sizeof s1);
    campaign_slug("check=converged within=15m: never quiescent after N: N objects prepared, "
                  "N in flight", s2, sizeof s2);
    ck_assert_uint_le(strlen(s1), 69);
    ck_assert_str_ne(s1, s2);
}
END_TEST

/* A scenario that fails on most seeds (any injected fault) and one that passes. */
static const char failing_scn[] =
    "scenario flaky\nseed 1\ndeadline 1m\nset s3.wal.upload.interval.ms 2000\nstreams 1\n"
    "fault put prob=50% status=500\n"
    "at 0s load rate=8KiB/s streams=all until=10s\n"
    "expect no-data-loss\n"
    "expect metric s3.faults == 0\n";
static const char passing_scn[] =
    "scenario calm\nseed 1\ndeadline 20s\nset s3.wal.upload.interval.ms 2000\nstreams 1\n"
    "at 0s load rate=8KiB/s streams=all until=10s\n"
    "expect no-data-loss\n";

static int campaign(const char *const *words)
{
    char *argv[32];
    int argc = 0;
    for (; words[argc]; argc++)
        argv[argc] = (char *)words[argc];
    argv[argc] = NULL;
    fflush(stdout);
    return cmd_campaign(argc, argv);
}

START_TEST(campaign_end_to_end)
{
    char dir[] = "/tmp/test_campaign.XXXXXX", scn[300], calm[300], out[300], out2[300];
    char cmd[700], found[600] = "";
    FILE *f;
    DIR *d;
    struct dirent *e;
    int nfound = 0;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(scn, sizeof scn, "%s/flaky.scn", dir);
    snprintf(calm, sizeof calm, "%s/calm.scn", dir);
    snprintf(out, sizeof out, "%s/bugs", dir);
    snprintf(out2, sizeof out2, "%s/none", dir);
    f = fopen(scn, "w");
    fputs(failing_scn, f);
    fclose(f);
    f = fopen(calm, "w");
    fputs(passing_scn, f);
    fclose(f);

    const char *w[] = {"campaign", scn, "--for", "4s", "--out", out, "--quiet", NULL};
    ck_assert_int_eq(campaign(w), 1);
    ck_assert_ptr_nonnull(d = opendir(out));
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".scn")) {
            nfound++;
            snprintf(found, sizeof found, "%s/%s", out, e->d_name);
        }
    closedir(d);
    ck_assert_int_eq(nfound, 1); /* one signature: the metric check */
    ck_assert_ptr_nonnull(strstr(found, "check-metric-s3-faults-0-"));
    {
        char text[8192] = "";
        f = fopen(found, "r");
        ck_assert_uint_gt(fread(text, 1, sizeof text - 1, f), 0);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(text, "original seed "));
        ck_assert_ptr_nonnull(strstr(text, "# original run: build/bin/s3sim replay "));
        ck_assert_ptr_nonnull(strstr(text, "\nexpect metric s3.faults == 0\n"));
    }
    /* The file fails as found. */
    snprintf(cmd, sizeof cmd, "build/bin/s3sim run '%s' --quiet >/dev/null 2>&1", found);
    if (access("build/bin/s3sim", X_OK) == 0)
        ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1);

    /* A lower bound no run reaches shrinks to a world that does nothing: the
     * campaign keeps the original run instead of a vacuous file. */
    {
        char vac[300], vout[300], text[8192] = "";
        snprintf(vac, sizeof vac, "%s/bound.scn", dir);
        snprintf(vout, sizeof vout, "%s/vac", dir);
        f = fopen(vac, "w");
        fputs("scenario bound\nseed 1\ndeadline 1m\nset s3.wal.upload.interval.ms 2000\n"
              "streams 1\nat 0s load rate=8KiB/s streams=all until=10s\n"
              "expect metric wal.uploads >= 100000\n", f);
        fclose(f);
        const char *wv[] = {"campaign", vac, "--for", "3s", "--out", vout, "--quiet", NULL};
        ck_assert_int_eq(campaign(wv), 1);
        snprintf(cmd, sizeof cmd, "cat %s/check-metric-wal-uploads-*.scn", vout);
        f = popen(cmd, "r");
        ck_assert_uint_gt(fread(text, 1, sizeof text - 1, f), 0);
        pclose(f);
        ck_assert_ptr_nonnull(strstr(text, "vacuous"));
        ck_assert_ptr_nonnull(strstr(text, "\nat 0s load rate=8KiB/s"));
    }

    const char *w2[] = {"campaign", calm, "--for", "2s", "--out", out2, "--quiet", NULL};
    ck_assert_int_eq(campaign(w2), 0);

    const char *bad1[] = {"campaign", calm, "--out", out2, NULL};
    ck_assert_int_eq(campaign(bad1), 2);
    const char *bad2[] = {"campaign", calm, "--for", "soon", "--out", out2, NULL};
    ck_assert_int_eq(campaign(bad2), 2);
    const char *bad3[] = {"campaign", "/nonexistent.scn", "--for", "1s", "--out", out2, NULL};
    ck_assert_int_eq(campaign(bad3), 2);
    const char *bad4[] = {"campaign", calm, "--for", "1s", NULL};
    ck_assert_int_eq(campaign(bad4), 2);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("campaign");
    TCase *tc = tcase_create("campaign");
    SRunner *sr;
    int nf;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, signature_masks_numbers);
    tcase_add_test(tc, signature_hang_wait_shape);
    tcase_add_test(tc, slug_is_a_file_name);
    tcase_add_test(tc, campaign_end_to_end);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
