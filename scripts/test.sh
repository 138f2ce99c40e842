#!/bin/sh
# test.sh - install what is needed, build from scratch (Release, build/), and
# run every test: the libcheck unit tests and every scenario file, via ctest.
set -eu
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)"
# The AWS SDK v3 for interop/sdkv3, when npm is here (the test says why it skips otherwise).
# The version is pinned so that a run next year tests the same client.
if command -v npm >/dev/null 2>&1 && [ ! -d build/peers/node_modules/@aws-sdk/client-s3 ]; then
    timeout 300 npm install --prefix build/peers --no-audit --no-fund \
        @aws-sdk/client-s3@3.1178.0 >build/peers-npm.log 2>&1 ||
        echo "test.sh: npm install of @aws-sdk/client-s3 failed (interop/sdkv3 will skip): $(tail -n 1 build/peers-npm.log)"
fi
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
