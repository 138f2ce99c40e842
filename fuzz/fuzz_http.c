/* fuzz_http.c - the whole HTTP front in process: the input's bytes (after
 * the first) are sent as they are on a fresh loopback connection, the answer
 * is read to the end.  The first byte picks the server: without
 * authentication (every operation reachable) or with SigV4 keys (the
 * verifier on every request).  Both serve a bucket "bkt"; the first holds
 * "obj".  Every 64 inputs a PutObject must still succeed. */
#include "err.h"
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct fs3_http *srv[2];

static int exchange(struct fs3_http *h, const uint8_t *req, size_t len, char *ans, size_t cap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fs3_http_port(h))};
    struct timeval tv = {3, 0};
    ssize_t n = 0;
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    for (size_t off = 0; off < len; off += (size_t)n)
        if ((n = send(fd, req + off, len - off, MSG_NOSIGNAL)) <= 0)
            break;
    shutdown(fd, SHUT_WR);
    while (got + 1 < cap && (n = recv(fd, ans + got, cap - 1 - got, 0)) > 0)
        got += (size_t)n;
    /* drain the rest of a large answer */
    while (n > 0 && (n = recv(fd, ans, cap - 1, 0)) > 0)
        ;
    ans[got] = '\0';
    close(fd);
    return (int)got;
}

static void stop_all(void)
{
    for (int i = 0; i < 2; i++)
        fs3_http_stop(srv[i]);
}

static void start_all(void)
{
    for (int i = 0; i < 2; i++) {
        struct fs3_http_config cfg = {0};
        char ans[512];
        static const char put[] = "PUT /bkt/obj HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        cfg.threads = 2;
        cfg.max_body = 1 << 20;
        cfg.idle_timeout_secs = 2;
        if (i == 1) {
            cfg.access_key = "AKFUZZ";
            cfg.secret_key = "fuzz-secret";
        }
        if (fs3_http_start(&cfg, &srv[i]) != 0 || fs3_http_create_bucket(srv[i], "bkt") != 0)
            abort();
        if (i == 0)
            exchange(srv[0], (const uint8_t *)put, sizeof put - 1, ans, sizeof ans);
    }
    atexit(stop_all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ans[1 << 16];
    if (!srv[0])
        start_all();
    if (size < 1)
        return 0;
    int got = exchange(srv[data[0] & 1], data + 1, size - 1, ans, sizeof ans);
    /* An answer, when there is one, is HTTP with a status of ours. */
    if (got > 12 && strncmp(ans, "HTTP/1.", 7) == 0) {
        int st = atoi(ans + 9);
        if (st < 100 || st > 599)
            abort();
    }
    /* Every 64 inputs (and the first): the server still serves. */
    static unsigned long runs;
    if (runs++ % 64 == 0) {
        static const char put[] =
            "PUT /bkt/alive HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok";
        char ok[1024];
        fs3_http_create_bucket(srv[0], "bkt"); /* an input may have deleted it */
        if (exchange(srv[0], (const uint8_t *)put, sizeof put - 1, ok, sizeof ok) < 12 ||
            strncmp(ok, "HTTP/1.1 200", 12) != 0) {
            fprintf(stderr, "the server no longer serves PutObject: %.200s\n", ok);
            abort();
        }
    }
    return 0;
}
