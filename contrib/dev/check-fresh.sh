#!/bin/sh
# `make check-fresh`: `make deps && make test` on a clean Debian 12 root, as
# a new developer's freshly installed machine would run them. Catches a tool
# that a test or target calls but `make deps` does not install.
#
#   sh contrib/dev/check-fresh.sh [BUILD]
#
# The root comes from debootstrap (minbase: even less than a fresh install,
# so nothing is found by luck) with the Debian mirror this machine's apt
# uses; it is cached as BUILD/fresh-root.tar and unpacked anew each run into
# BUILD/fresh-root. The checkout (without build*/, var/, node_modules) goes
# to /src/verhaal and ../shared, read-only, to /src/shared. Only `make` is
# installed by hand first, as the README tells a new developer to.
# The log is BUILD/fresh.log; the last line printed is make test's.
set -eu

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
case "$build" in /*) ;; *) build="$top/$build" ;; esac
cache="$build/fresh-root.tar"
root="$build/fresh-root"
log="$build/fresh.log"
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
	echo "check-fresh: needs root (debootstrap, chroot, mount)" >&2
	exit 1
fi
PATH="$PATH:/usr/sbin:/sbin"
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "check-fresh: debootstrap is missing; run make deps" >&2
	exit 1
fi

# In a private mount namespace every mount below goes away with this
# process even if it is killed; the trap unmounts them on any other exit.
if [ -z "${VH_FRESH_NS:-}" ] && command -v unshare >/dev/null 2>&1 &&
    unshare --mount --propagation private true 2>/dev/null; then
	VH_FRESH_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi

# The Debian mirror and security mirror of this machine's apt sources
# (deb822 .sources or one-line .list), else Debian's default.
uris() {	# suite-regex
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v re="$1" '
			    /^[ \t]*$/ { u = ""; s = "" }
			    /^URIs:/ { u = $2 }
			    /^Suites:/ { s = $0 }
			    u != "" && s != "" && s ~ re { print u; u = ""; s = "" }' "$f"
		done
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		    sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) \([^ ]*\) .*main.*/\2 \3/p' |
		    awk -v re="$1" '(" " $2) ~ re { print $1 }'
	} | grep -E '/debian(-security)?/?$' | head -n 1
}
mirror=$(uris " $suite( |\$)")
mirror=${mirror:-http://deb.debian.org/debian}
security=$(uris " $suite-security( |\$)")

# Never delete through a mount left by an earlier run (a bound /dev).
if grep -q " $root/" /proc/self/mountinfo; then
	echo "check-fresh: something is still mounted under $root; unmount it first" >&2
	exit 1
fi

mkdir -p "$build"
if [ ! -f "$cache" ]; then
	echo "check-fresh: debootstrap $suite from $mirror (once; cached in $cache)"
	rm -rf --one-file-system "$cache.d"
	debootstrap --variant=minbase "$suite" "$cache.d" "$mirror" \
	    >"$build/fresh-debootstrap.log" 2>&1 ||
	    { tail -n 20 "$build/fresh-debootstrap.log" >&2; exit 1; }
	tar -C "$cache.d" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
	rm -rf --one-file-system "$cache.d"
fi

echo "check-fresh: unpacking a clean root in $root"
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" -xf "$cache"

{
	printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
	    "$mirror" "$suite" "$suite"
	printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
	if [ -n "$security" ]; then
		printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\n' \
		    "$security" "$suite"
		printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
	fi
} >"$root/etc/apt/sources.list.d/debian.sources"
rm -f "$root/etc/apt/sources.list"
# A mirror serving a dated snapshot has Release files past their
# Valid-Until; this machine's apt is told so, and the root's must be too.
for f in /etc/apt/apt.conf.d/*; do
	grep -qs 'Check-Valid-Until' "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The way out to the registries may pass a TLS-inspecting proxy whose CA
# this machine trusts locally; the root trusts the same ones (the
# ca-certificates package that make deps installs adds them to the store,
# and node is pointed at that store as here).
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# Packages must not start their services (PostgreSQL, nginx) in a chroot
# that shares this machine's network: the usual policy-rc.d says no.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

mkdir -p "$root/src/verhaal" "$root/src/shared"
tar -C "$top" --exclude='./build*' --exclude='./var' --exclude='./.git' \
    --exclude='node_modules' -cf - . | tar -C "$root/src/verhaal" -xf -

mounts=""
domount() {	# target, then mount's arguments
	t=$1
	shift
	mount "$@" "$t"
	mounts="$t $mounts"
}
cleanup() {
	trap - EXIT INT TERM
	# Whatever still runs inside (a PostgreSQL a test left) holds the
	# mounts; those processes are ours, started below.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
		    kill -KILL "${p#/proc/}" 2>/dev/null
	done
	sleep 1
	for m in $mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" ||
		    echo "check-fresh: could not unmount $m" >&2
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

domount "$root/proc" -t proc proc
domount "$root/dev" --bind /dev
domount "$root/dev/pts" --bind /dev/pts
domount "$root/dev/shm" -t tmpfs -o mode=1777,size=1g shm
if [ -d "$top/../shared" ]; then
	domount "$root/src/shared" --bind -o ro "$(cd "$top/../shared" && pwd -P)"
fi

echo "check-fresh: make deps && make test in the chroot (log: $log)"
status="$build/fresh.status"
rm -f "$status"
{
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive \
	    ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt} \
	    sh -c '
		set -e
		echo "fresh: apt-get install make (the one step before make deps)"
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends make >/dev/null
		cd /src/verhaal
		make deps
		make test' 2>&1
	echo $? >"$status"
} | tee "$log"
rc=$(cat "$status" 2>/dev/null || echo 1)
echo "check-fresh: $(tail -n 1 "$log") (exit $rc)"
exit "$rc"
