#!/bin/sh
# `make test`: unit tests (cmocka), fuzz-corpus replays, then end-to-end
# tests against the real verhaald and a throwaway PostgreSQL created in a
# temporary directory for this run and removed afterwards. Ends with one
# line: "N passed, M failed".
set -u

e2e_only=0
if [ "${1:-}" = "--e2e-only" ]; then
	e2e_only=1
	shift
fi
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case "$build" in /*) ;; *) build="$top/$build" ;; esac

pass=0
fail=0
failed=""

# Sanitizer builds: every report of any process the tests start (unit
# tests, verhaald, verhaalctl) goes to a file here, and each file fails the
# run, since a daemon's stderr is shown only when its own test fails.
# libvips' threads hand work over through GLib's futexes, which TSan cannot
# see, so only accesses from instrumented code (ours) count as races.
san=$(mktemp -d /tmp/verhaal-san.XXXXXX)
# The e2e files' timeout is a guard against a hang, not a speed test: the
# sanitizers make every process slower (TSan five to fifteen times).
timeout=180000
case $build in
*thread*) timeout=900000
	export TSAN_OPTIONS="log_path=$san/tsan:ignore_noninstrumented_modules=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" ;;
*address*|*undefined*) timeout=360000
	export ASAN_OPTIONS="log_path=$san/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" ;;
esac

record() {	# name status
	if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); failed="$failed $1"; fi
}

if [ "$e2e_only" = 0 ]; then
	echo "== unit tests"
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1)
		rc=$?
		n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
		pass=$((pass + ${n:-0}))
		fail=$((fail + ${f:-0}))
		if [ $rc -ne 0 ]; then
			printf '%s\n' "$out"
			[ -z "$f" ] && fail=$((fail + 1))
			failed="$failed $(basename "$t")"
		fi
		echo "$(basename "$t"): ${n:-0} passed, ${f:-0} failed"
	done

	echo "== include rule (tests/layers.mjs)"
	node tests/layers.mjs
	record layers $?

	echo "== fuzz corpus replays"
	for r in "$build"/tests/replay_fuzz_*; do
		[ -x "$r" ] || continue
		name=${r##*/replay_}
		out=$("$r" "tests/fuzz/corpus/$name" 2>&1)
		rc=$?
		echo "$name: $out"
		record "$name" $rc
	done

	echo "== fuzz smoke (libFuzzer, 10 s per target)"
	out=$(sh tests/fuzz/run.sh --smoke 10 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^\([0-9]* passed, [0-9]* failed\)$/fuzz smoke: \1/'
	n=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -n 1)
	pass=$((pass + ${n:-0}))
	fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		[ "${f:-0}" -eq 0 ] && fail=$((fail + 1))
		failed="$failed fuzz-smoke"
	fi
fi

echo "== end-to-end tests"
tmp=$(mktemp -d /tmp/verhaal-test.XXXXXX)
chmod 0755 "$tmp"
cleanup() {
	sh contrib/dev/pgcluster.sh stop "$tmp/pg" >/dev/null 2>&1
	rm -rf "$tmp" "$san"
}
trap cleanup EXIT INT TERM

if sh contrib/dev/pgcluster.sh init "$tmp/pg" && sh contrib/dev/pgcluster.sh start "$tmp/pg"; then
	export VERHAAL_BUILD="$build"
	export VERHAAL_TEST_PGDIR="$tmp/pg"
	export VERHAAL_TEST_TMP="$tmp"
	# E2E="a b" runs only tests/e2e/a.test.mjs and b.test.mjs.
	if [ -n "${E2E:-}" ]; then
		set --
		for n in $E2E; do set -- "$@" "tests/e2e/$n.test.mjs"; done
	else
		set -- tests/e2e/*.test.mjs
	fi
	if [ -e "$1" ]; then
		node --test --test-concurrency=2 --test-timeout="$timeout" --test-reporter=spec \
		    --test-reporter-destination=stdout --test-reporter=tap \
		    --test-reporter-destination="$tmp/e2e.tap" "$@"
		rc=$?
		n=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$tmp/e2e.tap" | tail -n 1)
		f=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$tmp/e2e.tap" | tail -n 1)
		pass=$((pass + ${n:-0}))
		fail=$((fail + ${f:-0}))
		if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
			fail=$((fail + 1))
		fi
		[ $rc -ne 0 ] && failed="$failed e2e"
	fi
	for s in tests/e2e/*_test.sh; do
		[ -e "$s" ] && [ -z "${E2E:-}" ] || continue
		db=t_$(basename "$s" _test.sh | tr -c 'a-z0-9\n' '_')
		sh contrib/dev/pgcluster.sh createdb "$tmp/pg" "$db"
		out=$(VERHAAL_DATABASE_URL="host=$tmp/pg/run dbname=$db user=verhaal" \
		    sh "$s" "$build/verhaalctl" 2>&1)
		rc=$?
		printf '%s\n' "$out"
		last=$(printf '%s\n' "$out" | tail -n 1)
		n=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
		f=$(printf '%s' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
		pass=$((pass + ${n:-0}))
		fail=$((fail + ${f:-0}))
		if [ $rc -ne 0 ]; then
			[ "${f:-0}" -eq 0 ] && fail=$((fail + 1))
			failed="$failed $(basename "$s")"
		fi
	done
else
	echo "could not start a throwaway PostgreSQL" >&2
	fail=$((fail + 1))
	failed="$failed postgres"
fi

for r in "$san"/*; do
	[ -e "$r" ] || continue
	echo "== sanitizer report ${r##*/}"
	cat "$r"
	fail=$((fail + 1))
	failed="$failed ${r##*/}"
done
rm -rf "$san"

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
