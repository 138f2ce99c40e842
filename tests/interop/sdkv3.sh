#!/usr/bin/env bash
# The AWS SDK for JavaScript v3 against `s3sim serve` (sdkv3_test.cjs).
# Needs node and @aws-sdk/client-s3 under $S3SIM_NPM_PREFIX (default: the
# build tree's peers/ folder, as bench/ uses):
#   npm install --prefix build/peers @aws-sdk/client-s3
# Usage: sdkv3.sh NPM-PREFIX SERVE-COMMAND...
here=$(cd "$(dirname "$0")" && pwd)
prefix=$1
shift
. "$here/lib.sh"
command -v node >/dev/null || skip "node is not installed (Debian package nodejs)"
[ -d "$prefix/node_modules/@aws-sdk/client-s3" ] ||
    skip "@aws-sdk/client-s3 is not installed: npm install --prefix $prefix @aws-sdk/client-s3"
serve_start "$@" --
NODE_PATH="$prefix/node_modules" timeout 120 node "$here/sdkv3_test.cjs" "$ENDPOINT" "$AK" "$SK" ||
    fail "the SDK v3 test failed"
