#!/bin/sh
# fuzz.sh TARGET [SECONDS] - runs one fuzz target (fuzz/fuzz_TARGET.c) with
# clang's libFuzzer, ASan and UBSan for SECONDS (default 300), at nice 19, on a
# copy of its corpus; a crash is left as build-fuzz/TARGET/crash-* and must
# become a file of fuzz/corpus/TARGET/ (replayed by ctest) once fixed.
# New inputs that add coverage stay in build-fuzz/TARGET/corpus (merge the
# interesting ones by hand: the committed corpora stay small).
# TARGET: scn obj xml curl sig http.  Needs clang (scripts/bootstrap.sh).
set -eu
cd "$(dirname "$0")/.."
t=${1:?usage: scripts/fuzz.sh TARGET [SECONDS]   (TARGET: scn obj xml curl sig http)}
secs=${2:-300}
[ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no fuzz/fuzz_$t.c" >&2; exit 2; }
command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (scripts/bootstrap.sh)" >&2; exit 2; }
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2 --target "fuzz_$t" >/dev/null
work=build-fuzz/$t
mkdir -p "$work/corpus"
cp -n "fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null || true
dict=
case $t in
scn) dict=fuzz/scn.dict ;;
http | sig) dict=fuzz/http.dict ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$work"
# -fork=0 / one process: the machine is shared; -rss_limit_mb bounds memory.
exec nice -n 19 "../bin/fuzz_$t" ${dict:+-dict=../../$dict} -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 corpus
