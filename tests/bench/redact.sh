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
. "$(dirname "$0")/lib.sh"

bench_init "${1:-}"
secs=${BENCH_REDACT_SECONDS:-600}

bench_need psql node ffmpeg espeak-ng
bench_dir redact

# Two different 10-minute recordings: Dutch speech looped, over a tone.
espeak-ng -v nl -w "$dir/speech.wav" "Ik woon al twintig jaar in deze buurt en 's avonds voel ik me niet meer veilig op straat." || exit 1
for i in 1 2; do
	ffmpeg -v error -stream_loop -1 -i "$dir/speech.wav" -f lavfi \
	    -i "sine=frequency=$((300 + 100 * i)):sample_rate=22050:duration=$secs" \
	    -filter_complex "[0:a]aresample=22050[s];[s][1:a]amix=inputs=2:duration=shortest" \
	    -t "$secs" -ac 1 -c:a libopus -b:a 24k "$dir/rec$i.ogg" || exit 1
done

bench_pg
tok() { "$build/verhaalctl" token create --user "bench-$1" --role "$1" 2>/dev/null | tail -n 1; }
fw=$(tok fieldworker)
mod=$(tok moderator)

bench_daemon VERHAAL_MEDIA_RUNNERS=2

node tests/bench/redact_client.mjs "$base" "$fw" "$mod" "$dir/rec1.ogg" "$dir/rec2.ogg" "$secs" ||
    { tail -n 30 "$dir/verhaald.log" >&2; exit 1; }
