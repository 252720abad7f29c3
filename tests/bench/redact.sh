#!/bin/sh
# The redact part of `make bench`: GET /api/v1/session latency with the
# daemon idle, then while two audio redactions of 10-minute recordings
# run (they are media-runner jobs and must not hold up the request pool
# that checks credentials). Prints both p99s and their ratio; the goal
# is a ratio of at most 2.
#
#   sh tests/bench/redact.sh [BUILD]
#
# BENCH_REDACT_SECONDS sets the recordings' length (default 600).
set -u

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
case "$build" in /*) ;; *) build="$top/$build" ;; esac
secs=${BENCH_REDACT_SECONDS:-600}

dir=$(mktemp -d /tmp/verhaal-bench-redact.XXXXXX)
chmod 0755 "$dir"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	sh contrib/dev/pgcluster.sh stop "$dir/pg" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

for t in psql node ffmpeg espeak-ng; do
	command -v $t >/dev/null 2>&1 || { echo "bench: $t not found; run make deps" >&2; exit 1; }
done

# Two different 10-minute recordings: Dutch speech looped, over a tone.
espeak-ng -v nl -w "$dir/speech.wav" "Ik woon al twintig jaar in deze buurt en 's avonds voel ik me niet meer veilig op straat." || exit 1
for i in 1 2; do
	ffmpeg -v error -stream_loop -1 -i "$dir/speech.wav" -f lavfi \
	    -i "sine=frequency=$((300 + 100 * i)):sample_rate=22050:duration=$secs" \
	    -filter_complex "[0:a]aresample=22050[s];[s][1:a]amix=inputs=2:duration=shortest" \
	    -t "$secs" -ac 1 -c:a libopus -b:a 24k "$dir/rec$i.ogg" || exit 1
done

sh contrib/dev/pgcluster.sh init "$dir/pg" >/dev/null &&
    sh contrib/dev/pgcluster.sh start "$dir/pg" >/dev/null || exit 1
db="host=$dir/pg/run dbname=verhaal user=verhaal"
export VERHAAL_DATABASE_URL="$db"
"$build/verhaalctl" migrate >/dev/null || exit 1
tok() { "$build/verhaalctl" token create --user "bench-$1" --role "$1" 2>/dev/null | tail -n 1; }
fw=$(tok fieldworker)
mod=$(tok moderator)

VERHAAL_LISTEN_PORT=0 VERHAAL_DATA_DIR="$dir/data" VERHAAL_LOG_LEVEL=info \
    VERHAAL_MEDIA_RUNNERS=2 \
    "$build/verhaald" -c config/verhaald.conf 2>"$dir/verhaald.log" &
pid=$!
base=""
for _ in $(seq 1 100); do
	base=$(sed -n 's|.*listening on \(http://[^/ ]*\)/.*|\1|p' "$dir/verhaald.log" | head -n 1)
	[ -n "$base" ] && break
	sleep 0.1
done
[ -n "$base" ] || { echo "bench: verhaald did not start" >&2; cat "$dir/verhaald.log" >&2; exit 1; }

node tests/bench/redact_client.mjs "$base" "$fw" "$mod" "$dir/rec1.ogg" "$dir/rec2.ogg" "$secs" ||
    { tail -n 30 "$dir/verhaald.log" >&2; exit 1; }
