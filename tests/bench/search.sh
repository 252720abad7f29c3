#!/bin/sh
# The search part of `make bench`: generates BENCH_SEARCH_ENTRIES (default
# 1,000,000) entries inside PostgreSQL (tests/bench/search_gen.sql), copies
# them for the baseline (tests/bench/search_base.sql: the search SQL of
# commit 49c4869, when issue 14 set its bar), then times typical queries
# three ways in one run, interleaved request by request: the baseline's
# SQL, today's SQL, and today's API through verhaald. It prints p50/p95 of
# each and the ratios today/baseline, the figures to hold against the bar
# on a machine whose load drifts, plus the facet counts of queries
# matching most entries.
#
#   sh tests/bench/search.sh [BUILD]
#
# BENCH_SEARCH_ITER requests per query kind (default 30); BENCH_SEARCH_KINDS
# the kinds to time (default all: text text_wijk_theme dossier all_entries
# common_word facets_all facets_common). BENCH_SEARCH_DIR
# keeps the cluster there between runs (the data is generated once);
# otherwise a temporary directory is used and removed.
set -u
. "$(dirname "$0")/lib.sh"

bench_init "${1:-}"
n=${BENCH_SEARCH_ENTRIES:-1000000}
iter=${BENCH_SEARCH_ITER:-30}

bench_need psql curl
bench_dir search "${BENCH_SEARCH_DIR:-}"
bench_pg
bench_entries "$n" ../shared/data/areas
if [ "$(q "SELECT count(*) FROM pg_class WHERE oid = to_regclass('search_base.entry')")" = 0 ] ||
    [ "$(q "SELECT count(*) FROM search_base.entry")" != "$(q "SELECT count(*) FROM entry")" ]; then
	echo "copying the entries for the baseline (49c4869's index) ..."
	t0=$(date +%s)
	psql "$db" -Xq -f tests/bench/search_base.sql >/dev/null || exit 1
	echo "copied in $(( $(date +%s) - t0 )) s"
fi
echo "entries: $(q "SELECT count(*) FROM entry"), summary rows: $(q "SELECT count(*) FROM entry_count"), table+indexes: $(q "SELECT pg_size_pretty(pg_total_relation_size('entry'))")"

# An analyst: published entries only, the common case.
token=$("$build/verhaalctl" token create --user bench-analyst --role analyst 2>/dev/null | tail -n 1)
account=$(q "SELECT id FROM account WHERE name = 'bench-analyst'")
bench_daemon

words=$(q "SELECT w FROM bench_word ORDER BY i")
wijken=$(q "SELECT code FROM area WHERE level = 'wijk' ORDER BY code")
themes="woninginbraak overlast-en-leefbaarheid veiligheidsgevoel geweld fietsendiefstal"
# The most frequent word of the texts (weight C: not a theme tag's word,
# which is indexed as it is, stop words and all): a query matching most
# entries.
common=$(q "SELECT word FROM ts_stat('SELECT ts_filter(search, ''{c}'') FROM entry TABLESAMPLE SYSTEM (1)')
    ORDER BY ndoc DESC LIMIT 1")
f0="\"role\":\"analyst\",\"account\":$account,\"k\":5"

# kind: one line per variant, "PATH<TAB>FUNCTION<TAB>FILTER": the API path
# and the SQL function it runs with its jsonb argument.
variants() {
	case $1 in
	text)
		for w in $words; do
			printf '/api/v1/entries?q=%s\tvh_search\t%s\n' "$w" \
			    "{$f0,\"q\":\"$w\"}"
		done ;;
	text_wijk_theme)
		set -- $wijken
		i=0
		for w in $words; do
			i=$((i + 1))
			wk=$(echo "$wijken" | sed -n "$(( (i % $#) + 1 ))p")
			th=$(echo $themes | tr ' ' '\n' | sed -n "$(( (i % 5) + 1 ))p")
			printf '/api/v1/entries?q=%s&area=%s&theme=%s\tvh_search\t%s\n' \
			    "$w" "$wk" "$th" \
			    "{$f0,\"q\":\"$w\",\"area\":\"$wk\",\"theme\":[\"$th\"]}"
		done ;;
	dossier)
		for wk in $wijken GM0344; do
			printf '/api/v1/areas/%s/dossier?from=2016&to=2025\tvh_area_dossier\t%s\n' \
			    "$wk" "{$f0,\"code\":\"$wk\",\"from\":\"2016\",\"to\":\"2025\"}"
		done ;;
	all_entries)
		printf '/api/v1/entries?limit=20\tvh_search\t%s\n' "{$f0,\"limit\":20}"
		printf '/api/v1/entries?limit=20&from=2018&to=2022\tvh_search\t%s\n' \
		    "{$f0,\"limit\":20,\"from\":\"2018\",\"to\":\"2022\"}" ;;
	common_word)
		printf '/api/v1/entries?q=%s&sort=recent&limit=20\tvh_search\t%s\n' \
		    "$common" "{$f0,\"q\":\"$common\",\"sort\":\"recent\",\"limit\":20}" ;;
	facets_all)
		printf '/api/v1/entries?limit=1\tvh_search_facets\t%s\n' "{$f0}" ;;
	facets_common)
		printf '/api/v1/entries?q=%s&sort=recent&limit=1\tvh_search_facets\t%s\n' \
		    "$common" "{$f0,\"q\":\"$common\"}" ;;
	esac
}

pct() { bench_pct "$1" "$2" 1; }

# One psql session runs, for each request, the baseline's SQL (B), today's
# SQL (C) and today's API request (A, through curl from the same script),
# in the order B C A, then A C B for the next, and so on: whatever load
# the machine carries falls on all three alike. Each kind first runs its
# first five variants once on all three, untimed (the session's
# dictionary and the caches are warm, as in a daemon that has run a
# while). psql's \timing measures the SQL from sending to the last row,
# curl the request from connecting to the last byte.
one() {	# side path function filter -> psql lines
	case $1 in
	B) printf "SELECT search_base.%s('%s'::jsonb)::text;\n" "$3" "$4" ;;
	C) printf "SELECT %s('%s'::jsonb)::text;\n" "$3" "$4" ;;
	A) printf "\\\\! curl -sS -o /dev/null -w 'A %%{http_code} %%{time_total}\\\\n' -H 'Authorization: Bearer %s' '%s%s'\n" \
	    "$token" "$base" "$2" ;;
	esac
}
script() {	# kind -> psql script on stdout
	nv=$(wc -l <"$dir/$1.tsv")
	printf '\\o /dev/null\n\\timing on\n'
	head -n 5 "$dir/$1.tsv" | while IFS='	' read -r path fn filter; do
		for s in $(sides "$fn"); do one "$s" "$path" "$fn" "$filter"; done
	done
	printf '\\echo measured\n'
	i=0
	while [ "$i" -lt "$iter" ]; do
		line=$(sed -n "$(( i % nv + 1 ))p" "$dir/$1.tsv")
		path=$(printf '%s' "$line" | cut -f1)
		fn=$(printf '%s' "$line" | cut -f2)
		filter=$(printf '%s' "$line" | cut -f3)
		order=$(sides "$fn")
		[ $((i % 2)) = 1 ] && order=$(echo $order | awk '{ for (i = NF; i > 0; i--) print $i }')
		for s in $order; do
			[ "$s" = A ] || printf '\\echo T %s\n' "$s"
			one "$s" "$path" "$fn" "$filter"
		done
		i=$((i + 1))
	done
}
sides() {	# function -> the sides it is timed on (no baseline for the dossier)
	case $1 in vh_search|vh_search_facets) echo B C A ;; *) echo C A ;; esac
}

# Every pool worker opens its connection (and loads the dictionary) on its
# first job: as many requests at once as there are workers, twice.
nworkers=$(sed -n 's/^workers *= *\([0-9]*\).*/\1/p' config/verhaald.conf)
for _ in 1 2; do
	cpids=""
	for _ in $(seq 1 "${nworkers:-16}"); do
		curl -sS -o /dev/null -H "Authorization: Bearer $token" \
		    "$base/api/v1/entries?q=$(echo $words | cut -d' ' -f1)&limit=1" &
		cpids="$cpids $!"
	done
	wait $cpids
done

results=$dir/results.txt
: >"$results"
for kind in ${BENCH_SEARCH_KINDS:-text text_wijk_theme dossier all_entries common_word facets_all facets_common}; do
	variants $kind >"$dir/$kind.tsv"
	script $kind >"$dir/$kind.psql"
	rm -f "$dir/$kind.A" "$dir/$kind.B" "$dir/$kind.C"
	psql "$db" -Xq -v ON_ERROR_STOP=1 -f "$dir/$kind.psql" >"$dir/$kind.out" 2>"$dir/psql.err" ||
	    { cat "$dir/psql.err" >&2; exit 1; }
	awk -v d="$dir/$kind" '
	    /^measured$/ { on = 1; next }
	    !on { next }
	    /^T / { side = $2; next }
	    /^Time: / { print $2 > (d "." side); next }
	    /^A / { if ($2 != 200) { print "bench: API answered " $2 > "/dev/stderr"; bad = 1 }
		    printf "%.3f\n", $3 * 1000 > (d ".A") }
	    END { exit bad }' "$dir/$kind.out" || exit 1
	b50=-; b95=-; rr=-
	if [ -s "$dir/$kind.B" ]; then
		b50=$(pct "$dir/$kind.B" 50); b95=$(pct "$dir/$kind.B" 95)
		# The median of the request-by-request ratios C/B.
		paste "$dir/$kind.C" "$dir/$kind.B" | awk '{ printf "%.4f\n", $1 / $2 }' >"$dir/$kind.r"
		rr=$(sort -n "$dir/$kind.r" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
	fi
	echo "$kind $b50 $b95 $(pct "$dir/$kind.C" 50) $(pct "$dir/$kind.C" 95) $rr $(pct "$dir/$kind.A" 50) $(pct "$dir/$kind.A" 95)" >>"$results"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "search bench: $(q "SELECT count(*) FROM entry") entries, $iter requests per query, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); common word '$common' in ~$(q "SELECT (100 * count(*) / (SELECT count(*) FROM entry))::int FROM entry WHERE search @@ to_tsquery('verhaal_dutch', '$common')")% of entries"
printf '%-16s %8s %8s %8s %8s %7s %7s %8s %8s %7s\n' query "base p50" "base p95" "SQL p50" "SQL p95" "p95 x" "pair x" \
    "API p50" "API p95" "API/SQL"
while read -r kind b50 b95 c50 c95 rr a50 a95; do
	printf '%-16s %8s %8s %8s %8s %7s %7s %8s %8s %7s\n' "$kind" "$b50" "$b95" "$c50" "$c95" \
	    "$(ratio "$c95" "$b95")" "$rr" "$a50" "$a95" "$(ratio "$a50" "$c50")"
done <"$results"
echo "(milliseconds. base = the search SQL of commit 49c4869 (tests/bench/search_base.sql), the day issue 14"
echo " set its bar; SQL = today's SQL; both in one psql session, interleaved request by request with"
echo " API = today's request through verhaald (token check, HTTP). p95 x = SQL p95 / base p95, pair x ="
echo " the median of the per-request ratios SQL/base: at or below 1.00 is no regression. facets_* rows:"
echo " API is a whole search with limit=1, SQL the facet function alone; aim <= 150 ms p95)"
