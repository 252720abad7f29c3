// The APIs the staff pages need: an entry's history from the audit trail,
// a moderator's corrections of title, themes and buurt, accounts and
// tokens for admins, the audit trail's entry filter, and renewing a
// collection's upload link. Each against the real daemon, with the audit
// rows they must leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psql, waitFor, tmpdir } from './lib/harness.mjs';
import { setup, submit, auth, CONSENT, toneWav } from './lib/consent.mjs';
import { login } from './lib/accounts.mjs';

const json = (token, method, body) => ({
  method, headers: { ...auth(token), 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});

test('history: received, processed, redacted, edited, published, in order', async () => {
  const ctx = await setup();
  const u = ctx.d.url;
  try {
    const wav = toneWav(tmpdir('hist'), 'tone.wav', 3);
    let r = await submit(ctx, { title: 'Jan bij de Kerkstraat', text: 'Ik ben Jan en het is hier onveilig.', consent: CONSENT('publish') },
      [{ name: 'tone.wav', data: wav, type: 'audio/wav' }]);
    const e = await r.json();
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE entry_id = ${e.id}`) === 'ready', { timeout: 60000 });

    // A buurt that exists (the seed areas of a first run, or these).
    psql(ctx.url, "INSERT INTO area (code, level, name, parent) VALUES ('GM0344', 'gemeente', 'Utrecht', NULL),"
      + " ('WK034401', 'wijk', 'West', 'GM0344'), ('BU03440101', 'buurt', 'Lombok-Oost', 'WK034401') ON CONFLICT DO NOTHING");
    const buurt = psql(ctx.url, "SELECT code FROM area WHERE level = 'buurt' ORDER BY code LIMIT 1");
    assert.match(buurt, /^BU\d{8}$/);

    // Corrections: analysts may not, bad fields are 422 in words.
    assert.equal((await fetch(`${u}/api/v1/entries/${e.id}`, json(ctx.tokens.analyst, 'PATCH', { title: 'x' }))).status, 403);
    r = await fetch(`${u}/api/v1/entries/${e.id}`, json(ctx.tokens.moderator, 'PATCH', { themes: ['geen-thema'] }));
    assert.equal(r.status, 422);
    assert.match((await r.json()).detail, /no theme 'geen-thema'/);
    r = await fetch(`${u}/api/v1/entries/${e.id}`, json(ctx.tokens.moderator, 'PATCH', { area: 'BU99999999' }));
    assert.equal(r.status, 422);
    assert.match((await r.json()).detail, /no area BU99999999/);
    r = await fetch(`${u}/api/v1/entries/${e.id}`, json(ctx.tokens.moderator, 'PATCH', { text: 'nieuw' }));
    assert.equal(r.status, 422);
    assert.equal((await fetch(`${u}/api/v1/entries/999999`, json(ctx.tokens.moderator, 'PATCH', { title: 'x' }))).status, 404);

    const text = 'Ik ben Jan en het is hier onveilig.';
    r = await fetch(`${u}/api/v1/entries/${e.id}/redact`, json(ctx.tokens.moderator, 'POST',
      { text: [{ start: text.indexOf('Jan'), end: text.indexOf('Jan') + 3, replacement: '[naam]' }] }));
    assert.equal(r.status, 200);
    r = await fetch(`${u}/api/v1/entries/${e.id}`, json(ctx.tokens.moderator, 'PATCH',
      { title: 'Onveilig bij de kerk', themes: ['veiligheidsgevoel', 'overlast-en-leefbaarheid'], area: buurt }));
    assert.equal(r.status, 200, await r.clone().text());
    const edited = await r.json();
    assert.equal(edited.title, 'Onveilig bij de kerk');
    assert.deepEqual([...edited.themes].sort(), ['overlast-en-leefbaarheid', 'veiligheidsgevoel']);
    assert.equal(edited.area, buurt);
    // The search index and the entry follow.
    r = await fetch(`${u}/api/v1/entries/${e.id}`, { headers: auth(ctx.tokens.moderator) });
    const full = await r.json();
    assert.equal(full.area.code, buurt);
    assert.equal(full.title, 'Onveilig bij de kerk');
    // The audit row names fields and new values, never the old title's words.
    const row = psql(ctx.url, `SELECT actor || '|' || reason FROM audit WHERE action = 'edit' AND object_id = '${e.id}'`);
    assert.match(row, /^moderator1\|title; themes: .*veiligheidsgevoel.*; area: BU\d{8}$/);
    assert.ok(!row.includes('Kerkstraat'));

    r = await fetch(`${u}/api/v1/entries/${e.id}/publish`, json(ctx.tokens.moderator, 'POST', {}));
    assert.equal(r.status, 200);

    // The history, oldest first.
    r = await fetch(`${u}/api/v1/entries/${e.id}/history`, { headers: auth(ctx.tokens.moderator) });
    assert.equal(r.status, 200);
    const h = await r.json();
    assert.equal(h.status, 'published');
    assert.deepEqual(h.items.map((i) => i.event), ['received', 'processed', 'redacted', 'edited', 'published']);
    assert.equal(h.items[1].detail, 'audio');
    assert.equal(h.items[2].actor, 'moderator1');
    assert.match(h.items[2].detail, /text spans 1/);
    for (let i = 1; i < h.items.length; i++) assert.ok(h.items[i - 1].at <= h.items[i].at);
    // Analysts see a published entry's history; not that of one pending.
    assert.equal((await fetch(`${u}/api/v1/entries/${e.id}/history`, { headers: auth(ctx.tokens.analyst) })).status, 200);
    r = await submit(ctx, { text: 'nog niet bekeken', consent: CONSENT('publish') });
    const pending = (await r.json()).id;
    assert.equal((await fetch(`${u}/api/v1/entries/${pending}/history`, { headers: auth(ctx.tokens.analyst) })).status, 404);
    assert.equal((await fetch(`${u}/api/v1/entries/${pending}/history`, { headers: auth(ctx.tokens.fieldworker) })).status, 403);

    // The audit trail's entry filter: the entry's rows and its files' rows.
    r = await fetch(`${u}/api/v1/media/${e.media[0].id}/peaks.json`, { headers: auth(ctx.tokens.admin) });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    r = await fetch(`${u}/api/v1/audit?entry=${e.id}`, { headers: auth(ctx.tokens.admin) });
    assert.equal(r.status, 200);
    const rows = (await r.json()).items;
    assert.ok(rows.length > 0);
    assert.ok(rows.every((x) => (x.object_type === 'entry' && x.object_id === String(e.id)) ||
      (x.object_type === 'media' && x.object_id === String(e.media[0].id))), JSON.stringify(rows));
    assert.ok(rows.some((x) => x.action === 'play'));
    assert.ok(rows.some((x) => x.action === 'edit'));
    r = await fetch(`${u}/api/v1/audit?entry=${e.id}&action=edit&actor=moderator1`, { headers: auth(ctx.tokens.admin) });
    assert.equal((await r.json()).items.length, 1);
    r = await fetch(`${u}/api/v1/audit?entry=abc`, { headers: auth(ctx.tokens.admin) });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).type, '/problems/bad-filter');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('accounts: add, change role, disable; an admin cannot lock themselves out', async () => {
  const ctx = await setup();
  const u = ctx.d.url;
  const A = ctx.tokens.admin;
  try {
    assert.equal((await fetch(`${u}/api/v1/accounts`, { headers: auth(ctx.tokens.moderator) })).status, 403);
    let r = await fetch(`${u}/api/v1/accounts`, json(A, 'POST', { name: 'els', role: 'analyst', password: 'kort' }));
    assert.equal(r.status, 422);
    assert.match((await r.json()).detail, /password/);
    r = await fetch(`${u}/api/v1/accounts`, json(A, 'POST', { name: 'Els!', role: 'analyst', password: 'een lang wachtwoord' }));
    assert.equal(r.status, 422);
    r = await fetch(`${u}/api/v1/accounts`, json(A, 'POST', { name: 'els', role: 'resident', password: 'een lang wachtwoord' }));
    assert.equal(r.status, 422);
    r = await fetch(`${u}/api/v1/accounts`, json(A, 'POST', { name: 'els', role: 'analyst', password: 'een lang wachtwoord' }));
    assert.equal(r.status, 201, await r.clone().text());
    assert.equal((await r.json()).role, 'analyst');
    assert.equal((await fetch(`${u}/api/v1/accounts`, json(A, 'POST', { name: 'els', role: 'analyst', password: 'een lang wachtwoord' }))).status, 409);

    // She logs in with the password the admin set.
    let l = await login(u, 'els', 'een lang wachtwoord');
    assert.equal(l.r.status, 200);
    assert.equal(l.body.role, 'analyst');
    const cookie = l.session.cookie;

    r = await fetch(`${u}/api/v1/accounts`, { headers: auth(A) });
    const list = await r.json();
    const els = list.find((a) => a.name === 'els');
    assert.equal(els.role, 'analyst');
    assert.equal(els.disabled, false);
    assert.equal(els.sessions, 1);

    // Role: takes effect on her next request.
    r = await fetch(`${u}/api/v1/accounts/els`, json(A, 'PATCH', { role: 'moderator' }));
    assert.equal(r.status, 200);
    r = await fetch(`${u}/api/v1/session`, { headers: { Cookie: cookie } });
    assert.equal((await r.json()).role, 'moderator');
    // Disabled: her session ends.
    r = await fetch(`${u}/api/v1/accounts/els`, json(A, 'PATCH', { disabled: true }));
    assert.equal(r.status, 200);
    assert.equal((await r.json()).disabled, true);
    r = await fetch(`${u}/api/v1/session`, { headers: { Cookie: cookie } });
    assert.equal(r.status, 401);
    l = await login(u, 'els', 'een lang wachtwoord');
    assert.equal(l.r.status, 401);
    r = await fetch(`${u}/api/v1/accounts/els`, json(A, 'PATCH', { disabled: false }));
    assert.equal(r.status, 200);
    assert.equal((await login(u, 'els', 'een lang wachtwoord')).r.status, 200);

    assert.equal((await fetch(`${u}/api/v1/accounts/niemand`, json(A, 'PATCH', { disabled: true }))).status, 404);
    assert.equal((await fetch(`${u}/api/v1/accounts/els`, json(A, 'PATCH', { role: 'baas' }))).status, 422);
    assert.equal((await fetch(`${u}/api/v1/accounts/els`, json(A, 'PATCH', { password: 'x' }))).status, 422);
    // The admin's own account: not disabled, not demoted.
    r = await fetch(`${u}/api/v1/accounts/admin1`, json(A, 'PATCH', { disabled: true }));
    assert.equal(r.status, 409);
    assert.equal((await fetch(`${u}/api/v1/accounts/admin1`, json(A, 'PATCH', { role: 'analyst' }))).status, 409);

    const actions = psql(ctx.url, "SELECT string_agg(action || ':' || coalesce(reason, ''), ',' ORDER BY id) FROM audit WHERE object_type = 'account' AND object_id = 'els' AND action LIKE 'user_%'");
    assert.equal(actions, 'user_add:analyst,user_role:analyst -> moderator,user_disable:,user_enable:');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('tokens: create (shown once), list, revoke', async () => {
  const ctx = await setup();
  const u = ctx.d.url;
  const A = ctx.tokens.admin;
  try {
    let r = await fetch(`${u}/api/v1/tokens`, json(A, 'POST', { account: 'niemand' }));
    assert.equal(r.status, 422);
    r = await fetch(`${u}/api/v1/tokens`, json(A, 'POST', { account: 'fieldworker1', expires_days: 0 }));
    assert.equal(r.status, 422);
    r = await fetch(`${u}/api/v1/tokens`, json(A, 'POST', { account: 'fieldworker1', label: 'tablet wijkteam', expires_days: 30 }));
    assert.equal(r.status, 201, await r.clone().text());
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const t = await r.json();
    assert.match(t.token, /^vh_/);
    assert.equal(t.role, 'fieldworker');
    const days = (Date.parse(t.expires_at) - Date.now()) / 86400000;
    assert.ok(days > 29.9 && days < 30.1, String(days));
    // The token works, and is stored only as its hash.
    r = await fetch(`${u}/api/v1/session`, { headers: auth(t.token) });
    assert.equal((await r.json()).name, 'fieldworker1');
    assert.equal(psql(ctx.url, `SELECT count(*) FROM api_token WHERE token_hash = sha256('${t.token}'::bytea)`), '1');
    r = await fetch(`${u}/api/v1/tokens`, { headers: auth(A) });
    const listed = (await r.json()).find((x) => x.id === t.id);
    assert.equal(listed.state, 'active');
    assert.equal(listed.label, 'tablet wijkteam');
    assert.ok(!JSON.stringify(listed).includes(t.token));

    assert.equal((await fetch(`${u}/api/v1/tokens/${t.id}`, { method: 'DELETE', headers: auth(ctx.tokens.moderator) })).status, 403);
    r = await fetch(`${u}/api/v1/tokens/${t.id}`, { method: 'DELETE', headers: auth(A) });
    assert.equal(r.status, 204);
    assert.equal((await fetch(`${u}/api/v1/session`, { headers: auth(t.token) })).status, 401);
    assert.equal((await fetch(`${u}/api/v1/tokens/${t.id}`, { method: 'DELETE', headers: auth(A) })).status, 404);
    r = await fetch(`${u}/api/v1/tokens`, { headers: auth(A) });
    assert.equal((await r.json()).find((x) => x.id === t.id).state, 'revoked');
    assert.equal(psql(ctx.url, `SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE object_type = 'token' AND object_id = '${t.id}'`),
      'token_create,token_revoke');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('a collection created over the API and its upload link renewed', async () => {
  const ctx = await setup();
  const u = ctx.d.url;
  const A = ctx.tokens.admin;
  try {
    let r = await fetch(`${u}/api/v1/collections`, json(A, 'POST', { slug: 'wg-overvecht', title: 'Wijkgesprek Overvecht' }));
    assert.equal(r.status, 201);
    const c = await r.json();
    assert.equal(c.link, `/api/v1/collections/wg-overvecht/uploads?key=${c.upload_key}`);
    r = await fetch(`${u}/api/v1/collections/wg-overvecht/consent`, json(A, 'POST', { version: '1', language: 'nl', text: 'Ik geef toestemming.' }));
    assert.equal(r.status, 201);
    const story = (key) => {
      const form = new FormData();
      form.append('entry', JSON.stringify({ kind: 'story', text: 'hallo', consent: { scope: 'analysis_only', version: '1', language: 'nl' } }));
      return fetch(`${u}/api/v1/collections/wg-overvecht/uploads?key=${encodeURIComponent(key)}`, { method: 'POST', body: form });
    };
    assert.equal((await story(c.upload_key)).status, 201);

    assert.equal((await fetch(`${u}/api/v1/collections/wg-overvecht/link`, json(ctx.tokens.moderator, 'POST', {}))).status, 403);
    assert.equal((await fetch(`${u}/api/v1/collections/geen/link`, json(A, 'POST', {}))).status, 404);
    r = await fetch(`${u}/api/v1/collections/wg-overvecht/link`, json(A, 'POST', {}));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const n = await r.json();
    assert.notEqual(n.upload_key, c.upload_key);
    assert.equal(n.link, `/api/v1/collections/wg-overvecht/uploads?key=${n.upload_key}`);
    assert.equal((await story(c.upload_key)).status, 401, 'the old link no longer works');
    assert.equal((await story(n.upload_key)).status, 201, 'the new one does');
    assert.equal(psql(ctx.url, "SELECT count(*) FROM audit WHERE action = 'collection_rotate_link' AND object_id = 'wg-overvecht'"),
      '1', 'the renewal is audited as the link rotation verhaalctl does');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
