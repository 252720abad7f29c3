// Media jobs, audio: every form phones and browsers send goes from upload
// through its job to playable Opus and AAC renditions of the right length,
// and the real recordings in ../shared/data/media/audio do too.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { tmpdir, shared } from './lib/harness.mjs';
import { mediaDaemon, uploadMultipart, uploadTus, waitMedia, fetchTo, decodedSeconds, ffprobe, getMedia, psql }
  from './lib/media.mjs';

const dir = tmpdir('audio');
let ctx;

// One short speech recording, then every form of it.
const forms = {
  's16.wav': '-ar 44100 -ac 2 -c:a pcm_s16le',
  'f32.wav': '-ar 48000 -ac 2 -c:a pcm_f32le',
  'speech.flac': '-c:a flac',
  'speech.mp3': '-c:a libmp3lame -b:a 64k',
  'opus.ogg': '-c:a libopus -b:a 32k',
  'vorbis.ogg': '-c:a libvorbis',
  'opus.webm': '-c:a libopus -b:a 32k',
  'brand-m4a.m4a': '-c:a aac -b:a 64k -f ipod',
  'brand-mp42.mp4': '-c:a aac -b:a 64k -brand mp42',
  'brand-isom.mp4': '-c:a aac -b:a 64k',
  'fragmented.mp4': '-c:a aac -b:a 64k -movflags frag_keyframe+empty_moov+default_base_moof',
};

before(async () => {
  execSync(`espeak-ng -v nl -s 150 -w raw.wav 'Op de hoek van onze straat staat al weken een kapotte lantaarn en ` +
    `s avonds voelt het daar niet veilig.'`, { cwd: dir });
  execSync('ffmpeg -v error -y -i raw.wav -ar 48000 -ac 1 speech.wav', { cwd: dir });
  for (const [name, args] of Object.entries(forms))
    execSync(`ffmpeg -v error -y -i speech.wav ${args} ${name}`, { cwd: dir });
  execSync('sox speech.wav -r 8000 -c 1 -t amr-nb speech.amr', { cwd: dir });
  execSync('ffmpeg -v error -y -i speech.amr -c:a copy amrnb.3gp', { cwd: dir });
  ctx = await mediaDaemon();
});


// The upload's length is `want` seconds; both renditions must last as long
// within 1% (or one 20 ms codec frame, for clips under two seconds): ffprobe reads the Ogg end granule and the MP4 edit list, which
// is what players honour. decode: also decode both renditions in full.
async function checkAudio(file, id, label, wants, decode = false) {
  const m = await waitMedia(ctx.d.url, ctx.worker, id);
  // Of several right lengths, the one nearest to what the job found.
  wants = [wants].flat();
  const want = wants.reduce((a, b) => Math.abs(b - m.duration_ms / 1000) < Math.abs(a - m.duration_ms / 1000) ? b : a);
  assert.equal(m.status, 'ready', `${label}: ${m.reason}`);
  assert.equal(m.family, 'audio', label);
  const tol = Math.max(want * 0.01, 0.02);
  assert.ok(Math.abs(m.duration_ms / 1000 - want) <= tol,
    `${label}: duration_ms ${m.duration_ms} vs ${want} s in the upload`);
  assert.equal(typeof m.loudness_lufs, 'number', label);
  for (const [link, codec, fmt] of [['audio.opus', 'opus', 'ogg'], ['audio.m4a', 'aac', 'mov']]) {
    assert.equal(m.links[link], `/api/v1/media/${id}/${link}`, label);
    const { file: out, res } = await fetchTo(ctx.d.url, ctx.worker, m.links[link], dir, `${id}-${link}`);
    assert.equal(res.headers.get('content-type'), link === 'audio.opus' ? 'audio/ogg; codecs=opus' : 'audio/mp4');
    const p = ffprobe(out);
    assert.equal(p.streams[0].codec_name, codec, `${label} ${link}`);
    assert.match(p.format.format_name, new RegExp(fmt), `${label} ${link}`);
    assert.equal(p.streams[0].channels, 1, `${label} ${link}`);
    const got = Number(p.format.duration);
    assert.ok(Math.abs(got - want) <= tol, `${label} ${link}: ${got} s vs ${want} s`);
    if (decode) {
      // ffmpeg's decoder keeps AAC's last frame whole (1024 samples).
      const played = decodedSeconds(out);
      assert.ok(Math.abs(played - want) <= tol + 1024 / 48000, `${label} ${link}: ${played} s decoded`);
    }
  }
  const peaks = await (await fetch(`${ctx.d.url}${m.links['peaks.json']}`,
    { headers: { Authorization: `Bearer ${ctx.worker}` } })).json();
  assert.equal(peaks.bits, 8, label);
  assert.equal(peaks.data.length, peaks.length * 2, label);
  return m;
}

// Every form is made from speech.wav (48 kHz s16 mono): its length.
let speechLength;
function speechSeconds() {
  speechLength ??= Number(ffprobe(path.join(dir, 'speech.wav')).format.duration);
  return speechLength;
}

test('every phone and browser form becomes Opus and AAC of the right length', async () => {
  const files = [...Object.keys(forms), 'speech.amr', 'amrnb.3gp'];
  const ids = {};
  for (const f of files)
    ids[f] = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, f)).media;
  const want = speechSeconds();
  for (const f of files)
    await checkAudio(path.join(dir, f), ids[f], f, want, f === 'speech.flac');
  // Each upload's job completed once.
  assert.equal(psql(ctx.url, "SELECT count(*) FILTER (WHERE state = 'done' AND completions = 1 AND attempts = 1)" +
    ' = count(*) FROM job'), 't');
});

test('a tus upload enqueues its job too', async () => {
  const { entry } = await uploadTus(ctx.d.url, ctx.worker, path.join(dir, 'brand-m4a.m4a'), 'iphone.m4a');
  const id = Number(psql(ctx.url, `SELECT id FROM media WHERE entry_id = ${entry}`));
  await checkAudio(path.join(dir, 'brand-m4a.m4a'), id, 'tus m4a', speechSeconds(), true);
});

test('renditions: Range, ETag and who may read them', async () => {
  const id = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'opus.webm')).media;
  const m = await waitMedia(ctx.d.url, ctx.worker, id);
  const url = `${ctx.d.url}${m.links['audio.opus']}`;
  const auth = { Authorization: `Bearer ${ctx.worker}` };
  let r = await fetch(url, { headers: { ...auth, Range: 'bytes=0-99' } });
  assert.equal(r.status, 206);
  assert.equal((await r.arrayBuffer()).byteLength, 100);
  assert.match(r.headers.get('content-range'), /^bytes 0-99\/\d+$/);
  assert.match(r.headers.get('content-disposition'), /^inline/);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{64}"$/);
  r = await fetch(url, { headers: { ...auth, 'If-None-Match': etag } });
  assert.equal(r.status, 304);
  // Analysts hear a visit once it is published (the access rule,
  // schema/0009_access.sql); another field worker sees nothing; no token, 401.
  assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${ctx.analyst}` } })).status, 404);
  psql(ctx.url, `UPDATE entry SET status = 'published' WHERE id = (SELECT entry_id FROM media WHERE id = ${id})`);
  assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${ctx.analyst}` } })).status, 200);
  assert.equal((await getMedia(ctx.d.url, ctx.analyst, id)).status, 200);
  assert.equal((await getMedia(ctx.d.url, ctx.other, id)).status, 404);
  assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${ctx.other}` } })).status, 404);
  assert.equal((await fetch(url)).status, 401);
  // A photo rendition of an audio file does not exist.
  assert.equal((await fetch(`${ctx.d.url}/api/v1/media/${id}/display.jpg`, { headers: auth })).status, 404);
});

// A real file's right length is what ffmpeg decodes or, where ffmpeg's own
// AMR decoder gives up on frames ("not yet implemented"), what its
// container states for the audio stream.
function realLengths(file) {
  const a = ffprobe(file).streams.find((st) => st.sample_rate !== undefined);
  const out = [decodedSeconds(file)];
  if (a?.duration !== undefined) out.push(Number(a.duration));
  return out;
}

const real = path.join(shared, 'data/media/audio');
test('the real recordings in ../shared/data/media/audio', { skip: !existsSync(real) && `${real} is absent` }, async () => {
  const files = readdirSync(real).sort();
  assert.ok(files.length > 0);
  const ids = files.map((f) => uploadMultipart(ctx.d.url, ctx.worker, path.join(real, f)).media);
  for (let i = 0; i < files.length; i++)
    await checkAudio(path.join(real, files[i]), ids[i], files[i], realLengths(path.join(real, files[i])));
});

test('SIGTERM stops the runners cleanly', async () => {
  assert.equal(await ctx.d.stop('SIGTERM'), 0);
  assert.match(ctx.d.log(), /jobs: waiting for the runners' current jobs/);
  assert.match(ctx.d.log(), /shutdown complete/);
});
