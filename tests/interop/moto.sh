#!/bin/bash
# moto.sh - the engine's libcurl S3 client (s3curl_peer) against moto_server,
# an S3 implementation nobody on this team wrote.  Skipped (77) without moto.
# Usage: moto.sh PROGRAM [BUCKET]   (s3curl_peer or eng_peer: PROGRAM ENDPOINT BUCKET)
set -u
SKIP=77
command -v moto_server >/dev/null 2>&1 || { echo "SKIP: moto_server is not installed (pip moto[server])"; exit $SKIP; }
moto_server --help >/dev/null 2>&1 || { echo "SKIP: moto_server does not run"; exit $SKIP; }
[ $# -ge 1 ] || { echo "usage: moto.sh PROGRAM [BUCKET]"; exit 2; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
moto_server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    kill -0 $PID 2>/dev/null || { echo "FAIL: moto_server did not start"; cat "$LOG"; exit 1; }
    sleep 0.1
done
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
"$1" "http://127.0.0.1:$PORT" "${2:-interop-moto}" || { echo "moto log:"; tail -20 "$LOG"; exit 1; }
