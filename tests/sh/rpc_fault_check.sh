#!/bin/sh
# rpc_fault_check.sh S3SIM - `s3sim check` on the rpc-* fault ops (docs/controller.md "RPC
# faults"): key= and job= on an rpc op, a kind= that never sends the op (or any kind= on trim and
# delete-stream) and an error code the op cannot be answered with are bad input (exit 2,
# FILE:LINE:COL); the rpc ops' effects, kinds and codes that apply parse (exit 0).  The kinds'
# masks and their round trip: tests/test_scn.c scn_fault_rpc_kinds.
set -u
S3SIM=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
expect() {
    want=$1 needle=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ] || ! cat "$T/out" "$T/err" | grep -qF -- "$needle"; then
        echo "FAIL: $* -> exit $got (want $want, output with '$needle'):"
        cat "$T/out" "$T/err"
        fail=1
    fi
}
head='scenario s\nseed 1\ndeadline 10m\nstreams 1\n'
printf "${head}fault rpc-commit-sso key=abc lost\n" >"$T/key.scn"
expect 2 "key.scn:5:22: key= does not apply to rpc-commit-sso" "$S3SIM" check "$T/key.scn"
printf "${head}fault rpc-prepare error=STREAM_FENCED\n" >"$T/code.scn"
expect 2 "code.scn:5:25: rpc-prepare is never answered STREAM_FENCED" "$S3SIM" check "$T/code.scn"
printf "${head}fault rpc-trim error=NO_SUCH_CODE\n" >"$T/unknown.scn"
expect 2 "unknown.scn:5:22: unknown error code 'NO_SUCH_CODE'" "$S3SIM" check "$T/unknown.scn"
printf "${head}fault rpc-trim partial\n" >"$T/effect.scn"
expect 2 "effect.scn:5:16: rpc-trim takes timeout, lost, stall, delay=D or error=CODE" "$S3SIM" check "$T/effect.scn"
printf "${head}fault put error=UNKNOWN_SERVER_ERROR\n" >"$T/s3.scn"
expect 2 "s3.scn:5:11: error=CODE applies to the rpc-* operations only" "$S3SIM" check "$T/s3.scn"
printf "${head}fault rpc-commit-sso kind=minor lost\n" >"$T/kind.scn"
expect 2 "kind.scn:5:27: minor never sends rpc-commit-sso (its kinds: wal-upload, sso-compaction, force-split)" "$S3SIM" check "$T/kind.scn"
printf "${head}fault rpc-commit-stream kind=major,wal-upload lost\n" >"$T/kind2.scn"
expect 2 "kind2.scn:5:36: wal-upload never sends rpc-commit-stream (its kinds: minor, major, cleanup, stream-compaction)" "$S3SIM" check "$T/kind2.scn"
printf "${head}fault rpc-prepare kind=sso timeout\n" >"$T/kind3.scn"
expect 2 "kind3.scn:5:24: expected a kind of rpc-prepare (wal-upload, sso-compaction, force-split, minor, major, cleanup, stream-compaction or any), found 'sso'" "$S3SIM" check "$T/kind3.scn"
printf "${head}fault rpc-trim kind=any timeout\n" >"$T/kind4.scn"
expect 2 "kind4.scn:5:16: kind= does not apply to rpc-trim" "$S3SIM" check "$T/kind4.scn"
printf "${head}fault rpc-delete-stream job=cleaner timeout\n" >"$T/job.scn"
expect 2 "job.scn:5:25: job= does not apply to rpc-delete-stream (the sender of a request is its kind=)" "$S3SIM" check "$T/job.scn"
printf "${head}fault name=k rpc-commit-stream kind=stream-compaction,cleanup nth=2 lost\nfault name=w rpc-prepare kind=wal-upload,major after=3 timeout\n" >"$T/kinds.scn"
expect 0 "ok" "$S3SIM" check "$T/kinds.scn"
printf "${head}fault name=a rpc-commit-sso nth=2 lost\nfault rpc-commit-stream prob=50%% times=2 error=COMPACTED_OBJECTS_NOT_FOUND\nfault rpc-trim delay=3s\nfault rpc-delete-stream stall\nfault rpc-prepare timeout from=1m until=2m\nfault rpc-commit-sso error=NODE_EPOCH_EXPIRED\n" >"$T/ok.scn"
expect 0 "ok" "$S3SIM" check "$T/ok.scn"
exit $fail
