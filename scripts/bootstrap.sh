#!/bin/sh
# bootstrap.sh - install every Debian package s3sim needs to build, test and
# report.  Idempotent: when everything is present it only runs dpkg-query and
# returns at once.  Works as root; uses sudo otherwise.
set -eu

PKGS="build-essential cmake pkg-config check lcov libcurl4-openssl-dev libssl-dev \
libexpat1-dev libmicrohttpd-dev libisal-dev zlib1g-dev python3 python3-boto3 awscli s3cmd \
valgrind curl wrk rclone"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "bootstrap: all packages present"
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "bootstrap: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "bootstrap: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "bootstrap: done"
