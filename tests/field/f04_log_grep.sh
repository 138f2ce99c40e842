#!/bin/sh
# F04 (#1752): the field-bug variant's log holds the seed report's two lines,
# word for word apart from the object id: the "Delete composite object ...
# fail" line, and the exception, which logback prints on the next line; the
# engine logs them as the one event they are (LOGGER.error(msg, ex)): one
# error line, the message, ": ", the exception.
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
# every "fail" line carries the exception right after it
n=$(grep -F -c "log error cleaner: Delete composite object S3ObjectMetadata(objectId=" "$log")
m=$(grep -F -c "$line1: $line2" "$log")
test "$n" -ge 1
test "$n" -eq "$m"
echo "F04 log: $m failures, each with its exception"
