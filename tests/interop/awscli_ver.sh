#!/bin/bash
# awscli_ver.sh - the AWS CLI against `s3sim serve`: versioning (put-bucket-versioning,
# versions of one key, list-object-versions paged by the CLI, get by version id, a
# delete marker, delete of a version), object lock (a bucket made with it, a
# GOVERNANCE retention refusing a delete, the bypass), multipart checksums (a CRC32
# upload by `aws s3 cp`, its checksum with --checksum-mode) and a lifecycle rule
# (put, get, delete).
# Usage: awscli_ver.sh SERVE-COMMAND...
set -u
. "$(dirname "$0")/lib.sh"
command -v aws >/dev/null 2>&1 || skip "awscli is not installed (Debian package awscli)"
[ $# -gt 0 ] || fail "usage: awscli_ver.sh SERVE-COMMAND..."

export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=
W=$SERVE_OUT/work
mkdir -p "$W"
serve_start "$@" --
a() { aws --endpoint-url "$ENDPOINT" "$@"; }
q() { a "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr"; return 1; }; }

q s3api create-bucket --bucket awsver || fail "create bucket"
q s3api put-bucket-versioning --bucket awsver --versioning-configuration Status=Enabled \
    || fail "put-bucket-versioning"
[ "$(a s3api get-bucket-versioning --bucket awsver --query Status --output text)" = Enabled ] \
    || fail "get-bucket-versioning"
echo one > "$W/one"; echo two > "$W/two"
v1=$(a s3api put-object --bucket awsver --key k --body "$W/one" --query VersionId --output text)
v2=$(a s3api put-object --bucket awsver --key k --body "$W/two" --query VersionId --output text)
[ ${#v1} -eq 32 ] && [ "$v1" != "$v2" ] || fail "version ids '$v1' '$v2'"
q s3api get-object --bucket awsver --key k --version-id "$v1" "$W/back" || fail "get by version"
cmp -s "$W/one" "$W/back" || fail "version $v1 has other bytes"
q s3api delete-object --bucket awsver --key k || fail "delete (marker)"
a s3api get-object --bucket awsver --key k "$W/none" >/dev/null 2>&1 && fail "get after a marker"
# The CLI pages list-object-versions itself (page size 1): three entries.
# (--query applies to each page: count the merged answer instead.)
n=$(a s3api list-object-versions --bucket awsver --page-size 1 --output json | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(len(d.get("Versions", [])), len(d.get("DeleteMarkers", [])))')
[ "$n" = "2 1" ] || fail "list-object-versions saw '$n' versions and markers, want 2 1"
q s3api delete-object --bucket awsver --key k --version-id "$v2" || fail "delete a version"
n=$(a s3api list-object-versions --bucket awsver --query 'length(Versions)' --output text)
[ "$n" = 1 ] || fail "after deleting $v2: $n versions, want 1"

q s3api create-bucket --bucket awslock --object-lock-enabled-for-bucket || fail "lock bucket"
q s3api put-object-lock-configuration --bucket awslock --object-lock-configuration \
    '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}' \
    || fail "put-object-lock-configuration"
lv=$(a s3api put-object --bucket awslock --key l --body "$W/one" --query VersionId --output text)
a s3api delete-object --bucket awslock --key l --version-id "$lv" 2>&1 | grep -q AccessDenied \
    || fail "a delete under GOVERNANCE retention was not refused"
q s3api delete-object --bucket awslock --key l --version-id "$lv" --bypass-governance-retention \
    || fail "delete with the governance bypass"

head -c 12582912 /dev/urandom > "$W/big"
q s3 cp "$W/big" s3://awsver/big --checksum-algorithm CRC32 || fail "multipart CRC32 upload"
a s3api head-object --bucket awsver --key big --checksum-mode ENABLED \
    --query 'ChecksumCRC32' --output text | grep -Eq -- '-[0-9]+$' \
    || fail "no composite CRC32 on the multipart object"

q s3api put-bucket-lifecycle-configuration --bucket awsver --lifecycle-configuration \
    '{"Rules":[{"ID":"tmp","Filter":{"Prefix":"tmp/"},"Status":"Enabled","Expiration":{"Days":7}}]}' \
    || fail "put-bucket-lifecycle-configuration"
[ "$(a s3api get-bucket-lifecycle-configuration --bucket awsver --query 'Rules[0].ID' \
      --output text)" = tmp ] || fail "get-bucket-lifecycle-configuration"
q s3api delete-bucket-lifecycle --bucket awsver || fail "delete-bucket-lifecycle"
echo "PASS: awscli: versioning, object lock, multipart checksums, lifecycle"
