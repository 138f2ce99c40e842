#!/bin/sh
# shard_merge.sh S3SIM DIR WORK - `s3sim run DIR --shard K/4` for K = 1..4, then
# `s3sim merge`, must give the unsharded run's reports: the same runs, verdicts
# and trace hashes (results.json and junit.xml equal but for wall times;
# coverage.json and index.html equal), and the same FAIL/PASS lines.
set -u
s3sim=$1 dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
"$s3sim" run "$dir" --report "$work/all" --shard none >"$work/all.txt" 2>/dev/null
rc_all=$?
[ "$rc_all" -le 1 ] || { echo "unsharded run: exit $rc_all"; exit 1; }
for k in 1 2 3 4; do
    "$s3sim" run "$dir" --shard $k/4 --report "$work/shard-$k" >"$work/shard-$k.txt" 2>"$work/shard-$k.err"
    rc=$?
    [ "$rc" -le 1 ] || { echo "shard $k: exit $rc"; cat "$work/shard-$k.err"; exit 1; }
    grep -q "^shard $k/4 (--shard): " "$work/shard-$k.err" || { echo "shard $k: no shard line"; exit 1; }
done
"$s3sim" merge "$work/shard-1" "$work/shard-2" "$work/shard-3" "$work/shard-4" \
    --report "$work/merged" --quiet >"$work/merged.txt"
rc=$?
[ "$rc" -eq "$rc_all" ] || { echo "merge: exit $rc, unsharded run: exit $rc_all"; exit 1; }
strip() { sed -e 's/ time="[0-9.]*"//g' -e '/"wall_seconds": /d' "$1"; }
fail=0
for f in results.json junit.xml coverage.json index.html; do
    strip "$work/merged/$f" >"$work/merged.$f.txt"
    strip "$work/all/$f" | diff - "$work/merged.$f.txt" >"$work/$f.diff" ||
        { echo "$f differs from the unsharded run's:"; head -20 "$work/$f.diff"; fail=1; }
done
# The run lines: every (scenario, variant, seed) once among the shards, with the same line.
grep -E '^(PASS|FAIL|ERROR) ' "$work"/shard-[1-4].txt | cut -d: -f2- | sort >"$work/lines.shards"
grep -E '^(PASS|FAIL|ERROR) ' "$work/all.txt" | sort >"$work/lines.all"
cmp -s "$work/lines.all" "$work/lines.shards" || { echo "run lines differ:"; diff "$work/lines.all" "$work/lines.shards" | head; fail=1; }
n=$(wc -l <"$work/lines.all")
[ "$n" -gt 0 ] || { echo "no runs"; fail=1; }
[ $fail -eq 0 ] && echo "shard-merge: $n runs in 4 shards, merged reports equal the unsharded run's"
exit $fail
