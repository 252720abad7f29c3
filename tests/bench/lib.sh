# The prologue the bench parts share, sourced (`. tests/bench/lib.sh`)
# by search.sh, websearch.sh, redact.sh and transcode.sh: where the
# build and the tree are, a bench directory removed on exit, a private
# PostgreSQL cluster in it, and verhaald started on a free loopback port.
# Each function sets the shell variables named in its comment; the
# cleanup trap stops whatever of these was started.

# bench_init [BUILD]: top (the tree, and the working directory from now
# on) and build (absolute; default "build").
bench_init() {
	build=${1:-build}
	top=$(cd "$(dirname "$0")/../.." && pwd)
	cd "$top" || exit 1
	case "$build" in /*) ;; *) build="$top/$build" ;; esac
}

# bench_need TOOL...: exits when one is not on PATH.
bench_need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
		    { echo "bench: $t not found; run make deps" >&2; exit 1; }
	done
}

# bench_dir NAME [KEEP]: dir, the bench directory: KEEP when it is set
# (kept between runs: a generated data set is made once), else a new
# temporary one, removed on exit. Installs the cleanup trap.
bench_dir() {
	if [ -n "${2:-}" ]; then
		dir=$2
		mkdir -p "$dir" || exit 1
		keep=1
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/verhaal-bench-$1.XXXXXX") || exit 1
		keep=0
	fi
	# The cluster runs as postgres when we are root: it must get in.
	chmod 0755 "$dir"
	pid=""
	pg=0
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ "$pg" = 1 ] && sh contrib/dev/pgcluster.sh stop "$dir/pg" >/dev/null 2>&1
	[ "$keep" = 0 ] && rm -rf "$dir"
	return 0
}

# bench_pg: a private cluster in $dir/pg, migrated; db (its connection
# string, exported as VERHAAL_DATABASE_URL) and q SQL (one statement,
# its rows unaligned).
bench_pg() {
	sh contrib/dev/pgcluster.sh init "$dir/pg" >/dev/null &&
	    sh contrib/dev/pgcluster.sh start "$dir/pg" >/dev/null || exit 1
	pg=1
	db="host=$dir/pg/run dbname=verhaal user=verhaal"
	export VERHAAL_DATABASE_URL="$db"
	"$build/verhaalctl" migrate >/dev/null || exit 1
}

q() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# bench_daemon [NAME=VALUE...]: verhaald on a free port with these
# settings added, its log in $dir/verhaald.log; pid, and base (its URL)
# once it listens.
bench_daemon() {
	: >"$dir/verhaald.log"	# a kept directory has the last run's
	env VERHAAL_LISTEN_PORT=0 VERHAAL_DATA_DIR="$dir/data" \
	    VERHAAL_LOG_LEVEL=info "$@" \
	    "$build/verhaald" -c config/verhaald.conf 2>"$dir/verhaald.log" &
	pid=$!
	base=""
	for _ in $(seq 1 100); do
		base=$(sed -n 's|.*listening on \(http://[^/ ]*\)/.*|\1|p' \
		    "$dir/verhaald.log" | head -n 1)
		[ -n "$base" ] && return 0
		sleep 0.1
	done
	echo "bench: verhaald did not start" >&2
	cat "$dir/verhaald.log" >&2
	exit 1
}

# bench_entries N AREAS: at least N generated entries in the cluster
# (tests/bench/search_gen.sql), the buurten imported from AREAS (a
# directory of CBS files) or, without it, from contrib/seed.
bench_entries() {
	have=$(q "SELECT count(*) FROM entry")
	[ "$have" -lt "$1" ] || return 0
	if [ "$(q "SELECT count(*) FROM area")" -eq 0 ]; then
		a=$2
		[ -d "$a" ] || { echo "bench: $a is absent; using contrib/seed's areas"; a=contrib/seed; }
		"$build/verhaalctl" import-areas "$a"/*.csv "$a"/*.geojson >/dev/null 2>&1
	fi
	echo "generating $(($1 - have)) entries in PostgreSQL ..."
	t0=$(date +%s)
	psql "$db" -Xq -v n=$(($1 - have)) -f tests/bench/search_gen.sql >/dev/null || exit 1
	echo "generated in $(( $(date +%s) - t0 )) s"
}

# bench_pct FILE P [DECIMALS]: the P-th percentile of FILE's numbers, one
# a line (nearest rank), with DECIMALS (default 0) decimals.
bench_pct() {
	sort -n "$1" | awk -v p="$2" -v d="${3:-0}" '{ v[NR] = $1 }
	    END { i = int((NR - 1) * p / 100 + 0.5) + 1; printf "%.*f", d, v[i] }'
}
