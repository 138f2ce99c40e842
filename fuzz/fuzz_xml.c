/* fuzz_xml.c - the HTTP front's request XML parsers: the first byte picks
 * CompleteMultipartUpload or Delete, the rest is the body. */
#include "err.h"
#include "http_int.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *xml = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        char **keys = NULL;
        size_t n = 0;
        bool quiet = false;
        if (hr_parse_delete(xml, len, &keys, &n, &quiet) == 0) {
            if (n == 0 || n > S3_MAX_DELETE_KEYS)
                abort();
            for (size_t i = 0; i < n; i++)
                free(keys[i]);
            free(keys);
        }
    } else {
        struct s3_part *parts = NULL;
        size_t n = 0;
        if (hr_parse_complete(xml, len, &parts, &n) == 0) {
            if (n == 0 || n > S3_MAX_PARTS)
                abort();
            for (size_t i = 0; i < n; i++)
                if (parts[i].number < 1 || parts[i].number > S3_MAX_PARTS)
                    abort();
            free(parts);
        }
    }
    return 0;
}
