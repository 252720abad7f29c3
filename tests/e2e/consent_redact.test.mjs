// Redaction: text spans replaced in title and text (and so in the search
// index, a column of the same row), logged by position only; and, where
// the media pipeline's renditions exist, an audio range measured silent
// in the re-encoded Opus and AAC renditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { psql, tmpdir, waitFor } from './lib/harness.mjs';
import { setup, submit, auth, CONSENT, hasColumn, toneWav, tablesHolding } from './lib/consent.mjs';

const redact = (ctx, id, body, token = ctx.tokens.moderator) => fetch(`${ctx.d.url}/api/v1/entries/${id}/redact`, {
  method: 'POST', headers: { ...auth(token), 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});

test('text spans are replaced and logged by position only', async () => {
  const ctx = await setup();
  try {
    const text = 'Ik ben Jan Zonnebloem uit de Kerkstraat 12, mijn buurman Piet ook.';
    let r = await submit(ctx, { title: 'Jan Zonnebloem vertelt', text, consent: CONSENT() });
    const { id } = await r.json();
    assert.equal((await redact(ctx, id, { text: [{ start: 7, end: 21 }] }, ctx.tokens.analyst)).status, 403);
    assert.equal((await redact(ctx, id, { text: [{ start: 60, end: 99 }] })).status, 422);
    assert.equal((await redact(ctx, id, { text: [{ start: 1, end: 5 }, { start: 3, end: 8 }] })).status, 422);
    r = await redact(ctx, id, {
      title: [{ start: 0, end: 14, replacement: '[naam]' }],
      text: [{ start: 7, end: 21 }, { start: text.indexOf('Kerk'), end: text.indexOf(','), replacement: '[adres]' },
        { start: text.indexOf('Piet'), end: text.indexOf('Piet') + 4, replacement: '[naam]' }],
    });
    assert.equal(r.status, 200, await r.clone().text());
    const e = await r.json();
    assert.equal(e.title, '[naam] vertelt');
    assert.equal(e.text, 'Ik ben […] uit de [adres], mijn buurman [naam] ook.');
    assert.equal(psql(ctx.url, `SELECT body FROM entry WHERE id = ${id}`), e.text);
    // The removed words are nowhere: not in the row, not in the log.
    for (const word of ['Zonnebloem', 'Kerkstraat', 'Piet']) assert.deepEqual(tablesHolding(ctx.url, word), [], word);
    assert.equal(psql(ctx.url, `SELECT actor || ' ' || kind || ' ' || (spans->'text'->1->>'start') FROM redaction WHERE entry_id = ${id}`), 'moderator1 text 29');
    if (hasColumn(ctx.url, 'entry', 'search')) {
      assert.equal(psql(ctx.url, `SELECT count(*) FROM entry WHERE search @@ plainto_tsquery('dutch', 'Zonnebloem')`), '0');
    }
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

// RMS in dBFS of [from, to) seconds of a file, decoded by ffmpeg.
function rms(file, from, to) {
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-ss', String(from), '-t', String(to - from), '-f', 'f32le', '-ac', '1', '-ar', '48000', '-'], { maxBuffer: 64 << 20 });
  const f = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4);
  let s = 0;
  for (const v of f) s += v * v;
  return f.length && s > 0 ? 10 * Math.log10(s / f.length) : -200;
}

function blobPath(dataDir, hex) { return path.join(dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex); }

// Each redaction job re-encodes from the sealed original; a second one must
// keep what the first muted (it once brought it back).
test('a second audio redaction keeps the first one\'s range silent', async (t) => {
  const ctx = await setup();
  try {
    if (!hasColumn(ctx.url, 'media', 'opus_sha256')) {
      t.skip('no rendition columns in this schema');
      return;
    }
    const wav = toneWav(tmpdir('redact2'), 'tone.wav', 6);
    const r = await submit(ctx, { text: 'toon', consent: CONSENT('audio_to_staff') }, [{ name: 'tone.wav', data: wav, type: 'audio/wav' }]);
    const e = await r.json();
    const mid = e.media[0].id;
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${mid}`) === 'ready', { timeout: 60000 });
    for (const mute of [[[1000, 2000]], [[3500, 4500]]]) {
      const red = await redact(ctx, e.id, { audio: [{ media: mid, mute }] });
      assert.equal(red.status, 202, await red.clone().text());
      const loc = red.headers.get('location');
      let job;
      await waitFor(async () => {
        job = await (await fetch(`${ctx.d.url}${loc}`, { headers: auth(ctx.tokens.moderator) })).json();
        return job.state === 'done' || job.state === 'failed';
      }, { timeout: 60000 });
      assert.equal(job.state, 'done', JSON.stringify(job));
    }
    const opus = psql(ctx.url, `SELECT opus_sha256 FROM media WHERE id = ${mid}`);
    const f = blobPath(ctx.d.dataDir, opus);
    const first = rms(f, 1.05, 1.95), between = rms(f, 2.2, 3.3), second = rms(f, 3.55, 4.45);
    console.log(`first range ${first.toFixed(1)} dBFS, between ${between.toFixed(1)} dBFS, second range ${second.toFixed(1)} dBFS`);
    assert.ok(first < -60, 'the first redaction\'s range is still silent');
    assert.ok(second < -60, 'the second range is silent');
    assert.ok(between > -30, 'the rest is kept');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('an audio range is silent in the re-encoded renditions', async (t) => {
  const ctx = await setup();
  try {
    if (!hasColumn(ctx.url, 'media', 'opus_sha256')) {
      // Without the media pipeline (schema 0004) there are no renditions.
      const r = await submit(ctx, { text: 'x', consent: CONSENT('audio_to_staff') }, [{ name: 'a.wav', data: Buffer.from('RIFF') }]);
      const e = await r.json();
      const red = await redact(ctx, e.id, { audio: [{ media: e.media[0].id, mute: [[0, 100]] }] });
      assert.equal(red.status, 501);
      t.skip('no rendition columns in this schema: audio redaction answered 501');
      return;
    }
    const wav = toneWav(tmpdir('redact'), 'tone.wav', 6);
    const r = await submit(ctx, { text: 'toon', consent: CONSENT('audio_to_staff') }, [{ name: 'tone.wav', data: wav, type: 'audio/wav' }]);
    const e = await r.json();
    const mid = e.media[0].id;
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${mid}`) === 'ready', { timeout: 60000 });
    const before = psql(ctx.url, `SELECT opus_sha256 || ' ' || m4a_sha256 || ' ' || peaks_sha256 FROM media WHERE id = ${mid}`).split(' ');
    assert.ok(rms(blobPath(ctx.d.dataDir, before[0]), 2.1, 3.4) > -30, 'the tone is there before');

    assert.equal((await redact(ctx, e.id, { audio: [{ media: mid, mute: [[2000, 3500]] }] }, ctx.tokens.analyst)).status, 403);
    assert.equal((await redact(ctx, e.id, { audio: [{ media: mid, mute: [[3000, 2000]] }] })).status, 422);
    const red = await redact(ctx, e.id, { audio: [{ media: mid, mute: [[2000, 3500]] }] });
    // Re-encoding is a media runner's job: 202, and the job to follow.
    assert.equal(red.status, 202, await red.clone().text());
    const queued = await red.json();
    const loc = red.headers.get('location');
    assert.equal(loc, `/api/v1/jobs/${queued.audio[0].job}`);
    assert.equal(queued.audio[0].media, mid);
    assert.equal((await fetch(`${ctx.d.url}${loc}`, { headers: auth(ctx.tokens.analyst) })).status, 403);
    let job;
    await waitFor(async () => {
      job = await (await fetch(`${ctx.d.url}${loc}`, { headers: auth(ctx.tokens.moderator) })).json();
      return job.state === 'done' || job.state === 'failed';
    }, { timeout: 60000 });
    assert.equal(job.state, 'done', JSON.stringify(job));
    assert.equal(job.kind, 'redact');
    const after = psql(ctx.url, `SELECT opus_sha256 || ' ' || m4a_sha256 || ' ' || peaks_sha256 FROM media WHERE id = ${mid}`).split(' ');
    for (let i = 0; i < 3; i++) assert.notEqual(after[i], before[i]);
    assert.deepEqual([job.result.opus, job.result.m4a, job.result.peaks], after);
    for (const [i, name] of [[0, 'opus'], [1, 'm4a']]) {
      const f = blobPath(ctx.d.dataDir, after[i]);
      const muted = rms(f, 2.05, 3.45), kept = rms(f, 0.5, 1.9), tail = rms(f, 3.6, 5.5);
      console.log(`${name}: muted range ${muted.toFixed(1)} dBFS, before it ${kept.toFixed(1)} dBFS, after it ${tail.toFixed(1)} dBFS`);
      assert.ok(muted < -60, `${name} is silent in the range`);
      assert.ok(kept > -30 && tail > -30, `${name} keeps the rest`);
    }
    // The unredacted renditions are gone from the store and the database.
    const { existsSync } = await import('node:fs');
    for (let i = 0; i < 3; i++) {
      assert.ok(!existsSync(blobPath(ctx.d.dataDir, before[i])), `old rendition ${i} removed`);
      assert.equal(psql(ctx.url, `SELECT count(*) FROM blob WHERE sha256 = '${before[i]}'`), '0');
    }
    assert.equal(psql(ctx.url, `SELECT kind || ' ' || (spans->'mute'->0->>1) FROM redaction WHERE media_id = ${mid}`), 'audio 3500');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
