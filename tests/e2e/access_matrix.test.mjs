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
import { build, freshDatabase, startDaemon, ctl } from './lib/harness.mjs';
import { ROLES, addUser, login, token } from './lib/accounts.mjs';

const PW = 'matrix password 1234';

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

function concrete(pattern, slug) {
  return pattern.replace(/\{slug\}/g, slug).replace(/\{[^}]+\}/g, '999999999');
}

test('every route answers every role as its access mask says', async (t) => {
  const table = routes();
  assert.ok(table.length >= 15, `only ${table.length} routes listed`);
  for (const must of ['GET /api/v1/audit', 'GET /api/v1/media/{id}/original', 'POST /api/v1/session', 'POST /api/v1/entries']) {
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
    const tokens = {};
    const sessions = {};
    for (const role of ROLES) {
      tokens[role] = token(url, `tok-${role}`, role);
      addUser(url, `ses-${role}`, role, PW);
      sessions[role] = (await login(d.url, `ses-${role}`, PW)).session;
      assert.ok(sessions[role], `login of ses-${role}`);
    }

    const call = async (r, { headers = {}, query = '' } = {}) => {
      const res = await fetch(`${d.url}${concrete(r.pattern, slug)}${query}`, { method: r.method, headers });
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
        if (r.public || r.optional) {
          assert.ok(![401, 403].includes(res.status), `${name} without credentials: ${res.status}`);
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
