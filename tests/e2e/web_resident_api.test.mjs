// The resident's page, server side (issue 13): the upload link opened in
// a browser, a dead link's Dutch page, the receipt again for the device
// that sent a story (and for no other), a story's state by its receipt
// code in plain words, and rate limits that count wrong codes only, so
// thirty residents behind one address are never locked out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { psql } from './lib/harness.mjs';
import { setup, tus, CONSENT, auth } from './lib/consent.mjs';

const device = () => randomBytes(32).toString('base64url');

// A request from another loopback address (127.0.0.x), as a second
// address of a wijkgesprek or a guesser elsewhere would send it.
function from(addr, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, localAddress: addr }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const receiptStatus = (ctx, receipt) => fetch(`${ctx.d.url}/api/v1/receipt`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ receipt }),
});

test('the upload link in a browser: the page, or a Dutch page saying the link no longer works', async () => {
  const ctx = await setup();
  try {
    const link = `${ctx.d.url}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`;
    let r = await fetch(link, { headers: { Accept: 'text/html' } });
    // The page itself needs the built web app; without web_root it is a 404 problem, never a 401/405.
    assert.ok([200, 404].includes(r.status), `page: ${r.status}`);
    if (r.status === 200) {
      assert.match(r.headers.get('content-type'), /text\/html/);
      assert.match(r.headers.get('referrer-policy'), /same-origin|no-referrer/);
    }
    for (const [url, status] of [
      [`${ctx.d.url}/api/v1/collections/buurt/uploads?key=vh_oudesleutel`, 410],
      [`${ctx.d.url}/api/v1/collections/buurt/uploads`, 410],
      [`${ctx.d.url}/api/v1/collections/bestaat-niet/uploads?key=${encodeURIComponent(ctx.key)}`, 404]]) {
      r = await fetch(url);
      assert.equal(r.status, status, url);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      const html = await r.text();
      assert.match(html, /<html lang="nl">/);
      assert.match(html, /Deze link werkt niet meer/);
      assert.match(r.headers.get('content-security-policy'), /default-src 'none'/);
    }
    assert.ok(!ctx.d.log().includes(ctx.key), 'the key is not in the log');
    assert.ok(!ctx.d.log().includes('vh_oudesleutel'), 'a wrong key is not in the log either');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('a lost last answer: the same device gets the receipt again, no other device does', async () => {
  const ctx = await setup({ VERHAAL_RESIDENT_UPLOAD_RATE: '3' });
  try {
    const mine = device();
    const data = randomBytes(4000);
    const t = await tus(ctx, { filename: 'v.txt', filetype: 'text/plain', title: 'Bij de brug', consent: CONSENT('publish'), device: mine }, data);
    assert.equal(t.last.status, 204);
    const shown = t.last.headers.get('upload-receipt');
    assert.match(shown, /^vh_/);
    const id = new URL(t.created.headers.get('location'), ctx.d.url).pathname.split('/').pop();
    // The answer above is taken as lost: the device asks again.
    let r = await fetch(`${ctx.d.url}/api/v1/uploads/${id}/receipt`, { headers: { 'Upload-Device': mine } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const again = await r.json();
    assert.equal(again.receipt, shown);
    assert.equal(again.entry, Number(t.last.headers.get('upload-entry')));
    // Another device, and no device at all.
    r = await fetch(`${ctx.d.url}/api/v1/uploads/${id}/receipt`, { headers: { 'Upload-Device': device() } });
    assert.equal(r.status, 404);
    assert.ok(!(await r.text()).includes(shown));
    r = await fetch(`${ctx.d.url}/api/v1/uploads/${id}/receipt`);
    assert.equal(r.status, 400);
    // Neither the code nor the secret is stored as such.
    const dump = psql(ctx.url, "SELECT encode(device_hash, 'hex') || encode(sealed, 'escape') FROM receipt_device");
    assert.ok(!dump.includes(shown) && !dump.includes(mine));
    // Guessing device secrets is refused after the limit (3 wrong so far: 1); then even the right one waits.
    for (let i = 0; i < 2; i++) {
      r = await fetch(`${ctx.d.url}/api/v1/uploads/${id}/receipt`, { headers: { 'Upload-Device': device() } });
      assert.equal(r.status, 404);
    }
    r = await fetch(`${ctx.d.url}/api/v1/uploads/${id}/receipt`, { headers: { 'Upload-Device': mine } });
    assert.equal(r.status, 429);
    // The same device adds its photos to the story; another device cannot.
    const entryId = t.last.headers.get('upload-entry');
    const photo = await tus(ctx, { filename: 'foto.txt', filetype: 'text/plain', entry_id: entryId, device: mine }, randomBytes(50));
    assert.equal(photo.created.status, 201, await photo.created.text());
    assert.equal(photo.last.status, 204);
    assert.equal(photo.last.headers.get('upload-entry'), entryId);
    assert.equal(photo.last.headers.get('upload-receipt'), null, 'no second receipt');
    const stranger = await tus(ctx, { filename: 'foto.txt', filetype: 'text/plain', entry_id: entryId, device: device() }, randomBytes(50));
    assert.equal(stranger.created.status, 422);
    assert.equal(psql(ctx.url, `SELECT count(*) FROM media WHERE entry_id = ${entryId}`), '2');
    // Withdrawn: the sealed receipt goes with the entry.
    r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: shown }) });
    assert.equal(r.status, 200);
    assert.equal(psql(ctx.url, 'SELECT count(*) FROM receipt_device'), '0');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('"wat is er met mijn verhaal gebeurd": plain states, never the moderator\'s reason', async () => {
  const ctx = await setup();
  try {
    const t = await tus(ctx, { filename: 'v.txt', filetype: 'text/plain', title: 'Fietsen', text: 'Bij het station worden fietsen gestolen.', consent: CONSENT('quote_anonymised') }, randomBytes(100));
    const code = t.last.headers.get('upload-receipt');
    const entry = t.last.headers.get('upload-entry');
    let r = await receiptStatus(ctx, code);
    assert.equal(r.status, 200);
    let s = await r.json();
    assert.equal(s.state, 'in_review');
    assert.equal(s.redacted, false);
    assert.deepEqual(s.consent, { scope: 'quote_anonymised', version: '2024-05', language: 'nl' });
    assert.equal(s.withdrawal_removes.title, true);
    assert.equal(s.withdrawal_removes.text, true);
    assert.equal(s.withdrawal_removes.files, 1);
    const mod = auth(ctx.tokens.moderator, { 'Content-Type': 'application/json' });
    r = await fetch(`${ctx.d.url}/api/v1/entries/${entry}/redact`, { method: 'POST', headers: mod, body: JSON.stringify({ text: [{ start: 0, end: 3 }] }) });
    assert.equal(r.status, 200, await r.text());
    r = await fetch(`${ctx.d.url}/api/v1/entries/${entry}/reject`, { method: 'POST', headers: mod, body: JSON.stringify({ reason: 'interne-reden-xyz: noemt een buurman' }) });
    assert.equal(r.status, 200);
    r = await receiptStatus(ctx, code);
    const text = await r.text();
    s = JSON.parse(text);
    assert.equal(s.state, 'not_published');
    assert.equal(s.redacted, true);
    assert.ok(!text.includes('interne-reden-xyz'), 'the moderator\'s reason is not shown');
    r = await receiptStatus(ctx, 'vh_dezecodebestaatniet');
    assert.equal(r.status, 404);
    assert.equal((await r.json()).type, '/problems/unknown-receipt');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('30 residents behind one address are not locked out; wrong codes are, per address and per code', async () => {
  const ctx = await setup({ VERHAAL_RESIDENT_UPLOAD_RATE: '3' });
  try {
    const codes = [];
    for (let i = 0; i < 30; i++) {
      const t = await tus(ctx, { filename: `v${i}.txt`, filetype: 'text/plain', consent: CONSENT() }, randomBytes(64));
      assert.equal(t.created.status, 201, `resident ${i}: ${t.created.status}`);
      assert.equal(t.last.status, 204);
      codes.push(t.last.headers.get('upload-receipt'));
    }
    // Each looks at their story and withdraws it: successes never count.
    for (const c of codes.slice(0, 10)) assert.equal((await receiptStatus(ctx, c)).status, 200);
    for (const c of codes.slice(0, 5)) {
      const r = await fetch(`${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: c }) });
      assert.equal(r.status, 200);
    }
    // A guesser on another address: three wrong codes, then refused, also for a right one.
    for (let i = 0; i < 3; i++) assert.equal((await from('127.0.0.2', `${ctx.d.url}/api/v1/receipt`, { method: 'POST', body: JSON.stringify({ receipt: `vh_guess${i}` }) })).status, 404);
    let r = await from('127.0.0.2', `${ctx.d.url}/api/v1/receipt`, { method: 'POST', body: JSON.stringify({ receipt: codes[9] }) });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers['retry-after']) > 0);
    // The residents' address is untouched by that.
    assert.equal((await receiptStatus(ctx, codes[9])).status, 200);
    // Per code: one wrong code tried from three addresses is refused on a fourth.
    for (const a of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) assert.equal((await from(a, `${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: 'vh_zelfdegok' }) })).status, 404);
    assert.equal((await from('127.0.0.6', `${ctx.d.url}/api/v1/withdraw`, { method: 'POST', body: JSON.stringify({ receipt: 'vh_zelfdegok' }) })).status, 429);
    // Wrong upload keys count too; the right key from that address then waits.
    for (let i = 0; i < 3; i++) assert.equal((await from('127.0.0.7', `${ctx.d.url}/api/v1/collections/buurt/uploads?key=vh_fout${i}`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' } })).status, 401);
    r = await from('127.0.0.7', `${ctx.d.url}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' } });
    assert.equal(r.status, 429);
    // And the wijkgesprek's address still uploads.
    const t = await tus(ctx, { filename: 'laatste.txt', filetype: 'text/plain', consent: CONSENT() }, randomBytes(64));
    assert.equal(t.last.status, 204);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
