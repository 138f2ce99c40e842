/*
 * world_http.h - a world in http mode (docs/scenarios.md "The command", --mode http): the
 * engine's libcurl S3 client (s3_curl) talks over loopback HTTP to the fake
 * S3's HTTP front (fake_s3/http.h), on real threads and the real clock.
 *
 *   engine ─► world env (now, timers: env_real, scaled) ─► s3_curl ─HTTP─►
 *   fs3_http (MHD threads, loop lock) ─► fault shim ─► store
 *                                          └─ observer: queued under the lock,
 *                                             drained by the engine's thread
 *
 * Scenario times are multiplied by the time scale in real time (0.01: a
 * virtual second passes in 10 ms).  The run is not deterministic: its trace
 * hash is printed but differs between runs.  Everything else is the sim
 * world's: the actors, the wait registry, the checks.
 *
 * The bucket and the region are the knobs s3.bucket and s3.region; the front
 * serves only that bucket and, as AWS does, refuses a request signed for
 * another region.
 *
 * With an endpoint, the engine talks to that server instead (credentials from
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; the region is s3.region if set to a
 * non-default value, else AWS_REGION, else us-east-1); there is
 * no fake store: fault lines are refused by the caller, race-delete does
 * nothing, and the checks that inspect the store (no-orphans, no-missing,
 * no-dangling-uploads, the store half of converged, the bucket.* metrics)
 * are reported as not judged.
 *
 * Differences from sim mode: kind= filters of fault rules never match (the
 * classifier would read the engine's metadata from the server's threads); a
 * run whose converged check held stops there instead of running to the
 * deadline (the vtime printed is still the deadline).
 */
#ifndef S3SIM_WORLD_HTTP_H
#define S3SIM_WORLD_HTTP_H

#include "world.h"

struct world_http_opts {
    double time_scale;    /* real time per scenario time; 0 = 0.01 */
    const char *endpoint; /* another S3 server (NULL: the fake's own front) */
    const char *bucket;   /* with endpoint: its bucket (NULL: the s3.bucket knob) */
};

/* world_run() in http mode.  Returns as world_run(); ERR_IO when the HTTP
 * front or the client could not be started (res says so). */
int world_run_http(const struct scn_spec *spec, const char *file, const struct world_opts *opts,
                   const struct world_http_opts *hopts, struct run_result *res);

#endif /* S3SIM_WORLD_HTTP_H */
