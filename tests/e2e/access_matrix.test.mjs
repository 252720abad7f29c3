// The route × role matrix. The routes come from the daemon's own table
// (`verhaald --routes`), so a route added later is covered without editing
// this file. Every route is called with no credentials, with a bearer
// token of each role, with a login session of each role (cookie and CSRF
// token), and with a resident upload link:
//   - public routes never answer 401/403;
//   - other routes answer 401 without credentials;
//   - a role outside the route's access gets 403 (the router's own
//     "forbidden" problem), a role inside it neither 401 nor 403;
//   - an upload link is accepted only where residents are allowed.
// Path parameters get a real collection slug ({slug}) or an id that does
// not exist, so allowed calls end in the handler (400, 404, 412, …) without
// changing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { build, freshDatabase, startDaemon, ctl, psql, waitFor } from './lib/harness.mjs';
import { ROLES, addUser, login, token } from './lib/accounts.mjs';
import { fixtures } from './lib/search.mjs';

const PW = 'matrix password 1234';
// Resident routes opened in a browser: without a valid link they answer
// with a Dutch page (410) rather than a 401 problem.
const PAGES = new Set(['GET /api/v1/collections/{slug}/uploads']);

function routes() {
  const out = execFileSync(path.join(build, 'verhaald'), ['--routes'], { encoding: 'utf8' });
  return out.trim().split('\n').map((line) => {
    const [method, pattern, access] = line.trim().split(/\s+/);
    const kinds = access.split(',');
    return {
      method, pattern, access,
      public: access === 'public',
      optional: kinds.includes('optional'),
      roles: kinds.filter((k) => k !== 'optional' && k !== 'public'),
    };
  });
}

// Renewing an upload link would end the matrix collection's own link, so
// that route gets a collection of its own.
function concrete(pattern, slug, odkToken = '999999999') {
  if (pattern.endsWith('/link')) slug = `${slug}-link`;
  return pattern.replace(/\{slug\}/g, slug).replace(/\{token\}/g, odkToken).replace(/\{[^}]+\}/g, '999999999');
}

test('every route answers every role as its access mask says', async (t) => {
  const table = routes();
  assert.ok(table.length >= 15, `only ${table.length} routes listed`);
  for (const must of ['GET /api/v1/audit', 'PATCH /api/v1/entries/{id}', 'POST /api/v1/entries/{id}/withdraw',
    'GET /api/v1/media/{id}/original', 'POST /api/v1/session', 'POST /api/v1/entries',
    'GET /api/v1/exports/entries.xlsx', 'GET /api/v1/exports/entries.zip', 'GET /api/v1/exports/areas.geojson',
    'GET /api/v1/exports/fields',
    // The resident's page (issue 13): the link itself, the receipt again, a story's state.
    'GET /api/v1/collections/{slug}/uploads', 'GET /api/v1/uploads/{id}/receipt', 'POST /api/v1/receipt',
    'GET /api/v1/buurten.geojson',
    'GET /odk/key/{token}/formList', 'GET /odk/key/{token}/forms/{file}', 'HEAD /odk/key/{token}/submission',
    'POST /odk/key/{token}/submission', 'GET /odk/formList', 'GET /odk/forms/{file}', 'HEAD /odk/submission',
    'POST /odk/submission', 'GET /api/v1/odk/tokens', 'POST /api/v1/odk/tokens', 'DELETE /api/v1/odk/tokens/{id}',
    'GET /api/v1/entries/{id}/history', 'GET /api/v1/accounts', 'POST /api/v1/accounts',
    'PATCH /api/v1/accounts/{name}', 'GET /api/v1/tokens', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/{id}',
    'POST /api/v1/collections/{slug}/link']) {
    assert.ok(table.some((r) => `${r.method} ${r.pattern}` === must), `${must} is missing from --routes`);
  }
  for (const r of table) {
    for (const role of r.roles) {
      assert.ok([...ROLES, 'resident'].includes(role), `${r.method} ${r.pattern}: unknown role ${role}`);
    }
  }

  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_RESIDENT_UPLOAD_RATE: '100000' } });
  try {
    const slug = 'matrix';
    const key = ctl(url, 'collection', 'create', '--slug', slug, '--title', 'Matrix').trim().split('\n').pop();
    ctl(url, 'collection', 'create', '--slug', `${slug}-link`, '--title', 'Matrix (link)');
    const tokens = {};
    const sessions = {};
    for (const role of ROLES) {
      tokens[role] = token(url, `tok-${role}`, role);
      addUser(url, `ses-${role}`, role, PW);
      sessions[role] = (await login(d.url, `ses-${role}`, PW)).session;
      assert.ok(sessions[role], `login of ses-${role}`);
    }

    // OpenRosa's key routes: the field worker's ODK token in the path is
    // the credential (and the only one that counts there).
    const odkToken = /^token (.*)$/m.exec(ctl(url, 'odk', 'token', 'add', 'mx-odk'))[1];
    const call = async (r, { headers = {}, query = '', odk } = {}) => {
      const res = await fetch(`${d.url}${concrete(r.pattern, slug, odk)}${query}`, { method: r.method, headers });
      const type = res.status >= 400 && res.status !== 405 && r.method !== 'HEAD' ? (await res.json().catch(() => ({}))).type : undefined;
      if (r.method !== 'HEAD' && type === undefined) await res.arrayBuffer().catch(() => {});
      return { status: res.status, type };
    };
    const alive = async (role) => {
      const res = await fetch(`${d.url}/api/v1/session`, { headers: { Cookie: sessions[role].cookie } });
      await res.arrayBuffer();
      if (res.status !== 200) sessions[role] = (await login(d.url, `ses-${role}`, PW)).session;
    };

    let calls = 0;
    for (const r of table) {
      await t.test(`${r.method} ${r.pattern} [${r.access}]`, async () => {
        const name = `${r.method} ${r.pattern}`;
        // No credentials.
        let res = await call(r);
        calls++;
        if (r.pattern.includes('{token}')) {
          assert.equal(res.status, 401, `${name} with an unknown ODK token`);
          for (const [via, headers] of [['token', { Authorization: `Bearer ${tokens.admin}` }], ['session', { Cookie: sessions.admin.cookie, 'X-CSRF-Token': sessions.admin.csrf }]]) {
            res = await call(r, { headers });
            calls++;
            assert.equal(res.status, 401, `${name}: an unknown ODK token is not helped by a ${via}`);
          }
          res = await call(r, { odk: odkToken });
          calls++;
          assert.ok(r.roles.includes('fieldworker') && ![401, 403].includes(res.status), `${name} with a field worker's ODK token: ${res.status}`);
          return;
        }
        if (r.public || r.optional) {
          assert.ok(![401, 403].includes(res.status), `${name} without credentials: ${res.status}`);
        } else if (PAGES.has(name)) {
          // A person opened it: a page saying the link does not work, not a 401 problem.
          assert.equal(res.status, 410, `${name} without credentials`);
        } else {
          assert.equal(res.status, 401, `${name} without credentials`);
        }
        // Each role, by token and by session.
        for (const role of ROLES) {
          const allowed = r.public || r.optional || r.roles.includes(role);
          for (const [via, headers] of [
            ['token', { Authorization: `Bearer ${tokens[role]}` }],
            ['session', { Cookie: sessions[role].cookie, 'X-CSRF-Token': sessions[role].csrf }],
          ]) {
            res = await call(r, { headers });
            calls++;
            if (allowed) {
              assert.ok(![401, 403].includes(res.status), `${name} as ${role} by ${via}: ${res.status} ${res.type}`);
            } else {
              assert.equal(res.status, 403, `${name} as ${role} by ${via}`);
              if (r.method !== 'HEAD') assert.equal(res.type, '/problems/forbidden');
            }
            if (via === 'session') await alive(role);
          }
        }
        // A resident's upload link.
        if (!r.public && !r.optional) {
          res = await call(r, { query: `?key=${encodeURIComponent(key)}` });
          calls++;
          if (r.roles.includes('resident')) {
            assert.ok(![401, 403].includes(res.status), `${name} with the upload link: ${res.status} ${res.type}`);
          } else {
            assert.equal(res.status, 401, `${name} with an upload link only`);
          }
        }
      });
    }
    t.diagnostic(`${table.length} routes, ${calls} calls`);
  } finally {
    await d.stop('SIGKILL');
  }
});

// The route × role × entry state × consent scope matrix: what each viewer
// gets of an entry, its files and their renditions, in search, in both
// exports and in the dossier, for every status a story can be in
// (approved, published, pending review, rejected) and every consent scope
// (lib/domain/vh_consent.c; "none" is a visit without a consent record). The
// answers are written out below, not computed, so that a change to the
// rule (vh_access, schema/0009_access.sql) must change this table too.
//
//   E  the entry exists for the viewer, with its themes: 200 on
//      /entries/{id}, listed by search, counted, a row in the CSV export,
//      counted in the GeoJSON export and the dossier, in its latest list
//   R  its title, text and snippets are shown, and its photo (description,
//      display.jpg, thumb.jpg)
//   Q  its title and text are in the CSV export
//   P  its recording is played (description, audio.opus, peaks.json)
//   -  nothing: 404, never listed, never counted
//
// Viewers: the four roles, with "fieldworker" not the owner, and "owner"
// the field worker whose account holds the entry.
const SCOPES = ['none', 'analysis_only', 'quote_anonymised', 'audio_to_staff', 'publish'];
const STATES = ['approved', 'published', 'pending_review', 'rejected'];
const EXPECTED = {
  //                          none    analysis_only quote_anonymised audio_to_staff publish
  admin: {
    approved:               ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    published:              ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    pending_review:         ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    rejected:               ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
  },
  moderator: {
    approved:               ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    published:              ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    pending_review:         ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
    rejected:               ['ERQP', 'ERP',        'ERQP',          'ERP',         'ERQP'],
  },
  analyst: {
    approved:               ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
    published:              ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
    pending_review:         ['-',    '-',          '-',             '-',           '-'],
    rejected:               ['-',    '-',          '-',             '-',           '-'],
  },
  fieldworker: {
    approved:               ['-',    '-',          '-',             '-',           '-'],
    published:              ['-',    '-',          '-',             '-',           '-'],
    pending_review:         ['-',    '-',          '-',             '-',           '-'],
    rejected:               ['-',    '-',          '-',             '-',           '-'],
  },
  owner: {
    approved:               ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
    published:              ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
    pending_review:         ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
    rejected:               ['ERQP', 'E',          'ERQ',           'ERP',         'ERQP'],
  },
};

test('every read path answers every role as entry state and consent scope say', { timeout: 180000 }, async (t) => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_MEDIA_RUNNERS: '2', VERHAAL_SMALL_COUNT_K: '1' } });
  try {
    const tok = {};
    for (const [viewer, role] of [['admin', 'admin'], ['moderator', 'moderator'], ['analyst', 'analyst'],
      ['fieldworker', 'fieldworker'], ['owner', 'fieldworker']]) {
      tok[viewer] = token(url, `mx-${viewer}`, role);
    }
    const get = async (viewer, p) => {
      const r = await fetch(`${d.url}${p}`, { headers: { Authorization: `Bearer ${tok[viewer]}` } });
      const ct = r.headers.get('content-type') ?? '';
      const body = ct.includes('json') ? await r.json() : await r.text();
      return { status: r.status, body };
    };
    ctl(url, 'collection', 'create', '--slug', 'mx', '--title', 'Matrix');

    // One processed recording and photo, made by the real media jobs; the
    // matrix entries share their rows' blobs.
    const fx = fixtures();
    const fd = new FormData();
    fd.append('entry', JSON.stringify({ kind: 'visit', text: 'bron' }));
    fd.append('file', new Blob([fx.ogg], { type: 'audio/ogg' }), 'a.ogg');
    fd.append('file', new Blob([fx.png], { type: 'image/png' }), 'p.png');
    const up = await fetch(`${d.url}/api/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${tok.owner}` }, body: fd });
    assert.equal(up.status, 201);
    const src = (await up.json()).media.map((m) => m.id);
    await waitFor(() => psql(url, `SELECT count(*) FROM media WHERE id IN (${src}) AND status = 'ready' AND (opus_sha256 IS NOT NULL OR display_sha256 IS NOT NULL)`) === '2', { timeout: 60000, interval: 200 });
    const srcAudio = psql(url, `SELECT id FROM media WHERE id IN (${src}) AND family = 'audio'`);
    const srcPhoto = psql(url, `SELECT id FROM media WHERE id IN (${src}) AND family = 'image'`);
    const cols = psql(url, "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'media' AND column_name NOT IN ('id', 'entry_id') AND is_generated = 'NEVER' AND identity_generation IS NULL");
    const owner = psql(url, "SELECT id FROM account WHERE name = 'mx-owner'");
    psql(url, "INSERT INTO area (code, level, name, parent) VALUES ('GM0344', 'gemeente', 'Utrecht', NULL) ON CONFLICT DO NOTHING");
    psql(url, "INSERT INTO area (code, level, name, parent) VALUES ('WK034490', 'wijk', 'Matrixwijk', 'GM0344') ON CONFLICT DO NOTHING");

    const cells = [];
    let n = 0;
    for (const state of STATES) {
      for (const [si, scope] of SCOPES.entries()) {
        const word = `mxq${String.fromCharCode(97 + Math.floor(n / 26))}${String.fromCharCode(97 + (n % 26))}zz`;
        const buurt = `BU034490${String(n + 10).padStart(2, '0')}`;
        psql(url, `INSERT INTO area (code, level, name, parent) VALUES ('${buurt}', 'buurt', 'Buurt ${n}', 'WK034490')`);
        const id = psql(url, `INSERT INTO entry (kind, status, title, body, area_code, collection_id, themes, account_id, occurred_at)
          VALUES ('${scope === 'none' ? 'visit' : 'story'}', '${state}', 'titel ${word}', 'tekst ${word}', '${buurt}',
          (SELECT id FROM collection WHERE slug = 'mx'), ARRAY['geweld'], ${owner}, now()) RETURNING id`).split('\n')[0];
        if (scope !== 'none') psql(url, `INSERT INTO consent (entry_id, scope, text_version, language) VALUES (${id}, '${scope}', '1', 'nl')`);
        const audio = psql(url, `INSERT INTO media (entry_id, ${cols}) SELECT ${id}, ${cols} FROM media WHERE id = ${srcAudio} RETURNING id`).split('\n')[0];
        const photo = psql(url, `INSERT INTO media (entry_id, ${cols}) SELECT ${id}, ${cols} FROM media WHERE id = ${srcPhoto} RETURNING id`).split('\n')[0];
        cells.push({ state, scope, si, id: Number(id), word, buurt, audio, photo });
        n++;
      }
    }

    for (const viewer of Object.keys(EXPECTED)) {
      await t.test(viewer, async () => {
        const staff = !['fieldworker', 'owner'].includes(viewer);
        const csv = staff ? await get(viewer, '/api/v1/exports/entries.csv?collection=mx') : null;
        const geo = staff ? await get(viewer, '/api/v1/exports/buurten.geojson?area=WK034490') : null;
        if (staff) {
          assert.equal(csv.status, 200);
          assert.equal(geo.status, 200);
        }
        for (const c of cells) {
          const want = EXPECTED[viewer][c.state][c.si];
          const has = (u) => want.includes(u);
          const at = `${viewer} × ${c.state} × ${c.scope}`;
          // The entry.
          const e = await get(viewer, `/api/v1/entries/${c.id}`);
          assert.equal(e.status, has('E') ? 200 : 404, `${at}: entry`);
          if (has('E')) {
            assert.deepEqual(e.body.themes, ['geweld'], `${at}: themes`);
            assert.equal(e.body.title, has('R') ? `titel ${c.word}` : null, `${at}: title`);
            assert.equal(e.body.text, has('R') ? `tekst ${c.word}` : null, `${at}: text`);
            assert.deepEqual(e.body.media.map((m) => String(m.id)).sort(),
              [...(has('P') ? [c.audio] : []), ...(has('R') ? [c.photo] : [])].sort(), `${at}: media listed`);
          }
          // Search: listed, and what the item shows.
          const s = await get(viewer, `/api/v1/entries?q=${c.word}&collection=mx`);
          assert.equal(s.status, 200);
          const item = s.body.items.find((i) => i.id === c.id);
          assert.equal(Boolean(item), has('E'), `${at}: found by search`);
          assert.equal(s.body.total, has('E') ? 1 : 0, `${at}: search total`);
          if (item) {
            assert.deepEqual(item.themes, ['geweld']);
            assert.equal(item.title, has('R') ? `titel ${c.word}` : null, `${at}: search title`);
            assert.equal(item.snippet === null, !has('R'), `${at}: snippet`);
          }
          // Files and renditions.
          for (const [p, use] of [[`/api/v1/media/${c.photo}`, 'R'], [`/api/v1/media/${c.photo}/display.jpg`, 'R'],
            [`/api/v1/media/${c.photo}/thumb.jpg`, 'R'], [`/api/v1/media/${c.audio}`, 'P'],
            [`/api/v1/media/${c.audio}/audio.opus`, 'P'], [`/api/v1/media/${c.audio}/peaks.json`, 'P']]) {
            const r = await fetch(`${d.url}${p}`, { headers: { Authorization: `Bearer ${tok[viewer]}` } });
            await r.arrayBuffer();
            assert.equal(r.status, has(use) ? 200 : 404, `${at}: ${p.replace(/\/\d+/, '/{id}')}`);
          }
          if (!staff) continue;
          // CSV export: the row, and the words only where they may be quoted.
          const line = csv.body.split('\n').find((l) => l.replace(/^\uFEFF/, '').startsWith(`${c.id},`));
          assert.equal(Boolean(line), has('E'), `${at}: CSV row`);
          if (line) {
            assert.match(line, /geweld/, `${at}: CSV themes`);
            assert.equal(line.includes(c.word), has('Q'), `${at}: CSV text`);
          }
          // GeoJSON export: counted in its buurt.
          const feature = geo.body.features.find((f) => f.id === c.buurt);
          assert.equal(feature.properties.entries, has('E') ? 1 : 0, `${at}: GeoJSON count`);
          // Dossier of its buurt: counted and in the latest list.
          const dos = await get(viewer, `/api/v1/areas/${c.buurt}/dossier`);
          assert.equal(dos.status, 200);
          assert.equal(dos.body.stories.total.reduce((a, b) => a + Number(b), 0), has('E') ? 1 : 0, `${at}: dossier count`);
          const latest = dos.body.latest.find((i) => i.id === c.id);
          assert.equal(Boolean(latest), has('E'), `${at}: dossier latest`);
          if (latest) {
            assert.equal(latest.title, has('R') ? `titel ${c.word}` : null, `${at}: dossier title`);
            assert.equal(latest.snippet === null, !has('R'), `${at}: dossier snippet`);
          }
        }
      });
    }
  } finally {
    await d.stop('SIGKILL');
  }
});
