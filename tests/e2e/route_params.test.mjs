// Typed route parameters: the route table says {id:int} and {code:area},
// and the router answers a path parameter of the wrong form with a 400
// problem naming it, after the credentials (401 and 403 come first) and
// before any handler; a well-formed one reaches the handler as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctl, freshDatabase, startDaemon } from './lib/harness.mjs';

test('a mistyped path parameter is a 400 that names it; a typed one reaches the handler', async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const tok = (role) => ctl(url, 'token', 'create', '--user', `${role}1`, '--role', role).trim().split('\n').pop();
  const moderator = tok('moderator'), analyst = tok('analyst'), admin = tok('admin');
  const d = await startDaemon({ databaseUrl: url });
  try {
    const get = (path, token, init = {}) => fetch(`${d.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    for (const [path, name, token] of [
      ['/api/v1/entries/abc', 'id', analyst],
      ['/api/v1/entries/12x', 'id', analyst],
      ['/api/v1/entries/0', 'id', analyst],
      ['/api/v1/entries/1234567890123456789', 'id', analyst],
      ['/api/v1/media/-1', 'id', analyst],
      ['/api/v1/media/x/audio.opus', 'id', analyst],
      ['/api/v1/jobs/%20', 'id', moderator],
      ['/api/v1/areas/Utrecht', 'code', analyst],
      ['/api/v1/areas/XX0344/dossier', 'code', analyst],
    ]) {
      const r = await get(path, token);
      assert.equal(r.status, 400, path);
      assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
      const p = await r.json();
      assert.equal(p.type, '/problems/bad-parameter', path);
      assert.match(p.detail, new RegExp(`^'${name}' in the path must be `), path);
    }
    // DELETE /api/v1/tokens/{id:int} as well (its handler once checked
    // the id by hand); a well-formed unknown id is still the handler's 404.
    for (const id of ['abc', '0', '1234567890123456789']) {
      const r = await get(`/api/v1/tokens/${id}`, admin, { method: 'DELETE' });
      assert.equal(r.status, 400, id);
      assert.match((await r.json()).detail, /^'id' in the path must be /, id);
    }
    assert.equal((await get('/api/v1/tokens/999999999', admin, { method: 'DELETE' })).status, 404);
    // DELETE /api/v1/odk/tokens/{id:int} too (its handler, as well, once
    // checked the id by hand, with a 404); an unknown id is still 404.
    for (const id of ['abc', '0', '1234567890123456789']) {
      const r = await get(`/api/v1/odk/tokens/${id}`, admin, { method: 'DELETE' });
      assert.equal(r.status, 400, id);
      assert.match((await r.json()).detail, /^'id' in the path must be /, id);
    }
    assert.equal((await get('/api/v1/odk/tokens/999999999', admin, { method: 'DELETE' })).status, 404);
    // The body of a POST is not read for it.
    const r = await get('/api/v1/entries/abc/redact', moderator, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 400);
    // Credentials first: no token is 401, a role that may not is 403.
    assert.equal((await fetch(`${d.url}/api/v1/entries/abc`)).status, 401);
    assert.equal((await get('/api/v1/jobs/abc', analyst)).status, 403);
    // Well-formed values reach the handlers, which answer as before.
    assert.equal((await get('/api/v1/entries/999999999', analyst)).status, 404);
    assert.equal((await get('/api/v1/jobs/999999999', moderator)).status, 404);
    assert.equal((await get('/api/v1/areas/BU09999999', analyst)).status, 404);
  } finally {
    await d.stop('SIGKILL');
  }
});
