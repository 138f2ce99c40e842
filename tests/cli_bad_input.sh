#!/bin/sh
# cli_bad_input.sh S3SIM - careless command lines and files end with exit 2
# and a message saying what is wrong, before any run (issue 14, item 10).
set -u
S3SIM=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# expect CODE NEEDLE CMD...: exit status CODE, NEEDLE in its output.  The
# timeout only turns a hang (a FIFO read, a run that never ends) into a
# failure: each case takes well under a second on an idle machine, but a
# loaded CI machine has been seen past 20 s on the memory-budget case.
expect() {
    want=$1 needle=$2
    shift 2
    timeout 90 "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ] || { [ -n "$needle" ] && ! cat "$T/out" "$T/err" | grep -qF -- "$needle"; }; then
        echo "FAIL: $* -> exit $got (want $want), stderr:"
        cat "$T/err"
        fail=1
    fi
}

printf 'scenario big\nstreams 1\nat 1s append stream=1 bytes=900GiB\n' >"$T/big.scn"
expect 2 "big.scn:3:29: append bytes=900.0GiB is above the limit" "$S3SIM" run "$T/big.scn" --quiet
expect 2 "big.scn:3:29:" "$S3SIM" check "$T/big.scn"
printf 'scenario fast\nstreams 1\nat 0s load rate=4TiB/s\n' >"$T/fast.scn"
expect 2 "fast.scn:3:17: load rate=4.0TiB/s is above the limit" "$S3SIM" run "$T/fast.scn"
printf 'scenario long\ndeadline 2147483647m\n' >"$T/long.scn"
expect 2 "long.scn:2:10: deadline" "$S3SIM" run "$T/long.scn"
# --set raises a limit
printf 'scenario week\ndeadline 169h\n' >"$T/week.scn"
expect 2 "week.scn:2:10: deadline 169h00m00s is above the limit of 168h00m00s" \
    "$S3SIM" run "$T/week.scn"
expect 0 "" "$S3SIM" run "$T/week.scn" --set scenario.max.deadline=170h --quiet
# late= reads a late attempt's body from the engine's buffer: in-process only
printf 'scenario late\nstreams 1\ndeadline 1m\nfault put late=30s\n' >"$T/late.scn"
expect 2 "late.scn:4: variant base: late= needs --mode sim" "$S3SIM" run "$T/late.scn" --mode http
printf 'scenario ok\ndeadline 1m\n' >"$T/ok.scn"
expect 2 "late= needs --mode sim" "$S3SIM" run "$T/ok.scn" --mode http --fault "put late=1s"
expect 2 "--quiet and --trace" "$S3SIM" run "$T/ok.scn" --quiet --trace
# --report into a place that cannot be written: exit 2 before any run
expect 2 "--report /proc/s3sim-no/x" "$S3SIM" run "$T/ok.scn" --report /proc/s3sim-no/x
if grep -q "passed" "$T/out" "$T/err"; then
    echo "FAIL: --report error came after the runs"
    fail=1
fi
mkdir "$T/empty"
expect 2 "no *.scn file found" "$S3SIM" check "$T/empty"
expect 2 "no *.scn file found" "$S3SIM" run "$T/empty"
mkfifo "$T/empty/x.scn"
expect 2 "not a regular file" "$S3SIM" check "$T/empty"
expect 2 "not a regular file" "$S3SIM" run "$T/empty/x.scn"
expect 2 "--port 99999: expected a port number from 0 to 65535" "$S3SIM" serve --port 99999
expect 2 "--bind wants an IPv4 address" "$S3SIM" serve --bind not-an-address
expect 2 "--max-memory 0" "$S3SIM" serve --max-memory 0
# The run-level memory budget: a run over --max-memory ends as an error
# (exit 3) naming what holds the bytes.  Not under ASan: its allocator keeps
# no malloc statistics.
if ! ldd "$S3SIM" 2>/dev/null | grep -q libasan; then
    printf 'scenario grow\ndeadline 1m\nstreams 2\nat 0s load rate=64MiB/s until=20s\n' >"$T/grow.scn"
    expect 3 "memory budget: the process holds" "$S3SIM" run "$T/grow.scn" --max-memory 64MiB --quiet
fi
expect 2 "--max-memory wants a size" "$S3SIM" run "$T/ok.scn" --max-memory 0
exit $fail
