#!/bin/sh
# `make demo`: example data for a running verhaald (make run in another
# shell), so that there is something to search, listen to and look at.
#
#   sh contrib/dev/demo.sh [BUILD]        DEMO_COUNT=100 entries by default
#
# Everything goes in through the real API with curl, so the media pipeline
# processes it: stories with Dutch speech (espeak-ng -v nl), some through
# the collection's upload link as a resident would, and field visits with
# photos (ffmpeg-made, or from ../shared/data/media/photos). Themes, buurten
# and dates vary. All of it is marked: collection "demo", titles starting
# "[demo]", and the accounts demo-beheer and demo-veldwerk (the names
# cmd/verhaalctl/ctl_demo.c removes). `make demo-clean` (verhaalctl demo
# remove) takes it all out again. The shared indicators, when present, are
# imported too; they are real open data and stay.
#
# Environment: DEMO_COUNT, DEMO_URL (default: listen_address and
# listen_port of the config), VERHAAL_CONFIG, VERHAAL_SHARED (../shared).
set -eu

build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
conf=${VERHAAL_CONFIG:-config/verhaald.conf}
count=${DEMO_COUNT:-100}
shared=${VERHAAL_SHARED:-$top/../shared}/data
get() { "$build/verhaald" -c "$conf" --get "$1"; }
ctl() { "$build/verhaalctl" -c "$conf" "$@"; }
url=${DEMO_URL:-http://$(get listen_address):$(get listen_port)}

for t in curl espeak-ng ffmpeg python3; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "demo: $t is missing; run make deps" >&2; exit 1; }
done
if ! curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
	echo "demo: verhaald does not answer at $url; start make run in another shell first" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/verhaal-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# jget KEY < json: one top-level field of a JSON object ("" if absent).
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }

# api METHOD PATH [curl args]: the answer's body in $tmp/out, status echoed.
api() {
	m=$1 p=$2
	shift 2
	curl -sS -o "$tmp/out" -w '%{http_code}' -X "$m" "$@" "$url$p"
}

echo "demo: $count entries for $url (collection demo; remove with make demo-clean)"
admin=$(ctl token create --user demo-beheer --role admin --label demo 2>/dev/null)
field=$(ctl token create --user demo-veldwerk --role fieldworker --label demo 2>/dev/null)
auth_admin="Authorization: Bearer $admin"
auth_field="Authorization: Bearer $field"

# The areas come with the first run; load the seed if they are missing.
st=$(api GET '/api/v1/areas?level=buurt' -H "$auth_admin")
[ "$st" = 200 ] || { echo "demo: GET areas: $st $(cat "$tmp/out")" >&2; exit 1; }
python3 -c 'import json,sys; [print(a["code"] + "|" + a["name"]) for a in json.load(sys.stdin)]' \
    <"$tmp/out" >"$tmp/buurten"
if [ ! -s "$tmp/buurten" ]; then
	ctl import-areas contrib/seed/*.csv contrib/seed/*.geojson
	api GET '/api/v1/areas?level=buurt' -H "$auth_admin" >/dev/null
	python3 -c 'import json,sys; [print(a["code"] + "|" + a["name"]) for a in json.load(sys.stdin)]' \
	    <"$tmp/out" >"$tmp/buurten"
fi
nbuurten=$(wc -l <"$tmp/buurten")

if [ -d "$shared/indicators" ]; then
	echo "demo: importing the shared indicators from $shared/indicators"
	ctl import-indicators "$shared"/indicators/* | tail -n 1 ||
	    echo "demo: some indicator files were not imported (see above)" >&2
fi

st=$(api POST /api/v1/collections -H "$auth_admin" -H 'Content-Type: application/json' \
    --data '{"slug":"demo","title":"[demo] Voorbeeldverhalen (verzonnen)","description":"Gegenereerde voorbeelddata van make demo; verwijderen met make demo-clean.","consent_version":"demo-1"}')
case "$st" in
201) key=$(jget upload_key <"$tmp/out") ;;
409) echo "demo: the demo collection exists already; run make demo-clean first" >&2; exit 1 ;;
*) echo "demo: creating the collection: $st $(cat "$tmp/out")" >&2; exit 1 ;;
esac
# The consent text the demo stories name, as a resident would have read it.
st=$(api POST /api/v1/collections/demo/consent -H "$auth_admin" -H 'Content-Type: application/json' \
    --data '{"version":"demo-1","language":"nl","text":"[demo] Verzonnen toestemmingstekst: dit verhaal is voorbeelddata van make demo."}')
[ "$st" = 201 ] || { echo "demo: adding the consent text: $st $(cat "$tmp/out")" >&2; exit 1; }

# Per theme: a title and two sentences a resident or field worker might say.
cat >"$tmp/themes" <<'EOF'
veiligheidsgevoel|'s Avonds niet op straat|Als het donker is loop ik liever niet meer door het park. Er is te weinig licht en er hangen vaak groepjes bij de speeltuin.
woninginbraak|Inbraak bij de buren|Vorige week is er bij de buren ingebroken terwijl ze op vakantie waren. Nu doet iedereen in de straat de deur extra op slot.
autokraak|Weer een ruit kapot|Bij de parkeerplaats achter de flat zijn deze maand drie autoruiten ingeslagen. Er werd een tas en een navigatiesysteem gestolen.
fietsendiefstal|Fiets weg bij het station|Mijn fiets stond met twee sloten vast en was toch na een uur verdwenen. De fietsenstalling heeft geen camera en geen toezicht.
overlast-en-leefbaarheid|Lawaai en afval|Elke vrijdagnacht is er lawaai van scooters en er ligt veel afval rond de containers. Het voelt alsof niemand zich verantwoordelijk voelt.
polarisatie-en-radicalisering|Spanning in de buurt|Sinds de discussie over de nieuwe opvang praten buren minder met elkaar. Op sociale media worden harde dingen gezegd.
digitale-veiligheid|Nepbericht van de bank|Mijn moeder kreeg een bericht dat haar rekening geblokkeerd was. Ze heeft bijna haar gegevens ingevuld op een valse website.
kwetsbare-personen|Zorgen om een buurvrouw|Een oudere buurvrouw krijgt vaak onbekende mannen over de vloer die geld komen halen. Ik weet niet bij wie ik dat moet melden.
ondermijning|Vreemde zaak op de hoek|In de winkel op de hoek komt bijna nooit een klant, maar er stoppen wel steeds dure auto's. Mensen in de straat vertrouwen het niet.
geweld|Vechtpartij bij het plein|Zaterdagavond was er een vechtpartij bij het plein. De politie was er snel, maar veel mensen durven daar nu niet meer te komen.
toerisme-en-evenementen|Drukte na het festival|Na het festival in het park liepen honderden bezoekers door onze straat. Er werd tegen de gevels geplast en er was veel glas.
EOF
nthemes=$(wc -l <"$tmp/themes")
scopes="publish quote_anonymised audio_to_staff analysis_only"

# A photo for entry $1: a shared sample photo when there is one (its GPS
# and other EXIF are stripped by the pipeline), else a generated picture.
photo() {
	set -- "$1" "$shared/media/photos/DSCN0010.jpg" "$shared/media/photos/no_exif.jpg" \
	    "$shared/media/photos/orientation_landscape_6.jpg"
	i=$1
	shift
	if [ $((i % 2)) = 0 ] && [ -f "$1" ]; then
		eval "f=\${$((i / 2 % 3 + 1))}"
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	fi
	ffmpeg -v error -y -f lavfi -i "gradients=s=960x720:seed=$i:n=3" -frames:v 1 \
	    -q:v 4 "$tmp/photo$i.jpg"
	echo "$tmp/photo$i.jpg"
}

stories=0 visits=0 via_link=0 published=0 failed=0 i=0
while [ "$i" -lt "$count" ]; do
	i=$((i + 1))
	line=$(sed -n "$(( (i - 1) % nthemes + 1 ))p" "$tmp/themes")
	theme=${line%%|*}
	rest=${line#*|}
	title="[demo] ${rest%%|*}"
	text=${rest#*|}
	buurt=$(sed -n "$(( (i * 41) % nbuurten + 1 ))p" "$tmp/buurten")
	area=${buurt%%|*}
	# The buurt's name makes each text, and so each recording, its own.
	text="Dit speelt in ${buurt#*|}. $text"
	year=$((2019 + i % 7))
	month=$(printf %02d $((1 + (i * 5) % 12)))
	day=$(printf %02d $((1 + (i * 11) % 28)))
	when="$year-$month-${day}T$(printf %02d $((8 + i % 12))):15:00+01:00"
	# Two stories for every visit.
	if [ $((i % 3)) = 0 ]; then kind=visit; else kind=story; fi
	if [ "$kind" = story ]; then
		set -- $scopes
		shift $((i % 4))
		scope=$1
		python3 -c 'import json,sys; print(json.dumps({"kind":"story","title":sys.argv[1],"text":sys.argv[2],"area":sys.argv[3],"collection":"demo","occurred_at":sys.argv[4],"themes":[sys.argv[5]],"consent":{"scope":sys.argv[6],"version":"demo-1","language":"nl"}}))' \
		    "$title" "$text" "$area" "$when" "$theme" "$scope" >"$tmp/entry.json"
		espeak-ng -v nl -s 150 -w "$tmp/speech.wav" "$text" 2>/dev/null
		# As a resident through the upload link while its rate allows,
		# then as a field worker who recorded the story at a meeting.
		st=000
		if [ "$via_link" -ge 0 ]; then
			st=$(api POST "/api/v1/collections/demo/uploads?key=$key" \
			    -F "entry=<$tmp/entry.json;type=application/json" \
			    -F "audio=@$tmp/speech.wav;type=audio/wav;filename=verhaal$i.wav")
			if [ "$st" = 429 ]; then via_link=-1; else via_link=$((via_link + 1)); fi
		fi
		if [ "$st" != 201 ]; then
			st=$(api POST /api/v1/entries -H "$auth_field" \
			    -F "entry=<$tmp/entry.json;type=application/json" \
			    -F "audio=@$tmp/speech.wav;type=audio/wav;filename=verhaal$i.wav")
		fi
	else
		python3 -c 'import json,sys; print(json.dumps({"kind":"visit","title":sys.argv[1],"text":"Werkbezoek: "+sys.argv[2],"area":sys.argv[3],"collection":"demo","occurred_at":sys.argv[4],"themes":[sys.argv[5]]}))' \
		    "$title" "$text" "$area" "$when" "$theme" >"$tmp/entry.json"
		p=$(photo "$i")
		st=$(api POST /api/v1/entries -H "$auth_field" \
		    -F "entry=<$tmp/entry.json;type=application/json" \
		    -F "photo=@$p;type=image/jpeg;filename=foto$i.jpg")
	fi
	if [ "$st" != 201 ]; then
		echo "demo: entry $i ($kind): $st $(cat "$tmp/out")" >&2
		failed=$((failed + 1))
		continue
	fi
	if [ "$kind" = story ]; then stories=$((stories + 1)); else visits=$((visits + 1)); fi
	id=$(jget id <"$tmp/out")
	# Most are released to analysts (published where the consent allows
	# it); every fifth waits for a moderator.
	if [ $((i % 5)) != 0 ]; then
		st=$(api POST "/api/v1/entries/$id/publish" -H "$auth_admin")
		[ "$st" = 409 ] && st=$(api POST "/api/v1/entries/$id/approve" -H "$auth_admin")
		[ "$st" = 200 ] && published=$((published + 1))
	fi
	[ $((i % 20)) = 0 ] && echo "demo: $i of $count"
done

echo "demo: $stories stories and $visits visits in collection demo ($published released to analysts); media is being processed"
echo "demo: remove it all with make demo-clean (verhaalctl demo remove)"
[ "$failed" -eq 0 ]
