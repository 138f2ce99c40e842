#!/bin/sh
# s3sim bench: --list names every benchmark, an unknown name and a directory
# without scenarios/bench/ are usage errors (2), and one quick benchmark runs
# from the source tree with its CPU reported (the figures are never judged).
S3SIM=$1
SRC=$2
set -e
out=$("$S3SIM" bench --list)
for b in heap field compaction sim steady fake obj http; do
  echo "$out" | grep -q "^bench_$b " || { echo "bench --list misses bench_$b"; exit 1; }
done
rc=0; "$S3SIM" bench nope 2>/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "unknown benchmark: exit $rc, want 2"; exit 1; }
rc=0; (cd / && "$S3SIM" bench obj 2>/dev/null) || rc=$?
[ "$rc" = 2 ] || { echo "outside the source tree: exit $rc, want 2"; exit 1; }
out=$(cd "$SRC" && "$S3SIM" bench obj)
echo "$out" | grep -q "^=== bench_obj: [0-9.]* s of CPU" || { echo "no CPU line: $out"; exit 1; }
echo "$out" | grep -q "memcpy .* per CPU second" || { echo "no memcpy reference: $out"; exit 1; }
echo ok
