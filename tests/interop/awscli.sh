#!/bin/bash
# awscli.sh - the AWS CLI (v1, botocore) against `s3sim serve`: create bucket,
# put small, multipart upload of 20 MiB, ranged get, head, list with paging,
# copy, delete, delete-objects, abort multipart, a bad signature (403) and two
# injected faults (a 403 and a connection reset) seen by the client.
# Usage: awscli.sh SERVE-COMMAND...   (e.g. build/bin/s3sim serve)
set -u
. "$(dirname "$0")/lib.sh"
command -v aws >/dev/null 2>&1 || skip "awscli is not installed (Debian package awscli)"
[ $# -gt 0 ] || fail "usage: awscli.sh SERVE-COMMAND..."

export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=
W=$SERVE_OUT/work
mkdir -p "$W/up/dir" "$W/up/page"
serve_start "$@" -- --fault "get key=denied* status=403" --fault "get key=cut* reset"
a() { aws --endpoint-url "$ENDPOINT" "$@"; }
q() { a "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr"; return 1; }; }

echo "small object" > "$W/up/dir/small"
for i in 1 2 3 4 5; do echo "page $i" > "$W/up/page/k$i"; done
head -c 20971520 /dev/urandom > "$W/up/big"
cp "$W/up/dir/small" "$W/up/denied"
head -c 100000 /dev/urandom > "$W/up/cut"

q s3 mb s3://interop-aws || fail "create bucket"
# One upload of the tree: small puts, and a multipart upload for the 20 MiB file.
q s3 cp --recursive "$W/up" s3://interop-aws/ || fail "put (small and 20 MiB multipart)"
q s3 cp s3://interop-aws/big "$W/big.back" || fail "get big"
cmp -s "$W/up/big" "$W/big.back" || fail "20 MiB object differs after the round trip"
q s3api get-object --bucket interop-aws --key dir/small --range bytes=2-6 "$W/range" \
    || fail "ranged get"
[ "$(cat "$W/range")" = "all o" ] || fail "ranged get returned '$(cat "$W/range")'"
a s3api head-object --bucket interop-aws --key big | grep '"ContentLength": 20971520' >/dev/null \
    || fail "head: wrong length"
n=$(a s3api list-objects-v2 --bucket interop-aws --prefix page/ --page-size 2 \
      --query 'Contents[].Key' --output text | wc -w)
[ "$n" -eq 5 ] || fail "list with paging (page size 2) saw $n keys, want 5"
a s3 ls s3://interop-aws/ | grep "PRE dir/" >/dev/null || fail "list with a delimiter: no dir/ prefix"
q s3 cp s3://interop-aws/dir/small s3://interop-aws/copy || fail "copy"
q s3 rm s3://interop-aws/copy || fail "delete"
a s3api delete-objects --bucket interop-aws \
    --delete '{"Objects":[{"Key":"page/k1"},{"Key":"page/k2"}]}' | grep '"Key": "page/k1"' >/dev/null \
    || fail "delete-objects"
uid=$(a s3api create-multipart-upload --bucket interop-aws --key aborted --query UploadId \
      --output text) || fail "create multipart upload"
q s3api abort-multipart-upload --bucket interop-aws --key aborted --upload-id "$uid" \
    || fail "abort multipart upload"
out=$(AWS_SECRET_ACCESS_KEY=wrong aws --endpoint-url "$ENDPOINT" s3 ls s3://interop-aws 2>&1) \
    && fail "a bad signature was accepted"
echo "$out" | grep SignatureDoesNotMatch >/dev/null || fail "bad signature: $out"
out=$(a s3 cp s3://interop-aws/denied "$W/x" 2>&1) && fail "the injected 403 was not seen"
echo "$out" | grep "AccessDenied" >/dev/null || fail "injected 403: $out"
out=$(a s3api get-object --bucket interop-aws --key cut "$W/x" 2>&1) \
    && fail "the injected connection reset was not seen"
q s3 rb --force s3://interop-aws || fail "delete everything and the bucket"
echo "PASS: awscli against s3sim serve"
