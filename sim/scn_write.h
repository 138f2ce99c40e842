/*
 * scn_write.h - a resolved scenario (struct scn_spec) back into scenario text
 * (docs/scenarios.md "The file format"), for `s3sim shrink` and for tests.
 *
 *   scn_spec ─► scnw_text() ─► "scenario NAME\nseed N\n..." ─► scn_parse_buf()
 *           ─► scn_resolve(base) ─► a spec scnw_same() as the first
 *
 * The text is flat: one base section, no variants (a variant's spec already
 * holds the base's lines merged with its own).  It has every directive that
 * differs from the defaults: description, seed, deadline, set (knobs that
 * differ from their default, --set overrides included), streams, the timed
 * events (at / every), the top-level fault rules (with scn_rule_format) and
 * the checks (expect / expect-fail; the implicit no-hang, line 0, is left
 * out: the parser adds it back).  The spec's variant name is not written.
 *
 * Ownership: scnw_text returns a malloc'd string (the caller frees it);
 * scnw_copy fills a spec that the caller frees with scn_spec_free.
 */
#ifndef S3SIM_SCN_WRITE_H
#define S3SIM_SCN_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "scn.h"

/* The scenario text of spec, NUL-terminated, or NULL when out of memory. */
char *scnw_text(const struct scn_spec *spec);

/* True when a and b run the same world: scenario name, description, seed,
 * deadline, streams, every knob, events, faults and checks equal (source
 * lines, columns and the variant name aside).  When they differ and why is
 * not NULL, why gets a short sentence naming the first difference. */
bool scnw_same(const struct scn_spec *a, const struct scn_spec *b, char *why, size_t whysz);

/* A deep copy of src into *dst.  Returns 0 or ERR_NOMEM (then *dst is empty). */
int scnw_copy(struct scn_spec *dst, const struct scn_spec *src);

/* Writes spec as text, parses it back (name: for messages) and resolves the
 * base: *out is what `s3sim run` of the written file would run.  Returns 0,
 * ERR_NOMEM, or ERR_PARSE when the text does not parse (err says where; a
 * spec built by hand may refer to a stream or a rule it lacks). */
int scnw_reparse(const struct scn_spec *spec, const char *name, struct scn_spec *out,
                 struct scn_error *err);

#endif /* S3SIM_SCN_WRITE_H */
