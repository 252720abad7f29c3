#!/bin/sh
# End-to-end test of `verhaalctl import-areas` and `import-indicators`
# against a real PostgreSQL with PostGIS and the schema applied.
#   VERHAAL_DATABASE_URL=... sh tests/e2e/import_test.sh build/verhaalctl
# Reads ../shared/data (skips when absent). Prints "N passed, M failed"
# last and exits non-zero when anything failed.
set -u

ctl=${1:?usage: import_test.sh path/to/verhaalctl}
db=${VERHAAL_DATABASE_URL:?set VERHAAL_DATABASE_URL}
data=${VERHAAL_DATA:-../shared/data}
pass=0
fail=0

if [ ! -d "$data/areas" ] || [ ! -d "$data/indicators" ]; then
	echo "skip: $data/areas or $data/indicators is absent"
	echo "0 passed, 0 failed"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$ctl" migrate >/dev/null || { echo "migrate failed"; echo "0 passed, 1 failed"; exit 1; }

ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "FAIL - $1"; }
q() { psql "$db" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# check NAME SQL WANT: the query's single value must equal WANT.
check() {
	got=$(q "$2" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else no "$1: got '$got', want '$3'"; fi
}

areas() {
	"$ctl" import-areas "$data"/areas/*.csv "$data"/areas/*.geojson
}
indicators() {
	"$ctl" import-indicators "$data"/indicators/*
}
counts() {
	q "SELECT (SELECT count(*) FROM area) || '/' ||
	    (SELECT count(boundary) FROM area) || '/' ||
	    (SELECT count(*) FROM indicator) || '/' ||
	    (SELECT count(*) FROM indicator_value) || '/' ||
	    (SELECT count(*) FROM indicator_value WHERE value IS NULL) || '/' ||
	    (SELECT sum(value) FROM indicator_value)"
}

if areas >"$tmp/areas.out" 2>&1; then ok "import-areas"
else no "import-areas: $(cat "$tmp/areas.out")"; fi
if indicators >"$tmp/ind.out" 2>&1; then ok "import-indicators"
else no "import-indicators: $(cat "$tmp/ind.out")"; fi
first=$(counts)

check "111 buurten" "SELECT count(*) FROM area WHERE level = 'buurt'" 111
check "10 wijken" "SELECT count(*) FROM area WHERE level = 'wijk'" 10
check "1 gemeente" "SELECT count(*) FROM area WHERE level = 'gemeente'" 1
check "every area has a boundary" \
    "SELECT count(*) FROM area WHERE boundary IS NULL" 0
check "buurt -> wijk -> gemeente" \
    "SELECT a.parent || ' ' || w.parent FROM area a JOIN area w ON w.code = a.parent WHERE a.code = 'BU03440111'" \
    "WK034401 GM0344"
check "every buurt lies in its wijk" \
    "SELECT count(*) FROM area b JOIN area w ON w.code = b.parent WHERE b.level = 'buurt' AND NOT ST_Within(ST_PointOnSurface(b.boundary), w.boundary)" 0

# A point inside BU03440111 maps back to it, and to nothing else.
check "point in buurt maps to its code (ST_Contains)" \
    "WITH p AS (SELECT ST_PointOnSurface(boundary) AS g FROM area WHERE code = 'BU03440111') SELECT string_agg(code, ',') FROM area, p WHERE level = 'buurt' AND ST_Contains(boundary, p.g)" \
    BU03440111
check "same point as GPS lon/lat text round trip" \
    "WITH p AS (SELECT ST_PointOnSurface(boundary) AS g FROM area WHERE code = 'BU03440111'), t AS (SELECT ST_SetSRID(ST_MakePoint(round(ST_X(g)::numeric, 7)::float8, round(ST_Y(g)::numeric, 7)::float8), 4326) AS g FROM p) SELECT string_agg(code, ',') FROM area, t WHERE level = 'buurt' AND ST_Contains(boundary, t.g)" \
    BU03440111

check "2023 registered crimes over Utrecht's buurten = 25395" \
    "SELECT sum(v.value) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id JOIN area a ON a.code = v.area_code WHERE i.key = '47018NED/GeregistreerdeMisdrijven_1/0.0.0' AND v.period = '2023' AND v.period_type = 'year' AND a.level = 'buurt'" \
    25395
check "crime indicator keeps unit and source" \
    "SELECT unit || '|' || source FROM indicator WHERE key = '47018NED/GeregistreerdeMisdrijven_1/0.0.0'" \
    "aantal|CBS 47018NED"

# "." is missing: kwb-2024 a_geb for GM0344 is "." in the file.
check "'.' is stored as missing, not 0" \
    "SELECT coalesce(v.value::text, 'NULL') || ' ' || v.missing FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key = 'kwb/a_geb' AND v.area_code = 'GM0344' AND v.period = '2024'" \
    "NULL true"
check "StatLine '       .' values are missing, none are 0 where the file says '.'" \
    "SELECT count(*) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key = 'statline/Gezondheid en welzijn/Huisartsenpraktijk/Afstand tot huisartsenpraktijk (km)' AND v.value IS NOT NULL" 0
check "StatLine padded number read ('     0.7')" \
    "SELECT v.value || ' ' || i.unit FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key = 'statline/Detailhandel/Winkels dagelijkse boodschappen/Afstand tot grote supermarkt (km)' AND v.area_code = 'GM0344'" \
    "0.7 km"
check "incijfers names matched (7 buurten, total row skipped)" \
    "SELECT count(DISTINCT v.area_code) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key LIKE 'incijfers/%'" 7
check "incijfers e.o. name -> Julianapark en omgeving" \
    "SELECT v.value FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key = 'incijfers/bevolking naar geslacht en leeftijd#23' AND v.area_code = 'BU03440231'" \
    1501

# Importing again changes no counts.
areas >/dev/null 2>&1 && indicators >/dev/null 2>&1
second=$(counts)
if [ "$first" = "$second" ]; then ok "re-import is idempotent ($second)"
else no "re-import changed counts: $first -> $second"; fi

# A broken copy: the first row changed (to prove rollback of earlier
# rows), a later row with text in a number column.
mkdir "$tmp/bad"
cp "$data"/indicators/cbs_47018NED_DataProperties.csv \
    "$data"/indicators/cbs_47018NED_SoortMisdrijf_codelist.csv "$tmp/bad/"
bad="$tmp/bad/cbs_47018NED_broken_2023.csv"
awk -F, 'BEGIN { OFS = "," }
    NR == 2 { $5 = 999999 }
    NR == 50 { $5 = "\"veel\"" }
    { print }' \
    "$data"/indicators/cbs_47018NED_misdrijven_totaal_2023_utrecht_buurt.csv >"$bad"
logid=$(q "SELECT coalesce(max(id), 0) FROM import_log")
if "$ctl" import-indicators "$bad" >"$tmp/bad.out" 2>&1; then
	no "broken file accepted"
else
	ok "broken file rejected"
fi
if grep -q "cbs_47018NED_broken_2023.csv:50: column 'GeregistreerdeMisdrijven_1': '\"veel\"' is not a number\|cbs_47018NED_broken_2023.csv:50: column 'GeregistreerdeMisdrijven_1': 'veel' is not a number" "$tmp/bad.out"; then
	ok "rejection names file:line"
else
	no "rejection message: $(cat "$tmp/bad.out")"
fi
check "broken file left no rows" \
    "SELECT count(*) FROM indicator_value WHERE source_file = 'cbs_47018NED_broken_2023.csv'" 0
check "broken file's earlier rows rolled back (total still 25395)" \
    "SELECT sum(v.value) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id WHERE i.key = '47018NED/GeregistreerdeMisdrijven_1/0.0.0' AND v.period = '2023'" \
    25395
check "failure logged" \
    "SELECT count(*) FROM import_log WHERE id > $logid AND file = 'cbs_47018NED_broken_2023.csv' AND NOT ok AND message LIKE '%:50:%'" 1

# An unknown area code and a wrong separator are refused the same way.
printf 'gwb_code_10;a_inw\nGM0344;1\nBU03449999;5\n' >"$tmp/kwb_unknown_2023.csv"
"$ctl" import-indicators "$tmp/kwb_unknown_2023.csv" >"$tmp/u.out" 2>&1
if grep -q "kwb_unknown_2023.csv:3: unknown area code BU03449999" "$tmp/u.out"; then
	ok "unknown area code rejected with file:line"
else no "unknown area code: $(cat "$tmp/u.out")"; fi
check "unknown-code file left no rows" \
    "SELECT count(*) FROM indicator_value WHERE source_file = 'kwb_unknown_2023.csv'" 0
printf 'gwb_code_10;a_inw;a_man\nGM0344;1;2\nWK034401,1,2\n' >"$tmp/kwb_sep_2023.csv"
"$ctl" import-indicators "$tmp/kwb_sep_2023.csv" >"$tmp/s.out" 2>&1
if grep -q "kwb_sep_2023.csv:3: 1 fields where the header has 3" "$tmp/s.out"; then
	ok "wrong separator rejected with file:line"
else no "wrong separator: $(cat "$tmp/s.out")"; fi

# A municipal name that matches nothing is reported, not dropped silently.
printf '"Buurten";"x|2024"\n"Buurt Julianapark e.o.";1\n"Buurt Nergenshuizen";2\n' \
    >"$tmp/incijfers_unmatched.csv"
"$ctl" import-indicators "$tmp/incijfers_unmatched.csv" >"$tmp/n.out" 2>&1
if grep -q "incijfers_unmatched.csv:3: no area matches the name 'Buurt Nergenshuizen'" "$tmp/n.out" &&
    grep -q "1 unmatched names" "$tmp/n.out"; then
	ok "unmatched name reported with file:line"
else no "unmatched name: $(cat "$tmp/n.out")"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
