#!/bin/sh
# leakcheck-serve.sh [BUILD_DIR] - runs `s3sim serve` under valgrind's leak
# checker while the boto3 and awscli interop tests drive it, and fails when
# valgrind reports a memory error or any byte definitely, indirectly or
# possibly lost.  What is still reachable at exit (OpenSSL's provider tables
# and error strings, which it frees only at its own exit handler) is printed
# but does not fail.  A client that is missing is skipped with a message.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bin/s3sim
[ -x "$bin" ] || { echo "leakcheck-serve: no $bin (build first)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "leakcheck-serve: valgrind is missing (scripts/bootstrap.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
vg="valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --log-file=$out/vg.%q{VGTAG}.%p"
status=0
run() {
    name=$1
    shift
    rc=0
    VGTAG=$name "$@" $vg "$bin" serve >"$out/$name.out" 2>&1 || rc=$?
    if [ "$rc" = 77 ]; then
        echo "leakcheck-serve: $name: SKIP ($(tail -n 1 "$out/$name.out"))"
        return
    fi
    if [ "$rc" != 0 ]; then
        echo "leakcheck-serve: $name: the client test failed under valgrind (exit $rc):"
        tail -n 20 "$out/$name.out"
        status=1
        return
    fi
    for f in "$out"/vg."$name".*; do
        [ -f "$f" ] || continue
        lost=$(sed -n 's/.*\(definitely\|indirectly\|possibly\) lost: \([0-9,]*\) bytes.*/\2/p' "$f" | tr -d , |
            awk '{s += $1} END {print s + 0}')
        errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")
        reach=$(sed -n 's/.*still reachable: \(.*\)/\1/p' "$f")
        echo "leakcheck-serve: $name: pid ${f##*.}: lost ${lost} bytes, ${errs:-?} errors, still reachable: ${reach:-0 bytes}"
        if [ "$lost" != 0 ] || [ "${errs:-1}" != 0 ]; then
            grep -A 30 "lost in loss record\|Invalid\|uninitialised" "$f" | head -n 80
            status=1
        fi
    done
}
run boto3 python3 tests/interop/boto3_test.py
run awscli bash tests/interop/awscli.sh
run access python3 tests/interop/access_test.py
exit $status
