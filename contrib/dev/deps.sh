#!/bin/sh
# Installs the Debian packages verhaal builds, runs and tests with, and the
# npm packages of the end-to-end tests. Quiet when nothing is missing.
set -eu

PKGS="build-essential pkg-config git curl ca-certificates
libevent-dev libpq-dev libopus-dev libopusenc-dev libmagic-dev libjansson-dev
libinih-dev libcmocka-dev libssl-dev libargon2-dev
libavformat-dev libavcodec-dev libswresample-dev libavutil-dev
libvips-dev libvips-tools libheif-dev libebur128-dev libseccomp-dev
postgresql-15 postgresql-15-postgis-3 postgresql-contrib
nodejs ffmpeg espeak-ng libimage-exiftool-perl
sox libsox-fmt-base zip python3 opus-tools
systemd postgresql-client-15
clang libclang-rt-14-dev nginx-light wrk prometheus"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# nodejs may come from NodeSource, whose package also ships npm.
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "deps: installing npm"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# The npm packages of the end-to-end tests (tus-js-client and the like)
# and of make bench (@tus/server as a peer), each directory on its own.
top=$(cd "$(dirname "$0")/../.." && pwd)
for d in tests/e2e tests/bench; do
	[ -f "$top/$d/package.json" ] || continue
	if [ ! -d "$top/$d/node_modules" ] ||
	   [ "$top/$d/package.json" -nt "$top/$d/node_modules" ]; then
		echo "deps: installing npm packages for $d"
		(cd "$top/$d" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
		touch "$top/$d/node_modules"
	fi
done
