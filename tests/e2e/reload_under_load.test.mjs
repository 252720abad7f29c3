// SIGHUP 100 times while uploads and logins run, each reload switching
// two reloadable keys between two values: max_upload_size (1 MiB / 3 MiB)
// and session_lifetime (1 h / 2 h). A reload swaps in a new config
// snapshot; a request keeps the one it started with. So every request
// sees one value or the other, never a mix: a tus creation of 2 MiB is
// either taken (3 MiB) or refused naming 1 MiB; a login's cookie lasts as
// long as the session it made; nothing fails. Under `make SANITIZE=thread`
// the daemon must also report no data race (its log, its exit status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, tmpdir } from './lib/harness.mjs';
import { addUser, login, sessionHeaders } from './lib/accounts.mjs';
import {
  MiB, fieldworkerToken, migratedStore, multipart, entryPart, randomFile,
  tusHeaders, tusMetadata, tusPatch,
} from './lib/uploads.mjs';

const PW = 'a long enough passphrase 42';
const CONFIGS = [
  { max: 1 * MiB, lifetime: 3600 },
  { max: 3 * MiB, lifetime: 7200 },
];
const SIZE = 2 * MiB;	// between the two limits
const CHUNK = 512 * 1024;	// below both

// Written beside and renamed over, as config management does: a reload
// that reads the file while writeFileSync has only truncated it would
// see an empty file, a valid config of defaults (a 2 GiB limit).
function writeConfig(file, c) {
  writeFileSync(`${file}.new`, `max_upload_size = ${c.max}\nsession_lifetime = ${c.lifetime}s\n`);
  renameSync(`${file}.new`, file);
}

// One tus upload of SIZE bytes: created under one of the two limits, and
// then finished whatever reloads happen meanwhile (its PATCHes are small).
async function tusOne(base, token, i) {
  const r = await fetch(`${base}/api/v1/uploads`, {
    method: 'POST',
    headers: tusHeaders(token, {
      'Upload-Length': String(SIZE),
      'Upload-Metadata': tusMetadata({ kind: 'story', filename: `hup${i}.bin` }),
    }),
  });
  const text = await r.text();
  if (r.status === 413) {
    const p = JSON.parse(text);
    return { kind: 'tus-refused', status: 413, limit: Number(/at most (\d+) bytes/.exec(p.detail)?.[1]) };
  }
  if (r.status !== 201) return { kind: 'tus-create', status: r.status, text };
  const url = new URL(r.headers.get('location'), base).href;
  const data = randomFile(SIZE);
  for (let off = 0; off < SIZE;) {
    const p = await tusPatch(url, token, off, data.subarray(off, off + CHUNK));
    if (p.status !== 204) return { kind: 'tus-patch', status: p.status, text: p.text };
    off = Number(p.headers.get('upload-offset'));
  }
  return { kind: 'tus-done', status: 204 };
}

// A login, and what the session it made says about its own end.
async function loginOne(base, name) {
  const t0 = Date.now();
  const { r, session } = await login(base, name, PW);
  if (r.status !== 200) return { kind: 'login', status: r.status };
  const maxAge = Number(/Max-Age=(\d+)/.exec(session.setCookie)?.[1]);
  const g = await fetch(`${base}/api/v1/session`, { headers: sessionHeaders(session, { csrf: false }) });
  const body = await g.json();
  const lasts = (Date.parse(body.expires_at) - t0) / 1000;
  return { kind: 'login', status: g.status === 200 ? 200 : g.status, maxAge, lasts };
}

test('100 reloads that change limits while uploads and logins run: each request sees one config, and all succeed', async () => {
  const { db, dataDir } = migratedStore();
  // One account per login: the per-account login throttle is not what
  // this test is about.
  for (let i = 0; i < 8; i++) addUser(db, `hup${i}`, 'analyst', PW);
  const conf = path.join(tmpdir('hup'), 'verhaald.conf');
  writeConfig(conf, CONFIGS[1]);
  const d = await startDaemon({ databaseUrl: db, dataDir, args: ['-c', conf] });
  try {
    const token = fieldworkerToken(db, 'hup-fw');
    let hups = 0;
    const hupper = (async () => {
      for (; hups < 100; hups++) {
        writeConfig(conf, CONFIGS[hups % 2]);
        d.proc.kill('SIGHUP');
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const work = [];
    for (let i = 0; i < 16; i++) {
      const { body, contentType } = multipart([entryPart({ kind: 'visit', title: `hup ${i}` }),
        { name: 'f', filename: `f${i}.bin`, type: 'application/octet-stream', data: randomFile(64 * 1024) }]);
      work.push(fetch(`${d.url}/api/v1/entries`, { method: 'POST', body,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType } })
        .then(async (r) => { await r.arrayBuffer(); return { kind: 'multipart', status: r.status }; }));
      if (i % 2 === 0) work.push(tusOne(d.url, token, i));
      if (i % 2 === 1) work.push(loginOne(d.url, `hup${(i - 1) / 2}`));
      work.push(fetch(`${d.url}/api/v1/uploads`, { method: 'OPTIONS', headers: tusHeaders(null) })
        .then(async (r) => { await r.arrayBuffer(); return { kind: 'options', status: r.status, max: Number(r.headers.get('tus-max-size')) }; }));
      await new Promise((r) => setTimeout(r, 40));
    }
    const results = await Promise.all(work);
    await hupper;
    assert.equal(hups, 100);

    const failed = results.filter((x) => !(x.status === 200 || x.status === 201 || x.status === 204 ||
      (x.kind === 'tus-refused' && x.status === 413)));
    assert.deepEqual(failed, [], 'every upload, login and OPTIONS succeeded (or a creation was refused by a limit)');
    const maxes = CONFIGS.map((c) => c.max);
    for (const x of results.filter((y) => y.kind === 'options'))
      assert.ok(maxes.includes(x.max), `Tus-Max-Size ${x.max} is one of ${maxes}`);
    for (const x of results.filter((y) => y.kind === 'tus-refused'))
      assert.equal(x.limit, CONFIGS[0].max, 'a 2 MiB creation is refused only by the 1 MiB limit');
    const logins = results.filter((y) => y.kind === 'login');
    assert.equal(logins.length, 8);
    for (const x of logins) {
      assert.ok(CONFIGS.some((c) => c.lifetime === x.maxAge), `cookie Max-Age ${x.maxAge} is one of the two lifetimes`);
      // The session row and the cookie come from the same snapshot: the
      // two lifetimes are an hour apart, the slack here a minute.
      assert.ok(Math.abs(x.lasts - x.maxAge) < 60,
        `the session lasts ${Math.round(x.lasts)} s and its cookie says ${x.maxAge} s`);
    }

    const h = await fetch(`${d.url}/healthz`);
    assert.equal(h.status, 200, 'the daemon still answers after 100 reloads');
    assert.equal(d.proc.exitCode, null, 'and is still running');
    assert.match(d.log(), /config: max_upload_size = /, 'the reloads took effect');
  } finally {
    const code = await d.stop('SIGTERM');
    assert.doesNotMatch(d.log(), /ThreadSanitizer|AddressSanitizer|runtime error:/, 'no sanitizer report');
    assert.equal(code, 0, 'the daemon drains and exits 0 (a sanitizer that reported exits otherwise)');
  }
});
