#!/bin/sh
# ci_github.sh DOC SRC BUILD WORK - runs the GitHub Actions workflow of DOC
# (docs/ci.md) locally: its "run the shard" step for SHARD = 1..4 and its
# "merge the shards" step, exactly as written there (artifacts moved as
# upload-artifact/download-artifact would), over SCENARIOS=scenarios/smoke;
# then compares the merged junit.xml (and results.json) with the unsharded
# run's, wall times aside.
set -u
doc=$1 src=$2 build=$3 work=$4

# The body of the `run: |` block of the step named $1, unindented.
step() {
    awk -v name="$1" '
        /^```yaml/ { inyaml = 1; next }
        /^```/ { if (inyaml && found) exit; inyaml = 0; next }
        !inyaml { next }
        !found && $0 ~ "^ *- name: " name "$" { found = 1; next }
        found && !inrun && /^ *run: \|$/ { inrun = 1; match($0, /^ */); ind = RLENGTH; next }
        inrun {
            if ($0 ~ /^ *$/) { print ""; next }
            match($0, /^ */)
            if (RLENGTH <= ind) exit
            if (!body) { body = RLENGTH }
            print substr($0, body + 1)
        }' "$doc"
}

shard_step=$(step "run the shard")
merge_step=$(step "merge the shards")
[ -n "$shard_step" ] || { echo "no 'run the shard' step in $doc"; exit 1; }
[ -n "$merge_step" ] || { echo "no 'merge the shards' step in $doc"; exit 1; }
case "$shard_step" in *'--shard "$SHARD/4"'*) ;; *) echo "the shard step does not shard: $shard_step"; exit 1;; esac

rm -rf "$work" && mkdir -p "$work" || exit 1
ln -s "$build" "$work/build" && ln -s "$src/scenarios" "$work/scenarios" || exit 1
cd "$work" || exit 1
export SCENARIOS=scenarios/smoke

# The unsharded run, for reference.
build/bin/s3sim run "$SCENARIOS" --shard none --report unsharded --quiet >/dev/null 2>&1
rc_all=$?
[ "$rc_all" -le 1 ] || { echo "unsharded run: exit $rc_all"; exit 1; }

for k in 1 2 3 4; do
    SHARD=$k sh -ec "$shard_step" >"shard-$k.log" 2>&1
    rc=$?
    if [ "$rc" -gt 128 ] && command -v gdb >/dev/null 2>&1; then
        # Died by a signal: the same shard again under gdb, for the threads'
        # backtraces if it happens again (the test fails either way).
        echo "shard $k: killed by signal $((rc - 128)); once more under gdb:"
        tail "shard-$k.log"
        SHARD=$k gdb -q -batch -ex run -ex "thread apply all bt" --args \
            build/bin/s3sim run "$SCENARIOS" --shard "$k/4" --jobs 2 --quiet 2>&1 | tail -60
        exit 1
    fi
    [ "$rc" -eq "$rc_all" ] || [ "$rc" -eq 0 ] || { echo "shard $k: exit $rc"; tail "shard-$k.log"; exit 1; }
    grep -q "^shard $k/4 (--shard" "shard-$k.log" || { echo "shard $k: no shard line"; cat "shard-$k.log"; exit 1; }
    # upload-artifact (name s3sim-shard-K, path reports/shard-K), then download-artifact
    # (pattern s3sim-shard-*, path reports) in the merge job:
    mv "reports/shard-$k" "reports/s3sim-shard-$k" || exit 1
done
sh -ec "$merge_step" >merge.log 2>&1
rc=$?
[ "$rc" -eq "$rc_all" ] || { echo "merge step: exit $rc, unsharded run: exit $rc_all"; cat merge.log; exit 1; }
[ -f timings.tsv ] || { echo "the merge step left no timings.tsv for the cache"; exit 1; }

strip() { sed -e 's/ time="[0-9.]*"//g' -e '/"wall_seconds": /d' "$1"; }
fail=0
for f in junit.xml results.json; do
    strip "unsharded/$f" >"unsharded.$f"
    strip "reports/merged/$f" >"merged.$f"
    cmp -s "unsharded.$f" "merged.$f" ||
        { echo "merged $f differs from the unsharded one:"; diff "unsharded.$f" "merged.$f" | head -20; fail=1; }
done
n=$(grep -c "<testcase " reports/merged/junit.xml)
[ "$n" -gt 0 ] || { echo "no testcase in the merged junit.xml"; fail=1; }
[ $fail -eq 0 ] && echo "ci/github-workflow: 4 shards and the merge step of $doc give the unsharded junit.xml ($n test cases)"
exit $fail
