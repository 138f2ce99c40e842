#!/bin/sh
# run.sh - the main job: install what is needed, build (Release, build/), run
# the scenario suite (scenarios/, every variant) and write its reports under
# reports/.  Exit status: that of s3sim run (0 all passed, 1 some failed).
set -eu
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"
mkdir -p reports
rc=0
dirs=""
for d in scenarios/*/; do
    case "$d" in scenarios/bench/) continue ;; esac
    dirs="$dirs $d"
done
# shellcheck disable=SC2086
build/bin/s3sim run $dirs --jobs "$(nproc)" --report reports/latest || rc=$?
echo
echo "run.sh: reports in reports/latest/ (open reports/latest/index.html; results.json, junit.xml, coverage.json)"
exit $rc
