#!/bin/sh
# `make bench`: uploads per second, MB/s, latency and peak memory of
# verhaald's durable tus creation-with-upload, side by side with nginx's
# WebDAV PUT into files and the tus project's Node.js server (@tus/server
# with @tus/file-store), on this machine, with one load generator (wrk and
# tests/bench/upload.lua) for all three. A benchmark that prints figures,
# not a test: it fails only when it cannot run at all.
#
#   sh tests/bench/run.sh [BUILD]
#
# Each cell (body set x server x body size x concurrency) starts its server
# afresh on loopback, so the peak RSS (VmHWM, summed over nginx's master and
# workers) and the CPU time (/proc/PID/stat before and after the load, for
# PostgreSQL summed over all its processes) belong to that cell alone.
# verhaald runs against a private PostgreSQL in the bench directory, with
# its default configuration (media runners on). The disk's own durable
# write rate (dd conv=fdatasync in the bench directory) is measured before
# and after the cells, and a HEAD prober (head-probe.mjs) times one HEAD
# every 20 ms, idle and under load, in the large-body cells. Results go to
# stdout and to BUILD/bench-results.txt. docs/bench.md explains the knobs
# (BENCH_* variables) and the columns.
set -u

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
case "$build" in /*) ;; *) build="$top/$build" ;; esac

# BENCH_QUICK=1: the same cells, shorter, so that a whole run takes a few
# minutes on a busy machine; each knob below still overrides it.
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	q_small=5 q_large=8 q_rate=100 q_dd=1000
else
	q_small=8 q_large=12 q_rate=100 q_dd=2000
fi
servers=${BENCH_SERVERS:-"verhaald nginx tus-node"}
sizes=${BENCH_SIZES:-"1048576 50000000"}
concs=${BENCH_CONCURRENCY:-"16 64"}
sets=${BENCH_SETS:-"unique identical"}
secs_small=${BENCH_SECONDS:-$q_small}
secs_large=${BENCH_SECONDS_LARGE:-$q_large}
# A large-body cell lasts at least long enough for every client to finish
# one upload at this aggregate rate (MB/s): 64 clients x 50 MB at 100 MB/s
# is 32 s. Otherwise a slow disk shows nothing but "no upload finished".
min_rate=${BENCH_MIN_RATE:-$q_rate}
dd_mib=${BENCH_DD_MIB:-$q_dd}
# Seconds of idle HEAD probing before the load of a large-body cell.
head_idle=${BENCH_HEAD_IDLE:-2}
# Seconds of load with 64 KiB bodies before each cell's measured window:
# verhaald's pool connections each load the Dutch dictionary on first use
# (0.25 s of PostgreSQL CPU each, schema/0013), node compiles its hot
# paths; the cells measure the steady state, not a server's first second.
warm=${BENCH_WARM:-2}
# One wrk thread: wrk builds each thread's request (body included) before
# the clock starts but starts each thread as soon as it is built, so with
# several threads the first would upload for seconds before the window
# opens. One thread writes far faster than any of the servers stores.
threads=${BENCH_THREADS:-1}
out=$build/bench-results.txt
# Each cell's load average and the whole machine's busy CPU, since other
# work on the machine changes every figure.
loadout=$build/bench-load.txt

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "bench: $1 not found; run make deps" >&2
	exit 1
}
need wrk
need curl
need node
case " $servers " in *" nginx "*) need nginx ;; esac
if [ ! -d tests/bench/node_modules/@tus/server ]; then
	(cd tests/bench && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
	    { echo "bench: npm install in tests/bench failed" >&2; exit 1; }
fi

# /var/tmp rather than /tmp: a tmpfs would make fsync free and flatter
# verhaald. BENCH_DIR puts it elsewhere (say, on the production disk).
base=${BENCH_DIR:-/var/tmp}
tmp=$(mktemp -d "$base/verhaal-bench.XXXXXX") || exit 1
chmod 0755 "$tmp"
results=$tmp/results
: >"$results"
pids=""
probe_pid=""
have_pg=0
hz=$(getconf CLK_TCK)

# alive PID: the process runs (a zombie, exited but not yet reaped by
# wait, does not count).
alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	''|Z*) return 1 ;;
	esac
	return 0
}

stop_server() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		# Children of this shell: wait reaps them; give them 10 s.
		i=0
		while alive "$p" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=""
}
stop_probe() {
	[ -n "$probe_pid" ] || return 0
	kill -TERM "$probe_pid" 2>/dev/null
	wait "$probe_pid" 2>/dev/null
	probe_pid=""
}
cleanup() {
	stop_probe
	stop_server
	[ "$have_pg" = 1 ] && sh contrib/dev/pgcluster.sh stop "$tmp/pg" >/dev/null 2>&1
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: logs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
	    () => { console.log(s.address().port); s.close(); });'
}

# wait_http URL: until anything answers on URL (at most 20 s).
wait_http() {
	i=0
	while [ $i -lt 200 ]; do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# peak_rss PID...: the sum of the processes' and their children's VmHWM, kB.
peak_rss() {
	all=""
	for p in "$@"; do
		all="$all $p $(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')"
	done
	kb=0
	for p in $all; do
		v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null)
		kb=$((kb + ${v:-0}))
	done
	echo "$kb"
}

# ticks PID...: CPU time (user + system) of the processes and their live
# children, in clock ticks. kid_ticks PID...: that of their children that
# exited and were reaped (verhaald's media sandboxes).
ticks() {
	all=""
	for p in "$@"; do
		all="$all $p $(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')"
	done
	t=0
	for p in $all; do
		# Fields after the command name, which is in parentheses.
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{ print $12 + $13 }')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
kid_ticks() {
	t=0
	for p in "$@"; do
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{ print $14 + $15 }')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# pg_ticks: all of the private PostgreSQL's CPU time so far (postmaster,
# backends, background processes); exited backends are in the
# postmaster's reaped-children figures.
pg_ticks() {
	[ "$have_pg" = 1 ] || { echo 0; return; }
	pm=$(head -n 1 "$tmp/pg/pgdata/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] || { echo 0; return; }
	echo $(( $(ticks "$pm") + $(kid_ticks "$pm") ))
}

# pg_sql SQL: one statement against verhaald's database.
pg_sql() {
	psql "$(sh contrib/dev/pgcluster.sh url "$tmp/pg")" -qAtc "$1" \
	    2>>"$tmp/psql.err"
}

# durable_write: MB/s of dd writing dd_mib MiB with one fdatasync at the end
# into the bench directory, the disk's own durable sequential rate.
durable_write() {
	sync
	dd if=/dev/zero of="$tmp/dd.bin" bs=1M count="$dd_mib" conv=fdatasync \
	    2>"$tmp/dd.out" || { echo "-"; return; }
	rm -f "$tmp/dd.bin"
	# "N bytes (...) copied, S s, R MB/s"
	awk '/copied/ { s = $0; sub(/.*copied, /, "", s); sub(/ s,.*/, "", s);
	    if (s > 0) printf "%.0f\n", $1 / s / 1e6 }' "$tmp/dd.out"
}

# probe MODE PATH TOKEN SECONDS: the HEAD prober's line, in the foreground.
probe() {
	node tests/bench/head-probe.mjs "$1" "$url" "$2" "$3" "$4" 20 2>>"$tmp/probe.err" |
	    grep '^HEAD ' | tail -n 1
}

# --- the servers: start_X sets pids and url, or returns non-zero -------

vh_status=""		# why verhaald's rows are empty, once known
vh_token=""

# launch_verhaald LOG PORT [VAR=VALUE...]: one verhaald on PORT (0: the
# kernel picks one) against the bench's PostgreSQL and data directory, its
# log in LOG; adds its pid to pids and sets url once it listens.
launch_verhaald() {
	log=$1 lport=$2
	shift 2
	# Emptied first: the wait below must not read the "listening on" of
	# the previous daemon in this file (a dead port: "status 000").
	: >"$log"
	env "$@" VERHAAL_DATABASE_URL="$(sh contrib/dev/pgcluster.sh url "$tmp/pg")" \
	VERHAAL_LISTEN_ADDRESS=127.0.0.1 VERHAAL_LISTEN_PORT="$lport" \
	VERHAAL_DATA_DIR="$tmp/verhaald/data" VERHAAL_LOG_LEVEL=info VERHAAL_MAX_CONNECTIONS_PER_ADDRESS=0 \
	    "$build/verhaald" -c config/verhaald.conf >"$log" 2>&1 &
	p=$!
	pids="${pids:+$pids }$p"
	i=0
	u=""
	while [ $i -lt 200 ] && [ -z "$u" ]; do
		u=$(sed -n 's|.*listening on \(http://[^/ ]*\)/.*|\1|p' "$log" | head -n 1)
		alive "$p" || break
		[ -n "$u" ] || sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$u" ]; then
		echo "bench: verhaald did not start:" >&2
		tail -n 5 "$log" >&2
		stop_server
		return 1
	fi
	url=$u
}

start_verhaald() {
	mkdir -p "$tmp/verhaald"
	rm -f "$tmp/verhaald/log2"
	launch_verhaald "$tmp/verhaald/log" 0 || return 1
	ready_verhaald
}

# start_verhaald2: two processes on one port (listen_reuseport, issue 18's
# "one event loop per core"), one database, one data directory, each with
# BENCH_VH2_WORKERS pool threads (default: the config's); the first picks
# the port, the second joins it. Metrics listeners off: they would collide.
start_verhaald2() {
	mkdir -p "$tmp/verhaald"
	launch_verhaald "$tmp/verhaald/log" 0 VERHAAL_LISTEN_REUSEPORT=yes \
	    VERHAAL_METRICS_LISTEN= ${BENCH_VH2_WORKERS:+VERHAAL_WORKERS=$BENCH_VH2_WORKERS} ||
	    return 1
	launch_verhaald "$tmp/verhaald/log2" "${url##*:}" VERHAAL_LISTEN_REUSEPORT=yes \
	    VERHAAL_METRICS_LISTEN= ${BENCH_VH2_WORKERS:+VERHAAL_WORKERS=$BENCH_VH2_WORKERS} ||
	    return 1
	ready_verhaald
}

# ready_verhaald: readiness, and the bench's token on first use.
ready_verhaald() {
	# Readiness includes the migrations, which the token needs.
	i=0
	while [ $i -lt 100 ]; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -z "$vh_token" ]; then
		# The token is the last line of stdout, printed once.
		if VERHAAL_DATABASE_URL=$(sh contrib/dev/pgcluster.sh url "$tmp/pg") \
		    "$build/verhaalctl" token create --user bench --role fieldworker \
		    >"$tmp/verhaald/token" 2>>"$tmp/verhaald/ctl.log"; then
			vh_token=$(tail -n 1 "$tmp/verhaald/token")
		else
			echo "bench: verhaalctl token create failed:" \
			    "$(head -n 1 "$tmp/verhaald/ctl.log")" >&2
		fi
	fi
	return 0
}

# probe_verhaald: one small creation-with-upload; prints its status. A
# busy machine may take seconds for the first one: no answer (000) or a
# 503 is asked again, up to three times.
probe_verhaald() {
	auth="X-Bench: no-token"
	[ -n "$vh_token" ] && auth="Authorization: Bearer $vh_token"
	n=0
	while :; do
		st=$(curl -sS -o /dev/null -w "%{http_code}" --max-time 30 -X POST \
		    -H "$auth" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 5' \
		    -H 'Content-Type: application/offset+octet-stream' \
		    -H 'Upload-Metadata: filename YmVuY2guYmlu,kind c3Rvcnk=,title YmVuY2g=' \
		    --data-binary hello "$url/api/v1/uploads" 2>>"$tmp/verhaald/probe.err")
		n=$((n + 1))
		case $st in 000|503) [ $n -lt 3 ] && continue ;; esac
		echo "$st"
		return
	done
}


# busy_ticks: the whole machine's non-idle CPU ticks so far (all sessions).
busy_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
total_ticks() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t }' /proc/stat
}

start_nginx() {
	d=$tmp/nginx
	rm -rf "$d"
	mkdir -p "$d/www/dav" "$d/body" "$d/tmp"
	port=$(free_port)
	user=""
	[ "$(id -u)" -eq 0 ] && user="user root;"
	cat >"$d/nginx.conf" <<EOF
$user
worker_processes auto;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/body;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		location /dav/ {
			root $d/www;
			dav_methods PUT;
			create_full_put_path on;
			client_max_body_size 0;
		}
	}
}
EOF
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' \
	    >"$d/stderr" 2>&1 &
	pids=$!
	url=http://127.0.0.1:$port
	if ! wait_http "$url/"; then
		echo "bench: nginx did not start:" >&2
		cat "$d/stderr" "$d/error.log" >&2 2>/dev/null
		stop_server
		return 1
	fi
}

start_tus_node() {
	d=$tmp/tus-node
	rm -rf "$d"
	mkdir -p "$d/files"
	port=$(free_port)
	node tests/bench/tus-server.mjs "$port" "$d/files" >"$d/log" 2>&1 &
	pids=$!
	url=http://127.0.0.1:$port
	if ! wait_http "$url/"; then
		echo "bench: @tus/server did not start:" >&2
		cat "$d/log" >&2
		stop_server
		return 1
	fi
}

# --- one cell ---------------------------------------------------------

# cell SET SERVER SIZE CONC: appends "set server size conc ok secs p50 p99
# rss bad server_cpu_us pg_cpu_us head_idle_p99 head_load_p99 head_errors
# media_cpu_us note" to $results.
cell() {
	set=$1 server=$2 size=$3 conc=$4
	secs=$secs_small
	large=0
	if [ "$size" -gt 8388608 ]; then
		large=1
		secs=$((conc * size / (min_rate * 1000000)))
		[ "$secs" -lt "$secs_large" ] && secs=$secs_large
	fi
	note=""
	none="- - - - - - - - - - - -"
	case $server in
	verhaald|verhaald2)
		if [ -n "$vh_status" ]; then
			echo "$set $server $size $conc $none $vh_status" >>"$results"
			return
		fi
		start_$server || {
			vh_status="not-started"
			echo "$set $server $size $conc $none $vh_status" >>"$results"
			return
		}
		st=$(probe_verhaald)
		if [ "$st" != 201 ]; then
			# A missing endpoint or token stays so; a slow answer
			# is this cell's alone.
			case $st in 4*) vh_status="status-$st" ;; esac
			# Why curl got no answer, for a look afterwards.
			[ -s "$tmp/verhaald/probe.err" ] && echo "bench: verhaald" \
			    "probe: $(tail -n 1 "$tmp/verhaald/probe.err")" >&2
			cp "$tmp/verhaald/log" "$tmp/verhaald/log.$server.$set.$size.$conc.probe-$st"
			[ -f "$tmp/verhaald/log2" ] && cp "$tmp/verhaald/log2" "$tmp/verhaald/log2.$server.$set.$size.$conc.probe-$st"
			stop_server
			echo "$set $server $size $conc $none status-$st" >>"$results"
			return
		fi
		mode=tus path=/api/v1/uploads okst=201 token=$vh_token
		;;
	nginx)
		start_nginx || { echo "$set $server $size $conc $none not-started" >>"$results"; return; }
		mode=put path=/dav/bench okst="201 204" token=""
		;;
	tus-node)
		start_tus_node || { echo "$set $server $size $conc $none not-started" >>"$results"; return; }
		mode=tus path=/api/v1/uploads okst=201 token=""
		;;
	esac
	t=$threads
	[ "$t" -gt "$conc" ] && t=$conc
	if [ "$warm" -gt 0 ]; then
		BENCH_MODE=$mode BENCH_SIZE=65536 BENCH_PATH=$path BENCH_OK=$okst \
		BENCH_TOKEN=$token wrk -t1 -c"$conc" -d"${warm}s" --timeout 60s \
		    -s tests/bench/upload.lua "$url" >"$tmp/warm.out" 2>&1
		case $server in verhaald*) pg_sql "DELETE FROM job WHERE state =
		    'queued'" >/dev/null ;; esac
	fi
	hidle="-" hload="-" herr=0
	if [ "$large" = 1 ]; then
		h=$(probe "$mode" "$path" "$token" "$head_idle")
		hidle=$(printf '%s\n' "$h" | sed -n 's/.* p99_us=\([0-9]*\).*/\1/p')
		herr=$(printf '%s\n' "$h" | sed -n 's/.* errors=\([0-9]*\).*/\1/p')
		node tests/bench/head-probe.mjs "$mode" "$url" "$path" "$token" \
		    $((secs + 120)) 20 >"$tmp/probe.out" 2>>"$tmp/probe.err" &
		probe_pid=$!
	fi
	la0=$(cut -d' ' -f1-3 /proc/loadavg)
	mb0=$(busy_ticks) mt0=$(total_ticks)
	cpu0=$(ticks $pids)
	kid0=$(kid_ticks $pids)
	pg0=$(pg_ticks)
	BENCH_MODE=$mode BENCH_SIZE=$size BENCH_PATH=$path BENCH_OK=$okst \
	BENCH_TOKEN=$token BENCH_BODIES=$set wrk -t"$t" -c"$conc" -d"${secs}s" \
	    --timeout 120s -s tests/bench/upload.lua "$url" >"$tmp/wrk.out" 2>&1
	cpu1=$(ticks $pids)
	kid1=$(kid_ticks $pids)
	pg1=$(pg_ticks)
	mb1=$(busy_ticks) mt1=$(total_ticks)
	la1=$(cut -d' ' -f1-3 /proc/loadavg)
	if [ "$large" = 1 ]; then
		stop_probe
		h=$(grep '^HEAD ' "$tmp/probe.out" | tail -n 1)
		hload=$(printf '%s\n' "$h" | sed -n 's/.* p99_us=\([0-9]*\).*/\1/p')
		herr=$((${herr:-0} + $(printf '%s\n' "$h" | sed -n 's/.* errors=\([0-9]*\).*/\1/p')))
	fi
	rss=$(peak_rss $pids)
	case $server in verhaald*)
		cp "$tmp/verhaald/log" "$tmp/verhaald/log.$server.$set.$size.$conc"
		[ -f "$tmp/verhaald/log2" ] && cp "$tmp/verhaald/log2" "$tmp/verhaald/log2.$server.$set.$size.$conc"
		# How the kernel spread the connections: requests per process.
		split="$(grep -c '"POST /api/v1/uploads" 201' "$tmp/verhaald/log")"
		[ "$server" = verhaald2 ] && split="$split+$(grep -c '"POST /api/v1/uploads" 201' "$tmp/verhaald/log2")"
		;;
	*) split="-" ;;
	esac
	rm -f "$tmp/verhaald/log2"
	stop_server
	# The media jobs this cell queued and its runners did not get to
	# would load the next cell: each cell's runners work only on its own.
	case $server in verhaald*) pg_sql "DELETE FROM job WHERE state IN
	    ('queued', 'running')" >/dev/null ;; esac
	r=$(grep '^RESULT ' "$tmp/wrk.out" | tail -n 1)
	if [ -z "$r" ]; then
		echo "bench: wrk gave no result for $server $size $conc:" >&2
		tail -n 5 "$tmp/wrk.out" >&2
		echo "$set $server $size $conc $none wrk-failed" >>"$results"
		return
	fi
	get() { printf '%s\n' "$r" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
	bad=$(( $(get bad) + $(get connect) + $(get read) + $(get write) + $(get timeout) ))
	[ "$(get bad)" -gt 0 ] && note="last-bad-status-$(get badstatus)"
	[ "$(get ok)" -eq 0 ] && note="no upload finished within $secs s"
	pgcpu="-" kidcpu="-"
	case $server in verhaald*) pgcpu=$(( (pg1 - pg0) * 1000000 / hz )) &&
	    kidcpu=$(( (kid1 - kid0) * 1000000 / hz )) ;; esac
	# The machine as a whole during the window: its busy share of both
	# CPUs, and what of it was this cell (server + PostgreSQL).
	mbusy=$(( (mb1 - mb0) * 100 / (mt1 - mt0 + 1) ))
	ours=$(( (cpu1 - cpu0) + (pg1 - pg0) ))
	printf '%s %s %s %s ok=%s loadavg_before=%s loadavg_after=%s machine_busy=%s%% cell_ticks=%s machine_busy_ticks=%s split=%s\n' \
	    "$set" "$server" "$size" "$conc" "$(get ok)" "$(echo $la0 | tr ' ' /)" "$(echo $la1 | tr ' ' /)" \
	    "$mbusy" "$ours" "$((mb1 - mb0))" "$split" | tee -a "$tmp/load" >&2
	echo "$set $server $size $conc $(get ok) $(get duration_us) $(get p50_us)" \
	    "$(get p99_us) $rss $bad $(( (cpu1 - cpu0) * 1000000 / hz )) $pgcpu" \
	    "${hidle:--} ${hload:--} ${herr:-0} $kidcpu ${note:--}" >>"$results"
	# @tus/server keeps every upload; do not let 50 MB cells fill the disk.
	# Then write back what is still dirty, so that the next cell does not
	# pay for this one's page cache.
	rm -rf "$tmp/tus-node" "$tmp/nginx"
	sync
}

# --- the run ----------------------------------------------------------

case " $servers " in
*" verhaald "*|*" verhaald2 "*)
	if [ ! -x "$build/verhaald" ]; then
		vh_status="not-built"
	elif sh contrib/dev/pgcluster.sh init "$tmp/pg" >/dev/null &&
	    sh contrib/dev/pgcluster.sh start "$tmp/pg" >/dev/null; then
		have_pg=1
	else
		vh_status="no-postgresql"
	fi
	;;
esac

# A first start applies the migrations and makes the token, so that no
# cell pays for them; PostgreSQL then writes that work out.
if [ -z "$vh_status" ]; then
	printf 'bench: verhaald warm-up ... ' >&2
	if start_verhaald; then
		st=$(probe_verhaald)
		[ "$st" = 201 ] || vh_status="status-$st"
		stop_server
		pg_sql "DELETE FROM job; CHECKPOINT" >/dev/null
	else
		vh_status="not-started"
	fi
	echo "${vh_status:-ok}" >&2
fi
ncells=$(( $(echo $sets | wc -w) * $(echo $servers | wc -w) * $(echo $sizes | wc -w) * $(echo $concs | wc -w) ))
echo "bench: $ncells cells, ${secs_small} s per cell up to 8 MiB, at least ${secs_large} s per larger one; wrk -t$threads" >&2
printf 'bench: dd %s MiB conv=fdatasync ... ' "$dd_mib" >&2
dd_before=$(durable_write)
echo "$dd_before MB/s" >&2
for set in $sets; do
	for size in $sizes; do
		for conc in $concs; do
			for server in $servers; do
				t0=$(date +%s)
				printf 'bench: %-9s %-9s %9s bytes x %3s clients ... ' \
				    "$set" "$server" "$size" "$conc" >&2
				cell "$set" "$server" "$size" "$conc"
				echo "$(( $(date +%s) - t0 )) s" >&2
			done
		done
	done
done
printf 'bench: dd %s MiB conv=fdatasync ... ' "$dd_mib" >&2
dd_after=$(durable_write)
echo "$dd_after MB/s" >&2

mkdir -p "$(dirname "$out")"
BENCH_DD="$dd_before $dd_after" BENCH_DD_MIB=$dd_mib \
    sh tests/bench/report.sh "$results" "$tmp" | tee "$out"
cp "$tmp/load" "$loadout" 2>/dev/null
echo "(also in $out; load per cell in $loadout)"
