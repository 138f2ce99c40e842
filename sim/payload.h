/*
 * payload.h - record payload bytes as a pure function of (seed, stream,
 * offset), so that no-data-loss regenerates what it expects instead of
 * keeping a copy of everything written (docs/design.md "The simulator (sim/)").
 */
#ifndef S3SIM_PAYLOAD_H
#define S3SIM_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf[0..len) with the payload of record (stream, offset) of a run
 * seeded with seed.  Fast: 8 bytes per step of a splitmix64 stream. */
void sim_payload_fill(uint64_t seed, int64_t stream, int64_t offset, uint8_t *buf, size_t len);

/* Returns the offset of the first byte of buf[0..len) that differs from the
 * expected payload, or -1 when all bytes match. */
long sim_payload_check(uint64_t seed, int64_t stream, int64_t offset, const uint8_t *buf,
                       size_t len);

#endif /* S3SIM_PAYLOAD_H */
