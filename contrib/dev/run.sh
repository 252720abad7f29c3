#!/bin/sh
# `make run`: verhaald in the foreground. With no database configured (the
# database_url key or VERHAAL_DATABASE_URL), it first starts a private
# PostgreSQL cluster under ./var/pg (created once, kept between runs).
# On the first run (no account yet) verhaalctl first-run creates an admin
# and prints its password once, and loads Utrecht's areas from
# contrib/seed. Ctrl-C stops verhaald, then that cluster.
set -eu

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
conf=${VERHAAL_CONFIG:-config/verhaald.conf}
verhaald="$build/verhaald"

get() { "$verhaald" -c "$conf" --get "$1"; }

"$verhaald" -n -c "$conf" >/dev/null
pgdir="$top/var/pg"
own_pg=0
if [ -z "$(get database_url)" ]; then
	if [ ! -f "$pgdir/pgdata/PG_VERSION" ]; then
		echo "run: creating a private PostgreSQL cluster in $pgdir (once)"
		sh contrib/dev/pgcluster.sh init "$pgdir"
	fi
	sh contrib/dev/pgcluster.sh start "$pgdir"
	own_pg=1
	# verhaalctl's rule finds this cluster (cmd/verhaalctl/ctl_setup.c);
	# asking it keeps the rule in one place, and verhaalctl run in
	# another shell reaches the same database.
	VERHAAL_DATABASE_URL=$("$build/verhaalctl" -c "$conf" db-url 2>/dev/null) ||
	    { "$build/verhaalctl" -c "$conf" db-url; exit 1; }
	export VERHAAL_DATABASE_URL
fi

addr=$(get listen_address)
port=$(get listen_port)
data=$(get data_dir)
case "$data" in /*) ;; *) data="$top/$data" ;; esac

pid=""
stop() {
	trap - INT TERM EXIT
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ "$own_pg" = 1 ]; then
		sh contrib/dev/pgcluster.sh stop "$pgdir"
		echo "run: stopped verhaald and the private PostgreSQL"
	else
		echo "run: stopped verhaald"
	fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

cat <<MSG
------------------------------------------------------------------
 verhaald:  http://$addr:$port/   (try: curl http://$addr:$port/readyz)
 data:      $data
 database:  $([ "$own_pg" = 1 ] && echo "private cluster in $pgdir (log: $pgdir/postgres.log)" || echo "configured database_url")
 config:    $conf
 verhaalctl: $([ "$own_pg" = 1 ] && echo "build/verhaalctl finds this database by itself (run it from $top)" || echo "build/verhaalctl -c $conf")
 stop:      Ctrl-C (stops verhaald, then the private PostgreSQL)
------------------------------------------------------------------
MSG

# Migrations, the first admin (only while there is no account) and the
# seed areas (only while there are none); a second run changes nothing.
"$build/verhaalctl" -c "$conf" first-run --seed contrib/seed

"$verhaald" -c "$conf" &
pid=$!
wait "$pid" || true
