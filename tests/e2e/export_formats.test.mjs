// Exports as the analysts' tools read them: the CSV dialects read back by
// Python's csv module (Excel: BOM and semicolons; R/pandas: plain UTF-8
// and commas) with local ISO 8601 times, consent scope, entry link and
// media by type; the XLSX workbook read back from its XML with typed
// cells; the area layer opened by GDAL (ogrinfo) with integer and real
// fields, converted to GeoPackage and shapefile with its names intact;
// and the field dictionary that names them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/harness.mjs';
import { searchSetup, importAreas, fixtures } from './lib/search.mjs';

let s;
let haveAreas = false;
let ids = {};
before(async () => {
  s = await searchSetup();
  haveAreas = importAreas(s.url);
  s.collection('fmt');
  const fx = fixtures();
  ids.summer = await s.post('fw', { kind: 'visit', collection: 'fmt', area: 'BU03440111',
    themes: ['geweld'], title: 'Zomer', text: '=1+1 zomer', occurred_at: '2023-07-01T12:00:00Z' },
  [{ name: 'p.png', type: 'image/png', data: fx.png }, { name: 'a.ogg', type: 'audio/ogg', data: fx.ogg }]);
  ids.winter = await s.post('fw', { kind: 'visit', collection: 'fmt', area: 'BU03440112',
    title: 'Winter', text: 'winter', occurred_at: '2023-01-15T08:30:00Z' });
  s.sql(`INSERT INTO consent (entry_id, scope, text_version, language) VALUES (${ids.summer}, 'publish', '1', 'nl')`);
  publish();
});
// Analysts see what is published.
const publish = () => s.sql(`UPDATE entry SET status = 'published' WHERE status <> 'published'`);
after(async () => { await s?.d.stop(); });

async function raw(p, tok = s.tok.an) {
  const r = await fetch(`${s.d.url}${p}`, { headers: { Authorization: `Bearer ${tok}` } });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

// Python's csv module reads the bytes as the dialect says; rows as dicts.
function pyCsv(bytes, encoding, delimiter) {
  const dir = tmpdir('csv');
  const f = path.join(dir, 'x.csv');
  writeFileSync(f, bytes);
  const out = execFileSync('python3', ['-c', `
import csv, json, sys
with open(sys.argv[1], newline='', encoding=sys.argv[2]) as fh:
    print(json.dumps(list(csv.DictReader(fh, delimiter=sys.argv[3]))))
`, f, encoding, delimiter], { encoding: 'utf8' });
  return JSON.parse(out);
}

test('CSV for Excel and for R: local ISO 8601 times, consent scope, link, media by type', async () => {
  const excel = await raw('/api/v1/exports/entries.csv?collection=fmt&dialect=excel');
  assert.equal(excel.status, 200);
  assert.equal(excel.bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'Excel: BOM');
  const r = await raw('/api/v1/exports/entries.csv?collection=fmt&dialect=r');
  assert.equal(r.status, 200);
  assert.notEqual(r.bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'R: no BOM');
  const rowsE = pyCsv(excel.bytes, 'utf-8-sig', ';');
  const rowsR = pyCsv(r.bytes, 'utf-8', ',');
  assert.deepEqual(rowsE, rowsR, 'both dialects hold the same table');
  assert.deepEqual(Object.keys(rowsR[0]), ['id', 'url', 'kind', 'status', 'consent_scope', 'occurred_at',
    'created_at', 'area_code', 'area_name', 'wijk_code', 'wijk_name', 'collection', 'themes', 'title', 'text',
    'transcript', 'media_photo', 'media_audio', 'media_other']);
  const by = Object.fromEntries(rowsR.map((x) => [Number(x.id), x]));
  const su = by[ids.summer];
  const wi = by[ids.winter];
  assert.equal(su.occurred_at, '2023-07-01T14:00:00+02:00', 'summer time');
  assert.equal(wi.occurred_at, '2023-01-15T09:30:00+01:00', 'winter time');
  assert.match(su.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  assert.equal(su.consent_scope, 'publish');
  assert.equal(wi.consent_scope, '');
  assert.equal(su.url, `${s.d.url}/api/v1/entries/${ids.summer}`);
  assert.equal(su.media_photo, '1');
  assert.equal(su.media_audio, '1');
  assert.equal(su.media_other, '0');
  assert.equal(wi.media_photo, '0');
  assert.equal(su.text, "'=1+1 zomer", 'formula defused in CSV');
  // The entry link leads to the entry.
  assert.equal((await raw(new URL(su.url).pathname)).status, 200);
  // The first export's columns stay, with local times; sep is checked.
  const old = await raw('/api/v1/exports/entries.csv?collection=fmt&sep=tab');
  assert.equal(old.status, 200);
  const rowsT = pyCsv(old.bytes, 'utf-8-sig', '\t');
  assert.equal(rowsT.find((x) => Number(x.id) === ids.summer).occurred_at, '2023-07-01T14:00:00+02:00');
  for (const bad of ['sep=pipe', 'sep=%7C', 'dialect=spss', 'dialect=r&sep=comma']) {
    const b = await raw(`/api/v1/exports/entries.csv?${bad}`);
    assert.equal(b.status, 400, bad);
    const p = JSON.parse(b.bytes.toString());
    assert.doesNotMatch(p.detail, /pipe|spss|%7C/, 'the detail does not echo the value');
  }
});

test('XLSX: the same table with typed cells (numbers, dates, text)', async () => {
  const x = await raw('/api/v1/exports/entries.xlsx?collection=fmt');
  assert.equal(x.status, 200);
  assert.match(x.headers.get('content-type'), /spreadsheetml\.sheet/);
  assert.equal(x.headers.get('transfer-encoding'), 'chunked');
  const dir = tmpdir('xlsx');
  const f = path.join(dir, 'x.xlsx');
  writeFileSync(f, x.bytes);
  // Read back with the standard library: cells as (type, value) per row.
  const rows = JSON.parse(execFileSync('python3', ['-c', `
import json, re, sys, zipfile
import xml.etree.ElementTree as ET
ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
shared = []
if 'xl/sharedStrings.xml' in z.namelist():
    for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', ns):
        shared.append(''.join(t.text or '' for t in si.iter('{%s}t' % ns['m'])))
sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
out = []
for row in sheet.find('m:sheetData', ns).findall('m:row', ns):
    cells = {}
    for c in row.findall('m:c', ns):
        col = re.match('[A-Z]+', c.get('r')).group(0)
        t = c.get('t', 'n')
        if t == 'inlineStr':
            v = ''.join(x.text or '' for x in c.iter('{%s}t' % ns['m'])); t = 's'
        elif t == 's':
            v = shared[int(c.find('m:v', ns).text)]
        else:
            v = c.find('m:v', ns).text
        cells[col] = [t, v, c.get('s')]
    out.append(cells)
print(json.dumps(out))
`, f], { encoding: 'utf8' }));
  const head = Object.values(rows[0]).map((c) => c[1]);
  assert.equal(head[0], 'id');
  assert.ok(head.includes('consent_scope') && head.includes('media_audio'));
  const col = (name) => String.fromCharCode(65 + head.indexOf(name));
  const su = rows.slice(1).find((r) => Number(r[col('id')][1]) === ids.summer);
  assert.ok(su, 'the summer entry is a row');
  assert.equal(su[col('id')][0], 'n', 'id is a number');
  assert.equal(su[col('media_photo')][0], 'n');
  assert.equal(Number(su[col('media_audio')][1]), 1);
  assert.equal(su[col('kind')][0], 's');
  assert.equal(su[col('consent_scope')][1], 'publish');
  // 2023-07-01 14:00 local as an Excel serial date with a date format.
  const occ = su[col('occurred_at')];
  assert.equal(occ[0], 'n', 'occurred_at is a date cell');
  assert.ok(occ[2] != null, 'with a number format');
  assert.ok(Math.abs(Number(occ[1]) - (45108 + 14 / 24)) < 1e-6, `serial ${occ[1]}`);
  assert.equal(su[col('text')][1], '=1+1 zomer', 'a string cell, not a formula, shown as written');
});

test('area layer: GDAL reads integer and real fields; GPKG and shapefile keep the names', async (t) => {
  if (!haveAreas) { t.skip('../shared/data/areas is absent'); return; }
  for (let i = 0; i < 6; i++) await s.post('fw', { kind: 'visit', collection: 'fmt', area: 'BU03440111', text: 'x' });
  publish();
  s.sql(`INSERT INTO indicator (key, title, unit, source, aggregate) VALUES
    ('test/Inwoners met een heel lange naam/en een schuine streep', 'Inwoners', 'aantal', 'test', 'sum'),
    ('test/aandeel', 'Aandeel huurwoningen', '%', 'test', 'none')`);
  const inw = s.sql("SELECT id FROM indicator WHERE key LIKE 'test/Inwoners%'");
  const aan = s.sql("SELECT id FROM indicator WHERE key = 'test/aandeel'");
  s.sql(`INSERT INTO indicator_value (indicator_id, area_code, period_type, period, period_start, value, source_file)
    VALUES (${inw}, 'BU03440111', 'year', '2024', '2024-01-01', 1234, 't'),
           (${inw}, 'BU03440112', 'year', '2024', '2024-01-01', 766, 't'),
           (${aan}, 'BU03440111', 'year', '2023', '2023-01-01', 41.5, 't'),
           (${aan}, 'BU03440112', 'year', '2023', '2023-01-01', NULL, 't');
    -- A wijk is summed only from all its buurten.
    INSERT INTO indicator_value (indicator_id, area_code, period_type, period, period_start, value, source_file)
    SELECT ${inw}, code, 'year', '2024', '2024-01-01', 0, 't' FROM area
     WHERE parent = 'WK034401' AND code NOT IN ('BU03440111', 'BU03440112');
    SELECT vh_indicator_aggregate();`);
  const r = await raw(`/api/v1/exports/areas.geojson?collection=fmt&area=WK034401&indicators=i${inw},i${aan}`);
  assert.equal(r.status, 200);
  const gj = JSON.parse(r.bytes.toString());
  const by = Object.fromEntries(gj.features.map((f) => [f.properties.code, f.properties]));
  assert.equal(by.BU03440111.entries, 7);
  assert.equal(by.BU03440111.entries_s, 0);
  assert.equal(by.BU03440112.entries, null, 'a suppressed count is null');
  assert.equal(by.BU03440112.entries_s, 1, '… with its flag');
  assert.equal(by.BU03440111[`i${inw}`], 1234);
  assert.equal(by.BU03440111[`i${inw}_y`], 2024);
  assert.equal(by.BU03440111[`i${aan}`], 41.5);
  assert.equal(by.BU03440112[`i${aan}`], null);
  assert.equal(by.BU03440112[`i${aan}_m`], 1);
  for (const p of Object.values(by)) {
    for (const k of Object.keys(p)) assert.ok(k.length <= 10 && /^[a-z0-9_]+$/.test(k), `short name ${k}`);
  }

  const dir = tmpdir('gdal');
  const f = path.join(dir, 'areas.geojson');
  writeFileSync(f, r.bytes);
  const info = (file) => execFileSync('ogrinfo', ['-ro', '-so', '-al', file], { encoding: 'utf8' });
  const type = (txt, name) => (new RegExp(`^${name}: (\\w+)`, 'm').exec(txt) ?? [])[1];
  const gi = info(f);
  assert.match(gi, new RegExp(`Feature Count: ${gj.features.length}`));
  assert.equal(type(gi, 'entries'), 'Integer', gi);
  assert.equal(type(gi, 'entries_s'), 'Integer');
  assert.match(type(gi, `i${inw}`), /^(Integer|Real)$/);
  assert.equal(type(gi, `i${aan}`), 'Real');
  assert.equal(type(gi, `i${inw}_y`), 'Integer');
  assert.equal(type(gi, 'code'), 'String');
  for (const [fmt, out] of [['GPKG', 'areas.gpkg'], ['ESRI Shapefile', 'areas.shp']]) {
    execFileSync('ogr2ogr', ['-f', fmt, path.join(dir, out), f]);
    const oi = info(path.join(dir, out));
    for (const name of ['code', 'entries', 'entries_s', `i${inw}`, `i${aan}`, `i${aan}_m`]) {
      assert.ok(type(oi, name), `${fmt} keeps the field ${name}:\n${oi}`);
    }
    assert.match(type(oi, 'entries'), /^Integer/, `${fmt}: entries`);
    assert.equal(type(oi, `i${aan}`), 'Real', `${fmt}: i${aan}`);
  }

  // The wijk layer: counts of all its buurten, figures summed up.
  const w = JSON.parse((await raw(`/api/v1/exports/areas.geojson?collection=fmt&level=wijk&indicators=i${inw}`)).bytes.toString());
  assert.equal(w.features.length, 10);
  const wk = w.features.find((x) => x.properties.code === 'WK034401').properties;
  assert.equal(wk.level, 'wijk');
  assert.equal(wk.parent, 'GM0344');
  assert.equal(wk.entries, 8, '7 + 1 of its buurten');
  assert.equal(wk[`i${inw}`], 2000, 'summed from its buurten');
  assert.equal(wk[`i${aan}`], undefined, 'only the indicators asked for');

  // The field dictionary names every field of the layer.
  const fl = await s.get('an', `/api/v1/exports/fields?indicators=i${inw},i${aan}`);
  assert.equal(fl.status, 200);
  const names = fl.body.geojson.map((x) => x.name);
  assert.deepEqual(names.slice().sort(), Object.keys(by.BU03440111).sort());
  const d = fl.body.geojson.find((x) => x.name === `i${inw}`);
  assert.equal(d.title, 'Inwoners');
  assert.equal(d.unit, 'aantal');
  assert.match(d.key, /^test\/Inwoners/);
  assert.ok(fl.body.csv.includes('consent_scope'));

  for (const bad of ['level=gemeente', 'indicators=inwoners', 'indicators=i1,,x', 'level=wijk&area=nope']) {
    assert.equal((await raw(`/api/v1/exports/areas.geojson?${bad}`)).status, 400, bad);
  }
  assert.equal((await raw('/api/v1/exports/fields?level=x')).status, 400);
  // Field workers may not export.
  assert.equal((await raw('/api/v1/exports/areas.geojson', s.tok.fw)).status, 403);
  assert.equal((await raw('/api/v1/exports/entries.xlsx', s.tok.fw)).status, 403);
});
