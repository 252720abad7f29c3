#!/bin/sh
# A private PostgreSQL cluster in a directory: used by `make run` (under
# ./var) and by the tests (in a temporary directory). It listens only on a
# Unix socket inside the directory, never on TCP.
#
#   pgcluster.sh init DIR    initdb once, create the database "verhaal"
#   pgcluster.sh start DIR   start it (waits until it accepts connections)
#   pgcluster.sh stop DIR    fast shutdown (waits)
#   pgcluster.sh url DIR     print the libpq connection string
#   pgcluster.sh createdb DIR NAME   create another database in it
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# "postgres" system user that Debian's package creates. PGCLUSTER_OPTS adds
# server options at start (say "-c commit_delay=100"; make bench measures
# such settings with it).
set -eu

cmd=${1:?usage: pgcluster.sh init|start|stop|url|createdb DIR}
dir=${2:?usage: pgcluster.sh $cmd DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pgcluster: no PostgreSQL server found; run make deps" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Where the cluster lives. As root, when the postgres user cannot reach DIR
# (a checkout under /root, say), the files go to /var/tmp and DIR links there.
pgdir="$dir/pgdata"
sock="$dir/run"
[ -L "$pgdir" ] && pgdir=$(readlink -f "$pgdir")
[ -L "$sock" ] && sock=$(readlink -f "$sock")

case "$cmd" in
init)
	if [ -f "$pgdir/PG_VERSION" ]; then
		exit 0
	fi
	if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
		alt=/var/tmp/verhaal-pg-$(printf %s "$dir" | sha1sum | cut -c1-12)
		mkdir -p "$alt/pgdata" "$alt/run"
		chown -R postgres: "$alt"
		chmod 0700 "$alt/pgdata"
		ln -sfn "$alt/pgdata" "$pgdir"
		ln -sfn "$alt/run" "$sock"
		pgdir="$alt/pgdata"
		sock="$alt/run"
		echo "pgcluster: $dir is not reachable by the postgres user; data in $alt"
	else
		mkdir -p "$pgdir" "$sock"
		[ "$(id -u)" -eq 0 ] && chown postgres: "$dir" "$pgdir" "$sock"
		chmod 0700 "$pgdir"
	fi
	as_pg "$bindir/initdb" -D "$pgdir" -U verhaal --auth=trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	;;
start)
	if as_pg "$bindir/pg_ctl" -D "$pgdir" status >/dev/null 2>&1; then
		exit 0
	fi
	# The socket path must fit in sun_path (107 bytes).
	if [ ${#sock} -gt 90 ]; then
		echo "pgcluster: socket directory path too long: $sock" >&2
		exit 1
	fi
	logf="$(dirname "$pgdir")/postgres.log"
	[ "$(id -u)" -eq 0 ] && touch "$logf" && chown postgres: "$logf"
	# The tests run two files at a time, each with daemons of up to 16
	# workers, 48 PATCH connections and its media runners, on this one
	# cluster: PostgreSQL's default of 100 connections is too few.
	as_pg "$bindir/pg_ctl" -D "$pgdir" -l "$logf" -w -t 60 \
	    -o "-k $sock -c listen_addresses='' -c max_connections=300 ${PGCLUSTER_OPTS:-}" \
	    start >/dev/null ||
	    { tail -n 20 "$logf" >&2; exit 1; }
	"$0" createdb "$dir" verhaal
	;;
stop)
	if as_pg "$bindir/pg_ctl" -D "$pgdir" status >/dev/null 2>&1; then
		as_pg "$bindir/pg_ctl" -D "$pgdir" -m fast -w -t 60 stop >/dev/null
	fi
	;;
url)
	echo "host=$sock dbname=verhaal user=verhaal"
	;;
createdb)
	name=${3:?usage: pgcluster.sh createdb DIR NAME}
	if ! psql -h "$sock" -U verhaal -d postgres -Atc \
	    "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
		psql -h "$sock" -U verhaal -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
	fi
	;;
*)
	echo "pgcluster: unknown command $cmd" >&2
	exit 2
	;;
esac
