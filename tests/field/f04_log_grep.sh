#!/bin/sh
# F04 (#1752): the field-bug variant's log holds the seed report's two lines,
# word for word apart from the object id: the "Delete composite object ...
# fail" line, and the exception as the next line at the same level (error).
# Usage: f04_log_grep.sh S3SIM  (from the source tree)
set -eu
s3sim=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$s3sim" replay scenarios/field/F04-composite-delete-404.scn --variant field-bug --seed 7 \
    --trace >"$log"
line1='objectSize=-1, type=UNKNOWN, offsetRanges=[], committedTimestamp=-1, dataTimestamp=-1) fail'
line2='java.util.concurrent.CompletionException: com.automq.stream.s3.operator.ObjectStorage$ObjectNotFoundException: software.amazon.awssdk.services.s3.model.NoSuchKeyException: The specified key does not exist.'
grep -F "log error cleaner: Delete composite object S3ObjectMetadata(objectId=" "$log" |
    grep -F -q "$line1"
grep -F -q "log error cleaner: $line2" "$log"
# the exception is the line right after each "fail" line, at error
n=$(grep -F -A1 "$line1" "$log" | grep -F -c "log error cleaner: $line2")
m=$(grep -F -c "$line1" "$log")
test "$n" -eq "$m"
echo "F04 log: $m failures, each followed by the exception line"
