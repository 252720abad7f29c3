#!/bin/sh
# Installs the Debian packages verhaal builds, runs and tests with, and the
# npm packages of the end-to-end tests. Quiet when nothing is missing.
# Every command a test or target runs is here (make check-fresh proves it on
# a clean Debian 12): vipsheader, exiftool, ffprobe, espeak-ng, sox, opusenc,
# psql/pg_ctl, zip, curl, python3 (unit tests); ps/pgrep, bc, wrk, nginx
# (make bench); debootstrap (make check-fresh only); Node 20 (below);
# chromium (the browser tests, driven by playwright-core).
set -eu

PKGS="build-essential pkg-config git curl ca-certificates
libevent-dev libpq-dev libopus-dev libopusenc-dev libmagic-dev libjansson-dev
libinih-dev libcmocka-dev libssl-dev libargon2-dev
libavformat-dev libavcodec-dev libswresample-dev libavutil-dev
libvips-dev libvips-tools libheif-dev libebur128-dev libseccomp-dev
libzip-dev libxml2-dev hunspell-nl
postgresql-15 postgresql-15-postgis-3 postgresql-contrib
nodejs chromium ffmpeg espeak-ng libimage-exiftool-perl
sox libsox-fmt-base zip python3 opus-tools procps bc
systemd postgresql-client-15
clang libclang-rt-14-dev nginx-light wrk prometheus debootstrap"

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

# Search reads OpenTaal's Dutch Hunspell dictionary (hunspell-nl) through
# PostgreSQL's ispell template, as verhaal_nl.{dict,affix} in each server's
# tsearch_data directory (schema/0013_dutch_search.sql). Debian's
# pg_updatedicts links nl.dict there, but PostgreSQL cannot read it: ten
# abbreviations with an escaped slash ("km\/h") have no valid flags. So
# the copy leaves those out and converts to UTF-8 as pg_updatedicts does.
# It also leaves out the five word ends flagged Fu (FORCEUCASE: straat,
# plein, steeg, weg, straatweg), which exist to build capitalised street
# names; PostgreSQL ignores the capital rule, so without this every
# "Zadelstraat" in a story would be found by "straat".
# Regular files, not links: pg_updatedicts removes links it did not make.
recipe=3	# bump when the conversion below changes
aff=/usr/share/hunspell/nl.aff
dic=/usr/share/hunspell/nl.dic
for ts in /usr/share/postgresql/*/tsearch_data; do
	[ -d "$ts" ] && [ -f "$aff" ] && [ -f "$dic" ] || continue
	if [ ! -f "$ts/verhaal_nl.dict" ] || [ "$dic" -nt "$ts/verhaal_nl.dict" ] ||
	   [ "$aff" -nt "$ts/verhaal_nl.affix" ] ||
	   [ "$(cat "$ts/verhaal_nl.recipe" 2>/dev/null)" != "$recipe" ]; then
		echo "deps: Dutch dictionary for PostgreSQL in $ts"
		sudo=""
		[ -w "$ts" ] || sudo="sudo"
		enc=$(sed -n 's/^SET \([A-Za-z0-9_-]*\).*/\1/p' "$aff" | head -n 1)
		iconv -f "${enc:-UTF-8}" -t UTF-8 "$aff" | $sudo tee "$ts/verhaal_nl.affix.tmp" >/dev/null
		iconv -f "${enc:-UTF-8}" -t UTF-8 "$dic" | grep -v '\\/' |
		    awk -F/ '{ if (NF > 1) { f = $2; sub(/[ \t].*/, "", f)
			for (i = 1; i < length(f); i += 2)
				if (substr(f, i, 2) == "Fu") next }
			print }' | $sudo tee "$ts/verhaal_nl.dict.tmp" >/dev/null
		# The server reads them as postgres, whatever root's umask.
		$sudo chmod 0644 "$ts/verhaal_nl.affix.tmp" "$ts/verhaal_nl.dict.tmp"
		$sudo mv "$ts/verhaal_nl.affix.tmp" "$ts/verhaal_nl.affix"
		$sudo mv "$ts/verhaal_nl.dict.tmp" "$ts/verhaal_nl.dict"
		echo "$recipe" | $sudo tee "$ts/verhaal_nl.recipe" >/dev/null
	fi
done

if ! command -v npm >/dev/null 2>&1; then
	echo "deps: installing npm"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# tests/run.sh uses node's test runner as Node 20 has it (--test-concurrency,
# --test-timeout); Debian 12 ships Node 18. A newer one comes from the npm
# registry, whose node-linux-<arch> package holds the official binary; it
# goes to /usr/local/bin, ahead of Debian's /usr/bin/node.
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
	case $(dpkg --print-architecture) in
	amd64) arch=x64 ;;
	arm64) arch=arm64 ;;
	*) echo "deps: the tests need Node 20 or newer; install it" >&2; exit 1 ;;
	esac
	echo "deps: installing Node 20 from the npm registry (node-linux-$arch; Debian 12 has $(node --version))"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo npm install -g --no-audit --no-fund --loglevel=error "node-linux-$arch@20" >/dev/null
	hash -r 2>/dev/null || true
fi

# The npm packages of the web app (contrib/web: Vite, the design system),
# of the end-to-end tests (tus-js-client, playwright-core, axe-core) and
# of make bench (@tus/server as a peer), each directory on its own; npm ci
# installs exactly what a committed lockfile says.
top=$(cd "$(dirname "$0")/../.." && pwd)
for d in contrib/web tests/e2e tests/bench; do
	[ -f "$top/$d/package.json" ] || continue
	if [ ! -d "$top/$d/node_modules" ] ||
	   [ "$top/$d/package.json" -nt "$top/$d/node_modules" ] ||
	   [ "$top/$d/package-lock.json" -nt "$top/$d/node_modules" ]; then
		echo "deps: installing npm packages for $d"
		if [ -f "$top/$d/package-lock.json" ]; then
			(cd "$top/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		else
			(cd "$top/$d" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
		fi
		touch "$top/$d/node_modules"
	fi
done
# The Makefile's record that contrib/web's packages match its lockfile.
[ ! -d "$top/contrib/web/node_modules" ] ||
	touch "$top/contrib/web/node_modules/.verhaal-stamp"
