#!/usr/bin/env bash
# rclone against `s3sim serve`: a 20 MiB multipart upload (5 MiB chunks) whose
# `rclone md5sum` matches the local file (rclone keeps the MD5 of a multipart
# upload in X-Amz-Meta-Md5chksum: user metadata must come back), a small file
# (its MD5 is the ETag), modification times kept (X-Amz-Meta-Mtime), and
# `rclone check` of the whole folder.
# Usage: rclone.sh SERVE-COMMAND...
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v rclone >/dev/null || skip "rclone is not installed (Debian package rclone)"
serve_start "$@" --
work=$(mktemp -d)
trap 'serve_stop; rm -rf "$SERVE_OUT" "$work"' EXIT
mkdir "$work/src"
head -c $((20 * 1024 * 1024 + 12345)) /dev/urandom >"$work/src/big.bin"
echo "a small file" >"$work/src/small.txt"
touch -d "2021-03-04 05:06:07 UTC" "$work/src/small.txt"
# rclone 1.60 refuses to start when AWS_CA_BUNDLE is set (LoadCustomCABundleError).
rc() {
    env -u AWS_CA_BUNDLE RCLONE_CONFIG_PEER_TYPE=s3 RCLONE_CONFIG_PEER_PROVIDER=Other \
        RCLONE_CONFIG_PEER_ENV_AUTH=false RCLONE_CONFIG_PEER_ACCESS_KEY_ID="$AK" \
        RCLONE_CONFIG_PEER_SECRET_ACCESS_KEY="$SK" RCLONE_CONFIG_PEER_ENDPOINT="$ENDPOINT" \
        RCLONE_CONFIG_PEER_REGION=us-east-1 RCLONE_CONFIG_PEER_FORCE_PATH_STYLE=true \
        timeout 120 rclone --config /dev/null --s3-upload-cutoff 5M --s3-chunk-size 5M \
        --low-level-retries 1 --retries 1 "$@"
}
rc mkdir peer:rcl || fail "rclone mkdir"
rc copy "$work/src" peer:rcl/dir || fail "rclone copy"
want=$(md5sum <"$work/src/big.bin" | cut -d' ' -f1)
got=$(rc md5sum peer:rcl/dir/big.bin | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "rclone md5sum of the multipart object: '$got', want '$want'"
got=$(rc md5sum peer:rcl/dir/small.txt | cut -d' ' -f1)
[ "$got" = "$(md5sum <"$work/src/small.txt" | cut -d' ' -f1)" ] || fail "rclone md5sum small: $got"
mt=$(rc lsl peer:rcl/dir/small.txt | awk '{print $2" "$3}')
case "$mt" in "2021-03-04 05:06:07"*) ;; *) fail "modification time not kept: '$mt'" ;; esac
rc check "$work/src" peer:rcl/dir || fail "rclone check"
rc cat peer:rcl/dir/big.bin | cmp - "$work/src/big.bin" || fail "rclone cat differs"
rc purge peer:rcl || fail "rclone purge"
echo "PASS: rclone against s3sim serve (md5sum of a multipart upload: $want)"
