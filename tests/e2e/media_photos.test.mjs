// Media jobs, photos: every photo in ../shared/data/media/photos becomes
// an upright display JPEG and thumbnail that carry no metadata; a photo's
// GPS position becomes the buurt's area code and is kept nowhere else.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { tmpdir, shared } from './lib/harness.mjs';
import { mediaDaemon, uploadMultipart, waitMedia, fetchTo, psql } from './lib/media.mjs';

const photos = path.join(shared, 'data/media/photos');
const skip = !existsSync(photos) && `${photos} is absent`;
const dir = tmpdir('photos');
let ctx;

function exif(files) {
  return JSON.parse(execFileSync('exiftool', ['-j', '-G', '-n', ...files], { encoding: 'utf8' }));
}

before(async () => { if (!skip) ctx = await mediaDaemon(); });

test('every photo becomes an upright display and thumbnail without metadata', { skip }, async () => {
  const files = readdirSync(photos).sort();
  const meta = Object.fromEntries(exif(files.map((f) => path.join(photos, f))).map((e) => [path.basename(e.SourceFile), e]));
  const ids = Object.fromEntries(files.map((f) => [f, uploadMultipart(ctx.d.url, ctx.worker, path.join(photos, f)).media]));
  const out = [];
  for (const f of files) {
    const m = await waitMedia(ctx.d.url, ctx.worker, ids[f]);
    assert.equal(m.status, 'ready', `${f}: ${m.reason}`);
    assert.equal(m.family, 'image', f);
    // Upright: the long side lies where the EXIF orientation puts it.
    const o = meta[f]['EXIF:Orientation'] ?? 1;
    let w = meta[f]['File:ImageWidth'] ?? meta[f]['QuickTime:ImageWidth'] ?? meta[f]['EXIF:ExifImageWidth'];
    let h = meta[f]['File:ImageHeight'] ?? meta[f]['QuickTime:ImageHeight'] ?? meta[f]['EXIF:ExifImageHeight'];
    if (o >= 5) [w, h] = [h, w];
    assert.equal(m.width > m.height, w > h, `${f}: ${m.width}x${m.height}, upright original ${w}x${h}`);
    assert.ok(Math.abs(m.width / m.height - w / h) < 0.02, `${f}: aspect ${m.width}x${m.height} vs ${w}x${h}`);
    assert.ok(Math.max(m.width, m.height) <= 1600, f);
    for (const link of ['display.jpg', 'thumb.jpg']) {
      const { file, res } = await fetchTo(ctx.d.url, ctx.worker, m.links[link], dir, `${ids[f]}-${link}`);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      out.push([f, link, file]);
    }
  }
  // exiftool finds nothing but the file's own structure in any of them.
  const found = exif(out.map(([, , file]) => file));
  for (let i = 0; i < out.length; i++) {
    const groups = new Set(Object.keys(found[i]).map((k) => k.split(':')[0]));
    for (const g of ['EXIF', 'XMP', 'IPTC', 'GPS', 'MakerNotes', 'ICC_Profile', 'Photoshop', 'JFIF', 'APP14', 'FlashPix'])
      assert.ok(!groups.has(g), `${out[i][0]} ${out[i][1]} has ${g} tags: ${JSON.stringify(found[i])}`);
    const thumb = out[i][1] === 'thumb.jpg';
    assert.ok(Math.max(found[i]['File:ImageWidth'], found[i]['File:ImageHeight']) <= (thumb ? 320 : 1600));
  }
  // The four orientations of one picture look alike once upright.
  const byName = Object.fromEntries(out.filter(([, l]) => l === 'display.jpg').map(([f, , file]) => [f, file]));
  for (const n of [3, 6, 8]) {
    const log = execFileSync('sh', ['-c', `ffmpeg -v info -i '${byName['orientation_landscape_1.jpg']}' ` +
      `-i '${byName[`orientation_landscape_${n}.jpg`]}' -lavfi ssim -f null - 2>&1`], { encoding: 'utf8' });
    const s = Number(/All:([0-9.]+)/.exec(log)[1]);
    assert.ok(s > 0.9, `orientation ${n}: SSIM ${s} against orientation 1`);
  }
});

test('a photo\'s GPS position becomes the buurt\'s code and is kept nowhere', { skip }, async () => {
  const e = exif([path.join(photos, 'DSCN0010.jpg')])[0];
  const lat = e['EXIF:GPSLatitude'], lon = e['EXIF:GPSLongitude'];
  assert.ok(lat > 0 && lon > 0);
  psql(ctx.url, "INSERT INTO area (code, level, name, parent) VALUES ('GM0344', 'gemeente', 'Utrecht', NULL)," +
    " ('WK034401', 'wijk', 'Binnenstad', 'GM0344');" +
    ` INSERT INTO area (code, level, name, parent, boundary) VALUES ('BU03440111', 'buurt', 'Testbuurt', 'WK034401',` +
    ` ST_Multi(ST_MakeEnvelope(${lon - 0.01}, ${lat - 0.01}, ${lon + 0.01}, ${lat + 0.01}, 4326)))`);
  const { entry, media } = uploadMultipart(ctx.d.url, ctx.worker, path.join(photos, 'DSCN0010.jpg'));
  const m = await waitMedia(ctx.d.url, ctx.worker, media);
  assert.equal(m.status, 'ready');
  assert.match(m.taken_at, /^2008-10-22T/);
  assert.equal(psql(ctx.url, `SELECT area_code FROM entry WHERE id = ${entry}`), 'BU03440111');
  // No coordinate in the media or entry rows, nor in any derived file.
  const rows = psql(ctx.url, `SELECT row_to_json(m)::text || row_to_json(e)::text FROM media m JOIN entry e` +
    ` ON e.id = m.entry_id WHERE m.id = ${media}`);
  for (const v of [lat.toFixed(3), lon.toFixed(3), lat.toFixed(2), lon.toFixed(2)])
    assert.ok(!rows.includes(v), `found ${v} in ${rows}`);
  // An entry that already names its area keeps it.
  const other = uploadMultipart(ctx.d.url, ctx.worker, path.join(photos, 'no_exif.jpg'));
  assert.equal((await waitMedia(ctx.d.url, ctx.worker, other.media)).status, 'ready');
  assert.equal(psql(ctx.url, `SELECT area_code IS NULL FROM entry WHERE id = ${other.entry}`), 't');
  assert.equal(await ctx.d.stop(), 0);
});
