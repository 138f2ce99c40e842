#!/bin/sh
# swarm_file.sh S3SIM WORK - the `swarm` and `seeds A..B` directives (docs/scenarios.md):
# `run FILE` runs the file's seeds, --seed/--seeds override them, each run draws its fault
# rules (swarm= on the line), `replay FILE --seed N` reproduces a run (same trace= and
# swarm=), and a bad range is an error naming FILE:LINE:COL with exit 2.
set -u
s3sim=$1 work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
f=$work/sw.scn
cat >"$f" <<'SCN'
scenario sw
seeds 3..5
swarm
deadline 5m
set s3.wal.upload.interval.ms 5000
streams 2
at 0s load rate=8KiB/s until=2m
expect no-data-loss
SCN
fail=0
"$s3sim" run "$f" >"$work/run.txt" 2>&1
[ "$(grep -cE '^(PASS|FAIL) sw base seed=[345] .* swarm="' "$work/run.txt")" -eq 3 ] ||
    { echo "run FILE: want seeds 3..5, each with swarm="; cat "$work/run.txt"; fail=1; }
"$s3sim" run "$f" --seed 9 >"$work/one.txt" 2>&1
grep -qE '^(PASS|FAIL) sw base seed=9 ' "$work/one.txt" && [ "$(grep -cE '^(PASS|FAIL) ' "$work/one.txt")" -eq 1 ] ||
    { echo "--seed 9 does not override seeds 3..5"; cat "$work/one.txt"; fail=1; }
"$s3sim" run "$f" --seeds 10..11 >"$work/two.txt" 2>&1
[ "$(grep -cE '^(PASS|FAIL) sw base seed=1[01] ' "$work/two.txt")" -eq 2 ] ||
    { echo "--seeds 10..11 does not override seeds 3..5"; cat "$work/two.txt"; fail=1; }
# the run of seed 4 and its replay: the same trace= and the same drawn rules
want=$(grep -E ' seed=4 ' "$work/run.txt" | grep -oE 'trace=[0-9a-f]+|swarm="[^"]*"' | tr '\n' ' ')
got=$("$s3sim" replay "$f" --seed 4 2>/dev/null | grep -E '^(PASS|FAIL) ' |
      grep -oE 'trace=[0-9a-f]+|swarm="[^"]*"' | tr '\n' ' ')
[ -n "$want" ] && [ "$want" = "$got" ] ||
    { echo "replay --seed 4: want '$want', got '$got'"; fail=1; }
# --swarm on a swarm file draws once: the same run
both=$("$s3sim" run "$f" --seed 4 --swarm 2>/dev/null | grep -oE 'trace=[0-9a-f]+|swarm="[^"]*"' |
       tr '\n' ' ')
[ "$want" = "$both" ] || { echo "--swarm on a swarm file: want '$want', got '$both'"; fail=1; }
sed 's/^seeds 3..5$/seeds 5..3/' "$f" >"$work/bad.scn"
"$s3sim" check "$work/bad.scn" >"$work/bad.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.scn:2:7: seeds A..B wants A <= B" "$work/bad.txt" ||
    { echo "check of seeds 5..3: exit $rc"; cat "$work/bad.txt"; fail=1; }
"$s3sim" run "$work/bad.scn" >"$work/badrun.txt" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { echo "run of seeds 5..3: exit $rc, want 2"; fail=1; }
exit $fail
