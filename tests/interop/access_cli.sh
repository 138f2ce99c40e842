#!/bin/bash
# access_cli.sh - users, ACLs, SigV2, tagging and CORS of `s3sim serve` with
# the command-line clients (docs/http.md "Users and access"):
#   s3cmd with signature_v2 = True (bucket, put, multipart, get, setacl,
#     --acl-grant, setcors/delcors, a second user refused then granted, a bad
#     secret refused);
#   curl: anonymous GET (public and private object), an OPTIONS preflight,
#     a SigV4 request of the second user (--aws-sigv4);
#   awscli: object tagging and bucket CORS through s3api, an unsigned GET.
# A missing client skips its part; all missing: exit 77.
# Usage: access_cli.sh SERVE-COMMAND...
set -u
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || fail "usage: access_cli.sh SERVE-COMMAND..."
AK2=clibob SK2=cli/bob-secret
W=$SERVE_OUT/work
mkdir -p "$W"
ran=0
serve_start "$@" -- --user "$AK2:$SK2:bob"

if command -v s3cmd >/dev/null 2>&1; then
    ran=1
    conf() { # conf FILE ACCESS_KEY SECRET_KEY
        cat > "$1" <<CFG
[default]
access_key = $2
secret_key = $3
host_base = 127.0.0.1:$PORT
host_bucket = 127.0.0.1:$PORT
use_https = False
signature_v2 = True
bucket_location = us-east-1
multipart_chunk_size_mb = 5
max_retries = 1
progress_meter = False
CFG
    }
    conf "$W/a.cfg" "$AK" "$SK"
    conf "$W/b.cfg" "$AK2" "$SK2"
    conf "$W/bad.cfg" "$AK" "wrong"
    a() { s3cmd -c "$W/a.cfg" --no-progress "$@"; }
    b() { s3cmd -c "$W/b.cfg" --no-progress "$@"; }
    qa() { a "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr"; return 1; }; }
    echo "small object" > "$W/small"
    head -c 12582912 /dev/urandom > "$W/big"
    qa mb s3://acl-s3cmd || fail "s3cmd v2: create bucket"
    qa put "$W/small" s3://acl-s3cmd/dir/small || fail "s3cmd v2: put"
    qa put "$W/big" s3://acl-s3cmd/big || fail "s3cmd v2: multipart upload of 12 MiB"
    qa get s3://acl-s3cmd/big "$W/big.back" || fail "s3cmd v2: get"
    cmp -s "$W/big" "$W/big.back" || fail "s3cmd v2: the 12 MiB object differs"
    n=$(a ls --recursive s3://acl-s3cmd 2>/dev/null | wc -l)
    [ "$n" -eq 2 ] || fail "s3cmd v2: list saw $n keys, want 2"
    out=$(s3cmd -c "$W/bad.cfg" ls s3://acl-s3cmd 2>&1) && fail "s3cmd v2: a bad secret was accepted"
    echo "$out" | grep -q "SignatureDoesNotMatch\|403" || fail "s3cmd v2: bad secret: $out"
    # The second user: refused, then granted read on one object.
    out=$(b get s3://acl-s3cmd/dir/small "$W/b.small" 2>&1) && fail "bob read alice's private object"
    echo "$out" | grep -q "403\|AccessDenied" || fail "bob's refusal: $out"
    qa setacl --acl-grant=read:bob s3://acl-s3cmd/dir/small || fail "s3cmd setacl --acl-grant"
    a info s3://acl-s3cmd/dir/small 2>&1 | grep -q "bob: READ" || fail "info shows no grant: $(a info s3://acl-s3cmd/dir/small 2>&1)"
    b get --force s3://acl-s3cmd/dir/small "$W/b.small" >/dev/null 2>&1 || fail "bob's granted read"
    cmp -s "$W/small" "$W/b.small" || fail "bob read other bytes"
    qa setacl --acl-public s3://acl-s3cmd/big || fail "s3cmd setacl --acl-public"
    a info s3://acl-s3cmd/big 2>&1 | grep -q "\*anon\*: READ" || fail "info shows no public read"
    cat > "$W/cors.xml" <<XML
<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.org</AllowedOrigin>
<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>60</MaxAgeSeconds>
</CORSRule></CORSConfiguration>
XML
    qa setcors "$W/cors.xml" s3://acl-s3cmd || fail "s3cmd setcors"
    a info s3://acl-s3cmd 2>&1 | grep -q "example.org" || fail "info shows no CORS"
    echo "ok s3cmd (signature_v2)"
fi

if command -v curl >/dev/null 2>&1 && [ "$ran" = 1 ]; then
    # Anonymous: the public object is served, the private one is 403.
    st=$(curl -s -o "$W/anon.big" -w '%{http_code}' "$ENDPOINT/acl-s3cmd/big")
    [ "$st" = 200 ] && cmp -s "$W/big" "$W/anon.big" || fail "curl anonymous GET of a public object: $st"
    st=$(curl -s -o "$W/anon.err" -w '%{http_code}' "$ENDPOINT/acl-s3cmd/dir/small")
    [ "$st" = 403 ] && grep -q AccessDenied "$W/anon.err" || fail "curl anonymous GET of a private object: $st"
    hdr=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: https://app.example.org" \
        -H "Access-Control-Request-Method: GET" -H "Access-Control-Request-Headers: x-custom" \
        "$ENDPOINT/acl-s3cmd/big")
    echo "$hdr" | grep -q "^HTTP/1.1 200" || fail "curl preflight: $hdr"
    echo "$hdr" | grep -qi "^Access-Control-Allow-Origin: https://app.example.org" || fail "preflight origin: $hdr"
    echo "$hdr" | grep -qi "^Access-Control-Max-Age: 60" || fail "preflight max-age: $hdr"
    st=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: https://evil.test" \
        -H "Access-Control-Request-Method: GET" "$ENDPOINT/acl-s3cmd/big")
    [ "$st" = 403 ] || fail "curl preflight from an origin no rule allows: $st"
    # SigV4 as the second user: the granted object yes, the bucket's listing no.
    v4=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK2:$SK2" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
    st=$(curl -s -o "$W/v4.small" -w '%{http_code}' "${v4[@]}" "$ENDPOINT/acl-s3cmd/dir/small")
    [ "$st" = 200 ] && cmp -s "$W/small" "$W/v4.small" || fail "curl SigV4 bob, granted object: $st"
    st=$(curl -s -o /dev/null -w '%{http_code}' "${v4[@]}" "$ENDPOINT/acl-s3cmd")
    [ "$st" = 403 ] || fail "curl SigV4 bob, alice's listing: $st"
    echo "ok curl"
fi

AWS=/usr/bin/aws
[ -x "$AWS" ] || AWS=$(command -v aws || true)
if [ -n "$AWS" ]; then
    ran=1
    export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    s3api() { "$AWS" --endpoint-url "$ENDPOINT" s3api "$@"; }
    s3api create-bucket --bucket acl-awscli >/dev/null || fail "awscli create-bucket"
    echo hi > "$W/hi"
    s3api put-object --bucket acl-awscli --key t --body "$W/hi" --tagging "a=1&b=2" --acl public-read \
        >/dev/null || fail "awscli put-object with tagging"
    out=$(s3api get-object-tagging --bucket acl-awscli --key t --output text) || fail "get-object-tagging"
    echo "$out" | grep -q "a.*1" && echo "$out" | grep -q "b.*2" || fail "tags: $out"
    s3api put-bucket-cors --bucket acl-awscli --cors-configuration \
        '{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET","HEAD"]}]}' || fail "put-bucket-cors"
    out=$(s3api get-bucket-cors --bucket acl-awscli --output text) || fail "get-bucket-cors"
    echo "$out" | grep -q "HEAD" || fail "cors: $out"
    "$AWS" --endpoint-url "$ENDPOINT" --no-sign-request s3 cp s3://acl-awscli/t "$W/t.anon" >/dev/null \
        || fail "awscli --no-sign-request of a public-read object"
    cmp -s "$W/hi" "$W/t.anon" || fail "awscli anonymous bytes"
    echo "ok awscli"
fi
[ "$ran" = 1 ] || skip "none of s3cmd, awscli is installed"
echo "PASS: access_cli against s3sim serve"
