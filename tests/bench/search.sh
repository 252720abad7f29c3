#!/bin/sh
# The search part of `make bench`: generates BENCH_SEARCH_ENTRIES (default
# 1,000,000) entries inside PostgreSQL (tests/bench/search_gen.sql), then
# times typical queries through verhaald's API and the same SQL run
# directly with pgbench in the same run, and prints p50/p95 of both and
# their ratio, plus the facet counts of queries matching most entries.
#
#   sh tests/bench/search.sh [BUILD]
#
# BENCH_SEARCH_ITER requests per query kind (default 30). BENCH_SEARCH_DIR
# keeps the cluster there between runs (the data is generated once);
# otherwise a temporary directory is used and removed.
set -u

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
case "$build" in /*) ;; *) build="$top/$build" ;; esac
n=${BENCH_SEARCH_ENTRIES:-1000000}
iter=${BENCH_SEARCH_ITER:-30}
areas=../shared/data/areas

if [ -n "${BENCH_SEARCH_DIR:-}" ]; then
	dir=$BENCH_SEARCH_DIR
	mkdir -p "$dir"
	keep=1
else
	dir=$(mktemp -d /tmp/verhaal-bench-search.XXXXXX)
	keep=0
fi
chmod 0755 "$dir"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	sh contrib/dev/pgcluster.sh stop "$dir/pg" >/dev/null 2>&1
	[ "$keep" = 0 ] && rm -rf "$dir"
}
trap cleanup EXIT INT TERM

for t in pgbench psql node; do
	command -v $t >/dev/null 2>&1 || { echo "bench: $t not found; run make deps" >&2; exit 1; }
done
sh contrib/dev/pgcluster.sh init "$dir/pg" >/dev/null &&
    sh contrib/dev/pgcluster.sh start "$dir/pg" >/dev/null || exit 1
db="host=$dir/pg/run dbname=verhaal user=verhaal"
export VERHAAL_DATABASE_URL="$db"
q() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

"$build/verhaalctl" migrate >/dev/null || exit 1
have=$(q "SELECT count(*) FROM entry")
if [ "$have" -lt "$n" ]; then
	if [ "$(q "SELECT count(*) FROM area")" -eq 0 ]; then
		if [ -d "$areas" ]; then
			"$build/verhaalctl" import-areas "$areas"/*.csv "$areas"/*.geojson >/dev/null 2>&1
		else
			echo "bench: $areas is absent; using made-up buurten without boundaries"
			q "INSERT INTO area (code, level, name, parent) SELECT 'GM0344', 'gemeente', 'Utrecht', NULL
			   UNION ALL SELECT 'WK0344' || lpad(w::text, 2, '0'), 'wijk', 'Wijk ' || w, 'GM0344' FROM generate_series(1, 10) w
			   UNION ALL SELECT 'BU0344' || lpad(w::text, 2, '0') || lpad(b::text, 2, '0'), 'buurt', 'Buurt ' || w || '.' || b,
			     'WK0344' || lpad(w::text, 2, '0') FROM generate_series(1, 10) w, generate_series(1, 11) b"
		fi
	fi
	echo "generating $((n - have)) entries in PostgreSQL ..."
	t0=$(date +%s)
	psql "$db" -Xq -v n=$((n - have)) -f tests/bench/search_gen.sql >/dev/null || exit 1
	echo "generated in $(( $(date +%s) - t0 )) s"
fi
echo "entries: $(q "SELECT count(*) FROM entry"), summary rows: $(q "SELECT count(*) FROM entry_count"), table+indexes: $(q "SELECT pg_size_pretty(pg_total_relation_size('entry'))")"

# An analyst: published entries only, the common case.
token=$("$build/verhaalctl" token create --user bench-analyst --role analyst 2>/dev/null | tail -n 1)
account=$(q "SELECT id FROM account WHERE name = 'bench-analyst'")
: >"$dir/verhaald.log"	# a kept directory has the last run's
VERHAAL_LISTEN_PORT=0 VERHAAL_DATA_DIR="$dir/data" VERHAAL_LOG_LEVEL=info \
    "$build/verhaald" -c config/verhaald.conf 2>"$dir/verhaald.log" &
pid=$!
base=""
for _ in $(seq 1 100); do
	base=$(sed -n 's|.*listening on \(http://[^/ ]*\)/.*|\1|p' "$dir/verhaald.log" | head -n 1)
	[ -n "$base" ] && break
	sleep 0.1
done
[ -n "$base" ] || { echo "bench: verhaald did not start" >&2; cat "$dir/verhaald.log" >&2; exit 1; }

words=$(q "SELECT w FROM bench_word ORDER BY i")
wijken=$(q "SELECT code FROM area WHERE level = 'wijk' ORDER BY code")
themes="woninginbraak overlast-en-leefbaarheid veiligheidsgevoel geweld fietsendiefstal"
# The most frequent indexed word: a query matching most entries.
common=$(q "SELECT word FROM ts_stat('SELECT search FROM entry TABLESAMPLE SYSTEM (1)')
    ORDER BY ndoc DESC LIMIT 1")
f0="\"role\":\"analyst\",\"account\":$account,\"k\":5"

# kind: one line per variant, "PATH<TAB>SQL"
variants() {
	case $1 in
	text)
		for w in $words; do
			printf '/api/v1/entries?q=%s\tSELECT vh_search(%s)::text\n' "$w" \
			    "'{$f0,\"q\":\"$w\"}'::jsonb"
		done ;;
	text_wijk_theme)
		set -- $wijken
		i=0
		for w in $words; do
			i=$((i + 1))
			wk=$(echo "$wijken" | sed -n "$(( (i % $#) + 1 ))p")
			th=$(echo $themes | tr ' ' '\n' | sed -n "$(( (i % 5) + 1 ))p")
			printf '/api/v1/entries?q=%s&area=%s&theme=%s\tSELECT vh_search(%s)::text\n' \
			    "$w" "$wk" "$th" \
			    "'{$f0,\"q\":\"$w\",\"area\":\"$wk\",\"theme\":[\"$th\"]}'::jsonb"
		done ;;
	dossier)
		for wk in $wijken GM0344; do
			printf '/api/v1/areas/%s/dossier?from=2016&to=2025\tSELECT vh_area_dossier(%s)::text\n' \
			    "$wk" "'{$f0,\"code\":\"$wk\",\"from\":\"2016\",\"to\":\"2025\"}'::jsonb"
		done ;;
	all_entries)
		printf '/api/v1/entries?limit=20\tSELECT vh_search(%s)::text\n' "'{$f0,\"limit\":20}'::jsonb"
		printf '/api/v1/entries?limit=20&from=2018&to=2022\tSELECT vh_search(%s)::text\n' \
		    "'{$f0,\"limit\":20,\"from\":\"2018\",\"to\":\"2022\"}'::jsonb" ;;
	common_word)
		printf '/api/v1/entries?q=%s&sort=recent&limit=20\tSELECT vh_search(%s)::text\n' \
		    "$common" "'{$f0,\"q\":\"$common\",\"sort\":\"recent\",\"limit\":20}'::jsonb" ;;
	facets_all)
		printf '/api/v1/entries?limit=1\tSELECT vh_search_facets(%s)::text\n' "'{$f0}'::jsonb" ;;
	facets_common)
		printf '/api/v1/entries?q=%s&sort=recent&limit=1\tSELECT vh_search_facets(%s)::text\n' \
		    "$common" "'{$f0,\"q\":\"$common\"}'::jsonb" ;;
	esac
}

pct() {	# file p -> value
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int((NR - 1) * p / 100 + 0.5) + 1; printf "%.1f", v[i] }'
}

results=$dir/results.txt
: >"$results"
for kind in text text_wijk_theme dossier all_entries common_word facets_all facets_common; do
	variants $kind >"$dir/$kind.tsv"
	cut -f1 "$dir/$kind.tsv" >"$dir/$kind.paths"
	args=""
	i=0
	while IFS='	' read -r path sql; do
		i=$((i + 1))
		printf '%s;\n' "$sql" >"$dir/$kind.$i.sql"
		args="$args -f $dir/$kind.$i.sql"
	done <"$dir/$kind.tsv"
	# Same run, alternating: API, then the SQL directly, then the API again.
	node tests/bench/search_client.mjs "$base" "$token" "$dir/$kind.paths" $((iter / 2)) >"$dir/$kind.api" || exit 1
	rm -f "$dir"/pgb_$kind*
	(cd "$dir" && pgbench -n -c 1 -t "$iter" -l --log-prefix="pgb_$kind" $args "$db" >/dev/null 2>"$dir/pgbench.err") ||
	    { cat "$dir/pgbench.err" >&2; exit 1; }
	awk '{ printf "%.3f\n", $3 / 1000 }' "$dir"/pgb_$kind* >"$dir/$kind.sql.ms"
	node tests/bench/search_client.mjs "$base" "$token" "$dir/$kind.paths" $((iter - iter / 2)) >>"$dir/$kind.api" || exit 1
	a50=$(pct "$dir/$kind.api" 50); a95=$(pct "$dir/$kind.api" 95)
	s50=$(pct "$dir/$kind.sql.ms" 50); s95=$(pct "$dir/$kind.sql.ms" 95)
	echo "$kind $a50 $a95 $s50 $s95" >>"$results"
done

echo
echo "search bench: $(q "SELECT count(*) FROM entry") entries, $iter requests per query, $(nproc) CPUs; common word '$common' in ~$(q "SELECT (100 * count(*) / (SELECT count(*) FROM entry))::int FROM entry WHERE search @@ to_tsquery('dutch', '$common')")% of entries"
printf '%-18s %9s %9s %9s %9s %7s %7s\n' query "API p50" "API p95" "SQL p50" "SQL p95" "x p50" "x p95"
while read -r kind a50 a95 s50 s95; do
	printf '%-18s %9s %9s %9s %9s %7s %7s\n' "$kind" "$a50" "$a95" "$s50" "$s95" \
	    "$(awk -v a="$a50" -v s="$s50" 'BEGIN { printf "%.2f", a / s }')" \
	    "$(awk -v a="$a95" -v s="$s95" 'BEGIN { printf "%.2f", a / s }')"
done <"$results"
echo "(milliseconds; API = HTTP request through verhaald with token check, SQL = the same statement with pgbench;"
echo " facets_* rows: API is a whole search with limit=1, SQL the facet function alone; aim <= 150 ms p95)"
