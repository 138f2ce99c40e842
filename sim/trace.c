/* trace.c - see trace.h. */
#include "trace.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <string.h>

#include "err.h"

int sim_trace_init(struct sim_trace *t, FILE *echo)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    memset(t, 0, sizeof *t);
    if (!ctx)
        return ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return ERR_INTERNAL;
    }
    t->ctx = ctx;
    t->echo = echo;
    return 0;
}

void sim_trace_free(struct sim_trace *t)
{
    EVP_MD_CTX_free(t->ctx);
    t->ctx = NULL;
}

void sim_trace_line(struct sim_trace *t, int64_t time_us, const char *actor, const char *what)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%" PRId64 " %s %s\n", time_us, actor, what);
    if (n < 0 || !t->ctx)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    EVP_DigestUpdate(t->ctx, line, (size_t)n);
    t->lines++;
    if (t->echo)
        fwrite(line, 1, (size_t)n, t->echo);
}

const char *sim_trace_finish(struct sim_trace *t)
{
    unsigned char md[32];
    unsigned int len = 0;
    if (t->hex[0] || !t->ctx)
        return t->hex;
    EVP_DigestFinal_ex(t->ctx, md, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(t->hex + 2 * i, 3, "%02x", md[i]);
    return t->hex;
}
