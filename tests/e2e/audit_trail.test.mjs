// The audit trail is complete and tamper-evident: every listed action
// (entry edits by a moderator and by the field worker who wrote it, role
// changes, upload-link rotations and ODK tokens included) leaves one row (repeated plays and views one per person, file and day),
// exports say their filters and how many rows went out, rows chain by
// SHA-256 so that `verhaalctl audit --verify` proves the chain or names
// the first bad row, the application's role can neither change nor delete
// rows, and trimming past audit_retention leaves a chain that verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, ctl, psql, startDaemon, tmpdir, top, waitFor } from './lib/harness.mjs';
import { setup, submit, auth, CONSENT } from './lib/consent.mjs';
import { addUser, login, sessionHeaders } from './lib/accounts.mjs';
import { fixtures } from './lib/search.mjs';

const fx = fixtures();
const FILES = [{ name: 'stem.ogg', data: fx.ogg, type: 'audio/ogg' }, { name: 'foto.png', data: fx.png, type: 'image/png' }];

function verify(url, env = {}) {
  return spawnSync(path.join(build, 'verhaalctl'), ['audit', '--verify'], {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, ...env },
  });
}

const rows = (url, where) => psql(url, `SELECT count(*) FROM audit WHERE ${where}`);

test('every audited action leaves its row; the chain verifies, resists the app role and shows tampering', { timeout: 240000 }, async () => {
  const ctx = await setup();
  const { url, d, tokens } = ctx;
  const get = async (p, token, headers = {}) => {
    const r = await fetch(`${d.url}${p}`, { headers: { ...auth(token), ...headers } });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  };
  const post = async (p, token, body) => {
    const r = await fetch(`${d.url}${p}`, { method: 'POST', headers: auth(token, { 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
    return { status: r.status, json: await r.json().catch(() => null) };
  };
  try {
    // Set-up rows: verhaalctl's token and collection changes, consent texts.
    assert.equal(rows(url, "action = 'token_create' AND actor = 'verhaalctl'"), '4');
    assert.equal(rows(url, "action = 'collection_create' AND object_id = 'buurt'"), '1');
    assert.equal(rows(url, "action = 'consent_text_add' AND object_id = 'buurt'"), '3');

    // A story with a recording and a photo, approved with a reason.
    let r = await submit(ctx, { text: 'Bij de brug is het donker', consent: CONSENT('audio_to_staff') }, FILES);
    assert.equal(r.status, 201);
    const story = await r.json();
    const id = story.id;
    await waitFor(() => psql(url, `SELECT count(*) FROM media WHERE entry_id = ${id} AND status = 'ready'`) === '2', { timeout: 90000, interval: 200 });
    const audio = psql(url, `SELECT id FROM media WHERE entry_id = ${id} AND family = 'audio'`);
    const photo = psql(url, `SELECT id FROM media WHERE entry_id = ${id} AND family = 'image'`);
    assert.equal((await post(`/api/v1/entries/${id}/approve`, tokens.moderator, { reason: 'geen namen' })).status, 200);
    assert.equal(rows(url, `action = 'approve' AND object_type = 'entry' AND object_id = '${id}' AND reason = 'geen namen' AND actor = 'moderator1'`), '1');

    // Reads: the entry, a search, plays and views (repeated), exports.
    assert.equal((await get(`/api/v1/entries/${id}`, tokens.analyst)).status, 200);
    assert.equal(rows(url, `action = 'read' AND object_type = 'entry' AND object_id = '${id}' AND actor = 'analyst1' AND actor_role = 'analyst'`), '1');
    assert.equal((await get(`/api/v1/entries/999999`, tokens.analyst)).status, 404);
    assert.equal(rows(url, "action = 'read' AND object_id = '999999'"), '0', 'nothing read, nothing recorded');
    assert.equal((await get('/api/v1/entries?q=brug', tokens.analyst)).status, 200);
    assert.equal(rows(url, "action = 'search' AND actor = 'analyst1' AND reason = 'q=brug'"), '1');
    psql(url, "INSERT INTO area (code, level, name) VALUES ('GM0344', 'gemeente', 'Utrecht') ON CONFLICT DO NOTHING");
    const dossier = await get('/api/v1/areas/GM0344/dossier?from=2020', tokens.analyst);
    assert.equal(dossier.status, 200, dossier.body.toString());
    assert.equal(rows(url, "action = 'dossier' AND object_type = 'area' AND object_id = 'GM0344' AND reason = 'from=2020'"), '1');
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(`/api/v1/media/${audio}/audio.opus`, tokens.analyst)).status, 200);
      assert.equal((await get(`/api/v1/media/${audio}/audio.opus`, tokens.analyst, { Range: 'bytes=0-99' })).status, 206);
      assert.equal((await get(`/api/v1/media/${photo}/thumb.jpg`, tokens.analyst)).status, 200);
    }
    assert.equal(rows(url, `action = 'play' AND object_type = 'media' AND object_id = '${audio}' AND actor = 'analyst1'`), '1', 'one play row per person, file and day');
    assert.equal(rows(url, `action = 'view' AND object_type = 'media' AND object_id = '${photo}' AND actor = 'analyst1'`), '1');
    assert.equal((await get(`/api/v1/media/${audio}/audio.opus`, tokens.moderator)).status, 200);
    assert.equal(rows(url, `action = 'play' AND object_id = '${audio}'`), '2', 'another person, another row');

    const csv = await get('/api/v1/exports/entries.csv?q=brug&sep=semicolon', tokens.analyst);
    assert.equal(csv.status, 200);
    const lines = csv.body.toString('utf8').trim().split('\n').length - 1;
    assert.ok(lines >= 1);
    assert.equal(rows(url, `action = 'export' AND object_type = 'entries' AND reason = 'q=brug&sep=semicolon rows=${lines}'`), '1');
    assert.equal((await get('/api/v1/exports/buurten.geojson', tokens.analyst)).status, 200);
    assert.match(psql(url, "SELECT reason FROM audit WHERE action = 'export' AND object_type = 'buurten'"), /^rows=\d+$/);

    // Moderation: publish, reject (with reason), redact.
    const publishable = (await (await submit(ctx, { text: 'Mag gepubliceerd', consent: CONSENT('publish') })).json()).id;
    assert.equal((await post(`/api/v1/entries/${publishable}/publish`, tokens.moderator, { reason: 'mooi' })).status, 200);
    const rejectable = (await (await submit(ctx, { text: 'Spam spam', consent: CONSENT('publish') })).json()).id;
    assert.equal((await post(`/api/v1/entries/${rejectable}/reject`, tokens.moderator, { reason: 'reclame' })).status, 200);
    assert.equal((await post(`/api/v1/entries/${publishable}/redact`, tokens.moderator, { text: [{ start: 0, end: 3 }] })).status, 200);
    assert.equal(rows(url, `action = 'publish' AND object_id = '${publishable}' AND reason = 'mooi'`), '1');
    assert.equal(rows(url, `action = 'reject' AND object_id = '${rejectable}' AND reason = 'reclame'`), '1');
    assert.equal(rows(url, `action = 'redact' AND object_id = '${publishable}' AND reason LIKE '%text spans 1%'`), '1');

    // A sealed original (as before), a withdrawal, a retention purge.
    assert.equal((await get(`/api/v1/media/${photo}/original?reason=klacht%20123`, tokens.admin)).status, 200);
    assert.equal(rows(url, `action = 'read' AND object_type = 'media' AND object_id = '${photo}' AND reason = 'klacht 123'`), '1');
    r = await fetch(`${d.url}/api/v1/withdraw`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ receipt: story.receipt }) });
    assert.equal(r.status, 200);
    assert.equal(rows(url, `action = 'withdraw' AND object_id = '${id}' AND actor = 'resident'`), '1');
    psql(url, `UPDATE entry SET created_at = now() - interval '30 years' WHERE id = ${rejectable}`);
    const purge = execFileSync(path.join(build, 'verhaalctl'), ['purge'], {
      encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: d.dataDir },
    });
    assert.match(purge, /1 erased, 0 failed/);
    assert.equal(rows(url, `action = 'purge' AND object_id = '${rejectable}' AND actor = 'retention'`), '1');

    // Accounts, tokens, collections, consent texts through the API too.
    addUser(url, 'nieuw', 'analyst', 'een lang wachtwoord 123');
    assert.equal(rows(url, "action = 'user_add' AND object_id = 'nieuw'"), '1');
    const tokId = psql(url, "SELECT max(id) FROM api_token");
    ctl(url, 'token', 'revoke', tokId);
    assert.equal(rows(url, `action = 'token_revoke' AND object_type = 'token' AND object_id = '${tokId}'`), '1');
    assert.equal((await post('/api/v1/collections', tokens.admin, { slug: 'wijk-oost', title: 'Wijk Oost' })).status, 201);
    assert.equal(rows(url, "action = 'collection_create' AND object_id = 'wijk-oost' AND actor = 'admin1'"), '1');
    assert.equal((await post('/api/v1/collections/wijk-oost/consent', tokens.admin, { version: 'v2', language: 'nl', text: 'Ik stem in.' })).status, 201);
    assert.equal(rows(url, "action = 'consent_text_add' AND object_id = 'wijk-oost' AND actor = 'admin1' AND reason LIKE 'version v2, language nl%'"), '1');
    const s = await login(d.url, 'nieuw', 'een lang wachtwoord 123');
    assert.equal(rows(url, "action = 'login' AND actor = 'nieuw'"), '1');
    r = await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: sessionHeaders(s.session) });
    assert.equal(r.status, 204);
    assert.equal(rows(url, "action = 'logout' AND actor = 'nieuw'"), '1');

    // Entry edits: the field worker's own change before publication,
    // then a moderator's correction; each names its actor and the fields.
    const send = async (method, p, token, body) => {
      const res = await fetch(`${d.url}${p}`, { method, headers: auth(token, { 'Content-Type': 'application/json' }), body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json().catch(() => null) };
    };
    // (The set-up's field worker token was the one revoked above.)
    const fw = ctl(url, 'token', 'create', '--user', 'fieldworker1', '--role', 'fieldworker').trim().split('\n').pop();
    const fd = new FormData();
    fd.append('entry', JSON.stringify({ kind: 'visit', text: 'Gesprek bij de school' }));
    r = await fetch(`${d.url}/api/v1/entries`, { method: 'POST', headers: auth(fw), body: fd });
    assert.equal(r.status, 201);
    const visit = (await r.json()).id;
    let e = await send('PATCH', `/api/v1/entries/${visit}`, fw, { text: 'Gesprek bij de basisschool' });
    assert.equal(e.status, 200, JSON.stringify(e.json));
    assert.equal(rows(url, `action = 'edit' AND object_type = 'entry' AND object_id = '${visit}' AND actor = 'fieldworker1' AND actor_role = 'fieldworker' AND reason = 'text'`), '1');
    e = await send('PATCH', `/api/v1/entries/${visit}`, tokens.moderator, { title: 'Werkbezoek school' });
    assert.equal(e.status, 200, JSON.stringify(e.json));
    assert.equal(rows(url, `action = 'edit' AND object_type = 'entry' AND object_id = '${visit}' AND actor = 'moderator1' AND actor_role = 'moderator' AND reason LIKE '%title%'`), '1');
    assert.equal(rows(url, `action = 'edit' AND reason LIKE '%basisschool%'`), '0', 'no words of the entry in the trail');

    // An account's role, through the API.
    e = await send('PATCH', '/api/v1/accounts/nieuw', tokens.admin, { role: 'moderator' });
    assert.equal(e.status, 200, JSON.stringify(e.json));
    assert.equal(rows(url, "action = 'user_role' AND object_type = 'account' AND object_id = 'nieuw' AND actor = 'admin1' AND reason LIKE '%analyst%moderator%'"), '1');

    // A collection's upload link replaced: in the staff app and by verhaalctl.
    e = await send('POST', '/api/v1/collections/wijk-oost/link', tokens.admin, {});
    assert.equal(e.status, 200, JSON.stringify(e.json));
    assert.equal(rows(url, "action = 'collection_rotate_link' AND object_type = 'collection' AND object_id = 'wijk-oost' AND actor = 'admin1'"), '1');
    ctl(url, 'collection', 'rotate-link', 'wijk-oost');
    assert.equal(rows(url, "action = 'collection_rotate_link' AND object_id = 'wijk-oost' AND actor = 'verhaalctl'"), '1');

    // ODK tokens for phones: added (with the field worker's account it
    // makes) and revoked, through the API and through verhaalctl.
    e = await send('POST', '/api/v1/odk/tokens', tokens.admin, { name: 'telefoon1' });
    assert.equal(e.status, 201, JSON.stringify(e.json));
    const odkApi = String(e.json.id);
    assert.equal(rows(url, "action = 'user_add' AND object_type = 'account' AND object_id = 'telefoon1' AND actor = 'admin1'"), '1');
    assert.equal(rows(url, `action = 'token_create' AND object_type = 'token' AND object_id = '${odkApi}' AND actor = 'admin1' AND reason LIKE '%ODK%'`), '1');
    e = await send('POST', '/api/v1/odk/tokens', tokens.admin, { name: 'telefoon1' });
    assert.equal(e.status, 201);
    assert.equal(rows(url, "action = 'user_add' AND object_id = 'telefoon1'"), '1', 'a second token makes no account');
    assert.equal((await send('DELETE', `/api/v1/odk/tokens/${odkApi}`, tokens.admin)).status, 200);
    assert.equal(rows(url, `action = 'token_revoke' AND object_type = 'token' AND object_id = '${odkApi}' AND actor = 'admin1'`), '1');
    const added = ctl(url, 'odk', 'token', 'add', 'telefoon2', '--url', d.url);
    assert.match(added, /^token /m);
    const odkCtl = psql(url, "SELECT max(t.id) FROM api_token t JOIN account a ON a.id = t.account_id WHERE a.name = 'telefoon2' AND t.kind = 'odk'");
    assert.equal(rows(url, "action = 'user_add' AND object_id = 'telefoon2' AND actor = 'verhaalctl'"), '1');
    assert.equal(rows(url, `action = 'token_create' AND object_type = 'token' AND object_id = '${odkCtl}' AND actor = 'verhaalctl' AND reason LIKE '%ODK token for telefoon2%'`), '1');
    ctl(url, 'odk', 'token', 'revoke', odkCtl);
    assert.equal(rows(url, `action = 'token_revoke' AND object_type = 'token' AND object_id = '${odkCtl}' AND actor = 'verhaalctl'`), '1');

    // A SIGHUP reload that changed keys: their names, never values.
    const conf = path.join(tmpdir('auditconf'), 'v.conf');
    writeFileSync(conf, 'log_level = info\nmax_connections = 100\n');
    const d2 = await startDaemon({ databaseUrl: url, args: ['-c', conf], env: { VERHAAL_LOG_LEVEL: null } });
    try {
      d2.proc.kill('SIGHUP');	// nothing changed: no row
      await waitFor(() => /reloading configuration/.test(d2.log()));
      writeFileSync(conf, 'log_level = info\nmax_connections = 50\naudit_retention = 400d\n');
      d2.proc.kill('SIGHUP');
      await waitFor(() => rows(url, "action = 'config_reload'") === '1', { timeout: 10000, interval: 100 });
      assert.equal(psql(url, "SELECT reason FROM audit WHERE action = 'config_reload'"), 'max_connections,audit_retention');
    } finally {
      await d2.stop('SIGKILL');
    }

    // Concurrent writers still make one chain.
    const reads0 = Number(rows(url, `action = 'read' AND object_id = '${publishable}'`));
    await Promise.all(Array.from({ length: 20 }, () => get(`/api/v1/entries/${publishable}`, tokens.moderator)));
    assert.equal(Number(rows(url, `action = 'read' AND object_id = '${publishable}'`)), reads0 + 20);

    // Every action performed here is in the one list; the list prints.
    const listed = ctl(url, 'audit', '--actions').trim().split('\n').map((l) => l.split(/\s+/)[0]);
    for (const a of psql(url, 'SELECT DISTINCT action FROM audit').split('\n')) assert.ok(listed.includes(a), `${a} is not in audit --actions`);

    // The chain is whole.
    let v = verify(url);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /audit chain intact: \d+ rows/);
    assert.equal(psql(url, 'SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 WHERE b.prev_hash <> a.hash'), '0');

    // The application's role may not change or remove rows.
    const victim = psql(url, `SELECT id FROM audit WHERE action = 'reject' AND object_id = '${rejectable}'`);
    for (const q of [`UPDATE audit SET reason = 'niets' WHERE id = ${victim}`, `DELETE FROM audit WHERE id = ${victim}`,
      'TRUNCATE audit', "UPDATE audit_chain SET seq = 1", 'DELETE FROM audit_chain']) {
      assert.throws(() => psql(url, q), /append-only/, q);
    }
    assert.equal(rows(url, `id = ${victim} AND reason = 'reclame'`), '1');

    // A superuser going around the trigger is caught, and the row named.
    psql(url, `SET session_replication_role = replica; UPDATE audit SET reason = 'spam' WHERE id = ${victim}`);
    v = verify(url);
    assert.equal(v.status, 1);
    assert.match(v.stdout, new RegExp(`audit chain broken at row ${victim} \\(seq \\d+\\): its content does not match its hash`));
    psql(url, `SET session_replication_role = replica; UPDATE audit SET reason = 'reclame' WHERE id = ${victim}`);
    assert.equal(verify(url).status, 0, 'put back, it verifies again');
    // A removed row: its successor is named.
    const next = psql(url, `SELECT id FROM audit WHERE seq = (SELECT seq + 1 FROM audit WHERE id = ${victim})`);
    const saved = psql(url, `SELECT row_to_json(a)::text FROM audit a WHERE id = ${victim}`);
    psql(url, `SET session_replication_role = replica; DELETE FROM audit WHERE id = ${victim}`);
    v = verify(url);
    assert.equal(v.status, 1);
    assert.match(v.stdout, new RegExp(`broken at row ${next} .*missing`));
    psql(url, `SET session_replication_role = replica; INSERT INTO audit OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_record(NULL::audit, '${saved.replace(/'/g, "''")}')`);
    assert.equal(verify(url).status, 0);
    // The newest row gone: the head says so.
    const last = psql(url, 'SELECT max(id) FROM audit WHERE seq = (SELECT max(seq) FROM audit)');
    const lastRow = psql(url, `SELECT row_to_json(a)::text FROM audit a WHERE id = ${last}`);
    psql(url, `SET session_replication_role = replica; DELETE FROM audit WHERE id = ${last}`);
    v = verify(url);
    assert.equal(v.status, 1);
    assert.match(v.stdout, /rows after it are missing/);
    psql(url, `SET session_replication_role = replica; INSERT INTO audit OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_record(NULL::audit, '${lastRow.replace(/'/g, "''")}')`);
    assert.equal(verify(url).status, 0);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('trimming past audit_retention leaves an anchor; the chain still verifies and goes on', { timeout: 120000 }, async () => {
  const ctx = await setup();
  const { url, d, tokens } = ctx;
  const purge = (env) => execFileSync(path.join(build, 'verhaalctl'), ['purge'], {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: d.dataDir, ...env },
  });
  try {
    const id = (await (await submit(ctx, { text: 'oud verhaal', consent: CONSENT('publish') })).json()).id;
    for (let i = 0; i < 5; i++) await (await fetch(`${d.url}/api/v1/entries/${id}`, { headers: auth(tokens.moderator) })).arrayBuffer();
    const before = Number(rows(url, 'true'));
    assert.ok(before >= 12);
    // The default (two years) trims nothing.
    assert.match(purge({}), /0 audit rows trimmed/);
    assert.equal(Number(rows(url, 'true')), before);
    await new Promise((res) => setTimeout(res, 2500));
    for (let i = 0; i < 3; i++) await (await fetch(`${d.url}/api/v1/entries/${id}`, { headers: auth(tokens.moderator) })).arrayBuffer();
    const out = purge({ VERHAAL_AUDIT_RETENTION: '2s' });
    assert.match(out, new RegExp(`${before} audit rows trimmed`));
    // Left: the anchor, the three newer reads and the trim's own row.
    assert.equal(rows(url, 'true'), '5');
    assert.equal(rows(url, "anchor AND action = 'anchor'"), '1');
    assert.equal(psql(url, 'SELECT anchor FROM audit ORDER BY seq LIMIT 1'), 't');
    assert.equal(rows(url, `action = 'audit_trim' AND reason LIKE '${before} rows older than%'`), '1');
    let v = verify(url);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /intact: 5 rows/);
    // New rows chain on from the anchor's successors.
    await (await fetch(`${d.url}/api/v1/entries/${id}`, { headers: auth(tokens.moderator) })).arrayBuffer();
    v = verify(url);
    assert.equal(v.status, 0, v.stdout);
    assert.match(v.stdout, /intact: 6 rows/);
    // Removing the anchor (and so the chain's start) is seen.
    psql(url, 'SET session_replication_role = replica; DELETE FROM audit WHERE anchor');
    v = verify(url);
    assert.equal(v.status, 1);
    assert.match(v.stdout, /rows before it are missing/);
  } finally {
    await d.stop('SIGKILL');
  }
});
