#!/bin/sh
# test.sh - install what is needed, build from scratch (Release, build/), and
# run every test: the libcheck unit tests and every scenario file, via ctest.
set -eu
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"
if ctest --test-dir build --output-on-failure -j "$(nproc)" --output-junit ctest-junit.xml; then
    ./scripts/skip-reasons.sh build
    echo
    echo "test.sh: all tests passed. Details: build/Testing/Temporary/LastTest.log, build/ctest-junit.xml"
else
    ./scripts/skip-reasons.sh build
    echo
    echo "test.sh: some tests FAILED. Details: build/Testing/Temporary/LastTest.log, build/ctest-junit.xml" >&2
    exit 1
fi
