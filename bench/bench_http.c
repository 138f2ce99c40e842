/* bench_http.c - small GET and PUT (4 KiB) per second on loopback with 16
 * keep-alive connections, side by side in one run against s3sim serve (the
 * fake S3's HTTP front, forked), moto_server and s3rver@3.7.1 (node
 * --openssl-legacy-provider).  GET: wrk on a presigned URL.  PUT: a libcurl
 * multi load generator, every request SigV4-signed.  Prints every figure and
 * the ratios of s3sim to each peer.  A peer that is not installed is skipped.
 *
 * Environment: S3SIM_BENCH_SECS (default 5) per measurement;
 * S3RVER_JS (default build/peers/node_modules/s3rver/bin/s3rver.js).
 * The peers: apt-get install wrk; npm install --prefix build/peers s3rver@3.7.1;
 * moto_server comes with pip's moto[server] (the base image has it). */
#include "http.h"
#include "sigv4.h"
#include "bench_ref.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_CONNS 16
#define BENCH_OBJ 4096

struct peer {
    const char *name;
    pid_t pid;
    int port;
    const char *ak, *sk;
    bool up;
    double get_rps, put_rps;       /* requests per wall second */
    double get_cpu, put_cpu;       /* requests per second of the server's CPU (user + system) */
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_open(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool wait_port(struct peer *p, double secs)
{
    for (double end = bench_now() + secs; bench_now() < end; usleep(50000)) {
        if (port_open(p->port))
            return true;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
            return false;
    }
    return false;
}

/* --- the peers --------------------------------------------------------------------- */

static void start_s3sim(struct peer *p)
{
    int fds[2];
    if (pipe(fds))
        return;
    p->pid = fork();
    if (p->pid == 0) {
        struct fs3_http_config cfg = {.access_key = p->ak, .secret_key = p->sk, .threads = 2};
        struct fs3_http *h = NULL;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int port = fs3_http_start(&cfg, &h) ? 0 : fs3_http_port(h);
        if (write(fds[1], &port, sizeof port) != sizeof port)
            _exit(1);
        int sig;
        sigwait(&set, &sig);
        fs3_http_stop(h);
        _exit(0);
    }
    if (p->pid > 0 && read(fds[0], &p->port, sizeof p->port) == sizeof p->port && p->port)
        p->up = true;
    close(fds[0]);
    close(fds[1]);
}

static void spawn(struct peer *p, char *const argv[])
{
    p->port = atoi(argv[0]); /* argv[0] carries the port; the program is argv[1] */
    p->pid = fork();
    if (p->pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    p->up = p->pid > 0 && wait_port(p, 30);
    if (!p->up)
        printf("bench_http: %s did not start, skipped\n", p->name);
}

static bool on_path(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static void start_moto(struct peer *p)
{
    char port[16];
    if (!on_path("moto_server")) {
        printf("bench_http: moto_server not found, skipped\n");
        return;
    }
    snprintf(port, sizeof port, "%d", free_port());
    char *const argv[] = {port, "moto_server", "-H", "127.0.0.1", "-p", port, NULL};
    spawn(p, argv);
}

static void start_s3rver(struct peer *p, char *dir)
{
    const char *js = getenv("S3RVER_JS");
    char port[16], jsbuf[512];
    if (!js) {
        snprintf(jsbuf, sizeof jsbuf, "build/peers/node_modules/s3rver/bin/s3rver.js");
        js = jsbuf;
    }
    if (!on_path("node") || access(js, R_OK) != 0) {
        printf("bench_http: s3rver not found (npm install s3rver@3.7.1 into build/peers, or set "
               "S3RVER_JS), skipped\n");
        return;
    }
    snprintf(port, sizeof port, "%d", free_port());
    char *const argv[] = {port,       "node",      "--openssl-legacy-provider",
                          (char *)js, "-d",        dir,
                          "-a",       "127.0.0.1", "-p",
                          port,       "--silent",  NULL};
    spawn(p, argv);
}

/* --- one signed request ----------------------------------------------------------- */

/* Sets up e for a signed PUT (body non-NULL) or GET of /bucket[/key]. */
static struct curl_slist *sign_setup(CURL *e, const struct peer *p, const char *method,
                                     const char *path, const void *body, size_t len)
{
    char host[64], date[SIGV4_DATE], hash[SIGV4_HEX], auth[1024], line[1200], url[512];
    struct curl_slist *hl = NULL;
    snprintf(host, sizeof host, "127.0.0.1:%d", p->port);
    sigv4_amz_date((int64_t)time(NULL), date);
    sigv4_sha256_hex(body ? body : "", len, hash);
    const struct sigv4_header h[] = {
        {"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", hash}};
    struct sigv4_req r = {method, path, NULL, h, 3, hash, date};
    struct sigv4_key k = {p->ak, p->sk, "us-east-1", "s3"};
    sigv4_authorization(&r, &k, auth, sizeof auth, NULL);
    snprintf(line, sizeof line, "Authorization: %s", auth);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "x-amz-date: %s", date);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash);
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "Expect:");
    hl = curl_slist_append(hl, "Content-Type: application/octet-stream");
    snprintf(url, sizeof url, "http://%s%s", host, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    return hl;
}

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return sz * n;
}

static long request(const struct peer *p, const char *method, const char *path, const void *body,
                    size_t len)
{
    CURL *e = curl_easy_init();
    long status = 0;
    struct curl_slist *hl = sign_setup(e, p, method, path, body, len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(e);
    return status;
}

/* --- GET: wrk on a presigned URL --------------------------------------------------- */

static double run_wrk(const struct peer *p, int secs)
{
    char date[SIGV4_DATE], host[64], *q = NULL, cmd[2048], line[256];
    double rps = -1;
    snprintf(host, sizeof host, "127.0.0.1:%d", p->port);
    sigv4_amz_date((int64_t)time(NULL), date);
    const struct sigv4_header h[] = {{"host", host}};
    struct sigv4_req r = {"GET", "/bench/obj", NULL, h, 1, NULL, date};
    struct sigv4_key k = {p->ak, p->sk, "us-east-1", "s3"};
    if (sigv4_presign(&r, &k, 3600, &q))
        return -1;
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds 'http://%s/bench/obj?%s' 2>&1", BENCH_CONNS, secs,
             host, q);
    free(q);
    FILE *f = popen(cmd, "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Requests/sec:", 13) == 0)
            rps = atof(line + 13);
        if (strstr(line, "Non-2xx"))
            fprintf(stderr, "bench_http: %s: wrk saw %s", p->name, line);
    }
    if (f)
        pclose(f);
    return rps;
}

/* --- PUT: 16 keep-alive connections, each PUT after PUT --------------------------- */

struct slot {
    CURL *e;
    struct curl_slist *hl;
    char path[64];
    int n;
};

/* Each connection PUTs the same key again and again: its request is signed
 * once (x-amz-date stays valid for minutes), so the generator spends its time
 * on HTTP, not on hashing. */
static void slot_arm(CURLM *m, struct slot *s, int i, const struct peer *p, const uint8_t *body)
{
    if (!s->hl) {
        snprintf(s->path, sizeof s->path, "/bench/put-%d", i);
        s->hl = sign_setup(s->e, p, "PUT", s->path, body, BENCH_OBJ);
    }
    s->n++;
    curl_multi_add_handle(m, s->e);
}

/* One generator thread: its own multi handle and its share of the connections. */
struct gen {
    const struct peer *p;
    int secs, first, n;
    long done, errors;
    double elapsed;
};

static void *gen_run(void *arg)
{
    uint8_t body[BENCH_OBJ];
    struct gen *g = arg;
    struct slot s[BENCH_CONNS] = {0};
    CURLM *m = curl_multi_init();
    int running = 0;
    memset(body, 'b', sizeof body);
    for (int i = 0; i < g->n; i++) {
        s[i].e = curl_easy_init();
        curl_easy_setopt(s[i].e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(s[i].e, CURLOPT_PRIVATE, &s[i]);
        slot_arm(m, &s[i], g->first + i, g->p, body);
    }
    double t0 = bench_now(), end = t0 + g->secs;
    while (bench_now() < end) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            struct slot *sl;
            long status = 0;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result == CURLE_OK && status == 200)
                g->done++;
            else
                g->errors++;
            curl_multi_remove_handle(m, sl->e);
            slot_arm(m, sl, g->first + (int)(sl - s), g->p, body);
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    g->elapsed = bench_now() - t0;
    for (int i = 0; i < g->n; i++) {
        curl_multi_remove_handle(m, s[i].e);
        curl_easy_cleanup(s[i].e);
        curl_slist_free_all(s[i].hl);
    }
    curl_multi_cleanup(m);
    return NULL;
}

/* PUTs on BENCH_CONNS connections from two threads (as wrk's -t2 for GET). */
static double run_puts(const struct peer *p, int secs, long *errors)
{
    struct gen g[2];
    pthread_t t[2];
    double rps = 0;
    for (int i = 0; i < 2; i++) {
        g[i] = (struct gen){p, secs, i * BENCH_CONNS / 2, BENCH_CONNS / 2, 0, 0, 0};
        pthread_create(&t[i], NULL, gen_run, &g[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        rps += g[i].elapsed > 0 ? (double)g[i].done / g[i].elapsed : 0;
        *errors += g[i].errors;
    }
    return rps;
}

/* --- main ---------------------------------------------------------------------------- */

/* The server's CPU seconds so far (all its threads), from /proc/PID/stat; -1 if unreadable. */
static double server_cpu(const struct peer *p)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *q = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut, st;
    if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Requests per server CPU second over a measurement of rps requests a second for secs. */
static double per_cpu(double rps, int secs, double cpu0, double cpu1)
{
    if (rps <= 0 || cpu0 < 0 || cpu1 <= cpu0)
        return -1;
    return rps * secs / (cpu1 - cpu0);
}

static void measure(struct peer *p, int secs, bool have_wrk)
{
    static uint8_t obj[BENCH_OBJ];
    long st, errors = 0;
    memset(obj, 'o', sizeof obj);
    st = request(p, "PUT", "/bench", NULL, 0);
    if (st != 200 && st != 409) {
        printf("bench_http: %s: create bucket answered %ld, skipped\n", p->name, st);
        p->up = false;
        return;
    }
    st = request(p, "PUT", "/bench/obj", obj, sizeof obj);
    if (st != 200) {
        printf("bench_http: %s: put answered %ld, skipped\n", p->name, st);
        p->up = false;
        return;
    }
    double c0 = server_cpu(p);
    p->get_rps = have_wrk ? run_wrk(p, secs) : -1;
    double c1 = server_cpu(p);
    p->put_rps = run_puts(p, secs, &errors);
    double c2 = server_cpu(p);
    p->get_cpu = per_cpu(p->get_rps, secs, c0, c1);
    p->put_cpu = per_cpu(p->put_rps, secs, c1, c2);
    printf("bench_http: %-6s GET %9.0f/s   PUT %9.0f/s   (4 KiB, %d connections, %ld PUT "
           "errors)\n",
           p->name, p->get_rps, p->put_rps, BENCH_CONNS, errors);
    printf("bench_http: %-6s GET %9.0f    PUT %9.0f    per server CPU second\n", p->name,
           p->get_cpu, p->put_cpu);
    fflush(stdout);
}

static void stop(struct peer *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
    }
}

static void ratios(const struct peer *ps, size_t n)
{
    const struct peer *me = &ps[0];
    double best_get = 0, best_put = 0;
    for (size_t i = 1; i < n; i++) {
        if (!ps[i].up)
            continue;
        if (ps[i].get_rps > 0 && me->get_rps > 0)
            printf("bench_http: s3sim/%s GET ratio %.1fx\n", ps[i].name,
                   me->get_rps / ps[i].get_rps);
        if (ps[i].put_rps > 0)
            printf("bench_http: s3sim/%s PUT ratio %.1fx\n", ps[i].name,
                   me->put_rps / ps[i].put_rps);
        best_get = ps[i].get_rps > best_get ? ps[i].get_rps : best_get;
        best_put = ps[i].put_rps > best_put ? ps[i].put_rps : best_put;
    }
    if (best_get > 0 && me->get_rps > 0)
        printf("bench_http: s3sim vs the fastest peer: GET %.1fx (goal >= 20x)\n",
               me->get_rps / best_get);
    if (best_put > 0)
        printf("bench_http: s3sim vs the fastest peer: PUT %.1fx\n", me->put_rps / best_put);
    /* The same per server CPU second: on a shared machine the fairer figure. */
    double cg = 0, cp = 0;
    for (size_t i = 1; i < n; i++) {
        if (!ps[i].up)
            continue;
        cg = ps[i].get_cpu > cg ? ps[i].get_cpu : cg;
        cp = ps[i].put_cpu > cp ? ps[i].put_cpu : cp;
    }
    if (cg > 0 && me->get_cpu > 0)
        printf("bench_http: s3sim vs the fastest peer, per server CPU second: GET %.1fx (goal >= "
               "20x)\n",
               me->get_cpu / cg);
    if (cp > 0 && me->put_cpu > 0)
        printf("bench_http: s3sim vs the fastest peer, per server CPU second: PUT %.1fx\n",
               me->put_cpu / cp);
}

int main(void)
{
    int secs = getenv("S3SIM_BENCH_SECS") ? atoi(getenv("S3SIM_BENCH_SECS")) : 5;
    char dir[] = "/tmp/s3rver-bench-XXXXXX";
    struct peer ps[3] = {{.name = "s3sim", .ak = "bench", .sk = "bench-secret"},
                         {.name = "moto", .ak = "testing", .sk = "testing"},
                         {.name = "s3rver", .ak = "S3RVER", .sk = "S3RVER"}};
    bool have_wrk = on_path("wrk");
    signal(SIGPIPE, SIG_IGN);
    bench_ref_print("bench_http");
    curl_global_init(CURL_GLOBAL_ALL);
    if (!have_wrk)
        printf("bench_http: wrk not found (Debian package wrk): GET figures skipped\n");
    if (secs < 1)
        secs = 1;
    start_s3sim(&ps[0]);
    start_moto(&ps[1]);
    if (mkdtemp(dir))
        start_s3rver(&ps[2], dir);
    for (size_t i = 0; i < 3; i++)
        if (ps[i].up)
            measure(&ps[i], secs, have_wrk);
    if (ps[0].up)
        ratios(ps, 3);
    for (size_t i = 0; i < 3; i++)
        stop(&ps[i]);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    if (system(rm) != 0)
        printf("bench_http: could not remove %s\n", dir);
    curl_global_cleanup();
    return 0;
}
