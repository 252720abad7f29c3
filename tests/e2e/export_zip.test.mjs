// The ZIP export of a search's entries: entries.csv, media.csv and each
// entry's display photo and AAC audio where the viewer may see and play
// them, read back with Python's zipfile; and 1,000 entries with media
// stream out while verhaald's peak RSS (VmHWM, reset just before) grows
// by less than 32 MiB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, tmpdir, waitFor } from './lib/harness.mjs';
import { searchSetup } from './lib/search.mjs';

const MiB = 1024 * 1024;
const N = 1000;
const sanitized = /build-[^/]*address/.test(build);

let s;
let src;
before(async () => {
  s = await searchSetup({ VERHAAL_MEDIA_RUNNERS: '2' });
  s.collection('zip');
  // A photo and a recording big enough that holding them would show.
  const dir = tmpdir('zipmedia');
  const jpg = path.join(dir, 'p.jpg');
  const ogg = path.join(dir, 'a.ogg');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'nullsrc=s=640x480,geq=random(1)*255:128:128',
    '-frames:v', '1', '-q:v', '2', jpg]);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=8',
    '-c:a', 'libopus', ogg]);
  src = await s.post('fw', { kind: 'visit', collection: 'zip', text: 'bron' },
    [{ name: 'p.jpg', type: 'image/jpeg', data: readFileSync(jpg) }, { name: 'a.ogg', type: 'audio/ogg', data: readFileSync(ogg) }]);
  await waitFor(() => s.sql(`SELECT count(*) FROM media WHERE entry_id = ${src} AND status = 'ready'
    AND (m4a_sha256 IS NOT NULL OR display_sha256 IS NOT NULL)`) === '2', { timeout: 90000, interval: 250 });
  s.sql(`UPDATE entry SET status = 'published' WHERE id = ${src}`);
});
after(async () => { await s?.d.stop(); });

// Copies of the source entry (and its media rows, same blobs) in collection c.
function clone(c, n, scope = null) {
  const cols = s.sql("SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'media' AND column_name NOT IN ('id', 'entry_id') AND is_generated = 'NEVER' AND identity_generation IS NULL");
  return s.sql(`WITH e AS (INSERT INTO entry (kind, status, title, body, collection_id)
      SELECT 'visit', 'published', 'kopie ' || g, 'tekst ' || g, (SELECT id FROM collection WHERE slug = '${c}')
        FROM generate_series(1, ${n}) g RETURNING id),
    m AS (INSERT INTO media (entry_id, ${cols}) SELECT e.id, ${cols.split(',').map((x) => `m.${x}`).join(',')}
      FROM e, media m WHERE m.entry_id = ${src} RETURNING entry_id)
    ${scope ? `, cs AS (INSERT INTO consent (entry_id, scope, text_version, language) SELECT id, '${scope}', '1', 'nl' FROM e)` : ''}
    SELECT string_agg(id::text, ',') FROM e`).split(',').map(Number);
}

function vm(pid, key) {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

test('a ZIP of entries.csv, media.csv and the files the viewer may use', async () => {
  s.collection('zs');
  const open = clone('zs', 2);
  const only = clone('zs', 1, 'analysis_only');	// analysts count it, never see or hear it
  const r = await fetch(`${s.d.url}/api/v1/exports/entries.zip?collection=zs`, { headers: { Authorization: `Bearer ${s.tok.an}` } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/zip');
  assert.equal(r.headers.get('transfer-encoding'), 'chunked');
  assert.match(r.headers.get('content-disposition'), /filename="entries.zip"/);
  const f = path.join(tmpdir('zip'), 'x.zip');
  writeFileSync(f, Buffer.from(await r.arrayBuffer()));
  const z = JSON.parse(execFileSync('python3', ['-c', `
import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
rd = lambda n: list(csv.DictReader(io.StringIO(z.read(n).decode('utf-8'))))
print(json.dumps({'names': z.namelist(), 'entries': rd('entries.csv'), 'media': rd('media.csv'),
  'sizes': {i.filename: i.file_size for i in z.infolist()},
  'heads': {n: z.read(n)[:12].hex() for n in z.namelist() if n.startswith('media/')}}))
`, f], { encoding: 'utf8' }));
  assert.equal(z.names[0], 'entries.csv');
  assert.equal(z.names[1], 'media.csv');
  assert.deepEqual(z.entries.map((e) => Number(e.id)).sort(), [...open, ...only].sort());
  assert.ok('consent_scope' in z.entries[0] && 'media_audio' in z.entries[0]);
  const want = open.flatMap((id) => ['photo', 'audio'].map((k) => `${id}:${k}`)).sort();
  assert.deepEqual(z.media.map((m) => `${m.entry_id}:${m.kind}`).sort(), want, 'the analysis_only entry has no files');
  for (const m of z.media) {
    assert.ok(z.names.includes(m.path), `${m.path} is in the archive`);
    assert.equal(z.sizes[m.path], Number(m.size));
    if (m.kind === 'photo') assert.match(z.heads[m.path], /^ffd8ff/, 'a JPEG');
    else assert.equal(z.heads[m.path].slice(8, 16), '66747970', 'an MP4 (ftyp) with AAC');
  }
  // The same rule as everywhere: field workers may not export.
  assert.equal((await fetch(`${s.d.url}/api/v1/exports/entries.zip`, { headers: { Authorization: `Bearer ${s.tok.fw}` } })).status, 403);
  assert.equal((await fetch(`${s.d.url}/api/v1/exports/entries.zip?from=2023-02-30`, { headers: { Authorization: `Bearer ${s.tok.an}` } })).status, 400);
});

test(`a ZIP of ${N} entries with media streams with bounded memory`, { timeout: 300000 }, async (t) => {
  clone('zip', N - 1);
  const pid = s.d.proc.pid;
  const get = async () => {
    const r = await fetch(`${s.d.url}/api/v1/exports/entries.zip?collection=zip`, { headers: { Authorization: `Bearer ${s.tok.an}` } });
    let bytes = 0;
    let tail = Buffer.alloc(0);
    for await (const b of r.body) {
      bytes += b.length;
      tail = Buffer.concat([tail, Buffer.from(b)]).subarray(-4096);
    }
    return { status: r.status, bytes, tail };
  };
  const warm = await fetch(`${s.d.url}/api/v1/exports/entries.zip?collection=zs`, { headers: { Authorization: `Bearer ${s.tok.an}` } });
  await warm.arrayBuffer();
  // Reset the peak to now: VmHWM then measures this export alone.
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const base = vm(pid, 'VmRSS');
  const r = await get();
  const peak = vm(pid, 'VmHWM');
  const grew = (peak - base) / MiB;
  t.diagnostic(`${N} entries, ${(r.bytes / MiB).toFixed(0)} MiB of ZIP: RSS ${(base / MiB).toFixed(1)} MiB, peak +${grew.toFixed(1)} MiB`);
  assert.equal(r.status, 200);
  assert.ok(r.bytes > N * 100 * 1024, `an archive of ${r.bytes} bytes holds the files`);
  assert.ok(r.tail.includes(Buffer.from([0x50, 0x4b, 0x05, 0x06])), 'ends with the central directory');
  if (!sanitized) assert.ok(grew < 32, `RSS grew by ${grew.toFixed(1)} MiB`);
  const audited = s.sql("SELECT reason FROM audit WHERE action = 'export' AND object_id = 'entries.zip' ORDER BY id DESC LIMIT 1");
  assert.match(audited, new RegExp(`rows=${N}$`));
});
