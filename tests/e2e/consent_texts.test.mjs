// Consent texts as data: a collection has versioned texts per language
// (verhaalctl collection consent add, POST/GET
// /api/v1/collections/{slug}/consent); a story's consent must name a
// version and language that exist for its collection (422 naming the
// field, for multipart and already at tus creation), and the stored
// consent record points at that exact text. The collection's public face
// gives the current text in a requested language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, ctl, psql, tmpdir } from './lib/harness.mjs';
import { setup, submit, tus, auth } from './lib/consent.mjs';

const file = [{ name: 'n.txt', data: Buffer.from('hallo\n'), type: 'text/plain' }];

test('consent texts are added and listed; stories must name one that exists, and point at it', { timeout: 120000 }, async () => {
  const ctx = await setup();
  const { url, d, tokens } = ctx;
  const api = async (method, p, token, body) => {
    const r = await fetch(`${d.url}${p}`, {
      method, headers: { ...(token ? auth(token) : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, json: await r.json().catch(() => null) };
  };
  try {
    // verhaalctl: a new version in Dutch; the same again is refused.
    const dir = tmpdir('consent-text');
    const f = path.join(dir, 'nl.txt');
    writeFileSync(f, 'Ik geef toestemming voor versie 2025-01.\n');
    ctl(url, 'collection', 'consent', 'add', '--slug', 'buurt', '--version', '2025-01', '--language', 'nl', '--file', f);
    const again = spawnSync(path.join(build, 'verhaalctl'), ['collection', 'consent', 'add', '--slug', 'buurt', '--version', '2025-01', '--language', 'nl', '--file', f],
      { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url } });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already has version '2025-01' in 'nl'/);
    assert.match(ctl(url, 'collection', 'consent', 'list', '--slug', 'buurt'), /2025-01\s+nl/);

    // The API: admins only; fields checked; duplicates 409.
    assert.equal((await api('POST', '/api/v1/collections/buurt/consent', tokens.moderator, { version: '2025-01', language: 'en', text: 'x' })).status, 403);
    let r = await api('POST', '/api/v1/collections/buurt/consent', tokens.admin, { version: '2025-01', language: 'en', text: 'I consent to version 2025-01.' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const enId = r.json.id;
    assert.equal((await api('POST', '/api/v1/collections/buurt/consent', tokens.admin, { version: '2025-01', language: 'en', text: 'other' })).status, 409);
    r = await api('POST', '/api/v1/collections/buurt/consent', tokens.admin, { version: '2025-01', language: 'English', text: 'x' });
    assert.equal(r.status, 422);
    assert.match(r.json.detail, /'language'/);
    r = await api('POST', '/api/v1/collections/buurt/consent', tokens.admin, { version: '2025-01', language: 'de' });
    assert.equal(r.status, 422);
    assert.match(r.json.detail, /'text'/);
    assert.equal((await api('POST', '/api/v1/collections/nergens/consent', tokens.admin, { version: '1', language: 'nl', text: 'x' })).status, 404);
    r = await api('GET', '/api/v1/collections/buurt/consent', tokens.admin);
    assert.equal(r.status, 200);
    assert.equal(r.json.current_version, '2025-01');
    assert.deepEqual(r.json.texts.map((t) => `${t.version}/${t.language}`), ['2024-05/nl', '1/nl', '3/en-GB', '2025-01/nl', '2025-01/en']);
    assert.equal((await api('GET', '/api/v1/collections/buurt/consent', tokens.analyst)).status, 403);

    // Unknown version or language: 422 naming the field, nothing stored.
    const entries0 = psql(url, 'SELECT count(*) FROM entry');
    r = await submit(ctx, { text: 'x', consent: { scope: 'publish', version: '9', language: 'nl' } }, file);
    assert.equal(r.status, 422);
    let p = await r.json();
    assert.match(p.detail, /consent 'version'.*'9'/);
    r = await submit(ctx, { text: 'x', consent: { scope: 'publish', version: '2025-01', language: 'de' } }, file);
    assert.equal(r.status, 422);
    p = await r.json();
    assert.match(p.detail, /consent 'language'.*'de'.*en, nl/);
    let t = await tus(ctx, { consent: { scope: 'publish', version: '9', language: 'nl' }, filename: 'a.bin' }, randomBytes(100));
    assert.equal(t.created.status, 422, 'refused at tus creation');
    assert.match((await t.created.json()).detail, /consent 'version'/);
    t = await tus(ctx, { consent: { scope: 'publish', version: '3', language: 'nl' }, filename: 'a.bin' }, randomBytes(100));
    assert.equal(t.created.status, 422);
    assert.match((await t.created.json()).detail, /consent 'language'.*en-GB/);
    // A staff upload into the collection is held to the same texts.
    r = await fetch(`${d.url}/api/v1/entries`, { method: 'POST', headers: auth(tokens.admin), body: (() => {
      const fd = new FormData();
      fd.append('entry', JSON.stringify({ kind: 'story', collection: 'buurt', text: 'x', consent: { scope: 'publish', version: '7', language: 'nl' } }));
      return fd;
    })() });
    assert.equal(r.status, 422);
    assert.equal(psql(url, 'SELECT count(*) FROM entry'), entries0);
    assert.equal(psql(url, 'SELECT count(*) FROM upload'), '0');

    // Known ones are stored pointing at their exact text.
    r = await submit(ctx, { text: 'Mijn straat', consent: { scope: 'publish', version: '2025-01', language: 'en' } }, file);
    assert.equal(r.status, 201);
    const e1 = (await r.json()).id;
    assert.equal(psql(url, `SELECT c.text_id || '|' || t.version || '|' || t.language || '|' || t.body FROM consent c JOIN consent_text t ON t.id = c.text_id WHERE c.entry_id = ${e1}`),
      `${enId}|2025-01|en|I consent to version 2025-01.`);
    t = await tus(ctx, { consent: { scope: 'analysis_only', version: '2024-05', language: 'nl' }, filename: 'a.bin' }, randomBytes(1000));
    assert.equal(t.created.status, 201);
    assert.equal(t.last.status, 204);
    const e2 = t.last.headers.get('upload-entry');
    assert.equal(psql(url, `SELECT t.version || '|' || t.language FROM consent c JOIN consent_text t ON t.id = c.text_id WHERE c.entry_id = ${e2}`), '2024-05|nl');
    // The database holds it so: a text of another collection is refused.
    ctl(url, 'collection', 'create', '--slug', 'ander', '--title', 'Ander');
    const other = api('POST', '/api/v1/collections/ander/consent', tokens.admin, { version: '1', language: 'nl', text: 'Ander.' });
    const otherId = (await other).json.id;
    assert.throws(() => psql(url, `UPDATE consent SET text_id = ${otherId} WHERE entry_id = ${e1}`), /consent_text_fk/);
    assert.throws(() => psql(url, `UPDATE consent SET text_id = NULL WHERE entry_id = ${e1}`), /consent_names_text/);

    // The public face: the current text in the language asked for.
    r = await api('GET', '/api/v1/collections/buurt?language=en');
    assert.equal(r.status, 200);
    assert.equal(r.json.title, 'Buurt');
    assert.equal(r.json.consent.version, '2025-01');
    assert.equal(r.json.consent.text, 'I consent to version 2025-01.');
    r = await api('GET', '/api/v1/collections/buurt');
    assert.equal(r.json.language, 'nl');
    assert.equal(r.json.consent.text, 'Ik geef toestemming voor versie 2025-01.\n');
    r = await api('GET', '/api/v1/collections/buurt?language=fr');
    assert.equal(r.status, 200);
    assert.equal(r.json.consent, null);
    assert.deepEqual(r.json.consent_languages.sort(), ['en', 'en-GB', 'nl']);
    assert.equal((await api('GET', '/api/v1/collections/buurt?language=%27x')).status, 400);
    assert.equal((await api('GET', '/api/v1/collections/nergens')).status, 404);
  } finally {
    await d.stop('SIGKILL');
  }
});
