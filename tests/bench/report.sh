#!/bin/sh
# make bench: turns the raw cells that tests/bench/run.sh collected into the
# printed report: what ran where, one table row per cell, then the ratios
# verhaald/peer of uploads per second.
#
#   sh tests/bench/report.sh RESULTS BENCHDIR
#
# RESULTS has one line per cell: "server size clients ok duration_us p50_us
# p99_us rss_kB errors note", with "-" for a cell that did not run and the
# reason in note.
set -u

results=$1
dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)

tusver=$(sed -n 's/^ *"version": *"\(.*\)".*/\1/p' \
    "$top/tests/bench/node_modules/@tus/server/package.json" 2>/dev/null | head -n 1)
fsver=$(sed -n 's/^ *"version": *"\(.*\)".*/\1/p' \
    "$top/tests/bench/node_modules/@tus/file-store/package.json" 2>/dev/null | head -n 1)
cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)

echo "verhaal upload benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:   $(nproc) CPU ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "disk:      $(df -P "$dir" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$dir")), bench directory $dir"
echo "verhaald:  $(git -C "$top" describe --always --dirty 2>/dev/null), tus creation-with-upload, fdatasync + rename + directory fsync"
echo "nginx:     $(nginx -v 2>&1 | sed 's/.*version: //'), WebDAV PUT into files (no fsync)"
echo "peer:      @tus/server ${tusver:-?} + @tus/file-store ${fsver:-?} on node $(node --version) (no fsync)"
echo "load:      $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }') with tests/bench/upload.lua, keep-alive, one upload per request"
echo

awk '
function human(b) {
	if (b % 1048576 == 0) return (b / 1048576) " MiB"
	if (b % 1000000 == 0) return (b / 1000000) " MB"
	return b " B"
}
function name(s) {
	if (s == "tus-node") return "@tus/server"
	return s
}
function why(note) {
	if (note ~ /^status-/) {
		sub(/^status-/, "", note)
		return "tus endpoint not available (status " note ")"
	}
	if (note == "not-built") return "not built (make all)"
	if (note == "not-started") return "server did not start"
	if (note == "no-postgresql") return "no PostgreSQL (make deps)"
	return note
}
BEGIN {
	printf "%-12s %7s %7s %10s %9s %9s %9s %12s %6s\n", "server", "body",
	    "clients", "uploads/s", "MB/s", "p50 ms", "p99 ms", "peak RSS MiB",
	    "errors"
}
{
	key = $2 " " $3
	if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
	note = $10
	for (i = 11; i <= NF; i++) note = note " " $i
	if ($4 == "-") {
		printf "%-12s %7s %7s   %s\n", name($1), human($2), $3, why(note)
		next
	}
	if ($4 == 0) {
		rates[$1 " " key] = 0
		printf "%-12s %7s %7d %10.1f %9.1f %9s %9s %12.1f %6d  %s\n",
		    name($1), human($2), $3, 0, 0, "-", "-", $8 / 1024, $9, note
		next
	}
	secs = $5 / 1e6
	rate = secs > 0 ? $4 / secs : 0
	rates[$1 " " key] = rate
	printf "%-12s %7s %7d %10s %9.1f %9.1f %9.1f %12.1f %6d%s\n",
	    name($1), human($2), $3, sprintf(rate < 10 ? "%.2f" : "%.1f", rate), rate * $2 / 1e6, $6 / 1000,
	    $7 / 1000, $8 / 1024, $9, (note != "-" ? "  " note : "")
}
END {
	printf "\nverhaald / peer, uploads per second (aims: >= 0.9 x nginx, >= 3 x @tus/server)\n"
	printf "%7s %7s %15s %21s\n", "body", "clients", "verhaald/nginx",
	    "verhaald/@tus/server"
	for (i = 1; i <= nkeys; i++) {
		split(keys[i], k, " ")
		v = rates["verhaald " keys[i]]
		n = rates["nginx " keys[i]]
		t = rates["tus-node " keys[i]]
		printf "%7s %7s %15s %21s\n", human(k[1]), k[2],
		    (v > 0 && n > 0) ? sprintf("%.2f", v / n) : "-",
		    (v > 0 && t > 0) ? sprintf("%.2f", v / t) : "-"
	}
	print "\nMB = 10^6 bytes; latency from the first byte of the request to the whole"
	print "response; peak RSS = VmHWM of the server process (nginx: master + workers)."
}' "$results"
