# lib.sh - shared by the interop tests: start `s3sim serve` on a free port and
# stop it on exit.  Sourced by bash scripts; the server command comes as the
# script's arguments (for example: build/bin/s3sim serve).
#
#   serve_start [extra serve options...]  -> sets ENDPOINT, PORT, SERVE_PID
#   skip "message"                        -> exit 77 (ctest SKIP_RETURN_CODE)
#   fail "message"                        -> exit 1

SKIP=77
AK=interopkey
SK=interop/secret+key
SERVE_PID=
SERVE_OUT=$(mktemp -d)

skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*"; [ -s "$SERVE_OUT/err" ] && sed 's/^/  server: /' "$SERVE_OUT/err"; exit 1; }

serve_stop() {
    if [ -n "$SERVE_PID" ]; then
        kill -TERM "$SERVE_PID" 2>/dev/null
        wait "$SERVE_PID" 2>/dev/null
        SERVE_PID=
    fi
}
trap 'serve_stop; rm -rf "$SERVE_OUT"' EXIT

# serve_start CMD... -- [serve options]: the command before --, options after.
serve_start() {
    local cmd=() opts=() seen=0
    for a in "$@"; do
        if [ "$seen" = 0 ] && [ "$a" = "--" ]; then seen=1; continue; fi
        if [ "$seen" = 0 ]; then cmd+=("$a"); else opts+=("$a"); fi
    done
    serve_stop
    "${cmd[@]}" --port 0 --access-key "$AK" --secret-key "$SK" "${opts[@]}" \
        >"$SERVE_OUT/out" 2>"$SERVE_OUT/err" &
    SERVE_PID=$!
    for _ in $(seq 100); do
        if grep -q "endpoint=" "$SERVE_OUT/out" 2>/dev/null; then break; fi
        kill -0 "$SERVE_PID" 2>/dev/null || fail "the server did not start: $(cat "$SERVE_OUT/err")"
        sleep 0.05
    done
    ENDPOINT=$(sed -n 's/.*endpoint=\([^ ]*\).*/\1/p' "$SERVE_OUT/out")
    [ -n "$ENDPOINT" ] || fail "no endpoint line from the server"
    PORT=${ENDPOINT##*:}
}
