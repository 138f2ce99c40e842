/* eng_peer.c - the engine (src/eng.h) on the real runtime: env_real's clock
 * and loop, s3_curl as its S3, against another S3 implementation (moto_server
 * in tests/interop/moto.sh).  A fault-free run: two streams get records in
 * three waves, the WAL uploads commit them, a forced SSO compaction runs;
 * the engine must then be idle with no wait left, and every acknowledged
 * record must read back with its bytes through the engine's read path.
 *
 * Usage: eng_peer ENDPOINT BUCKET   (credentials: AWS_ACCESS_KEY_ID...)
 * Exit 0 when it converged with no data loss, 1 otherwise. */
#include "conf.h"
#include "eng.h"
#include "env_real.h"
#include "err.h"
#include "s3_curl.h"
#include "sigv4.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEER_STREAMS 2
#define PEER_RECORDS 3000
#define PEER_RECORD 1024
#define PEER_WAVES 3

struct run {
    struct env_real *er;
    struct eng *eng;
    int64_t acked;
    int64_t want;
    int64_t read_ok, read_bad;
    bool read_done;
    int read_rc;
};

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* The payload of (stream, offset): a pure function, so it can be checked. */
static void payload(void *arg, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    (void)arg;
    uint64_t x = (uint64_t)stream * 0x9e3779b97f4a7c15u ^ (uint64_t)offset * 0xbf58476d1ce4e5b9u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

static void on_ack(void *arg, int64_t stream, int64_t base, int64_t count, uint32_t size)
{
    (void)stream;
    (void)base;
    (void)size;
    ((struct run *)arg)->acked += count;
}

static void on_log(void *arg, enum env_level level, const char *component, const char *line)
{
    (void)arg;
    if (level <= ENV_LOG_WARN)
        fprintf(stderr, "%s %s: %s\n", env_level_name(level), component, line);
}

static bool all_acked(void *arg)
{
    struct run *r = arg;
    return r->acked >= r->want;
}

static bool quiescent(void *arg)
{
    struct run *r = arg;
    return eng_idle(r->eng) && env_real_nwaits(r->er) == 0;
}

static bool read_finished(void *arg)
{
    return ((struct run *)arg)->read_done;
}

static void on_rec(void *arg, int64_t offset, const uint8_t *p, size_t len)
{
    struct run *r = arg;
    uint8_t want[PEER_RECORD];
    payload(NULL, r->read_rc, offset, want, len < sizeof want ? len : sizeof want);
    if (len == PEER_RECORD && memcmp(want, p, len) == 0)
        r->read_ok++;
    else
        r->read_bad++;
}

static void on_read_done(void *arg, int rc)
{
    struct run *r = arg;
    r->read_done = true;
    if (rc)
        r->read_bad++;
}

/* CreateBucket is no s3_ops call: one signed PUT with libcurl's easy API. */
static void create_bucket(const char *endpoint, const char *bucket, const char *ak, const char *sk)
{
    char date[SIGV4_DATE], auth[1024], url[512], path[256], line[1200];
    const char *host = strstr(endpoint, "://") + 3;
    snprintf(path, sizeof path, "/%s", bucket);
    snprintf(url, sizeof url, "%s%s", endpoint, path);
    sigv4_amz_date((int64_t)time(NULL), date);
    const struct sigv4_header h[] = {
        {"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}};
    struct sigv4_req rq = {"PUT", path, NULL, h, 3, SIGV4_EMPTY_SHA256, date};
    struct sigv4_key k = {ak, sk, "us-east-1", "s3"};
    CHECK(sigv4_authorization(&rq, &k, auth, sizeof auth, NULL) == 0, "sign");
    struct curl_slist *hl = NULL;
    snprintf(line, sizeof line, "Authorization: %s", auth);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "x-amz-date: %s", date);
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "x-amz-content-sha256: " SIGV4_EMPTY_SHA256);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    CHECK(cc == CURLE_OK && (status == 200 || status == 409), "create bucket: %d %ld", cc, status);
}

static void setup_conf(struct conf *c)
{
    /* Real time: a WAL upload every 500 ms. */
    static const char *const kv[] = {"s3.wal.upload.interval.ms=500", "s3.op.timeout=20s"};
    char err[256];
    conf_init(c);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK(conf_set_kv(c, kv[i], err, sizeof err) == 0, "%s: %s", kv[i], err);
}

int main(int argc, char **argv)
{
    struct run r = {0};
    struct env_real_config ec = {.seed = 1, .time_scale = 1.0, .log = on_log};
    struct s3_curl_config cc = {0};
    struct s3_curl *cli = NULL;
    struct conf conf;
    if (argc != 3) {
        fprintf(stderr, "usage: eng_peer ENDPOINT BUCKET\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    cc.endpoint = argv[1];
    cc.bucket = argv[2];
    cc.timeout_ms = 20000;
    CHECK(s3_curl_config_from_env(&cc) == 0, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY unset");
    create_bucket(cc.endpoint, cc.bucket, cc.access_key, cc.secret_key);
    setup_conf(&conf);
    CHECK(env_real_new(&ec, &r.er) == 0, "env_real");
    CHECK(s3_curl_new(r.er, &cc, &cli) == 0, "s3_curl_new");
    struct eng_hooks hooks = {payload, on_ack, &r, NULL};
    r.eng = eng_new(env_real_env(r.er), s3_curl_ops(cli), &conf, &hooks, PEER_STREAMS);
    CHECK(r.eng, "eng_new");
    /* Three waves, so that three WAL uploads leave three SSOs to compact. */
    for (int wave = 1; wave <= PEER_WAVES; wave++) {
        for (int s = 1; s <= PEER_STREAMS; s++)
            CHECK(eng_append(r.eng, s, PEER_RECORDS / PEER_WAVES, PEER_RECORD, 0) == 0, "append");
        r.want = (int64_t)wave * PEER_STREAMS * (PEER_RECORDS / PEER_WAVES);
        CHECK(env_real_run_until(r.er, all_acked, &r, 60 * ENV_USEC_PER_SEC),
              "only %lld of %lld records acknowledged", (long long)r.acked, (long long)r.want);
    }
    CHECK(eng_compact_sso(r.eng, true) == 0, "compact");
    env_real_run_once(r.er, 100 * ENV_USEC_PER_MS);
    CHECK(env_real_run_until(r.er, quiescent, &r, 60 * ENV_USEC_PER_SEC),
          "no quiescence: %zu waits", env_real_nwaits(r.er));
    for (int s = 1; s <= PEER_STREAMS; s++) {
        r.read_done = false;
        r.read_rc = s; /* the stream being read, for on_rec */
        CHECK(eng_read(r.eng, s, 0, PEER_RECORDS, on_rec, on_read_done, &r) == 0, "read");
        CHECK(env_real_run_until(r.er, read_finished, &r, 60 * ENV_USEC_PER_SEC), "read hangs");
    }
    const struct eng_metrics *m = eng_metrics(r.eng);
    CHECK(r.read_ok == PEER_STREAMS * PEER_RECORDS && r.read_bad == 0,
          "read back %lld good, %lld bad records of %d", (long long)r.read_ok,
          (long long)r.read_bad, PEER_STREAMS * PEER_RECORDS);
    printf("PASS: engine over s3_curl against %s: %lld records acked, %llu WAL uploads, SSO "
           "compaction %llu runs %llu commits %llu failures, %llu objects deleted, all read back\n",
           argv[1], (long long)r.acked, (unsigned long long)m->wal_uploads,
           (unsigned long long)m->sso_runs, (unsigned long long)m->sso_commits,
           (unsigned long long)m->sso_failures, (unsigned long long)m->cleaner_deleted);
    eng_free(r.eng);
    s3_curl_free(cli);
    env_real_free(r.er);
    curl_global_cleanup();
    return 0;
}
