// Media jobs, hostile inputs: each is rejected with a reason the uploader
// can read, its original is quarantined and never served, and the daemon
// keeps serving throughout.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from './lib/harness.mjs';
import { mediaDaemon, uploadMultipart, waitMedia, psql } from './lib/media.mjs';

const dir = tmpdir('hostile');
let ctx;

function gifBomb() {
  // A valid GIF header declaring 65535 x 65535 pixels, one tiny frame.
  const head = Buffer.from('GIF89a', 'latin1');
  const screen = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]);
  const image = Buffer.from([0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]);
  return Buffer.concat([head, screen, image]);
}

before(async () => {
  execSync(`espeak-ng -v nl -w speech.wav 'Dit is een test.'`, { cwd: dir });
  execSync('ffmpeg -v error -y -i speech.wav -c:a aac isom.mp4', { cwd: dir });
  execSync('ffmpeg -v error -y -f lavfi -i testsrc=size=640x480 -frames:v 1 photo.jpg', { cwd: dir });
  const mp4 = readFileSync(path.join(dir, 'isom.mp4'));
  const moov = mp4.indexOf('moov');
  assert.ok(moov > 0, 'the moov box is at the end of a default mp4');
  writeFileSync(path.join(dir, 'nomoov.m4a'), mp4.subarray(0, moov - 4));
  writeFileSync(path.join(dir, 'text.wav'), 'Dit is geen geluid maar gewone tekst.\n'.repeat(20));
  writeFileSync(path.join(dir, 'truncated.wav'), readFileSync(path.join(dir, 'speech.wav')).subarray(0, 40));
  writeFileSync(path.join(dir, 'bomb.gif'), gifBomb());
  const jpg = readFileSync(path.join(dir, 'photo.jpg'));
  writeFileSync(path.join(dir, 'truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  execSync('zip -q archive.zip speech.wav && cp archive.zip archive.m4a', { cwd: dir });
  writeFileSync(path.join(dir, 'page.jpg'),
    '<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n');
  ctx = await mediaDaemon();
});

const hostile = [
  ['text.wav', /text|sent as audio/],
  ['truncated.wav', /./],
  ['nomoov.m4a', /./],
  ['bomb.gif', /./],
  ['truncated.jpg', /./],
  ['archive.m4a', /zip|archive/i],
  ['page.jpg', /HTML|web page/i],
];

test('hostile inputs are rejected with a reason while the daemon keeps serving', async () => {
  const ids = {};
  for (const [f] of hostile)
    ids[f] = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, f)).media;
  // A good file queued behind them is processed normally.
  const good = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'photo.jpg')).media;
  for (const [f, why] of hostile) {
    assert.equal((await fetch(`${ctx.d.url}/healthz`)).status, 200);
    const m = await waitMedia(ctx.d.url, ctx.worker, ids[f]);
    assert.equal(m.status, 'rejected', `${f} was accepted as ${m.family} ${m.type}`);
    assert.equal(typeof m.reason, 'string', f);
    assert.ok(m.reason.length > 5, f);
    assert.match(m.reason, why, f);
    assert.deepEqual(Object.keys(m.links), ['self'], `${f}: no renditions`);
    // The original is sealed: not even its uploader or an admin gets it.
    for (const tok of [ctx.worker, ctx.admin]) {
      const r = await fetch(`${ctx.d.url}/api/v1/media/${ids[f]}/original`, { headers: { Authorization: `Bearer ${tok}` } });
      assert.equal(r.status, 404, f);
    }
    const sha = psql(ctx.url, `SELECT blob_sha256 FROM media WHERE id = ${ids[f]}`);
    assert.ok(existsSync(path.join(ctx.d.dataDir, 'quarantine', sha)), `${f} quarantined`);
    console.log(`${f}: ${m.reason}`);
  }
  const g = await waitMedia(ctx.d.url, ctx.worker, good);
  assert.equal(g.status, 'ready');
  // Every job completed once, on its first attempt: a reject is an answer.
  assert.equal(psql(ctx.url, "SELECT count(*) FROM job WHERE state = 'done' AND completions = 1 AND attempts = 1"),
    String(hostile.length + 1));
  assert.equal(await ctx.d.stop(), 0);
});
