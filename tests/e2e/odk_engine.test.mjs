// The werkbezoek XForm as served loads in ODK's own form engine
// (@getodk/xforms-engine, what ODK Web Forms renders with): its
// questions come out with the types, choices and defaults the form
// declares, and the instance the engine makes of a filled-in form, sent
// as the engine's own FormData, becomes a visit entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, startDaemon, psql } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { request, newToken } from './lib/odk.mjs';
import { xformsEngine } from './lib/odk_engine.mjs';

let db; let d; let odk;
before(async () => {
  db = freshDatabase();
  d = await startDaemon({ databaseUrl: db });
  assert.ok(importAreas(db));
  odk = newToken(db, 'webformer', d.url);
});
after(() => d?.stop());

test('the engine loads the form: required note, today as the visit date, themes and buurten as choices, a photo repeat, a voice memo', async () => {
  const f = await request(`${odk.serverUrl}/forms/werkbezoek.xml`);
  assert.equal(f.status, 200);
  const eng = await xformsEngine();
  const loaded = await eng.loadForm(f.text);
  assert.equal(loaded.status, 'success', String(loaded.error?.message));
  const { root } = loaded.createInstance();
  const q = Object.fromEntries(root.currentState.children.map((c) => [c.currentState.reference, c]));
  assert.deepEqual(Object.keys(q), ['/data/titel', '/data/notitie', '/data/datum', '/data/themas', '/data/buurt',
    '/data/locatie', '/data/fotos', '/data/spraakmemo', '/data/meta']);
  assert.equal(q['/data/notitie'].currentState.required, true);
  const today = new Date().toLocaleDateString('sv-SE');
  assert.equal(String(q['/data/datum'].currentState.value), today);
  assert.equal(q['/data/themas'].nodeType, 'select');
  assert.equal(q['/data/themas'].currentState.valueOptions.length, Number(psql(db, 'SELECT count(*) FROM theme')));
  assert.equal(q['/data/buurt'].currentState.valueOptions.length, Number(psql(db, "SELECT count(*) FROM area WHERE level = 'buurt'")));
  assert.match(q['/data/fotos'].nodeType, /^repeat-range/);
  assert.equal(q['/data/spraakmemo'].nodeType, 'upload');

  // Filled in and submitted as the engine prepares it.
  q['/data/titel'].setValue('Via de engine');
  q['/data/notitie'].setValue('Ingevuld met de engine van ODK Web Forms.');
  const buurt = q['/data/buurt'].currentState.valueOptions[0];
  q['/data/buurt'].selectValue(buurt.value);
  const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
  assert.equal(payload.status, 'ready');
  const r = await fetch(`${odk.serverUrl}/submission`, { method: 'POST', body: payload.data[0], headers: { 'X-OpenRosa-Version': '1.0' } });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  assert.match(text, /submit_success/);
  const id = /<instanceID>([^<]+)</.exec(await payload.data[0].get('xml_submission_file').text())[1];
  assert.equal(psql(db, `SELECT e.title || '|' || e.area_code || '|' || e.occurred_at::date FROM odk_submission o JOIN entry e ON e.id = o.entry_id WHERE o.instance_id = '${id}'`),
    `Via de engine|${buurt.value}|${today}`);
});
