#!/bin/sh
# make bench: turns the raw cells that tests/bench/run.sh collected into the
# printed report: what ran where, one table row per cell, then the ratios
# verhaald/peer of uploads per second.
#
#   sh tests/bench/report.sh RESULTS BENCHDIR
#
# RESULTS has one line per cell: "set server size clients ok duration_us
# p50_us p99_us rss_kB errors server_cpu_us pg_cpu_us head_idle_p99_us
# head_load_p99_us head_errors media_cpu_us note", with "-" for a cell that did not run
# (or a figure not taken) and the reason in note. BENCH_DD holds the dd
# rates (MB/s) before and after the cells, BENCH_DD_MIB their size.
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
echo "disk rate: dd bs=1M count=${BENCH_DD_MIB:-?} conv=fdatasync in the bench directory: $(echo ${BENCH_DD:-- -} | awk '{ print $1 " MB/s before the cells, " $2 " MB/s after" }')"
echo "           (the ratios below use the higher)"
echo

awk -v dd="${BENCH_DD:-- -}" '
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
function ms(us) { return us == "-" ? "-" : sprintf("%.1f", us / 1000) }
function fmt(x) { return x == "" ? "-" : sprintf("%.2f", x) }
BEGIN {
	split(dd, d, " ")
	disk = (d[1] + 0 > d[2] + 0) ? d[1] + 0 : d[2] + 0
	printf "%-9s %-12s %7s %7s %10s %8s %8s %8s %7s %6s %7s %7s %7s %13s\n",
	    "bodies", "server", "body", "clients", "uploads/s", "MB/s", "p50 ms",
	    "p99 ms", "RSS MiB", "errors", "CPU ms", "PG ms", "media", "HEAD p99 ms"
	printf "%-9s %-12s %7s %7s %10s %8s %8s %8s %7s %6s %7s %7s %7s %13s\n",
	    "", "", "", "", "", "", "", "", "peak", "", "/upload", "/upload",
	    "ms/upl", "idle / load"
}
{
	key = $1 " " $3 " " $4
	if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
	note = $17
	for (i = 18; i <= NF; i++) note = note " " $i
	if ($5 == "-") {
		printf "%-9s %-12s %7s %7s   %s\n", $1, name($2), human($3), $4, why(note)
		next
	}
	secs = $6 / 1e6
	rate = (secs > 0 && $5 > 0) ? $5 / secs : 0
	rates[$2 " " key] = rate
	mbs[$2 " " key] = rate * $3 / 1e6
	cpu = $5 > 0 ? $11 / $5 / 1000 : 0
	pg = ($12 != "-" && $5 > 0) ? $12 / $5 / 1000 : -1
	kid = ($16 != "-" && $5 > 0) ? $16 / $5 / 1000 : -1
	if ($2 == "verhaald") {
		vcpu[key] = cpu + (pg > 0 ? pg : 0)
		if ($13 != "-" && $14 != "-" && $13 > 0)
			hratio[key] = $14 / $13
	}
	printf "%-9s %-12s %7s %7d %10s %8.1f %8s %8s %7.1f %6d %7.2f %7s %7s %13s%s\n",
	    $1, name($2), human($3), $4,
	    sprintf(rate < 10 ? "%.2f" : "%.1f", rate), rate * $3 / 1e6,
	    ($5 > 0 ? ms($7) : "-"), ($5 > 0 ? ms($8) : "-"), $9 / 1024, $10 + $15,
	    cpu, (pg >= 0 ? sprintf("%.2f", pg) : "-"),
	    (kid >= 0 ? sprintf("%.2f", kid) : "-"),
	    ($13 == "-" ? "-" : ms($13) " / " ms($14)),
	    (note != "-" ? "  " note : "")
}
END {
	printf "\nverhaald against its peers and the disk (aims of issue 18: >= 0.7 x nginx and\n"
	printf ">= 1.5 x @tus/server in uploads/s for 1 MiB; >= 0.9 x nginx and >= 0.8 x the\n"
	printf "disk in MB/s for 50 MB; verhaald + PostgreSQL CPU <= 2 ms per 1 MiB upload;\n"
	printf "HEAD p99 under load <= 2 x idle; no errors)\n"
	printf "%-9s %7s %7s %8s %8s %8s %14s %11s\n", "bodies", "body",
	    "clients", "v/nginx", "v/@tus", "v/disk", "v+PG ms/upload",
	    "HEAD load/idle"
	for (i = 1; i <= nkeys; i++) {
		split(keys[i], k, " ")
		v = rates["verhaald " keys[i]]
		n = rates["nginx " keys[i]]
		t = rates["tus-node " keys[i]]
		vm = mbs["verhaald " keys[i]]
		printf "%-9s %7s %7s %8s %8s %8s %14s %11s\n", k[1], human(k[2]), k[3],
		    (v > 0 && n > 0) ? sprintf("%.2f", v / n) : "-",
		    (v > 0 && t > 0) ? sprintf("%.2f", v / t) : "-",
		    (vm > 0 && disk > 0) ? sprintf("%.2f", vm / disk) : "-",
		    (keys[i] in vcpu) ? sprintf("%.2f", vcpu[keys[i]]) : "-",
		    (keys[i] in hratio) ? sprintf("%.2f", hratio[keys[i]]) : "-"
	}
	print "\nMB = 10^6 bytes; latency from the first byte of the request to the whole"
	print "response; peak RSS = VmHWM of the server process (nginx: master + workers);"
	print "CPU = user + system time of the server'"'"'s processes during the load, per"
	print "stored upload; PG = the same for all of PostgreSQL'"'"'s processes; media ="
	print "that of verhaald'"'"'s media sandboxes (children that ended in the cell; the"
	print "runners are on, as by default, and each cell'"'"'s left-over jobs are dropped"
	print "after it); v+PG = CPU + PG of verhaald (media not included); HEAD = one HEAD every 20 ms on one"
	print "keep-alive connection, idle before the load and during it (large bodies);"
	print "errors = bad statuses, socket errors and timeouts, HEAD errors included;"
	print "bodies unique = a counter in the first 16 bytes, identical = the same bytes."
}' "$results"
