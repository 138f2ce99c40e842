#!/bin/sh
# rpc_fault_check.sh S3SIM - `s3sim check` on the rpc-* fault ops (docs/controller.md "RPCs"):
# key= on an rpc op and an error code the op cannot be answered with are bad input (exit 2,
# FILE:LINE:COL); the rpc ops' effects and codes that apply parse (exit 0).
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
printf "${head}fault name=a rpc-commit-sso nth=2 lost\nfault rpc-commit-stream prob=50%% times=2 error=COMPACTED_OBJECTS_NOT_FOUND\nfault rpc-trim delay=3s\nfault rpc-delete-stream stall\nfault rpc-prepare timeout from=1m until=2m\nfault rpc-commit-sso error=NODE_EPOCH_EXPIRED\n" >"$T/ok.scn"
expect 0 "ok" "$S3SIM" check "$T/ok.scn"
exit $fail
