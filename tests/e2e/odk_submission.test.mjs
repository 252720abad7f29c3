// OpenRosa submissions shaped like ODK Collect's (its headers, a 12-hour
// Date without AM/PM, parts in its order and names, *isIncomplete*
// splits, the resubmission after a lost answer) and Enketo's (a CSRF
// field, a chunked body), against the real daemon: every status with its
// OpenRosaResponse, one visit entry per instanceID, attachments matched
// by file name and made into renditions by the media pipeline.
import { test as nodeTest, before as nodeBefore, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { freshDatabase, startDaemon, psql, shared, waitFor } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { token as apiToken } from './lib/accounts.mjs';
import { request, collectHeaders, collectPost, instanceXml, multipart, newToken, xmllint, xpath } from './lib/odk.mjs';

const media = path.join(shared, 'data', 'media');
// Collect's photos and voice memo are real files from ../shared/data:
// without them every test here is skipped, saying so.
const have = existsSync(path.join(media, 'photos')) && existsSync(path.join(media, 'audio'));
const absent = `needs ${media} (real photos and a phone's voice memo)`;
const test = (name, ...rest) => (have ? nodeTest(name, ...rest) : nodeTest(name, { skip: absent }, () => {}));
const before = (fn) => (have ? nodeBefore(fn) : undefined);
const load = (...p) => (have ? readFileSync(path.join(media, ...p)) : null);
const photo = load('photos', 'DSCN0010.jpg');
const photo2 = load('photos', '67-0_length_string.jpg');
const webm = load('audio', 'filetype_fixture.webm');
const RESPONSE_NS = 'http://openrosa.org/http/response';

let db; let d; let odk; let admin; let sub; let buurt; let point;

before(async () => {
  db = freshDatabase();
  d = await startDaemon({ databaseUrl: db, env: { VERHAAL_MEDIA_RUNNERS: '2', VERHAAL_LOG_LEVEL: 'info' } });
  assert.ok(importAreas(db));
  odk = newToken(db, 'veldwerker', d.url);
  admin = apiToken(db, 'beheer', 'admin');
  sub = `${odk.serverUrl}/submission`;
  [buurt, point] = psql(db, "SELECT code, ST_Y(ST_PointOnSurface(boundary)) || ' ' || ST_X(ST_PointOnSurface(boundary))"
    + " FROM area WHERE level = 'buurt' AND boundary IS NOT NULL ORDER BY code LIMIT 1").split('|');
});
after(() => d?.stop());

const uuid = () => `uuid:${randomUUID()}`;
const entries = (id) => psql(db, `SELECT count(*) FROM odk_submission WHERE instance_id = '${id}'`);
const entryOf = (id) => psql(db, `SELECT entry_id FROM odk_submission WHERE instance_id = '${id}'`);
const mediaOf = (entry) => psql(db, `SELECT filename FROM media WHERE entry_id = ${entry} ORDER BY filename`).split('\n').filter(Boolean);

// Every answer: OpenRosa headers, an OpenRosaResponse with a message.
function assertResponse(r, status, nature = status === 201 ? 'submit_success' : 'error') {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers['x-openrosa-version'], '1.0');
  assert.equal(r.headers['content-language'], 'nl');
  assert.equal(r.headers['content-type'], 'text/xml; charset=utf-8');
  assert.ok(r.headers['x-openrosa-accept-content-length']);
  assert.ok(r.headers.date);
  xmllint(r.text, '--noout');
  assert.equal(xpath(r.text, `count(/*[local-name()='OpenRosaResponse' and namespace-uri()='${RESPONSE_NS}']/*[local-name()='message' and namespace-uri()='${RESPONSE_NS}'])`), '1');
  assert.equal(xpath(r.text, `//*[local-name()='message']/@nature`), nature);
  assert.ok(xpath(r.text, `//*[local-name()='message']`).length > 5);
}

test('Collect sends a werkbezoek with a photo and a voice memo (.webm as video/webm): 201, one visit entry, deviceID kept, renditions made, XML sealed', async () => {
  const id = uuid();
  const xml = instanceXml({ id, buurt, photos: ['1701423845123.jpg'], memo: '1701423899000.webm' });
  const r = await collectPost(sub, xml, [
    { filename: '1701423845123.jpg', type: 'image/jpeg', data: photo },
    { filename: '1701423899000.webm', type: 'video/webm', data: webm },
  ]);
  assertResponse(r, 201);
  assert.match(r.text, /ontvangen/);
  assert.equal(entries(id), '1');
  const entry = entryOf(id);
  const [kind, status, area, title, body, themes] = psql(db, `SELECT kind, status, area_code, title, body, themes FROM entry WHERE id = ${entry}`).split('|');
  assert.equal(kind, 'visit');
  assert.equal(status, 'pending_review', 'a visit waits for review as other visits do');
  assert.equal(area, buurt);
  assert.equal(title, 'Bezoek Lombok');
  assert.match(body, /speeltuin/);
  assert.equal(themes, '{overlast-en-leefbaarheid,veiligheidsgevoel}');
  assert.equal(psql(db, `SELECT device_id FROM odk_submission WHERE instance_id = '${id}'`), 'collect:abc123XYZ');
  assert.deepEqual(mediaOf(entry), ['1701423845123.jpg', '1701423899000.webm']);
  assert.equal(psql(db, `SELECT declared_type FROM media WHERE entry_id = ${entry} AND filename LIKE '%.webm'`), 'video/webm');
  // The XML is kept as a blob, byte for byte.
  const sha = psql(db, `SELECT xml_sha256 FROM odk_submission WHERE instance_id = '${id}'`);
  const { createHash } = await import('node:crypto');
  assert.equal(sha, createHash('sha256').update(xml).digest('hex'));
  // The media pipeline decides the type by content and makes renditions.
  const ids = psql(db, `SELECT id FROM media WHERE entry_id = ${entry} ORDER BY filename`).split('\n');
  for (const m of ids) {
    const got = await waitFor(async () => {
      const x = await (await fetch(`${d.url}/api/v1/media/${m}`, { headers: { Authorization: `Bearer ${admin}` } })).json();
      return x.status === 'ready' || x.status === 'rejected' ? x : null;
    }, { timeout: 60000, interval: 200 });
    assert.equal(got.status, 'ready', JSON.stringify(got));
  }
  assert.ok(psql(db, `SELECT display_sha256 IS NOT NULL AND thumb_sha256 IS NOT NULL FROM media WHERE id = ${ids[0]}`) === 't');
  assert.ok(psql(db, `SELECT opus_sha256 IS NOT NULL FROM media WHERE id = ${ids[1]}`) === 't');
});

test('an attachment that is not what its name says goes through the same pipeline: rejected, quarantined, reported on the media', async () => {
  const id = uuid();
  const fake = Buffer.from('#!/bin/sh\necho dit is geen foto\n'.repeat(50));
  assertResponse(await collectPost(sub, instanceXml({ id, photos: ['nep.jpg'] }), [{ filename: 'nep.jpg', type: 'image/jpeg', data: fake }]), 201);
  const m = psql(db, `SELECT id FROM media WHERE entry_id = ${entryOf(id)}`);
  const got = await waitFor(async () => {
    const x = await (await fetch(`${d.url}/api/v1/media/${m}`, { headers: { Authorization: `Bearer ${admin}` } })).json();
    return x.status === 'ready' || x.status === 'rejected' ? x : null;
  }, { timeout: 60000, interval: 200 });
  assert.equal(got.status, 'rejected', JSON.stringify(got));
  assert.ok(JSON.stringify(got).length > 40, 'the rejection is reported with its reason');
});

test('a split submission (*isIncomplete*=yes, the same XML each time) becomes one entry with every attachment', async () => {
  const id = uuid();
  const xml = instanceXml({ id, photos: ['a.jpg', 'b.jpg'], memo: 'c.webm', ns: 'orx' });
  const r1 = await collectPost(sub, xml, [{ filename: 'a.jpg', type: 'image/jpeg', data: photo }], { incomplete: true });
  assertResponse(r1, 201);
  const r2 = await collectPost(sub, xml, [{ filename: 'b.jpg', type: 'image/jpeg', data: photo2 }], { incomplete: true });
  assertResponse(r2, 201);
  assert.equal(psql(db, `SELECT complete FROM odk_submission WHERE instance_id = '${id}'`), 'f');
  const r3 = await collectPost(sub, xml, [{ filename: 'c.webm', type: 'video/webm', data: webm }]);
  assertResponse(r3, 201);
  assert.equal(entries(id), '1');
  assert.equal(psql(db, `SELECT complete FROM odk_submission WHERE instance_id = '${id}'`), 't');
  assert.deepEqual(mediaOf(entryOf(id)), ['a.jpg', 'b.jpg', 'c.webm']);
});

test('the resubmission after a lost answer (same instanceID, same bytes) is 201 and creates nothing; other XML under the same instanceID is 409', async () => {
  const id = uuid();
  const xml = instanceXml({ id, photos: ['p.jpg'] });
  const files = [{ filename: 'p.jpg', type: 'image/jpeg', data: photo }];
  assertResponse(await collectPost(sub, xml, files), 201);
  const before = psql(db, 'SELECT (SELECT count(*) FROM entry) || \'/\' || (SELECT count(*) FROM media)');
  const again = await collectPost(sub, xml, files);
  assertResponse(again, 201);
  assert.equal(psql(db, 'SELECT (SELECT count(*) FROM entry) || \'/\' || (SELECT count(*) FROM media)'), before);
  const other = await collectPost(sub, instanceXml({ id, photos: ['p.jpg'], note: 'Iets heel anders.' }), files);
  assertResponse(other, 409);
  assert.equal(entries(id), '1');
});

test('an edit (new instanceID, deprecatedID) replaces the visit and keeps the attachments still named; unknown deprecatedID 404, out of date 409', async () => {
  const v1 = uuid();
  assertResponse(await collectPost(sub, instanceXml({ id: v1, photos: ['x.jpg', 'y.jpg'] }), [
    { filename: 'x.jpg', type: 'image/jpeg', data: photo }, { filename: 'y.jpg', type: 'image/jpeg', data: photo2 }]), 201);
  const entry = entryOf(v1);
  const v2 = uuid();
  const edit = await collectPost(sub, instanceXml({ id: v2, deprecated: v1, photos: ['x.jpg'], note: 'Bijgewerkt verslag.', title: 'Tweede versie' }));
  assertResponse(edit, 201);
  assert.match(edit.text, /bijgewerkt/);
  assert.equal(entryOf(v2), entry, 'the edit is the same entry');
  assert.equal(psql(db, `SELECT title || '|' || body FROM entry WHERE id = ${entry}`), 'Tweede versie|Bijgewerkt verslag.');
  assert.deepEqual(mediaOf(entry), ['x.jpg']);
  assert.equal(psql(db, `SELECT replaced_by FROM odk_submission WHERE instance_id = '${v1}'`), v2);
  const stale = await collectPost(sub, instanceXml({ id: uuid(), deprecated: v1, note: 'Oud.' }));
  assertResponse(stale, 409);
  const unknown = await collectPost(sub, instanceXml({ id: uuid(), deprecated: uuid() }));
  assertResponse(unknown, 404);
});

test('refusals: unknown form 404, malformed XML 400, a DOCTYPE 400, no xml_submission_file 400, no instanceID 400, never 200 or 204 to a POST', async () => {
  assertResponse(await collectPost(sub, instanceXml({ id: uuid(), formId: 'ander-formulier' })), 404);
  assertResponse(await collectPost(sub, '<data id="werkbezoek"><notitie>open'), 400);
  const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><data id="werkbezoek"><notitie>&lol2;</notitie><meta><instanceID>${uuid()}</instanceID></meta></data>`;
  assertResponse(await collectPost(sub, lol), 400);
  const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="werkbezoek"><notitie>&x;</notitie><meta><instanceID>${uuid()}</instanceID></meta></data>`;
  const x = await collectPost(sub, xxe);
  assertResponse(x, 400);
  assert.doesNotMatch(x.text, /root:/);
  const m = multipart([{ name: 'foto.jpg', filename: 'foto.jpg', type: 'image/jpeg', data: photo }]);
  assertResponse(await request(sub, { method: 'POST', headers: collectHeaders({ 'Content-Type': m.type }), body: m.body }), 400);
  assertResponse(await collectPost(sub, '<data id="werkbezoek"><notitie>x</notitie></data>'), 400);
  const deep = '<data id="werkbezoek">' + '<a>'.repeat(100) + '</a>'.repeat(100) + `<meta><instanceID>${uuid()}</instanceID></meta></data>`;
  assertResponse(await collectPost(sub, deep), 400);
  assert.equal(psql(db, "SELECT count(*) FROM odk_submission WHERE form_id <> 'werkbezoek'"), '0');
});

test('Enketo\'s shape: a CSRF field, the XML part without a file name, a chunked body; a UTF-8 file name round-trips; no buurt: the GPS point decides it and is not kept', async () => {
  const id = uuid();
  const name = 'foto-één_straatbeeld.jpg';
  const xml = instanceXml({ id, photos: [name], location: `${point} 3.0 5.0`, buurt: '' });
  const m = multipart([
    { name: '__csrf', data: 'c8f1e6a2b9', noLength: true },
    { name: 'xml_submission_file', type: 'application/xml', data: xml, noLength: true },
    { name: name, filename: name, type: 'application/octet-stream', data: photo, noLength: true },
  ]);
  const pieces = [];
  for (let i = 0; i < m.body.length; i += 7000) pieces.push(m.body.subarray(i, i + 7000));
  const r = await request(`${d.url}/odk/key/${odk.token}/submission`, {
    method: 'POST', headers: { 'Content-Type': m.type, 'X-OpenRosa-Version': '1.0', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Enketo' }, body: pieces,
  });
  assertResponse(r, 201);
  const entry = entryOf(id);
  assert.deepEqual(mediaOf(entry), [name]);
  assert.equal(psql(db, `SELECT area_code FROM entry WHERE id = ${entry}`), buurt);
  assert.equal(psql(db, `SELECT location IS NULL FROM odk_submission WHERE instance_id = '${id}'`), 't');
  // The file name comes back as it went in.
  const got = await (await fetch(`${d.url}/api/v1/entries/${entry}`, { headers: { Authorization: `Bearer ${admin}` } })).json();
  assert.equal(got.media[0].filename, name);
});

test('a form that is closed answers 409; a submission over odk_max_submission_size 413 (Content-Length and chunked)', async () => {
  const d2 = await startDaemon({ databaseUrl: db, env: { VERHAAL_ODK_FORM_CLOSED: 'true', VERHAAL_ODK_MAX_SUBMISSION_SIZE: '64k' } });
  try {
    const url = `${d2.url}/odk/key/${odk.token}/submission`;
    assertResponse(await collectPost(url, instanceXml({ id: uuid() })), 409);
    const big = await collectPost(url, instanceXml({ id: uuid(), photos: ['p.jpg'] }), [{ filename: 'p.jpg', type: 'image/jpeg', data: photo }]);
    assertResponse(big, 413);
    const m = multipart([{ name: 'xml_submission_file', data: instanceXml({ id: uuid() }) }, { name: 'p.jpg', filename: 'p.jpg', data: photo }]);
    const pieces = [];
    for (let i = 0; i < m.body.length; i += 8192) pieces.push(m.body.subarray(i, i + 8192));
    const chunked = await request(url, { method: 'POST', headers: { 'Content-Type': m.type }, body: pieces });
    assertResponse(chunked, 413);
    const list = await request(`${d2.url}/odk/key/${odk.token}/formList`);
    assert.equal(xpath(list.text, `count(//*[local-name()='xform'])`), '0', 'a closed form leaves the list');
  } finally { await d2.stop(); }
});

test('an unknown theme is refused and rolled back once, by vh_odk_store alone: no "no transaction in progress" from libpq', async () => {
  const id = uuid();
  const r = await collectPost(sub, instanceXml({ id, buurt, themes: 'geen-bekend-thema' }));
  assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
  assert.equal(entries(id), '0');
  // The callee no longer ends its caller's transaction: libpq would warn
  // on the caller's second ROLLBACK.
  assert.doesNotMatch(d.log(), /no transaction in progress/);
});
