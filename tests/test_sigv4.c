/* test_sigv4.c - SigV4 against the example values of AWS's S3 documentation
 * ("Signature Calculations for the Authorization Header", "Authenticating
 * Requests: Using Query Parameters", "Transferring Payload in Multiple
 * Chunks"), for the client's signer (src/sigv4.c) and the fake S3's verifier
 * (fake_s3/http_sig.c). */
#include "err.h"
#include "http_sig.h"
#include "sigv4.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- fixture: the documentation's credentials and date ------------------- */

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"
#define HOST "examplebucket.s3.amazonaws.com"

static const struct sigv4_key key = {AK, SK, "us-east-1", "s3"};

/* --- helpers --------------------------------------------------------------- */

static void check_sig(const char *method, const char *uri, const char *query,
                      const struct sigv4_header *h, size_t nh, const char *payload,
                      const char *want)
{
    struct sigv4_req r = {method, uri, query, h, nh, payload, DATE};
    char sig[SIGV4_HEX];
    ck_assert_int_eq(sigv4_signature(&r, &key, sig), 0);
    ck_assert_str_eq(sig, want);
}

/* --- tests ----------------------------------------------------------------- */

START_TEST(sigv4_get_object_example)
{
    const struct sigv4_header h[] = {{"Host", HOST},
                                     {"Range", "bytes=0-9"},
                                     {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
                                     {"x-amz-date", DATE}};
    struct sigv4_req r = {"GET", "/test.txt", NULL, h, 4, SIGV4_EMPTY_SHA256, DATE};
    char auth[512], sig[SIGV4_HEX];
    check_sig("GET", "/test.txt", NULL, h, 4, SIGV4_EMPTY_SHA256,
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    ck_assert_int_eq(sigv4_authorization(&r, &key, auth, sizeof auth, sig), 0);
    ck_assert_str_eq(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
                           "s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;"
                           "x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48"
                           "dd91039c6036bdb41");
    ck_assert_int_eq(sigv4_authorization(&r, &key, auth, 40, NULL), ERR_LIMIT);
}
END_TEST

START_TEST(sigv4_put_object_example)
{
    const char *body = "Welcome to Amazon S3.";
    char hash[SIGV4_HEX];
    sigv4_sha256_hex(body, strlen(body), hash);
    ck_assert_str_eq(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const struct sigv4_header h[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                     {"Host", HOST},
                                     {"x-amz-date", DATE},
                                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                                     {"x-amz-content-sha256", hash}};
    check_sig("PUT", "/test%24file.text", NULL, h, 5, hash,
              "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}
END_TEST

START_TEST(sigv4_lifecycle_and_list_examples)
{
    const struct sigv4_header h[] = {
        {"Host", HOST}, {"x-amz-date", DATE}, {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}};
    check_sig("GET", "/", "lifecycle", h, 3, SIGV4_EMPTY_SHA256,
              "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    /* The query arrives unsorted: the canonical form sorts it. */
    check_sig("GET", "/", "prefix=J&max-keys=2", h, 3, SIGV4_EMPTY_SHA256,
              "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}
END_TEST

START_TEST(sigv4_presigned_example)
{
    const struct sigv4_header h[] = {{"host", HOST}};
    struct sigv4_req r = {"GET", "/test.txt", NULL, h, 1, NULL, DATE};
    char *q = NULL;
    ck_assert_int_eq(sigv4_presign(&r, &key, 86400, &q), 0);
    ck_assert_str_eq(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
                        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                        "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    free(q);
}
END_TEST

static const struct sigv4_header chunk_headers[] = {
    {"content-encoding", "aws-chunked"},
    {"content-length", "66824"},
    {"host", "s3.amazonaws.com"},
    {"x-amz-content-sha256", SIGV4_STREAMING_PAYLOAD},
    {"x-amz-date", DATE},
    {"x-amz-decoded-content-length", "66560"},
    {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
};

static const char *const chunk_sigs[] = {
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
};

START_TEST(sigv4_chunked_example)
{
    char seed[SIGV4_HEX], sig[SIGV4_HEX], scope[SIGV4_SCOPE_MAX];
    uint8_t skey[32];
    uint8_t *data = malloc(65536);
    ck_assert_ptr_nonnull(data);
    memset(data, 'a', 65536);
    check_sig("PUT", "/examplebucket/chunkObject.txt", NULL, chunk_headers, 7,
              SIGV4_STREAMING_PAYLOAD,
              "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    struct sigv4_req r = {"PUT", "/examplebucket/chunkObject.txt", NULL, chunk_headers,
                          7,     SIGV4_STREAMING_PAYLOAD,          DATE};
    ck_assert_int_eq(sigv4_signature(&r, &key, seed), 0);
    ck_assert_int_eq(sigv4_scope(DATE, "us-east-1", "s3", scope, sizeof scope), 0);
    ck_assert_str_eq(scope, "20130524/us-east-1/s3/aws4_request");
    sigv4_signing_key(SK, DATE, "us-east-1", "s3", skey);
    sigv4_chunk_signature(skey, DATE, scope, seed, data, 65536, sig);
    ck_assert_str_eq(sig, chunk_sigs[0]);
    sigv4_chunk_signature(skey, DATE, scope, sig, data, 1024, sig);
    ck_assert_str_eq(sig, chunk_sigs[1]);
    sigv4_chunk_signature(skey, DATE, scope, sig, data, 0, sig);
    ck_assert_str_eq(sig, chunk_sigs[2]);
    free(data);
}
END_TEST

START_TEST(sigv4_encoding_rules)
{
    char out[64], *q = NULL;
    ck_assert_int_eq(sigv4_uri_encode("a b/c~$", 7, true, out, sizeof out), 11);
    ck_assert_str_eq(out, "a%20b/c~%24");
    ck_assert_int_eq(sigv4_uri_encode("a/b", 3, false, out, sizeof out), 5);
    ck_assert_str_eq(out, "a%2Fb");
    ck_assert_int_eq(sigv4_uri_encode("abcdef", 6, false, out, 4), ERR_LIMIT);
    ck_assert_int_eq(sigv4_uri_decode("a%2", 3, out, sizeof out), ERR_INVAL);
    ck_assert_int_eq(sigv4_uri_decode("a%zz", 4, out, sizeof out), ERR_INVAL);
    ck_assert_int_eq(sigv4_uri_decode("a%2Fb", 5, out, sizeof out), 3);
    ck_assert_str_eq(out, "a/b");
    ck_assert_int_eq(sigv4_canonical_query("b=2&a=%7e&uploads&a=1", NULL, &q), 0);
    ck_assert_str_eq(q, "a=1&a=~&b=2&uploads=");
    free(q);
    ck_assert_int_eq(sigv4_canonical_query("x=%G1", NULL, &q), ERR_INVAL);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(sigv4_canonical_query("a=1&X-Amz-Signature=ff", "X-Amz-Signature", &q), 0);
    ck_assert_str_eq(q, "a=1");
    free(q);
}
END_TEST

START_TEST(sigv4_headers_trimmed_and_joined)
{
    const struct sigv4_header h[] = {{"Host", "h"}, {"X-Multi", "  a   b "}, {"x-multi", "c"}};
    struct sigv4_req r = {"GET", "/", NULL, h, 3, "UNSIGNED-PAYLOAD", DATE};
    char *creq = NULL, sh[64];
    ck_assert_int_eq(sigv4_canonical_request(&r, &creq, sh, sizeof sh), 0);
    ck_assert_str_eq(creq, "GET\n/\n\nhost:h\nx-multi:a b,c\n\nhost;x-multi\nUNSIGNED-PAYLOAD");
    ck_assert_str_eq(sh, "host;x-multi");
    free(creq);
    ck_assert_int_eq(sigv4_canonical_request(&r, &creq, sh, 4), ERR_LIMIT);
}
END_TEST

/* The fake S3's verifier agrees with the documentation too. */
START_TEST(sigv4_server_verifier_agrees)
{
    const struct fs3_sig_header h[] = {{"Host", HOST},
                                       {"Range", "bytes=0-9"},
                                       {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
                                       {"x-amz-date", DATE}};
    char sig[SIGV4_HEX], seed[SIGV4_HEX];
    uint8_t skey[32];
    struct fs3_sig_input in = {"GET",
                               "/test.txt",
                               NULL,
                               h,
                               4,
                               "host;range;x-amz-content-sha256;x-amz-date",
                               SIGV4_EMPTY_SHA256,
                               DATE,
                               "us-east-1",
                               "s3"};
    ck_assert_int_eq(fs3_sig_compute(&in, SK, sig, skey), 0);
    ck_assert_str_eq(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* Only the signed headers count: an extra header changes nothing. */
    const struct fs3_sig_header h2[] = {{"Host", HOST},
                                        {"Range", "bytes=0-9"},
                                        {"User-Agent", "x"},
                                        {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
                                        {"x-amz-date", DATE}};
    in.headers = h2;
    in.nheaders = 5;
    ck_assert_int_eq(fs3_sig_compute(&in, SK, sig, skey), 0);
    ck_assert_str_eq(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* A signed header that is missing is an error. */
    in.signed_headers = "host;range;x-amz-content-sha256;x-amz-date;x-missing";
    ck_assert_int_eq(fs3_sig_compute(&in, SK, sig, skey), ERR_INVAL);

    const struct fs3_sig_header ph[] = {{"Host", HOST}};
    struct fs3_sig_input pin = {
        "GET",
        "/test.txt",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
        "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=abc",
        ph,
        1,
        "host",
        SIGV4_UNSIGNED_PAYLOAD,
        DATE,
        "us-east-1",
        "s3"};
    ck_assert_int_eq(fs3_sig_compute(&pin, SK, sig, skey), 0);
    ck_assert_str_eq(sig, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

    const struct fs3_sig_header *ch = (const struct fs3_sig_header *)chunk_headers;
    struct fs3_sig_input cin = {"PUT",
                                "/examplebucket/chunkObject.txt",
                                NULL,
                                ch,
                                7,
                                "content-encoding;content-length;host;x-amz-content-sha256;"
                                "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                                SIGV4_STREAMING_PAYLOAD,
                                DATE,
                                "us-east-1",
                                "s3"};
    ck_assert_int_eq(fs3_sig_compute(&cin, SK, seed, skey), 0);
    ck_assert_str_eq(seed, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    uint8_t *data = calloc(1, 1024);
    ck_assert_ptr_nonnull(data);
    memset(data, 'a', 1024);
    fs3_sig_chunk(skey, DATE, "20130524/us-east-1/s3/aws4_request", chunk_sigs[0], data, 1024, sig);
    ck_assert_str_eq(sig, chunk_sigs[1]);
    free(data);
}
END_TEST

/* --- suite ----------------------------------------------------------------- */

/* The signing key cache (sigv4.c) never answers a key derived for other
 * inputs: each changed field gives the key derived from scratch. */
static void key_by_hand(const char *secret, const char *date8, const char *region,
                        const char *service, uint8_t out[32])
{
    char k0[256];
    uint8_t k[32];
    snprintf(k0, sizeof k0, "AWS4%s", secret);
    sigv4_hmac(k0, strlen(k0), date8, 8, k);
    sigv4_hmac(k, 32, region, strlen(region), k);
    sigv4_hmac(k, 32, service, strlen(service), k);
    sigv4_hmac(k, 32, "aws4_request", 12, out);
}

START_TEST(sigv4_signing_key_cache_follows_its_inputs)
{
    static const char *const in[][4] = {
        {SK, DATE, "us-east-1", "s3"},
        {SK, DATE, "us-east-1", "s3"},
        {SK "x", DATE, "us-east-1", "s3"},
        {SK, "20130525T000000Z", "us-east-1", "s3"},
        {SK, DATE, "eu-west-1", "s3"},
        {SK, DATE, "us-east-1", "sts"},
        {SK, DATE, "us-east-1", "s3"},
        /* A secret longer than the cache holds: derived every time. */
        {"a-secret-key-longer-than-one-hundred-and-twenty-eight-bytes-"
         "0123456789012345678901234567890123456789012345678901234567890123456789",
         DATE, "us-east-1", "s3"},
        {"a-secret-key-longer-than-one-hundred-and-twenty-eight-bytes-"
         "0123456789012345678901234567890123456789012345678901234567890123456789X",
         DATE, "us-east-1", "s3"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t got[32], want[32];
        sigv4_signing_key(in[i][0], in[i][1], in[i][2], in[i][3], got);
        key_by_hand(in[i][0], in[i][1], in[i][2], in[i][3], want);
        ck_assert_msg(memcmp(got, want, 32) == 0, "inputs %zu", i);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sigv4_get_object_example);
    tcase_add_test(tc, sigv4_signing_key_cache_follows_its_inputs);
    tcase_add_test(tc, sigv4_put_object_example);
    tcase_add_test(tc, sigv4_lifecycle_and_list_examples);
    tcase_add_test(tc, sigv4_presigned_example);
    tcase_add_test(tc, sigv4_chunked_example);
    tcase_add_test(tc, sigv4_encoding_rules);
    tcase_add_test(tc, sigv4_headers_trimmed_and_joined);
    tcase_add_test(tc, sigv4_server_verifier_agrees);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
