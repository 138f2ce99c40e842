/* fuzz_curl.c - s3_curl's response parsers (s3_curl_xml.c): the first byte
 * picks the operation whose answer the rest is, as the engine's client
 * reads it from a real S3. */
#include "err.h"
#include "s3.h"
#include "s3_curl.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum s3_op ops[] = {S3_OP_GET,        S3_OP_LIST,         S3_OP_MPU_CREATE,
                                     S3_OP_MPU_COMPLETE, S3_OP_MPU_COPY,   S3_OP_DELETE_MANY,
                                     S3_OP_PUT,        S3_OP_LIST_UPLOADS};
    static const char *const keys[] = {"a", "b/c", "k&<>", ""};
    struct s3_result res;
    if (size < 1)
        return 0;
    memset(&res, 0, sizeof res);
    s3_curl_parse(ops[data[0] % (sizeof ops / sizeof ops[0])], (const char *)data + 1, size - 1,
                  keys, data[0] & 0x80 ? 4 : 1, &res);
    s3_result_cleanup(&res);
    return 0;
}
