/* test_progress.c - the progress line of long runs: shown on a terminal only,
 * after 2 s of wall time, with the virtual time reached and the rate. */
#include <check.h>
#include <fcntl.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

START_TEST(not_a_terminal_prints_nothing)
{
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    ck_assert_ptr_null(progress_start(4, true)); /* stderr is /dev/null */
    dup2(saved, 2);
    close(devnull);
    close(saved);
    ck_assert_ptr_null(progress_start(4, false)); /* --quiet, --trace */
    /* Every call accepts NULL. */
    ck_assert_ptr_null(progress_begin(NULL, 0, "x", 1));
    progress_end(NULL, 0);
    progress_hold(NULL);
    progress_release(NULL);
    progress_stop(NULL);
}
END_TEST

START_TEST(terminal_shows_long_runs)
{
    int master, slave, saved = dup(2);
    char buf[4096] = "";
    ssize_t n, got = 0;
    struct progress *p;
    _Atomic int64_t *vt;
    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    dup2(slave, 2);
    p = progress_start(2, true);
    ck_assert_ptr_nonnull(p);
    vt = progress_begin(p, 0, "steady base seed=7", 24LL * 3600 * 1000000);
    ck_assert_ptr_nonnull(vt);
    atomic_store(vt, 3600LL * 1000000); /* one virtual hour */
    nap(1.3);
    /* Not yet 2 s: nothing shown. */
    fcntl(master, F_SETFL, O_NONBLOCK);
    ck_assert_int_le(read(master, buf, sizeof buf - 1), 0);
    nap(1.9);
    progress_hold(p); /* a result line would be printed here: the line is erased */
    progress_release(p);
    progress_end(p, 0);
    progress_stop(p);
    dup2(saved, 2);
    close(saved);
    while ((n = read(master, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += n;
    buf[got] = '\0';
    close(master);
    close(slave);
    ck_assert_msg(strstr(buf, "steady base seed=7: virtual 1h00m00s of 24h00m00s (") != NULL,
                  "line: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "x real time, about "));
    ck_assert_ptr_nonnull(strstr(buf, "0 of 2 done"));
    ck_assert_ptr_nonnull(strstr(buf, "\r\033[K")); /* updated in place */
    ck_assert_ptr_null(strchr(buf, '\n'));          /* one line, never scrolled */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("progress");
    SRunner *sr;
    int nf;
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, not_a_terminal_prints_nothing);
    tcase_add_test(tc, terminal_shows_long_runs);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
