// Exports are streamed, never held whole: a CSV export of ~50 MB (rows
// made with SQL straight into the test database) goes out in chunks at
// the client's pace, four at once raise the daemon's RSS by a bounded
// amount (one client pausing mid-way, so backpressure is part of it), a
// client that goes away mid-export frees its worker, and the GeoJSON
// export of many buurten is streamed the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { build, freshDatabase, startDaemon, ctl, psql } from './lib/harness.mjs';

const MiB = 1024 * 1024;
const ROWS = 40000;
// AddressSanitizer keeps freed memory in quarantine and adds shadow pages,
// so RSS there measures the sanitizer, not verhaald.
const sanitized = /build-[^/]*address/.test(build);

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// GETs p; resolves {status, headers, bytes, lines, head}. pauseAfter: stop
// reading for pauseMs once that many bytes are in; abortAfter: go away.
function download(base, p, tok, { pauseAfter, pauseMs = 0, abortAfter } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${p}`, { headers: { Authorization: `Bearer ${tok}` } }, (res) => {
      let bytes = 0;
      let lines = 0;
      let head = Buffer.alloc(0);
      let paused = false;
      res.on('data', (b) => {
        bytes += b.length;
        for (let i = 0; i < b.length; i++) if (b[i] === 10) lines++;
        if (head.length < 4096) head = Buffer.concat([head, b.subarray(0, 4096)]);
        if (abortAfter && bytes >= abortAfter) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, bytes, aborted: true });
        }
        if (pauseAfter && !paused && bytes >= pauseAfter) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, lines, head }));
      res.on('error', (e) => (abortAfter ? null : reject(e)));
    });
    req.on('error', (e) => (abortAfter ? null : reject(e)));
  });
}

test('a large CSV export streams in chunks with bounded memory, four at once', { timeout: 300000 }, async (t) => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  // ~1.3 KB per row; the summary trigger is skipped for the bulk load and
  // the summary rebuilt after it.
  psql(url, `SET session_replication_role = replica;
    INSERT INTO entry (kind, status, title, body, themes, area_code)
    SELECT 'visit', 'published', 'titel ' || g, repeat(md5(g::text), 40), ARRAY['geweld'], NULL
      FROM generate_series(1, ${ROWS}) g;
    SET session_replication_role = DEFAULT;
    SELECT vh_entry_count_rebuild();`);
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_LOG_LEVEL: 'info' } });
  try {
    const tok = ctl(url, 'token', 'create', '--user', 'an', '--role', 'analyst').trim().split('\n').pop();
    const pid = d.proc.pid;
    // Warm up: pools, libraries and connections are in.
    const warm = await download(d.url, '/api/v1/exports/entries.csv?from=2000&to=2001', tok);
    assert.equal(warm.status, 200);
    await sleep(300);
    const base = rss(pid);

    let peak = base;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rss(pid));
        await sleep(20);
      }
    })();
    const runs = await Promise.all([
      download(d.url, '/api/v1/exports/entries.csv', tok),
      download(d.url, '/api/v1/exports/entries.csv', tok),
      download(d.url, '/api/v1/exports/entries.csv?sep=semicolon', tok),
      // A client that stops reading for two seconds: the daemon must wait
      // for it, not buffer the rest.
      download(d.url, '/api/v1/exports/entries.csv', tok, { pauseAfter: 4 * MiB, pauseMs: 2000 }),
    ]);
    sampling = false;
    await sampler;
    const grew = (peak - base) / MiB;
    t.diagnostic(`4 exports of ${(runs[0].bytes / MiB).toFixed(0)} MiB: RSS ${(base / MiB).toFixed(0)} MiB, peak +${grew.toFixed(1)} MiB`);
    if (!sanitized) assert.ok(grew < 48, `RSS grew by ${grew.toFixed(1)} MiB during four exports`);
    for (const r of runs) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.equal(r.headers['content-length'], undefined);
      assert.match(r.headers['content-type'], /^text\/csv/);
      assert.equal(r.lines, ROWS + 1, 'header and one line per entry');
      assert.ok(r.bytes > 45 * MiB, `export of ${r.bytes} bytes`);
      assert.equal(r.head.subarray(0, 3).toString('hex'), 'efbbbf');
    }

    // A client that goes away mid-export: the export stops, the worker is
    // free again, and the next export is whole.
    const gone = await download(d.url, '/api/v1/exports/entries.csv', tok, { abortAfter: 2 * MiB });
    assert.ok(gone.aborted);
    const again = await download(d.url, '/api/v1/exports/entries.csv?from=2000&to=2001', tok);
    assert.equal(again.status, 200);
    assert.equal(again.lines, 1);
    const h = await fetch(`${d.url}/healthz`);
    assert.equal(h.status, 200);

    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    const raw = await new Promise((resolve, reject) => {
      const u = new URL(d.url);
      const sock = net.connect(Number(u.port), u.hostname, () => sock.write(
        `GET /api/v1/exports/entries.csv HTTP/1.0\r\nAuthorization: Bearer ${tok}\r\n\r\n`));
      const parts = [];
      sock.on('data', (b) => parts.push(b));
      sock.on('end', () => resolve(Buffer.concat(parts)));
      sock.on('error', reject);
    });
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, split).toString();
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.match(head, /connection: close/i);
    const body = raw.subarray(split + 4);
    assert.equal(body.subarray(0, 3).toString('hex'), 'efbbbf');
    assert.equal(body.toString().split('\n').length - 1, ROWS + 1);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('the GeoJSON export and the area list are streamed row by row and stay one valid document', { timeout: 120000 }, async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  psql(url, `INSERT INTO area (code, level, name, parent) VALUES ('GM0344', 'gemeente', 'Utrecht', NULL) ON CONFLICT DO NOTHING;
    INSERT INTO area (code, level, name, parent) VALUES ('WK034499', 'wijk', 'Veel', 'GM0344') ON CONFLICT DO NOTHING;
    INSERT INTO area (code, level, name, parent, boundary)
    SELECT 'BU034499' || lpad(g::text, 2, '0'), 'buurt', 'Buurt ' || g, 'WK034499',
      ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(5.1 + g / 1000.0, 52.09), 4326), 0.0004, 256))
      FROM generate_series(0, 99) g;
    INSERT INTO entry (kind, status, area_code) SELECT 'visit', 'published', 'BU034499' || lpad((g % 100)::text, 2, '0')
      FROM generate_series(1, 700) g;`);
  const d = await startDaemon({ databaseUrl: url });
  try {
    const tok = ctl(url, 'token', 'create', '--user', 'an', '--role', 'analyst').trim().split('\n').pop();
    const r = await fetch(`${d.url}/api/v1/exports/buurten.geojson?area=WK034499`, { headers: { Authorization: `Bearer ${tok}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('transfer-encoding'), 'chunked');
    assert.match(r.headers.get('content-type'), /geo\+json/);
    const g = JSON.parse(await r.text());
    assert.equal(g.type, 'FeatureCollection');
    assert.equal(g.features.length, 100);
    assert.deepEqual(g.features.map((f) => f.id), [...Array(100).keys()].map((i) => `BU034499${String(i).padStart(2, '0')}`));
    assert.equal(g.features[0].geometry.type, 'MultiPolygon');
    assert.equal(g.features.reduce((a, f) => a + f.properties.entries, 0), 700);
    // The list of areas is streamed the same way.
    const l = await fetch(`${d.url}/api/v1/areas?parent=WK034499`, { headers: { Authorization: `Bearer ${tok}` } });
    assert.equal(l.headers.get('transfer-encoding'), 'chunked');
    const areas = await l.json();
    assert.equal(areas.length, 100);
    assert.equal(areas[0].code, 'BU03449900');
    assert.equal(areas[0].has_boundary, true);
    assert.deepEqual(await (await fetch(`${d.url}/api/v1/areas?parent=WK034498`, { headers: { Authorization: `Bearer ${tok}` } })).json(), []);
    // An empty result is still one document.
    const e = await (await fetch(`${d.url}/api/v1/exports/buurten.geojson?area=WK034498`, { headers: { Authorization: `Bearer ${tok}` } })).json();
    assert.deepEqual(e, { type: 'FeatureCollection', features: [] });
  } finally {
    await d.stop('SIGKILL');
  }
});
