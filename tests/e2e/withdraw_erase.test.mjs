// Withdrawal: a resident's receipt code erases the story, its originals,
// every derived file and its index rows; no file under the data directory
// and no row in any table holds its content or blobs afterwards, while a
// blob shared with another entry stays until that entry goes too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { psql, tmpdir, waitFor } from './lib/harness.mjs';
import { setup, submit, tus, CONSENT, sha256, walk, dump, tablesHolding, hasColumn, toneWav } from './lib/consent.mjs';

// Media jobs (when this tree has them) must be done before we look for
// derived files; without a job table there are none to wait for.
async function settled(url) {
  if (psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'job'") === '0') return;
  await waitFor(() => psql(url, "SELECT count(*) FROM job WHERE state IN ('queued', 'running')") === '0', { timeout: 60000 });
}

test('withdrawing erases every trace of the entry and keeps a shared blob while it is used', async () => {
  const ctx = await setup();
  const dir = tmpdir('withdraw');
  try {
    const marker = 'zwaluwstaart' + randomBytes(4).toString('hex');
    const unique = Buffer.from(`Notitie over ${marker} bij de brug.\n`);
    const shared = Buffer.from('Dezelfde bijlage in twee verhalen.\n');
    const wav = toneWav(dir, 'a.wav', 3);

    // A: multipart with the marker in title and text, a unique note, a
    // recording and the shared file; B: the shared file only.
    let r = await submit(ctx, { title: `Over ${marker}`, text: `Bij ons ${marker} in de straat.`, consent: CONSENT('audio_to_staff') },
      [{ name: 'notitie.txt', data: unique, type: 'text/plain' }, { name: 'a.wav', data: wav, type: 'audio/wav' },
        { name: 'gedeeld.txt', data: shared, type: 'text/plain' }]);
    assert.equal(r.status, 201, await r.clone().text());
    const a = await r.json();
    assert.match(a.receipt, /^vh_[A-Za-z0-9_-]{43}$/);
    assert.equal(a.status, 'pending_review');
    r = await submit(ctx, { text: 'Een ander verhaal.', consent: CONSENT() }, [{ name: 'zelfde.txt', data: shared, type: 'text/plain' }]);
    assert.equal(r.status, 201);
    const b = await r.json();

    // C: a tus upload whose metadata carries the marker too.
    const t = await tus(ctx, { consent: CONSENT('publish'), text: `Via tus: ${marker}`, filename: 'c.bin' }, randomBytes(5000));
    assert.equal(t.last.status, 204);
    const cReceipt = t.last.headers.get('upload-receipt');
    assert.match(cReceipt, /^vh_/);
    const cId = Number(t.last.headers.get('upload-entry'));
    await settled(ctx.url);

    const blobsA = psql(ctx.url, `SELECT DISTINCT h FROM vh_entry_blobs(${a.id}) h`).split('\n').filter(Boolean);
    const sharedHash = sha256(shared);
    assert.ok(blobsA.includes(sha256(unique)) && blobsA.includes(sha256(wav)) && blobsA.includes(sharedHash));
    const onDisk = new Set(walk(ctx.d.dataDir).map((f) => f.sha256));
    for (const h of blobsA) assert.ok(onDisk.has(h), `blob ${h} is on disk before`);
    assert.ok(tablesHolding(ctx.url, marker).length > 0);

    // Withdraw A and C.
    const t0 = Date.now();
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ receipt: a.receipt }) });
    const ms = Date.now() - t0;
    assert.equal(r.status, 200);
    const rep = await r.json();
    assert.equal(rep.withdrawn, true);
    assert.equal(rep.removed.entry, a.id);
    assert.equal(rep.removed.media, 3);
    assert.equal(rep.removed.files_shared_kept, 1);
    assert.equal(rep.removed.files, blobsA.length - 1);
    assert.ok(ms < 60000);
    console.log(`withdrawal of entry ${a.id}: ${ms} ms, ${rep.removed.files} files removed, ${rep.removed.files_shared_kept} shared kept`);
    // A plain HTML form works too.
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `receipt=${encodeURIComponent(cReceipt)}` });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).removed.entry, cId);

    // No file with A's unique blobs; the shared one remains for B.
    const after = new Set(walk(ctx.d.dataDir).map((f) => f.sha256));
    for (const h of blobsA) {
      if (h === sharedHash) assert.ok(after.has(h), 'the shared blob stays while B uses it');
      else assert.ok(!after.has(h), `blob ${h} is gone from the data directory`);
    }
    // No row in any table holds the marker or A's unique hashes.
    assert.deepEqual(tablesHolding(ctx.url, marker), []);
    const text = dump(ctx.url);
    assert.ok(!text.includes(marker), 'pg_dump holds no trace of the marker');
    for (const h of blobsA) if (h !== sharedHash) assert.ok(!text.includes(h), `pg_dump names no blob ${h}`);
    assert.ok(!text.includes(a.receipt) && !text.includes(cReceipt));
    // What remains: tombstones and log lines, without content.
    assert.equal(psql(ctx.url, `SELECT reason FROM tombstone WHERE entry_id = ${a.id}`), 'withdrawn');
    assert.equal(psql(ctx.url, `SELECT actor || ' ' || reason FROM deletion_log WHERE entry_id = ${a.id}`), 'resident withdrawn');
    assert.equal(psql(ctx.url, `SELECT count(*) FROM entry WHERE id IN (${a.id}, ${cId})`), '0');

    // A code works once; unknown codes are 404.
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: a.receipt }) });
    assert.equal(r.status, 404);
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 422);

    // Withdrawing B frees the shared blob.
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: b.receipt }) });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).removed.files, 1);
    assert.ok(!new Set(walk(ctx.d.dataDir).map((f) => f.sha256)).has(sharedHash));
    assert.ok(!dump(ctx.url).includes(sharedHash));
    if (hasColumn(ctx.url, 'media', 'opus_sha256')) console.log('derived renditions were part of the check');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('withdrawal attempts are rate-limited per address', async () => {
  const ctx = await setup({ VERHAAL_RESIDENT_UPLOAD_RATE: '3' });
  try {
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: `vh_guess${i}` }) });
      codes.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
    assert.deepEqual(codes, [404, 404, 404, 429]);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
