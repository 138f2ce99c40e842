/* fuzz_sig.c - the SigV4 verifier's parsers and the aws-chunked decoder: the
 * first byte picks the Authorization header parser, the presigned query
 * parser, the date parser, or the dechunker (unsigned or signed chunks). */
#include "err.h"
#include "http_sig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fs3_sig_auth a;
    char *s;
    if (size < 1)
        return 0;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 5) {
    case 0: fs3_sig_parse_auth(s, &a); break;
    case 1: fs3_sig_parse_presigned(s, &a); break;
    case 2: {
        int64_t t;
        fs3_sig_parse_date(s, &t);
        break;
    }
    default: {
        static const uint8_t key[32] = {1, 2, 3};
        struct fs3_chunk_ctx cc = {data[0] % 5 == 4 ? key : NULL, "20240101T000000Z",
                                   "20240101/us-east-1/s3/aws4_request",
                                   "0000000000000000000000000000000000000000000000000000000000000000"};
        char trailers[256];
        size_t len = size - 1;
        if (fs3_sig_dechunk(&cc, (uint8_t *)s, &len, trailers, sizeof trailers) == 0) {
            if (len > size - 1 || strlen(trailers) >= sizeof trailers)
                abort();
        }
        break;
    }
    }
    free(s);
    return 0;
}
