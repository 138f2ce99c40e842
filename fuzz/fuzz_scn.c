/* fuzz_scn.c - the scenario parser: parse, resolve every variant, write each
 * back as text (scn_write.h), parse and resolve that again, and compare: the
 * written text must run the same world.  Errors must carry a position. */
#include "err.h"
#include "scn.h"
#include "scn_write.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    int rc = scn_parse_buf("fuzz.scn", (const char *)data, size, &f, &err);
    if (rc) {
        if (rc != ERR_NOMEM && (err.line < 1 || err.col < 1))
            abort(); /* an error without FILE:LINE:COL */
        return 0;
    }
    for (size_t i = 0; i <= scn_variant_count(f); i++) {
        struct scn_spec a, b;
        const char *v = i ? scn_variant_name(f, i - 1) : NULL;
        char why[256];
        if (scn_resolve(f, v, NULL, 0, &a, &err) != 0)
            continue; /* over a scenario.max.* limit: refused at a position */
        rc = scnw_reparse(&a, "fuzz-written.scn", &b, &err);
        if (rc == 0) {
            if (!scnw_same(&a, &b, why, sizeof why)) {
                fprintf(stderr, "written back, the scenario differs: %s\n", why);
                abort();
            }
            scn_spec_free(&b);
        } else if (rc != ERR_NOMEM && rc != ERR_PARSE) {
            abort();
        }
        scn_spec_free(&a);
    }
    scn_free(f);
    return 0;
}
