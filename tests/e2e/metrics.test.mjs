// GET /metrics: the exposition passes `promtool check metrics`, and the
// counters move with what the test does: plain requests, a tus upload (one
// body held open half-way, seen as an upload in progress), a failed and a
// throttled login, and refusals by the upload-link and withdrawal rate
// limits. The metrics listener is its own port; on the main port /metrics
// needs an admin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { freshDatabase, startDaemon, waitFor } from './lib/harness.mjs';
import { addUser, login, token } from './lib/accounts.mjs';
import {
  fieldworkerToken, collectionSecret, entryPart, postEntry, tusCreate, tusPatch, tusHeaders,
} from './lib/uploads.mjs';

// "name{labels}" -> number, for every sample line.
function parse(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

async function scrape(url, headers = {}) {
  const r = await fetch(url, { headers });
  assert.equal(r.status, 200, `scrape ${url}`);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { text, m: parse(text) };
}

const v = (m, k) => m.get(k) ?? 0;

test('metrics: promtool accepts them and each counter moves', async () => {
  const db = freshDatabase();
  const d = await startDaemon({
    databaseUrl: db,
    env: {
      VERHAAL_METRICS_LISTEN: '127.0.0.1:0',
      VERHAAL_RESIDENT_UPLOAD_RATE: '1',
      VERHAAL_LOGIN_MAX_FAILURES: '2',
      VERHAAL_LOGIN_WINDOW: '60s',
    },
  });
  try {
    const murl = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(d.log())?.[1];
    assert.ok(murl, `no metrics listener in the log:\n${d.log()}`);
    const fw = fieldworkerToken(db, 'wim');
    addUser(db, 'ada', 'admin', 'correct horse battery');
    const admin = token(db, 'ada', 'admin');

    const before = (await scrape(murl)).m;

    // Plain requests, by route template and status.
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${d.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${d.url}/no/such/thing`)).status, 404);
    assert.equal((await fetch(`${d.url}/api/v1/media/123456`, { headers: { Authorization: `Bearer ${fw}` } })).status, 404);

    // A tus upload: one PATCH held open half-way, then finished.
    const data = Buffer.alloc(200000, 7);
    const c = await tusCreate(d.url, fw, { length: data.length, metadata: { kind: 'story', filename: 'm.bin' } });
    assert.equal(c.status, 201);
    const half = 100000;
    const u = new URL(c.location);
    const patch = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH',
      headers: tusHeaders(fw, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(half) }),
    });
    const done = new Promise((resolve, reject) => {
      patch.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      patch.on('error', reject);
    });
    patch.write(data.subarray(0, half / 2));
    await waitFor(async () => v((await scrape(murl)).m, 'verhaal_uploads_in_progress') === 1);
    patch.end(data.subarray(half / 2, half));
    assert.equal(await done, 204);
    const p2 = await tusPatch(c.location, fw, half, data.subarray(half));
    assert.equal(p2.status, 204, p2.text);

    // A failed login, then (limit 2 per account) a throttled one.
    for (let i = 0; i < 2; i++) assert.equal((await login(d.url, 'ada', `wrong ${i}`)).r.status, 401);
    assert.equal((await login(d.url, 'ada', 'correct horse battery')).r.status, 429);

    // The upload link's rate (1 failure per hour: successes never count,
    // a wrong key does, and past it even the right key waits) and the
    // withdrawal rate.
    const secret = collectionSecret(db, 'wijk', 'Wijk');
    const link = `/api/v1/collections/wijk/uploads?key=${encodeURIComponent(secret)}`;
    const parts = [entryPart({ kind: 'story', title: 'x', consent: { scope: 'analysis_only', version: '1', language: 'nl' } }),
      { name: 'note', filename: 'n.txt', type: 'text/plain', data: Buffer.from('note\n') }];
    assert.equal((await postEntry(d.url, null, parts, { path: link })).status, 201);
    const wrong = `/api/v1/collections/wijk/uploads?key=vh_wrong`;
    assert.equal((await postEntry(d.url, null, parts, { path: wrong })).status, 401);
    assert.equal((await postEntry(d.url, null, parts, { path: link })).status, 429);
    const wd = () => fetch(`${d.url}/api/v1/withdraw`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"receipt":"nope"}' });
    assert.equal((await wd()).status, 404);
    assert.equal((await wd()).status, 429);

    // The database-derived gauges are cached for 2 s.
    await new Promise((r) => setTimeout(r, 2100));
    const { text, m: after } = await scrape(murl);
    const diff = (k) => v(after, k) - v(before, k);

    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);

    assert.equal(diff('verhaal_http_requests_total{method="GET",route="/healthz",status="200"}'), 3);
    assert.equal(diff('verhaal_http_requests_total{method="",route="unmatched",status="404"}'), 1);
    assert.equal(diff('verhaal_http_requests_total{method="GET",route="/api/v1/media/{id}",status="404"}'), 1);
    assert.equal(diff('verhaal_http_requests_total{method="POST",route="/api/v1/uploads",status="201"}'), 1);
    assert.equal(diff('verhaal_http_requests_total{method="PATCH",route="/api/v1/uploads/{id}",status="204"}'), 2);
    assert.equal(diff('verhaal_http_request_duration_seconds_count{method="GET",route="/healthz"}'), 3);
    assert.equal(diff('verhaal_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"}'), 3);
    assert.ok(diff('verhaal_http_request_duration_seconds_sum{method="PATCH",route="/api/v1/uploads/{id}"}') > 0);
    assert.equal(diff('verhaal_tus_received_bytes_total'), data.length);
    assert.ok(diff('verhaal_http_request_body_bytes_total') >= data.length);
    assert.ok(diff('verhaal_http_response_body_bytes_total') > 0);
    assert.equal(v(after, 'verhaal_uploads_in_progress'), 0);
    assert.ok(v(after, 'verhaal_http_open_connections') >= 0);
    assert.equal(diff('verhaal_login_failures_total'), 2);
    assert.equal(diff('verhaal_rate_limit_refusals_total{limit="login"}'), 1);
    assert.equal(diff('verhaal_rate_limit_refusals_total{limit="upload_link"}'), 1);
    assert.equal(diff('verhaal_rate_limit_refusals_total{limit="withdraw"}'), 1);
    assert.ok(diff('verhaal_db_pool_wait_seconds_count') > 0, 'worker-pool jobs are timed');
    assert.equal(v(after, 'verhaal_metrics_database_up'), 1);
    // The tus upload and the resident's note each became a blob and a job.
    assert.equal(diff('verhaal_blob_files'), 2);
    assert.ok(diff('verhaal_blob_bytes') >= data.length);
    assert.equal(diff('verhaal_jobs{state="queued"}'), 2, 'no media runners: the jobs wait');
    assert.ok(v(after, 'verhaal_jobs_oldest_queued_age_seconds') > 0);

    // The main port: admins only. The metrics port: /metrics only.
    assert.equal((await fetch(`${d.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${d.url}/metrics`, { headers: { Authorization: `Bearer ${fw}` } })).status, 403);
    const viaMain = await scrape(`${d.url}/metrics`, { Authorization: `Bearer ${admin}` });
    assert.ok(viaMain.m.has('verhaal_login_failures_total'));
    assert.equal((await fetch(murl.replace('/metrics', '/healthz'))).status, 404);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('metrics: an empty metrics_listen opens no listener', async () => {
  const d = await startDaemon({ databaseUrl: freshDatabase(), env: { VERHAAL_METRICS_LISTEN: '' } });
  try {
    assert.doesNotMatch(d.log(), /metrics on http/);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('metrics: media runners count their busy time and each job by family and outcome', async () => {
  const db = freshDatabase();
  const d = await startDaemon({ databaseUrl: db, env: { VERHAAL_METRICS_LISTEN: '127.0.0.1:0', VERHAAL_MEDIA_RUNNERS: '1' } });
  try {
    const murl = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(d.log())?.[1];
    assert.ok(murl);
    const fw = fieldworkerToken(db, 'rita');
    const up = await postEntry(d.url, fw, [entryPart({ kind: 'visit', title: 'notities' }),
      { name: 'a', filename: 'a.txt', type: 'text/plain', data: Buffer.from('een notitie\n') },
      { name: 'b', filename: 'b.wav', type: 'audio/wav', data: Buffer.from('geen geluid, maar tekst\n') }]);
    assert.equal(up.status, 201, up.text);
    const key = (f, o) => `verhaal_media_processing_duration_seconds_count{family="${f}",outcome="${o}"}`;
    const m = await waitFor(async () => {
      const s = (await scrape(murl)).m;
      return v(s, key('text', 'ready')) === 1 && v(s, key('text', 'rejected')) === 1 ? s : false;
    }, { timeout: 30000 });
    assert.ok(v(m, 'verhaal_runner_busy_seconds_total') > 0);
  } finally {
    await d.stop('SIGKILL');
  }
});
