#!/bin/sh
# `make fuzz`: builds every tests/fuzz/fuzz_*.c as a libFuzzer binary with
# clang (ASan + UBSan) under build-fuzz/ and runs each for a while over a
# scratch copy of its seed corpus, so the committed corpus never grows.
#
#   sh tests/fuzz/run.sh [SECONDS]          each target SECONDS (default 60)
#   sh tests/fuzz/run.sh --smoke [SECONDS]  short run for the test suite
#                                           (default 10 s, quieter output)
#
# FUZZ_RUNS=N stops each target after N executions instead (SECONDS then
# only bounds it); FUZZ_KEEP=1 merges the inputs that reached new coverage
# into the committed corpus (libFuzzer's -merge=1 keeps only those);
# FUZZ_TARGETS="fuzz_a fuzz_b" runs only those targets.
#
# The library is compiled once with clang into build-fuzz/libverhaal.a and
# only rebuilt where a source or header is newer than its object; a target
# links only the archive members it needs. Targets run side by side, one
# per CPU. Prints one line per target and ends with "N passed, M failed".
# A crash leaves its input in build-fuzz/artifacts/ and its log in
# build-fuzz/logs/.
set -u

smoke=0
if [ "${1:-}" = "--smoke" ]; then
	smoke=1
	shift
fi
secs=${1:-}
[ -n "$secs" ] || { [ "$smoke" = 1 ] && secs=10 || secs=60; }
case "$secs" in
''|*[!0-9]*) echo "usage: run.sh [--smoke] [SECONDS]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build-fuzz
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "fuzz: $CLANG not found; run make deps (clang libclang-rt-14-dev)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# The pkg-config list lives in the Makefile; ask make for it so the two
# never drift apart.
pkgs=$(printf 'print-pkgs:\n\t@echo $(PKGS)\n' |
    make -s --no-print-directory -f Makefile -f - print-pkgs 2>/dev/null)
[ -n "$pkgs" ] || { echo "fuzz: cannot read PKGS from the Makefile" >&2; exit 1; }
pkg_cflags=$(pkg-config --cflags $pkgs) || exit 1
pkg_libs=$(pkg-config --libs $pkgs) || exit 1

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -pthread -Wall \
-fno-omit-frame-pointer $(for d in lib/*/; do printf -- "-I%s " "${d%/}"; done)-Icmd/verhaald -I$out/lib $pkg_cflags"
ncpu=$(nproc 2>/dev/null || echo 2)

mkdir -p "$out/lib" "$out/logs" "$out/artifacts" "$out/tests"

# newest FILE...: the newest of the files (by mtime).
newest() {
	ls -t "$@" 2>/dev/null | head -n 1
}

# A header change may touch any object; rebuild those older than it.
hdr=$(newest lib/*/*.h cmd/verhaald/app.h tests/fuzz/*.h)

# The embedded schema, as the Makefile makes it.
schema_c=$out/lib/vh_schema_gen.c
set -- schema/[0-9][0-9][0-9][0-9]_*.sql
if [ ! -f "$schema_c" ] || [ -n "$(find "$@" contrib/dev/embed-schema.sh \
    -newer "$schema_c" 2>/dev/null)" ]; then
	sh contrib/dev/embed-schema.sh "$@" >"$schema_c.tmp" &&
	    mv "$schema_c.tmp" "$schema_c" || exit 1
fi

# Objects to (re)build, then compiled in parallel; the daemon's
# composition root goes in too (the targets run the real server).
todo=""
for src in lib/*/vh_*.c cmd/verhaald/app.c "$schema_c"; do
	obj=$out/lib/$(basename "$src" .c).o
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$hdr" -nt "$obj" ]; then
		todo="$todo $src"
	fi
done
if [ -n "$todo" ]; then
	[ "$smoke" = 1 ] || echo "fuzz: compiling$(echo $todo | wc -w | sed 's/^/ /') library sources with clang"
	export CLANG CFLAGS out
	# shellcheck disable=SC2086
	printf '%s\n' $todo | xargs -P "$ncpu" -I{} sh -c \
	    '$CLANG $CFLAGS -fsanitize=fuzzer-no-link -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -c -o "$out/lib/$(basename {} .c).o" {} \
	    2>"$out/logs/$(basename {} .c).cc.log" || { cat "$out/logs/$(basename {} .c).cc.log" >&2; exit 255; }' ||
	    { echo "fuzz: compiling the library failed"; echo "0 passed, 1 failed"; exit 1; }
	rm -f "$out/libverhaal.a"
fi
liba=$out/libverhaal.a
if [ ! -f "$liba" ]; then
	ar rcs "$liba" "$out"/lib/*.o || exit 1
fi

pass=0
fail=0
failed=""
targets=""

# Link each target when it or the archive is newer than its binary.
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$out/$name
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$liba" -nt "$bin" ] ||
	    [ "$hdr" -nt "$bin" ]; then
		# shellcheck disable=SC2086
		if ! $CLANG $CFLAGS -fsanitize=fuzzer $SAN -o "$bin" "$src" "$liba" \
		    $pkg_libs -lm >"$out/logs/$name.ld.log" 2>&1; then
			echo "$name: BUILD FAILED (see $out/logs/$name.ld.log)"
			cat "$out/logs/$name.ld.log" | head -n 20
			fail=$((fail + 1))
			failed="$failed $name"
			continue
		fi
	fi
	case " ${FUZZ_TARGETS:-$name} " in *" $name "*) targets="$targets $name" ;; esac
done

# run NAME: fuzz one target for $secs seconds over a scratch corpus; the
# exit status and the log say how it went.
run_one() {
	name=$1
	work=$(mktemp -d "${TMPDIR:-/tmp}/verhaal-fuzz.XXXXXX")
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$work/"
	fi
	"./$out/$name" -max_total_time="$secs" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
	    -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
	    "$work" >"$out/logs/$name.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ "${FUZZ_KEEP:-0}" = 1 ]; then
		mkdir -p "tests/fuzz/corpus/$name"
		"./$out/$name" -merge=1 "tests/fuzz/corpus/$name" "$work" \
		    >"$out/logs/$name.merge.log" 2>&1
	fi
	rm -rf "$work"
	echo "$rc" >"$out/logs/$name.rc"
}

# Run the targets, one per CPU at a time.
set -- $targets
while [ $# -gt 0 ]; do
	batch=""
	i=0
	while [ $# -gt 0 ] && [ "$i" -lt "$ncpu" ]; do
		rm -f "$out/logs/$1.rc"
		run_one "$1" &
		batch="$batch $1"
		i=$((i + 1))
		shift
	done
	wait
	for name in $batch; do
		log=$out/logs/$name.log
		rc=$(cat "$out/logs/$name.rc" 2>/dev/null || echo 1)
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(sed -n 's/^#[0-9]*.*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		if [ "$rc" -eq 0 ]; then
			pass=$((pass + 1))
			took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
			echo "$name: ok, ${runs:-?} runs in ${took:-$secs} s, cov ${cov:-?}"
		else
			fail=$((fail + 1))
			failed="$failed $name"
			art=$(ls -t "$out/artifacts/$name-"* 2>/dev/null | head -n 1)
			echo "$name: FAILED (exit $rc; log $log${art:+; input $art})"
			if [ "$smoke" = 0 ]; then
				grep -m 1 -E 'ERROR|runtime error|SUMMARY' "$log"
			fi
		fi
	done
done

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
