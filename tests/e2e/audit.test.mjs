// The audit trail: sealed originals are read by admins only, with a stated
// reason, and every read leaves a row; GET /api/v1/audit filters by actor,
// action, object and period and pages by keyset; verhaalctl audit agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshDatabase, startDaemon, psql, ctl } from './lib/harness.mjs';
import { token } from './lib/accounts.mjs';

async function upload(base, tok, bytes) {
  const fd = new FormData();
  fd.append('entry', JSON.stringify({ kind: 'visit', title: 'audit test' }));
  fd.append('file', new Blob([bytes], { type: 'text/plain' }), 'note.txt');
  const r = await fetch(`${base}/api/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${tok}` }, body: fd });
  assert.equal(r.status, 201);
  return (await r.json()).media[0].id;
}

test('sealed originals: admins only, with a reason, each read audited; the audit API filters and pages', async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url });
  try {
    const fw = token(url, 'veldwerker', 'fieldworker');
    const admin = token(url, 'beheer', 'admin');
    const analyst = token(url, 'monitor', 'analyst');
    const bytes = Buffer.from('een verhaal over de straat\n');
    const id = await upload(d.url, fw, bytes);
    const orig = (tok, q = '', h = {}) => fetch(`${d.url}/api/v1/media/${id}/original${q}`, { headers: { Authorization: `Bearer ${tok}`, ...h } });

    // The uploader no longer reads it; an analyst neither.
    assert.equal((await orig(fw, '?reason=mine')).status, 403);
    assert.equal((await orig(analyst, '?reason=curious')).status, 403);
    // An admin needs a reason.
    let r = await orig(admin);
    assert.equal(r.status, 400);
    assert.equal((await r.json()).type, '/problems/reason-required');
    assert.equal((await orig(admin, '?reason=%20%20')).status, 400);
    assert.equal((await orig(admin, '?reason=' + 'x'.repeat(501))).status, 400);
    assert.equal(psql(url, 'SELECT count(*) FROM audit WHERE action = \'read\''), '0', 'refusals read nothing');

    r = await orig(admin, '?reason=' + encodeURIComponent('verzoek inzage AVG #12'));
    assert.equal(r.status, 200);
    const got = Buffer.from(await r.arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    assert.match(r.headers.get('cache-control'), /no-store/);
    r = await orig(admin, '', { 'X-Access-Reason': 'klacht van bewoner', Range: 'bytes=0-3' });
    assert.equal(r.status, 206);
    await r.arrayBuffer();
    // An unknown media id is 404, and is no read.
    assert.equal((await fetch(`${d.url}/api/v1/media/999999/original?reason=check`, { headers: { Authorization: `Bearer ${admin}` } })).status, 404);

    const rows = psql(url, `SELECT actor || '|' || actor_role || '|' || object_type || '|' || object_id || '|' || reason || '|' || client_addr || '|' || (request_id <> '') FROM audit WHERE action = 'read' ORDER BY id`).split('\n');
    assert.deepEqual(rows, [
      `beheer|admin|media|${id}|verzoek inzage AVG #12|127.0.0.1|true`,
      `beheer|admin|media|${id}|klacht van bewoner|127.0.0.1|true`,
    ]);

    // GET /api/v1/audit: admins only.
    const audit = (q, tok = admin) => fetch(`${d.url}/api/v1/audit${q}`, { headers: { Authorization: `Bearer ${tok}` } });
    assert.equal((await audit('', analyst)).status, 403);
    assert.equal((await fetch(`${d.url}/api/v1/audit`)).status, 401);

    r = await audit(`?action=read&object_type=media&object_id=${id}`);
    assert.equal(r.status, 200);
    let body = await r.json();
    assert.equal(body.items.length, 2);
    assert.equal(body.items[0].reason, 'klacht van bewoner', 'newest first');
    assert.equal(body.items[0].actor, 'beheer');
    assert.equal(body.next, null);

    // A few more rows from logins, to page through.
    for (let i = 0; i < 5; i++) {
      await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: `ghost${i}`, password: 'nope nope nope' }) });
    }
    r = await audit('?actor=anonymous&action=login_failed&limit=2');
    body = await r.json();
    assert.equal(body.items.length, 2);
    const seen = body.items.map((x) => x.object_id);
    while (body.next) {
      assert.match(body.next, /^\/api\/v1\/audit\?actor=anonymous&action=login_failed&limit=2&before=\d+$/);
      body = await (await fetch(`${d.url}${body.next}`, { headers: { Authorization: `Bearer ${admin}` } })).json();
      seen.push(...body.items.map((x) => x.object_id));
    }
    assert.deepEqual(seen, ['ghost4', 'ghost3', 'ghost2', 'ghost1', 'ghost0']);

    // Periods: nothing before a past date, everything since a day ago.
    body = await (await audit('?until=2000-01-01')).json();
    assert.equal(body.items.length, 0);
    body = await (await audit('?since=24h&action=read')).json();
    assert.equal(body.items.length, 2);
    body = await (await audit('?since=2999-01-01T00:00:00Z')).json();
    assert.equal(body.items.length, 0);
    assert.equal((await audit('?since=yesterday')).status, 400);
    assert.equal((await audit('?since=2024-13-45')).status, 400);
    assert.equal((await audit('?limit=0')).status, 400);

    // verhaalctl audit reads the same trail.
    const out = ctl(url, 'audit', '--actor', 'beheer', '--action', 'read', '--since', '1h');
    assert.match(out, new RegExp(`beheer\\s+read\\s+media:${id}\\s+127\\.0\\.0\\.1\\s+klacht van bewoner`));
    assert.equal(out.trim().split('\n').length, 3);
    assert.doesNotMatch(ctl(url, 'audit', '--object', `media:${id}`, '--until', '2000-01-01'), /media:/);
  } finally {
    await d.stop('SIGKILL');
  }
});
