#!/bin/sh
# The transcoding part of `make bench`: a 10-minute Dutch speech recording
# (espeak-ng -v nl) as WAV, M4A/AAC, WebM/Opus and 3GP/AMR-NB, each run
# through verhaal's audio pipeline (tests/bench/transcode_bench.c, built
# here against the library, in the sandbox as the media runners run it),
# timed per stage, next to `ffmpeg -c:a libopus -b:a 24k` and
# `opusenc --bitrate 24` on the same input. Prints x realtime and the
# ratios to ffmpeg's Opus-only run.
#
# usage: sh tests/bench/transcode.sh [build-dir]
set -eu

. "$(dirname "$0")/lib.sh"

bench_init "${1:-}"
minutes=${VERHAAL_BENCH_MINUTES:-10}

bench_need espeak-ng ffmpeg opusenc sox bc
[ -f "$build/lib/libverhaal.a" ] || { echo "transcode bench: build first (make)"; exit 1; }

bench_dir transcode

PKGS="libevent libevent_pthreads libpq opus libopusenc libmagic jansson inih
libcrypto libavformat libavcodec libswresample libavutil vips libebur128 libargon2
libseccomp"
# shellcheck disable=SC2086
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -pthread $(for d in lib/*/; do printf -- "-I%s " "${d%/}"; done)-I"$build" \
	$(pkg-config --cflags $PKGS) tests/bench/transcode_bench.c \
	"$build/lib/libverhaal.a" $(pkg-config --libs $PKGS) -lm -o "$dir/transcode_bench"
# The confined decoder is found beside the program that runs it, and
# starts as nobody, who must be able to reach it.
ln -s "$build/verhaal-media" "$dir/verhaal-media"
chmod 755 "$dir"

# One paragraph of speech, repeated to the length wanted, as a phone would
# record it (mono, 48 kHz).
text="Wij wonen al dertig jaar in deze buurt. Sinds de winter staat er op de
hoek van de straat een kapotte lantaarn, en als het donker is voelt het daar
niet meer veilig. Mijn buurvrouw durft 's avonds niet meer naar de bushalte.
De wijkagent is langs geweest en heeft beloofd dat de gemeente het oppakt."
espeak-ng -v nl -s 150 -w "$dir/para.wav" "$text"
ffmpeg -v error -y -stream_loop -1 -i "$dir/para.wav" -t $((minutes * 60)) \
	-ar 48000 -ac 1 -c:a pcm_s16le "$dir/speech.wav"
ffmpeg -v error -y -i "$dir/speech.wav" -c:a aac -b:a 64k "$dir/speech.m4a"
ffmpeg -v error -y -i "$dir/speech.wav" -c:a libopus -b:a 32k "$dir/speech.webm"
sox "$dir/speech.wav" -r 8000 -c 1 -t amr-nb "$dir/speech.amr"
ffmpeg -v error -y -i "$dir/speech.amr" -c:a copy "$dir/speech.3gp"
secs=$((minutes * 60))

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }
xrt() { echo "scale=1; $secs * 1000 / $1" | bc -l; }	# ms -> x realtime
ratio() { echo "scale=2; $1 / $2" | bc -l; }

echo "== transcoding: ${minutes} min of espeak-ng -v nl speech, $(nproc) CPU(s)"
printf '%-5s %-8s %8s %8s %8s %8s %8s %8s %9s %9s %9s %8s %8s %8s\n' \
	input codec probe decode loudness opus aac peaks "verhaal" "ffmpeg" "opusenc" \
	"x_rt" "opus/ff" "all/ff"
printf '%-5s %-8s %8s %8s %8s %8s %8s %8s %9s %9s %9s %8s %8s %8s\n' \
	"" "" ms ms ms ms ms ms "total ms" "opus ms" "opus ms" "verhaal" "" ""
for f in wav m4a webm 3gp; do
	in="$dir/speech.$f"
	line=$("$dir/transcode_bench" "$in" "$dir" 2>/dev/null)
	get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	# ffmpeg's Opus-only run and opusenc's, on the same file.
	t0=$(now)
	ffmpeg -v quiet -y -i "$in" -c:a libopus -b:a 24k "$dir/ff.opus"
	t1=$(now)
	ff=$(echo "$(elapsed "$t0" "$t1") * 1000" | bc -l)
	# opusenc reads WAV, FLAC and Ogg only: it gets the decoded WAV, and the
	# decoding is not counted against it.
	if [ "$f" = wav ]; then ow="$in"; else
		ow="$dir/decoded.wav"
		ffmpeg -v quiet -y -i "$in" -ar 48000 -ac 1 "$ow"
	fi
	t0=$(now)
	opusenc --quiet --bitrate 24 "$ow" "$dir/oe.opus" 2>/dev/null
	t1=$(now)
	oe=$(echo "$(elapsed "$t0" "$t1") * 1000" | bc -l)
	wall=$(get wall)
	printf '%-5s %-8s %8s %8s %8s %8s %8s %8s %9.0f %9.0f %9.0f %8s %8s %8s\n' \
		"$f" "$(get codec)" "$(get probe)" "$(get decode)" "$(get loudness)" \
		"$(get opus)" "$(get aac)" "$(get peaks)" "$wall" "$ff" "$oe" \
		"$(xrt "$wall")" "$(ratio "$ff" "$(get opus)")" "$(ratio "$ff" "$wall")"
done
cat <<'NOTE'
x_rt: audio seconds per wall second of verhaal's whole pipeline (sandboxed:
fork, probe, two decoding passes, loudness, Opus, AAC, peaks).
opus/ff: ffmpeg's Opus-only run time / verhaal's Opus stage (>= 1: verhaal's
Opus leg is at least as fast). all/ff: ffmpeg's Opus-only run / verhaal's
whole pipeline (>= 0.5: the aim). ffmpeg and opusenc times include their
process start. FFmpeg's own AMR-NB decoder gives up on many frames that
sox's encoder wrote ("not yet implemented"), so its 3gp run decodes less
audio than verhaal's (which splits the frames itself).
NOTE
