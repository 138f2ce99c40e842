#!/bin/bash
# peers.sh - the engine against real S3 servers.
#
#   scripts/peers.sh [--peers moto,s3rver,swift,radosgw] [--no-install] [FILE|DIR...]
#
# Starts each S3 server on 127.0.0.1 (moto_server, s3rver from npm, OpenStack
# Swift with its s3api middleware, Ceph radosgw on a memory-backed OSD), runs
# the fault-free scenarios (default: scenarios/peers) against it with
# `s3sim run --mode http --endpoint`, stops it, and prints a table: one row per
# scenario, one column per server.  A server that cannot be installed or does
# not start is skipped with the reason.  Each server's known quirks (what it
# does differently from AWS) are printed with the table; none of them is hidden
# from the engine.  As root, missing servers are installed (apt-get, npm)
# unless --no-install is given.  Exit status: 0 when every scenario passed on
# every server that started, 1 otherwise, 2 for bad usage, 77 when no server
# started at all.
#
# Needs build/bin/s3sim (scripts/test.sh or cmake --build build), or the
# program named by S3SIM.  PEERS_KEEP=1
# keeps the work directory (each run's output, the servers' logs) and says
# where; PEERS_EXTRA adds options to every run (e.g. PEERS_EXTRA=--trace).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
S3SIM=${S3SIM:-$ROOT/build/bin/s3sim}
PEERS=moto,s3rver,swift,radosgw
INSTALL=1
FILES=()
while [ $# -gt 0 ]; do
    case $1 in
    --peers) PEERS=${2:?--peers wants a list}; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "peers.sh: unknown option $1" >&2; exit 2 ;;
    *) FILES+=("$1"); shift ;;
    esac
done
[ ${#FILES[@]} -gt 0 ] || FILES=(scenarios/peers)
[ -x "$S3SIM" ] || { echo "peers.sh: no $S3SIM (build first: scripts/test.sh)" >&2; exit 2; }
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/s3sim-peers
WORK=$(mktemp -d /tmp/s3sim-peers.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
}
trap 'cleanup; stop_ceph; if [ -n "${PEERS_KEEP:-}" ]; then echo "peers: kept $WORK"; else rm -rf "$WORK"; fi' EXIT
# The time scale and the timeouts of these runs: a real server takes real time
# (a 16MiB part to moto can take a second), and at the default scale 0.01 the
# default 10s attempt timeout is 100ms of real time.  With --endpoint there is
# no shared clock: virtual time runs at 1/scale of real time whatever the
# server does, so the whole-read timeout (2m: 2.4 s of real time at 0.02) is
# raised too: Swift on a loaded machine (load 10) once took longer than that
# for a GetObject, and the cleaner logged the timeout at error.
RUNOPTS=(--mode http --time-scale 0.02 --set s3.op.timeout=5m --set s3.read.timeout=10m)

log() { echo "peers: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_http URL SECONDS: until the URL answers at all (any status).
wait_http() {
    local i
    for i in $(seq $(($2 * 10))); do
        curl -s -o /dev/null --max-time 2 "$1" && return 0
        sleep 0.1
    done
    return 1
}
apt_get() {
    [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] || return 1
    log "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$WORK/apt.log" 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$WORK/apt.log" 2>&1; }
}
# make_bucket ENDPOINT AK SK BUCKET: CreateBucket signed by curl itself.
make_bucket() {
    local e3=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    printf 'machine 127.0.0.1 login %s password %s\n' "$2" "$3" >"$WORK/netrc"
    curl -s -o "$WORK/mb.out" -w '%{http_code}' --netrc-file "$WORK/netrc" --aws-sigv4 "aws:amz:us-east-1:s3" \
        -H "x-amz-content-sha256: $e3" -X PUT "$1/$4"
}

# ---- the servers: start_NAME sets ENDPOINT, AK, SK or prints why not and returns 1 ----

QUIRKS_moto="no signature check; every answer closes its connection (no keep-alive); CompleteMultipartUpload's XML root is CompleteMultipartUploadResponse; UploadPart of an unknown upload id answers 500"
start_moto() {
    command -v moto_server >/dev/null || { echo "moto_server is not installed (pip moto[server]; not in Debian)"; return 1; }
    local port
    port=$(free_port)
    moto_server -H 127.0.0.1 -p "$port" >"$WORK/moto.log" 2>&1 &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$port/" 30 || { echo "moto_server did not start: $(tail -n 3 "$WORK/moto.log")"; return 1; }
    ENDPOINT=http://127.0.0.1:$port AK=peerkey SK=peersecret
}

QUIRKS_s3rver="no UploadPartCopy (501); multipart ETag is the MD5 of the whole object (no -N); no ListParts, ListMultipartUploads or AbortMultipartUpload (405/501); parts below 5MiB accepted; one key pair S3RVER/S3RVER; needs node --openssl-legacy-provider for paged listings"
start_s3rver() {
    command -v node >/dev/null && command -v npm >/dev/null ||
        apt_get nodejs npm || { echo "node and npm are not installed"; return 1; }
    local js=$CACHE/node/node_modules/s3rver/bin/s3rver.js port
    if [ ! -f "$js" ]; then
        [ "$INSTALL" = 1 ] || { echo "s3rver is not installed ($CACHE/node)"; return 1; }
        log "installing s3rver@3.7.1 (npm, into $CACHE/node)"
        mkdir -p "$CACHE/node"
        (cd "$CACHE/node" && { [ -f package.json ] || npm init -y >/dev/null 2>&1; } &&
             npm install --no-audit --no-fund s3rver@3.7.1 >"$WORK/npm.log" 2>&1) ||
            { echo "npm install s3rver failed: $(tail -n 2 "$WORK/npm.log")"; return 1; }
    fi
    port=$(free_port)
    mkdir -p "$WORK/s3rver-data"
    node --openssl-legacy-provider "$js" -d "$WORK/s3rver-data" -a 127.0.0.1 -p "$port" --silent \
        >"$WORK/s3rver.log" 2>&1 &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$port/" 30 || { echo "s3rver did not start: $(tail -n 3 "$WORK/s3rver.log")"; return 1; }
    ENDPOINT=http://127.0.0.1:$port AK=S3RVER SK=S3RVER
}

QUIRKS_swift="DeleteObjects needs Content-MD5 (a CRC32-only client gets 400); the access key holds a colon (test:tester); one replica, rings built here"
start_swift() {
    command -v swift-proxy-server >/dev/null ||
        apt_get swift swift-proxy swift-object swift-container swift-account python3-swift memcached ||
        { echo "OpenStack Swift is not installed (Debian swift, swift-proxy, swift-object, swift-container, swift-account, memcached)"; return 1; }
    command -v memcached >/dev/null || apt_get memcached || { echo "memcached is not installed"; return 1; }
    local d=$WORK/swift port mport s
    mkdir -p "$d/etc" "$d/srv/d1" "$d/run"
    port=$(free_port)
    mport=$(free_port)
    for s in account container object; do
        swift-ring-builder "$d/etc/$s.builder" create 10 1 1 >/dev/null
    done
    local pa pc po
    pa=$(free_port) pc=$(free_port) po=$(free_port)
    swift-ring-builder "$d/etc/account.builder" add "r1z1-127.0.0.1:$pa/d1" 1 >/dev/null
    swift-ring-builder "$d/etc/container.builder" add "r1z1-127.0.0.1:$pc/d1" 1 >/dev/null
    swift-ring-builder "$d/etc/object.builder" add "r1z1-127.0.0.1:$po/d1" 1 >/dev/null
    for s in account container object; do
        swift-ring-builder "$d/etc/$s.builder" rebalance >/dev/null 2>&1
    done
    cat >"$d/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = s3sim-peers
swift_hash_path_prefix = s3sim-peers
[storage-policy:0]
name = Policy-0
default = yes
EOF
    for s in account:$pa container:$pc object:$po; do
        cat >"$d/etc/${s%%:*}-server.conf" <<EOF
[DEFAULT]
devices = $d/srv
mount_check = false
bind_ip = 127.0.0.1
bind_port = ${s##*:}
user = root
swift_dir = $d/etc
log_facility = LOG_LOCAL0
[pipeline:main]
pipeline = ${s%%:*}-server
[app:${s%%:*}-server]
use = egg:swift#${s%%:*}
[${s%%:*}-replicator]
[${s%%:*}-auditor]
EOF
    done
    cat >"$d/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
user = root
swift_dir = $d/etc
workers = 1
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mport
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
    memcached -u root -l 127.0.0.1 -p "$mport" >"$d/memcached.log" 2>&1 &
    PIDS+=($!)
    for s in account container object proxy; do
        SWIFT_CONF_DIR=$d/etc "swift-$s-server" "$d/etc/$s-server.conf" >"$d/$s.log" 2>&1 &
        PIDS+=($!)
    done
    wait_http "http://127.0.0.1:$port/healthcheck" 60 ||
        { echo "Swift did not start: $(tail -n 3 "$d/proxy.log")"; return 1; }
    ENDPOINT=http://127.0.0.1:$port AK=test:tester SK=testing
}

QUIRKS_radosgw="error bodies carry an empty <Message>; CompleteMultipartUpload answers an empty ETag; CopyObject's ETag is unquoted; a body without Content-Length (aws-chunked) gets 411; one memory-backed OSD"
CEPH=
stop_ceph() {
    local f
    [ -n "$CEPH" ] || return 0
    for f in "$CEPH"/run/*.pid; do
        [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
    done
    sleep 1
    CEPH=
}
start_radosgw() {
    command -v radosgw >/dev/null && command -v ceph-mon >/dev/null ||
        apt_get ceph-mon ceph-osd radosgw ceph-common ||
        { echo "Ceph radosgw is not installed (Debian ceph-mon ceph-osd radosgw ceph-common)"; return 1; }
    local c=$WORK/ceph fsid port monport
    CEPH=$c
    mkdir -p "$c/run" "$c/mon" "$c/osd" "$c/log"
    fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    port=$(free_port)
    monport=$(free_port)
    cat >"$c/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$monport
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
run dir = $c/run
pid file = $c/run/\$name.pid
log file = $c/log/\$name.log
admin socket = $c/run/\$name.asok
[mon]
mon data = $c/mon/\$id
[osd]
osd data = $c/osd/\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd journal size = 0
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $c/rgw
EOF
    local C=(-c "$c/ceph.conf")
    monmaptool --create --addv a "[v1:127.0.0.1:$monport]" --fsid "$fsid" "$c/monmap" >/dev/null 2>&1 &&
        ceph-mon "${C[@]}" --mkfs -i a --monmap "$c/monmap" >"$c/log/mkfs.log" 2>&1 &&
        ceph-mon "${C[@]}" -i a >>"$c/log/mkfs.log" 2>&1 ||
        { echo "ceph-mon did not start: $(tail -n 2 "$c/log/mkfs.log")"; return 1; }
    local osdid
    osdid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    timeout 60 ceph "${C[@]}" osd create "$osdid" >/dev/null 2>&1 &&
        mkdir -p "$c/osd/0" && ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$osdid" >>"$c/log/mkfs.log" 2>&1 &&
        ceph "${C[@]}" osd crush add-bucket localhost host >/dev/null 2>&1 &&
        ceph "${C[@]}" osd crush move localhost root=default >/dev/null 2>&1 &&
        ceph "${C[@]}" osd crush add osd.0 1.0 host=localhost >/dev/null 2>&1 ||
        { echo "ceph-osd --mkfs failed: $(tail -n 2 "$c/log/mkfs.log")"; return 1; }
    # Its first start sometimes asks the monitor before it has the cluster's
    # fsid ("handle_command on fsid 0000...") and exits: try again.
    local try
    for try in 1 2 3 4 5; do
        ceph-osd "${C[@]}" -i 0 >>"$c/log/mkfs.log" 2>&1 && break
        [ $try = 5 ] && { echo "ceph-osd did not start: $(tail -n 2 "$c/log/mkfs.log")"; return 1; }
        sleep 2
    done
    radosgw "${C[@]}" -n client.rgw.a >>"$c/log/mkfs.log" 2>&1 ||
        { echo "radosgw did not start: $(tail -n 2 "$c/log/mkfs.log")"; return 1; }
    wait_http "http://127.0.0.1:$port/" 90 || { echo "radosgw did not answer within 90 s"; return 1; }
    timeout 60 radosgw-admin "${C[@]}" user create --uid=peer --display-name="s3sim peers" \
        --access-key=peerkey --secret-key=peersecret >/dev/null 2>&1 ||
        { echo "radosgw-admin user create failed"; return 1; }
    ENDPOINT=http://127.0.0.1:$port AK=peerkey SK=peersecret
}

# workaround SERVER FILE: "VARIANT why" when a scenario runs on a server as another variant
# than base, to work around a quirk of the server (nothing: base).  The table marks the cell
# with a * and prints the reason under it: nothing is hidden.
workaround() {
    case "$1,$(basename "$2" .scn)" in
    s3rver,part-copy) echo "get-put s3rver has no UploadPartCopy (501 NotImplemented; the engine, as AutoMQ, retries it without end): run with s3.part.copy=get-put, each copy a GetObject of the range and an UploadPart of its bytes (variant get-put of the file)" ;;
    esac
}

# ---- the runs ----

declare -A RESULT
NAMES=()
for f in "${FILES[@]}"; do
    if [ -d "$f" ]; then
        for g in "$f"/*.scn; do NAMES+=("$g"); done
    else
        NAMES+=("$f")
    fi
done
status=0
IFS=, read -r -a LIST <<<"$PEERS"
declare -A WHY
WORKAROUNDS=()
for p in "${LIST[@]}"; do
    declare -F "start_$p" >/dev/null || { echo "peers.sh: unknown server $p (moto, s3rver, swift, radosgw)" >&2; exit 2; }
    log "$p: starting"
    ENDPOINT= AK= SK=
    if ! "start_$p" >"$WORK/start.out" 2>&1; then
        WHY[$p]=$(tr '\n' ' ' <"$WORK/start.out")
        log "$p: SKIPPED: ${WHY[$p]}"
        cleanup
        stop_ceph
        continue
    fi
    # A server whose back ends are still starting answers 503 (Swift) or 500 for a while.
    for _ in $(seq 30); do
        code=$(make_bucket "$ENDPOINT" "$AK" "$SK" peers)
        case $code in 5*) sleep 1 ;; *) break ;; esac
    done
    case $code in
    200 | 409) ;;
    *) WHY[$p]="CreateBucket answered $code: $(head -c 200 "$WORK/mb.out")"; log "$p: SKIPPED: ${WHY[$p]}"; cleanup; stop_ceph; continue ;;
    esac
    log "$p: $ENDPOINT, bucket peers"
    for n in "${NAMES[@]}"; do
        wa=$(workaround "$p" "$n")
        variant=${wa%% *} mark=
        if [ -n "$wa" ]; then
            mark='*'
            WORKAROUNDS+=("$p, $(basename "$n" .scn): ${wa#* }")
            log "$p: $(basename "$n"): variant $variant (${wa#* })"
        else
            variant=base
        fi
        out=$(AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_REGION=us-east-1 \
            "$S3SIM" run "$n" --variant "$variant" "${RUNOPTS[@]}" ${PEERS_EXTRA:-} \
            --endpoint "$ENDPOINT" --bucket peers 2>&1)
        rc=$?
        echo "$out" >"$WORK/$p-$(basename "$n" .scn).out"
        if [ $rc = 0 ]; then
            RESULT[$p,$n]=PASS$mark
        else
            RESULT[$p,$n]=FAIL$mark
            status=1
            echo "$out" | sed "s|^|peers: $p: |" | head -n 20
        fi
        log "$p: $(basename "$n"): ${RESULT[$p,$n]}"
    done
    cleanup
    stop_ceph
done

# ---- the table ----
echo
printf '%-28s' "scenario"
for p in "${LIST[@]}"; do printf ' %-9s' "$p"; done
echo
for n in "${NAMES[@]}"; do
    printf '%-28s' "$(basename "$n" .scn)"
    for p in "${LIST[@]}"; do printf ' %-9s' "${RESULT[$p,$n]:-skipped}"; done
    echo
done
echo
for x in "${WORKAROUNDS[@]}"; do echo "*: $x"; done
echo "run with: s3sim run FILE --variant base ${RUNOPTS[*]} --endpoint URL --bucket peers"
for p in "${LIST[@]}"; do
    q=QUIRKS_$p
    if [ -n "${WHY[$p]:-}" ]; then
        echo "$p: skipped: ${WHY[$p]}"
    else
        echo "$p quirks: ${!q}"
    fi
done
started=0
for p in "${LIST[@]}"; do [ -z "${WHY[$p]:-}" ] && started=1; done
[ $started = 1 ] || exit 77
exit $status
