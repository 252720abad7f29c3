// OpenRosa form discovery for ODK Collect: the form list and the
// werkbezoek XForm behind a field worker's ODK token (in the path) or
// HTTP Basic, with the OpenRosa headers; the form made from the themes
// and buurten (its version and hash follow them); HEAD of the
// submission URL; revoking a token; Collect's settings payload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { freshDatabase, startDaemon, psql, ctl, tmpdir } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { addUser, token as apiToken } from './lib/accounts.mjs';
import { request, collectHeaders, newToken, md5, xmllint, xpath } from './lib/odk.mjs';

const XFORMS_LIST = 'http://openrosa.org/xforms/xformsList';
let db; let d; let odk; let admin;

before(async () => {
  db = freshDatabase();
  d = await startDaemon({ databaseUrl: db });
  assert.ok(importAreas(db), 'the Utrecht areas in ../shared/data/areas are needed');
  odk = newToken(db, 'veldwerker1', d.url);
  admin = apiToken(db, 'beheer', 'admin');
});
after(() => d?.stop());

function assertOpenRosa(r) {
  assert.equal(r.headers['x-openrosa-version'], '1.0');
  assert.equal(r.headers['content-language'], 'nl');
  assert.ok(r.headers.date, 'a Date header');
  assert.equal(r.headers['content-type'], 'text/xml; charset=utf-8');
}

test('the form list behind the token: OpenRosa headers, xformsList namespace, hash is the MD5 of the form served at downloadUrl', async () => {
  const r = await request(`${odk.serverUrl}/formList?deviceID=collect%3Aabc&foo=bar`, { headers: collectHeaders() });
  assert.equal(r.status, 200, r.text);
  assertOpenRosa(r);
  xmllint(r.text, '--noout');
  const x = (e) => xpath(r.text, e);
  assert.equal(x(`count(/*[local-name()='xforms' and namespace-uri()='${XFORMS_LIST}'])`), '1');
  assert.equal(x(`count(/*/*[local-name()='xform' and namespace-uri()='${XFORMS_LIST}'])`), '1');
  for (const f of ['formID', 'name', 'version', 'hash', 'downloadUrl']) {
    assert.equal(x(`count(/*/*/*[local-name()='${f}' and namespace-uri()='${XFORMS_LIST}'])`), '1', f);
  }
  assert.equal(x(`count(//*[local-name()='manifestUrl'])`), '0', 'the form has no media files, so no manifest');
  const formID = x(`//*[local-name()='formID']`);
  const hash = x(`//*[local-name()='hash']`);
  const version = x(`//*[local-name()='version']`);
  const dl = x(`//*[local-name()='downloadUrl']`);
  assert.equal(formID, 'werkbezoek');
  assert.ok(dl.startsWith(odk.serverUrl + '/'), dl);

  const f = await request(dl, { headers: collectHeaders() });
  assert.equal(f.status, 200);
  assertOpenRosa(f);
  assert.equal(hash, `md5:${md5(f.text)}`);
  xmllint(f.text, '--noout');
  // A well-formed XForm whose instance root id is the formID.
  const fx = (e) => xpath(f.text, e);
  assert.equal(fx(`local-name(/*)`), 'html');
  assert.equal(fx(`namespace-uri(/*)`), 'http://www.w3.org/1999/xhtml');
  const inst = `//*[local-name()='model' and namespace-uri()='http://www.w3.org/2002/xforms']/*[local-name()='instance']/*[1]`;
  assert.equal(fx(`${inst}/@id`), formID);
  assert.equal(fx(`${inst}/@version`), version);
  // The werkbezoek's questions.
  assert.equal(fx(`//*[local-name()='bind' and @nodeset='/data/notitie']/@required`), 'true()');
  assert.equal(fx(`//*[local-name()='input' and @ref='/data/notitie']/@appearance`), 'multiline');
  assert.equal(fx(`//*[local-name()='setvalue' and @ref='/data/datum']/@value`), 'today()');
  assert.equal(fx(`//*[local-name()='bind' and @nodeset='/data/locatie']/@type`), 'geopoint');
  assert.equal(fx(`//*[local-name()='bind' and @nodeset='/data/fotos/foto']/@*[local-name()='max-pixels' and namespace-uri()='http://openrosa.org/xforms']`), '2048');
  assert.equal(fx(`count(//*[local-name()='repeat' and @nodeset='/data/fotos'])`), '1');
  assert.equal(fx(`//*[local-name()='upload' and @ref='/data/spraakmemo']/@mediatype`), 'audio/*');
  assert.equal(fx(`//*[local-name()='select1' and @ref='/data/buurt']/@appearance`), 'autocomplete');
  const themes = Number(psql(db, 'SELECT count(*) FROM theme'));
  const buurten = Number(psql(db, "SELECT count(*) FROM area WHERE level = 'buurt'"));
  assert.ok(buurten > 50, `buurten imported: ${buurten}`);
  assert.equal(fx(`count(//*[local-name()='select' and @ref='/data/themas']/*[local-name()='item'])`), String(themes));
  assert.equal(fx(`count(//*[local-name()='select1' and @ref='/data/buurt']/*[local-name()='item'])`), String(buurten));
  assert.equal(fx(`//*[local-name()='select' and @ref='/data/themas']/*[local-name()='item'][*[local-name()='value']='woninginbraak']/*[local-name()='label']`), 'Woninginbraak');
});

test('?formID= filters; the version and hash change when the themes change', async () => {
  const one = await request(`${odk.serverUrl}/formList?formID=werkbezoek`, { headers: collectHeaders() });
  assert.equal(xpath(one.text, `count(//*[local-name()='xform'])`), '1');
  const none = await request(`${odk.serverUrl}/formList?formID=iets-anders`, { headers: collectHeaders() });
  assert.equal(none.status, 200);
  assert.equal(xpath(none.text, `count(//*[local-name()='xform'])`), '0');
  const v1 = xpath(one.text, `//*[local-name()='version']`);
  const h1 = xpath(one.text, `//*[local-name()='hash']`);
  const post = await fetch(`${d.url}/api/v1/themes`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ slug: 'drugsoverlast', title: 'Drugsoverlast' }) });
  assert.equal(post.status, 201, await post.text());
  const two = await request(`${odk.serverUrl}/formList`, { headers: collectHeaders() });
  assert.notEqual(xpath(two.text, `//*[local-name()='version']`), v1);
  assert.notEqual(xpath(two.text, `//*[local-name()='hash']`), h1);
  const f = await request(xpath(two.text, `//*[local-name()='downloadUrl']`));
  assert.match(f.text, /<value>drugsoverlast<\/value>/);
});

test('HEAD …/submission is 204 with X-OpenRosa-Accept-Content-Length; unknown, revoked and missing credentials get 401 with a Basic challenge', async () => {
  const h = await request(`${odk.serverUrl}/submission?deviceID=x`, { method: 'HEAD', headers: collectHeaders() });
  assert.equal(h.status, 204);
  assert.equal(h.headers['x-openrosa-version'], '1.0');
  assert.equal(h.headers['x-openrosa-accept-content-length'], String(100 * 1024 * 1024));
  assert.ok(h.headers.date);

  for (const [method, p] of [['HEAD', 'submission'], ['GET', 'formList'], ['POST', 'submission']]) {
    const r = await request(`${d.url}/odk/${p}`, { method, headers: collectHeaders() });
    assert.equal(r.status, 401, `${method} ${p}`);
    assert.match(r.headers['www-authenticate'], /^Basic realm="verhaal"/);
    assert.equal(r.headers['x-openrosa-version'], '1.0');
    const bad = await request(`${d.url}/odk/key/vh_nietbestaand/${p}`, { method, headers: collectHeaders() });
    assert.equal(bad.status, 401, `${method} ${p} with an unknown token`);
    assert.match(bad.headers['www-authenticate'], /^Basic /);
    if (method !== 'HEAD') assert.match(bad.text, /<OpenRosaResponse xmlns="http:\/\/openrosa.org\/http\/response">/);
  }

  // A revoked token stops at once.
  const t = newToken(db, 'veldwerker2', d.url);
  assert.equal((await request(`${t.serverUrl}/formList`)).status, 200);
  const id = psql(db, "SELECT max(t.id) FROM api_token t JOIN account a ON a.id = t.account_id WHERE a.name = 'veldwerker2'");
  ctl(db, 'odk', 'token', 'revoke', id);
  assert.equal((await request(`${t.serverUrl}/formList`)).status, 401);
  assert.match(ctl(db, 'odk', 'token', 'list'), /veldwerker2\s+revoked/);
  // An ODK token is no bearer token for the API, and the log never shows it.
  const api = await fetch(`${d.url}/api/v1/themes`, { headers: { Authorization: `Bearer ${odk.token}` } });
  assert.equal(api.status, 401);
  assert.ok(!d.log().includes(odk.token), 'the token reached the log');
});

test('HTTP Basic with a field worker\'s name and password', async () => {
  addUser(db, 'basicwerker', 'fieldworker', 'Lang-genoeg-wachtwoord-1');
  const auth = 'Basic ' + Buffer.from('basicwerker:Lang-genoeg-wachtwoord-1').toString('base64');
  const r = await request(`${d.url}/odk/formList`, { headers: collectHeaders({ Authorization: auth }) });
  assert.equal(r.status, 200, r.text);
  assert.match(xpath(r.text, `//*[local-name()='downloadUrl']`), /\/odk\/forms\/werkbezoek\.xml$/);
  const h = await request(`${d.url}/odk/submission`, { method: 'HEAD', headers: collectHeaders({ Authorization: auth }) });
  assert.equal(h.status, 204);
  const wrong = await request(`${d.url}/odk/formList`, { headers: collectHeaders({ Authorization: 'Basic ' + Buffer.from('basicwerker:fout').toString('base64') }) });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers['www-authenticate'], /^Basic /);
  // Wrong passwords are throttled as logins are (login_max_failures, 5):
  // after them even the right one is refused for the window.
  for (let i = 0; i < 5; i++) {
    await request(`${d.url}/odk/formList`, { headers: collectHeaders({ Authorization: 'Basic ' + Buffer.from(`basicwerker:fout${i}`).toString('base64') }) });
  }
  const locked = await request(`${d.url}/odk/formList`, { headers: collectHeaders({ Authorization: auth }) });
  assert.equal(locked.status, 401);
  assert.match(locked.text, /too many wrong passwords/);
});

test('the Collect settings payload (verhaalctl and the admin endpoint) decodes to the server URL with the token', async () => {
  const s = JSON.parse(inflateSync(Buffer.from(odk.settings, 'base64')).toString('utf8'));
  assert.deepEqual(s, { general: { server_url: `${d.url}/odk/key/${odk.token}` }, admin: {}, project: { name: 'verhaal' } });
  // As a QR code (qrencode draws it as the web app will; zbarimg reads it
  // as a phone's camera would) the payload comes back whole.
  const png = path.join(tmpdir('qr'), 'settings.png');
  execFileSync('qrencode', ['-o', png, '-s', '6', odk.settings]);
  const read = execFileSync('zbarimg', ['--quiet', '--raw', png], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  assert.equal(read, odk.settings);
  assert.equal(JSON.parse(inflateSync(Buffer.from(read, 'base64')).toString('utf8')).general.server_url, `${d.url}/odk/key/${odk.token}`);

  const r = await fetch(`${d.url}/api/v1/odk/tokens`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'veldwerker3' }) });
  assert.equal(r.status, 201);
  const body = await r.json();
  const s2 = JSON.parse(inflateSync(Buffer.from(body.settings, 'base64')).toString('utf8'));
  assert.equal(s2.general.server_url, `${d.url}/odk/key/${body.token}`);
  assert.equal(body.server_url, s2.general.server_url);
  assert.equal((await request(`${body.server_url}/formList`)).status, 200);
  const list = await (await fetch(`${d.url}/api/v1/odk/tokens`, { headers: { Authorization: `Bearer ${admin}` } })).json();
  assert.ok(list.tokens.some((t) => t.name === 'veldwerker3' && t.revoked_at === null));
  const del = await fetch(`${d.url}/api/v1/odk/tokens/${body.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${admin}` } });
  assert.equal(del.status, 200);
  assert.equal((await request(`${body.server_url}/formList`)).status, 401);
  // Both are in the audit trail, by the admin who did them.
  assert.equal(psql(db, `SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE actor = 'beheer' AND object_type = 'token' AND object_id = '${body.id}'`), 'token_create,token_revoke');
});
