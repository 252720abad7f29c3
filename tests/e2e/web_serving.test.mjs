// verhaald serves the built web app (web_root) at /: hashed assets cached
// for a year as immutable, pages revalidated, precompressed copies when the
// client accepts them, the staff app's routes answered with index.html
// (history API) and nothing else — never a page for /api/ — and the
// pages' security headers on every answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { build, freshDatabase, startDaemon, ctl } from './lib/harness.mjs';

const webRoot = path.join(build, 'web');

function headersOk(r, what) {
  const csp = r.headers.get('content-security-policy') ?? '';
  assert.match(csp, /(^|; )default-src 'self'(;|$)/, `${what}: CSP default-src`);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: frame-ancestors`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no unsafe-*`);
  assert.match(csp, /script-src 'self'(;|$)/, `${what}: scripts only from self`);
  assert.equal(r.headers.get('referrer-policy'), 'same-origin', `${what}: Referrer-Policy`);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
}

test('the web app: caching, precompression, fallback, security headers', async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_WEB_ROOT: webRoot } });
  try {
    const index = readFileSync(path.join(webRoot, 'index.html'), 'utf8');
    // No inline script in any page: every <script> has a src.
    for (const f of ['index.html', 'resident.html', 'werkbezoek.html']) {
      const html = readFileSync(path.join(webRoot, f), 'utf8');
      for (const m of html.matchAll(/<script\b[^>]*>/g)) assert.match(m[0], /\bsrc="\/assets\//, `${f}: ${m[0]}`);
      assert.match(html, /<html lang="nl">/);
    }

    // The staff app's routes: index.html, no-cache, with the headers.
    for (const p of ['/', '/inloggen', '/zoeken?q=inbraak&area=WK034401', '/verhalen/12', '/werkbezoeken/3']) {
      const r = await fetch(`${d.url}${p}`, { headers: { 'Accept-Encoding': 'identity' } });
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', p);
      assert.equal(r.headers.get('cache-control'), 'no-cache', p);
      assert.equal(await r.text(), index, p);
      headersOk(r, p);
    }
    const wb = await fetch(`${d.url}/werkbezoek`);
    assert.equal(wb.status, 200);
    assert.equal(await wb.text(), readFileSync(path.join(webRoot, 'werkbezoek.html'), 'utf8'));

    // Revalidation: the ETag gives 304.
    const first = await fetch(`${d.url}/zoeken`, { headers: { 'Accept-Encoding': 'identity' } });
    await first.arrayBuffer();
    const again = await fetch(`${d.url}/zoeken`, {
      headers: { 'Accept-Encoding': 'identity', 'If-None-Match': first.headers.get('etag') },
    });
    assert.equal(again.status, 304);

    // Never a page for /api/, nor for paths that are not the app's.
    for (const p of ['/api/v1/nothing-here', '/api/', '/api/v1/entries/12/nothing', '/zoeken/extra/deep', '/verhalen', '/onbekend', '/index.html']) {
      const r = await fetch(`${d.url}${p}`);
      assert.equal(r.status, 404, p);
      assert.match(r.headers.get('content-type'), /^application\/problem\+json/, p);
      await r.arrayBuffer();
    }

    // Hashed assets: a year, immutable; .br and .gz when accepted.
    const js = readdirSync(path.join(webRoot, 'assets')).filter((f) => /^index-.*\.js$/.test(f))[0];
    assert.ok(js, 'the build made an index-<hash>.js');
    const raw = readFileSync(path.join(webRoot, 'assets', js));
    for (const [enc, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync], ['identity', (b) => b]]) {
      const r = await fetch(`${d.url}/assets/${js}`, { headers: { 'Accept-Encoding': enc } });
      assert.equal(r.status, 200, enc);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', enc);
      assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8', enc);
      assert.equal(r.headers.get('vary'), 'Accept-Encoding', enc);
      headersOk(r, `asset ${enc}`);
      // fetch() would decode by itself; read the bytes as sent.
      const body = Buffer.from(await r.arrayBuffer());
      if (enc === 'identity') {
        assert.equal(r.headers.get('content-encoding'), null);
        assert.ok(body.equals(raw));
      } else {
        assert.equal(r.headers.get('content-encoding'), enc, `${enc} copy sent`);
      }
    }
    // Raw bytes through a plain socket, as fetch decodes on its own.
    const net = await import('node:net');
    const port = new URL(d.url).port;
    for (const [enc, decode] of [['br', brotliDecompressSync], ['gzip', gunzipSync]]) {
      const bytes = await new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(`GET /assets/${js} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${enc};q=1\r\nConnection: close\r\n\r\n`));
        const parts = [];
        s.on('data', (c) => parts.push(c));
        s.on('end', () => resolve(Buffer.concat(parts)));
        s.on('error', reject);
      });
      const cut = bytes.indexOf('\r\n\r\n');
      assert.match(bytes.subarray(0, cut).toString(), new RegExp(`content-encoding: ${enc}`, 'i'));
      assert.ok(decode(bytes.subarray(cut + 4)).equals(raw), `${enc} decodes to the asset`);
    }
    // q=0 refuses a coding.
    const r0 = await fetch(`${d.url}/assets/${js}`, { headers: { 'Accept-Encoding': 'br;q=0, gzip;q=0' } });
    assert.equal(r0.headers.get('content-encoding'), null);
    await r0.arrayBuffer();

    // Unknown or odd asset names: 404, and nothing outside assets/.
    const dotdot = await fetch(`${d.url}/assets/..%2Findex.html`);
    assert.equal(dotdot.status, 400, 'an encoded slash is refused by the HTTP layer');
    await dotdot.arrayBuffer();
    for (const p of ['/assets/nope-123.js', '/assets/.hidden.js', '/assets/index.html.br']) {
      const r = await fetch(`${d.url}${p}`);
      assert.equal(r.status, 404, p);
      headersOk(r, p);
      await r.arrayBuffer();
    }
    // HEAD of a page: headers, no body.
    const h = await fetch(`${d.url}/zoeken`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    headersOk(h, 'HEAD');
  } finally {
    await d.stop();
  }
});

test('without a built web app, / says so in a problem and the API still works', async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_WEB_ROOT: path.join(build, 'no-such-web') } });
  try {
    const r = await fetch(`${d.url}/zoeken`);
    assert.equal(r.status, 404);
    const p = await r.json();
    assert.match(p.detail, /not installed/);
    assert.doesNotMatch(p.detail, /no-such-web/, 'no server path in the answer');
    assert.equal((await fetch(`${d.url}/healthz`)).status, 200);
  } finally {
    await d.stop();
  }
});
