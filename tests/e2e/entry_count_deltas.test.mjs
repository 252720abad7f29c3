// Entry counts as delta rows (schema/0026): concurrent uploads, moderation,
// theme edits and withdrawals, with folds running all the while, leave
// every summed count exactly what a COUNT over entry gives; a fold changes
// no figure a reader sees; and the daemon folds by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { freshDatabase, startDaemon, ctl, psql, waitFor } from './lib/harness.mjs';

function psqlAsync(url, query) {
  return new Promise((resolve, reject) => {
    execFile('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' },
      (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(out.trim())));
  });
}

const KEY = 'status, kind, wijk, collection_id, month, theme';
// The summary as readers sum it, and as vh_entry_count_rebuild counts it.
const SUMMED = `SELECT ${KEY}, sum(n) FROM entry_count GROUP BY ${KEY} HAVING sum(n) <> 0 ORDER BY ${KEY}`;
const COUNTED = `SELECT status, kind, coalesce(wijk_code, area_code, '') AS wijk, coalesce(collection_id, 0) AS collection_id,
    month, t AS theme, count(*) FROM entry, LATERAL (SELECT '' AS t UNION SELECT DISTINCT unnest(themes)) s
    GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`;

function b64(s) { return Buffer.from(s).toString('base64'); }

async function upload(d, token, i) {
  const themes = ['geweld', 'woninginbraak,geweld', 'autokraak', ''][i % 4];
  const meta = { kind: i % 3 === 0 ? 'story' : 'visit', title: `Bezoek ${i}`, text: `Notitie ${i}`, filename: `f${i}.txt` };
  if (themes) meta.themes = themes;
  if (i % 5 === 0) meta.occurred_at = '2023-03-04T10:00:00+01:00';
  const body = Buffer.from(`bestand ${i}\n`);
  const r = await fetch(`${d.url}/api/v1/uploads`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length),
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Metadata': Object.entries(meta).map(([k, v]) => `${k} ${b64(v)}`).join(','),
    },
    body,
  });
  assert.equal(r.status, 201, await r.text());
  return Number(r.headers.get('upload-entry'));
}

async function facets(d, token) {
  const r = await fetch(`${d.url}/api/v1/entries?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  const j = await r.json();
  return JSON.stringify({ total: j.total, facets: j.facets, approximate: j.approximate });
}

test('concurrent inserts, moderation, withdrawals and folds keep entry counts exact', { timeout: 240000 }, async () => {
  const url = freshDatabase();
  // The reaper (which folds) runs every litter_age, here every second.
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_MEDIA_RUNNERS: '0', VERHAAL_LITTER_AGE: '1s' } });
  let folding = true;
  try {
    const fw = ctl(url, 'token', 'create', '--user', 'veld1', '--role', 'fieldworker').trim().split('\n').pop();
    const mod = ctl(url, 'token', 'create', '--user', 'mod1', '--role', 'moderator').trim().split('\n').pop();
    const admin = ctl(url, 'token', 'create', '--user', 'adm1', '--role', 'admin').trim().split('\n').pop();

    let folds = 0;
    let folded = 0;
    const folder = (async () => {
      while (folding) {
        folded += Number(await psqlAsync(url, 'SELECT vh_entry_count_fold()'));
        folds++;
      }
    })();

    // 96 uploads, 16 at a time.
    const ids = [];
    for (let b = 0; b < 6; b++) {
      ids.push(...await Promise.all(Array.from({ length: 16 }, (_, k) => upload(d, fw, b * 16 + k))));
    }
    assert.equal(new Set(ids).size, 96);

    // Then all at once: more uploads, publications (status), theme edits,
    // and withdrawals (the entry erased), while the folds go on.
    // (Thunks, 16 running at a time: the daemon allows 64 connections per
    // address.)
    const work = [];
    ids.forEach((id, i) => {
      if (i % 6 === 0) work.push(() => upload(d, fw, 96 + i / 6));
      if (i % 4 === 1) {
        work.push(() => fetch(`${d.url}/api/v1/entries/${id}/withdraw`, { method: 'POST', headers: { Authorization: `Bearer ${fw}` } })
          .then((r) => assert.equal(r.status, 200, `withdraw ${id}: ${r.status}`)));
      } else if (i % 4 === 2) {
        work.push(() => fetch(`${d.url}/api/v1/entries/${id}/publish`, { method: 'POST', headers: { Authorization: `Bearer ${mod}` } })
          .then((r) => assert.ok(r.status < 300, `publish ${id}: ${r.status}`)));
      } else if (i % 8 === 3) {
        work.push(() => fetch(`${d.url}/api/v1/entries/${id}`, {
          method: 'PATCH', headers: { Authorization: `Bearer ${mod}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ themes: ['fietsendiefstal'] }),
        }).then((r) => assert.ok(r.status < 300, `edit ${id}: ${r.status}`)));
      }
    });
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let f; (f = work.shift());) await f();
    }));
    folding = false;
    await folder;
    assert.ok(folds > 3 && folded > 0, `folds ran during the load (${folds} folds, ${folded} delta rows)`);

    const counted = psql(url, COUNTED);
    assert.ok(counted.split('\n').length > 5);
    assert.equal(psql(url, 'SELECT count(*) FROM entry'), String(96 + 16 - 24));
    // Exact with deltas still unfolded, after a fold, and as rebuilt.
    assert.equal(psql(url, SUMMED), counted);
    const before = await facets(d, admin);
    assert.match(before, /"total":88/);
    psql(url, 'SELECT vh_entry_count_fold()');
    assert.equal(psql(url, 'SELECT count(*) FROM entry_count_delta'), '0');
    assert.equal(psql(url, SUMMED), counted);
    assert.equal(await facets(d, admin), before);
    psql(url, 'SELECT vh_entry_count_rebuild()');
    assert.equal(psql(url, SUMMED), counted);
    assert.equal(await facets(d, admin), before);

    // The daemon folds new deltas by itself (the reaper, every second here).
    await upload(d, fw, 200);
    await waitFor(() => psql(url, 'SELECT count(*) FROM entry_count_delta') === '0', { timeout: 15000 });
    assert.equal(psql(url, SUMMED), psql(url, COUNTED));
  } finally {
    folding = false;
    await d.stop('SIGKILL');
  }
});
