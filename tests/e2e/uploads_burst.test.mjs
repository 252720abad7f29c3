// A multipart body that arrives in one burst, before any of its spool
// files exists: the loop creates no file (a worker does, issue 9), so the
// server pauses the body while each part's file is made and keeps the
// bytes already handed over. Twenty files that begin inside one read,
// sent in one write (chunked in small chunks, and with Content-Length so
// that the body ends inside that read too), are stored byte-exact, and
// no spool file is left.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  RawConn, entryPart, multipart, fieldworkerToken, migratedStore, withDaemon,
  blobPath, filesUnder, newFiles, sha256, randomFile,
} from './lib/uploads.mjs';

let db;
let dataDir;
before(() => { ({ db, dataDir } = migratedStore()); });

const entry = {
  kind: 'story', title: 'Twintig briefjes', text: 'In een keer verstuurd.',
  consent: { scope: 'publish', version: '1', language: 'nl' },
};

function files(n, size) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({ name: `f${i}`, filename: `briefje-${i}.bin`, type: 'application/octet-stream', data: randomFile(size) });
  }
  return out;
}

// The body in chunks of `piece` bytes: many chunks in one read of the
// server, so a pause inside one must hold the next ones.
function chunked(body, piece) {
  const out = [];
  for (let i = 0; i < body.length; i += piece) {
    const c = body.subarray(i, i + piece);
    out.push(Buffer.from(c.length.toString(16) + '\r\n'), c, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

async function burst(d, token, parts, coding) {
  const { body, contentType } = multipart(parts);
  const head = ['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token}`,
    `Content-Type: ${contentType}`, 'Connection: close'];
  let payload;
  if (coding === 'chunked') {
    head.push('Transfer-Encoding: chunked');
    payload = chunked(body, 700);
  } else {
    head.push(`Content-Length: ${body.length}`);
    payload = body;
  }
  const c = new RawConn(d.url);
  try {
    await c.connected;
    // Head and body in one write: the whole burst is there before the
    // first part's file can exist.
    await c.write(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), payload]));
    return await c.readResponse({ timeout: 30000 });
  } finally { c.destroy(); }
}

for (const coding of ['chunked', 'length']) {
  test(`twenty files in one burst (${coding}) are stored byte-exact; no spool file is left`, () =>
    withDaemon({ databaseUrl: db, dataDir }, async (d) => {
      const token = fieldworkerToken(db, `burst-${coding}`);
      const want = files(20, 2000 + (coding === 'chunked' ? 1 : 0));
      const spool0 = filesUnder(path.join(d.dataDir, 'spool'));
      const r = await burst(d, token, [entryPart(entry), ...want], coding);
      assert.equal(r.status, 201, r.body.toString());
      const e = JSON.parse(r.body.toString());
      assert.equal(e.media.length, want.length);
      const byName = new Map(e.media.map((m) => [m.filename, m]));
      for (const f of want) {
        const m = byName.get(f.filename);
        assert.ok(m, `media for ${f.filename}`);
        assert.equal(m.size, f.data.length, `size of ${f.filename}`);
        assert.equal(m.sha256, sha256(f.data), `sha256 of ${f.filename}`);
        const p = blobPath(d.dataDir, m.sha256);
        assert.ok(existsSync(p), `blob file of ${f.filename}`);
        assert.ok(readFileSync(p).equals(f.data), `the blob of ${f.filename} holds its bytes`);
      }
      // Files are removed on the pool: give the last removal a moment.
      for (let i = 0; i < 50 && newFiles(path.join(d.dataDir, 'spool'), spool0).length; i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.deepEqual(newFiles(path.join(d.dataDir, 'spool'), spool0), []);
    }));
}

test('a burst refused after its files began (21 files) leaves no spool file and names the limit', () =>
  withDaemon({ databaseUrl: db, dataDir }, async (d) => {
    const token = fieldworkerToken(db, 'burst-many');
    const spool0 = filesUnder(path.join(d.dataDir, 'spool'));
    const r = await burst(d, token, [entryPart(entry), ...files(21, 1000)], 'length');
    assert.equal(r.status, 413, r.body.toString());
    const p = JSON.parse(r.body.toString());
    assert.match(p.type, /too-many-files/);
    assert.match(p.detail, /at most 20 files/);
    for (let i = 0; i < 50 && newFiles(path.join(d.dataDir, 'spool'), spool0).length; i++) {
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(newFiles(path.join(d.dataDir, 'spool'), spool0), [],
      'the twenty files made for it are removed');
  }));
