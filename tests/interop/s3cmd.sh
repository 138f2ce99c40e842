#!/bin/bash
# s3cmd.sh - s3cmd (SigV4, path style) against `s3sim serve`: create bucket,
# put small, multipart upload of 20 MiB (s3cmd checks the MD5 ETags), get,
# ranged get, info (head), list with paging, copy, delete, a bad signature and
# an injected fault seen by the client.
# Usage: s3cmd.sh SERVE-COMMAND...
set -u
. "$(dirname "$0")/lib.sh"
command -v s3cmd >/dev/null 2>&1 || skip "s3cmd is not installed (Debian package s3cmd)"
[ $# -gt 0 ] || fail "usage: s3cmd.sh SERVE-COMMAND..."
W=$SERVE_OUT/work
mkdir -p "$W"
serve_start "$@" -- --fault "get key=denied* status=403"
conf() {
    cat > "$W/s3cfg" <<CFG
[default]
access_key = $AK
secret_key = $1
host_base = 127.0.0.1:$PORT
host_bucket = 127.0.0.1:$PORT
use_https = False
signature_v2 = False
bucket_location = us-east-1
multipart_chunk_size_mb = 8
max_retries = 1
progress_meter = False
CFG
}
conf "$SK"
c() { s3cmd -c "$W/s3cfg" --no-progress "$@"; }
q() { c "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr"; return 1; }; }

echo "small object" > "$W/small"
head -c 20971520 /dev/urandom > "$W/big"
q mb s3://interop-s3cmd || fail "create bucket"
q put "$W/small" s3://interop-s3cmd/dir/small || fail "put small"
q put "$W/big" s3://interop-s3cmd/big || fail "multipart upload of 20 MiB"
q get s3://interop-s3cmd/big "$W/big.back" || fail "get big"
cmp -s "$W/big" "$W/big.back" || fail "20 MiB object differs after the round trip"
c info s3://interop-s3cmd/big 2>&1 | grep -E "File size: *20971520" >/dev/null || fail "info"
for i in 1 2 3; do q put "$W/small" "s3://interop-s3cmd/page/k$i" || fail "put page/k$i"; done
n=$(c ls s3://interop-s3cmd/page/ 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "list"
n=$(c ls --recursive s3://interop-s3cmd 2>/dev/null | wc -l)
[ "$n" -eq 5 ] || fail "recursive list saw $n keys, want 5"
q cp s3://interop-s3cmd/dir/small s3://interop-s3cmd/copy || fail "copy"
q get s3://interop-s3cmd/copy "$W/copy" && cmp -s "$W/small" "$W/copy" || fail "copy differs"
q del s3://interop-s3cmd/copy || fail "delete"
q put "$W/small" s3://interop-s3cmd/denied || fail "put denied"
out=$(c get s3://interop-s3cmd/denied "$W/x" 2>&1) && fail "the injected 403 was not seen"
echo "$out" | grep -E "403|AccessDenied" >/dev/null || fail "injected 403: $out"
conf "wrong"
out=$(c ls s3://interop-s3cmd 2>&1) && fail "a bad signature was accepted"
echo "$out" | grep -E "SignatureDoesNotMatch|403" >/dev/null || fail "bad signature: $out"
conf "$SK"
q del --recursive --force s3://interop-s3cmd || fail "recursive delete"
q rb s3://interop-s3cmd || fail "delete bucket"
echo "PASS: s3cmd against s3sim serve"
