// Accounts: password logins with an HttpOnly SameSite=Strict cookie, the
// CSRF token for state-changing requests, throttling per account and per
// address, disabled accounts, expired and revoked tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, startDaemon, psql, ctl } from './lib/harness.mjs';
import { addUser, login, sessionHeaders, token, ctlInput } from './lib/accounts.mjs';

const PW = 'correct horse battery staple';

async function withDaemon(env, fn) {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env });
  try { await fn(d, url); } finally { await d.stop('SIGKILL'); }
}

test('login sets a HttpOnly SameSite=Strict cookie, GET tells who, CSRF guards DELETE, logout ends the session', () => withDaemon({}, async (d, url) => {
  addUser(url, 'mira', 'moderator', PW);
  const { r, body, session } = await login(d.url, 'mira', PW);
  assert.equal(r.status, 200);
  assert.equal(body.name, 'mira');
  assert.equal(body.role, 'moderator');
  assert.match(body.csrf_token, /^vh_[A-Za-z0-9_-]{43}$/);
  assert.match(session.setCookie, /^vh_session=vh_[A-Za-z0-9_-]{43}; /);
  assert.match(session.setCookie, /; HttpOnly/);
  assert.match(session.setCookie, /; SameSite=Strict/);
  assert.doesNotMatch(session.setCookie, /Secure/, 'plain HTTP without a trusted proxy: no Secure');

  // Neither the cookie value nor the CSRF token is stored in clear.
  const stored = psql(url, "SELECT encode(id_hash, 'hex') || encode(csrf_hash, 'hex') FROM session");
  assert.ok(!stored.includes(session.cookie.split('=')[1]));
  assert.equal(psql(url, `SELECT count(*) FROM session WHERE position(convert_to('${body.csrf_token}', 'UTF8') in id_hash) > 0`), '0');

  let g = await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(session, { csrf: false }) });
  assert.equal(g.status, 200, 'GET needs no CSRF token');
  const who = await g.json();
  assert.equal(who.name, 'mira');
  assert.equal(who.via, 'session');
  assert.match(who.expires_at, /^\d{4}-\d\d-\d\dT/);

  // State-changing with the cookie but no (or a wrong) token: 403.
  let del = await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: sessionHeaders(session, { csrf: false }) });
  assert.equal(del.status, 403);
  assert.equal((await del.json()).type, '/problems/csrf-token-invalid');
  del = await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: { Cookie: session.cookie, 'X-CSRF-Token': 'vh_' + 'A'.repeat(43) } });
  assert.equal(del.status, 403);
  // Another session's token does not fit this one.
  const other = (await login(d.url, 'mira', PW)).session;
  del = await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: { Cookie: session.cookie, 'X-CSRF-Token': other.csrf } });
  assert.equal(del.status, 403);
  // The session survived all three; with its token the DELETE works.
  del = await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: sessionHeaders(session) });
  assert.equal(del.status, 204);
  assert.match(del.headers.get('set-cookie'), /^vh_session=; .*Max-Age=0/);
  g = await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(session) });
  assert.equal(g.status, 401);
  // The other session lives on.
  g = await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(other) });
  assert.equal(g.status, 200);

  const actions = psql(url, "SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE object_id = 'mira'");
  assert.equal(actions, 'user_add,login,login,logout');
}));

test('a state-changing request with the cookie needs X-CSRF-Token on every route, also uploads', () => withDaemon({}, async (d, url) => {
  addUser(url, 'fw', 'fieldworker', PW);
  const { session } = await login(d.url, 'fw', PW);
  const post = (headers) => fetch(`${d.url}/api/v1/uploads`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5', 'Upload-Metadata': `kind ${Buffer.from('visit').toString('base64')}`, ...headers },
  });
  let r = await post(sessionHeaders(session, { csrf: false }));
  assert.equal(r.status, 403);
  r = await post(sessionHeaders(session));
  assert.equal(r.status, 201, 'with the token the cookie works like a bearer token');
  // A bearer token needs no CSRF token: browsers never send it on their own.
  r = await post({ Authorization: `Bearer ${token(url, 'fw', 'fieldworker')}` });
  assert.equal(r.status, 201);
}));

test('login answers: wrong password and unknown name alike 401; not JSON 415; malformed 400', () => withDaemon({}, async (d, url) => {
  addUser(url, 'ana', 'analyst', PW);
  const a = await login(d.url, 'ana', 'wrong password here');
  const b = await login(d.url, 'nobody', 'wrong password here');
  assert.equal(a.r.status, 401);
  assert.equal(b.r.status, 401);
  assert.equal(a.body.detail, b.body.detail);
  let r = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=ana&password=x' });
  assert.equal(r.status, 415);
  r = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"ana"}' });
  assert.equal(r.status, 400);
  r = await fetch(`${d.url}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(5000) });
  assert.equal(r.status, 413);
  // Names are matched as lowercase.
  assert.equal((await login(d.url, 'ANA', PW)).r.status, 200);
}));

test('throttling: N failures for one account give 429 with Retry-After, even with the right password', () => withDaemon({
  VERHAAL_LOGIN_MAX_FAILURES: '3', VERHAAL_LOGIN_MAX_FAILURES_ADDRESS: '100', VERHAAL_LOGIN_WINDOW: '60s',
}, async (d, url) => {
  addUser(url, 'adam', 'admin', PW);
  addUser(url, 'bea', 'admin', PW);
  for (let i = 0; i < 3; i++) assert.equal((await login(d.url, 'adam', `bad guess ${i}`)).r.status, 401);
  const { r } = await login(d.url, 'adam', PW);
  assert.equal(r.status, 429);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  // Another account from the same address is not affected.
  assert.equal((await login(d.url, 'bea', PW)).r.status, 200);
  // The window passes: the right password works again (shorten it in the database).
  psql(url, "UPDATE login_throttle SET window_start = now() - interval '61 seconds'");
  assert.equal((await login(d.url, 'adam', PW)).r.status, 200);
  // A success clears the account's count.
  assert.equal(psql(url, "SELECT count(*) FROM login_throttle WHERE scope = 'account' AND key = 'adam'"), '0');
  assert.match(psql(url, "SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE object_id = 'adam'"), /login_failed,login_failed,login_failed,login_throttled,login$/);
}));

test('throttling per address: failures across many accounts lock the address, also for a valid login', () => withDaemon({
  VERHAAL_LOGIN_MAX_FAILURES: '100', VERHAAL_LOGIN_MAX_FAILURES_ADDRESS: '6', VERHAAL_LOGIN_WINDOW: '60s',
}, async (d, url) => {
  addUser(url, 'carla', 'analyst', PW);
  for (let i = 0; i < 6; i++) assert.equal((await login(d.url, `user${i}`, 'not the password')).r.status, 401);
  const { r } = await login(d.url, 'carla', PW);
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.equal(psql(url, "SELECT failures >= 7 FROM login_throttle WHERE scope = 'address' AND key = '127.0.0.1'"), 't');
}));

test('successful logins do not use up the address limit', () => withDaemon({
  VERHAAL_LOGIN_MAX_FAILURES_ADDRESS: '3',
}, async (d, url) => {
  addUser(url, 'dirk', 'fieldworker', PW);
  for (let i = 0; i < 8; i++) assert.equal((await login(d.url, 'dirk', PW)).r.status, 200);
}));

test('a disabled user can neither log in nor use a token or a session; enabling restores the token', () => withDaemon({}, async (d, url) => {
  addUser(url, 'eva', 'analyst', PW);
  const tok = token(url, 'eva', 'analyst');
  const { session } = await login(d.url, 'eva', PW);
  const bearer = { Authorization: `Bearer ${tok}` };
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: bearer })).status, 200);
  assert.match(ctl(url, 'user', 'disable', 'eva'), /disabled/);
  assert.equal((await login(d.url, 'eva', PW)).r.status, 401);
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: bearer })).status, 401);
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(session) })).status, 401);
  assert.equal(psql(url, "SELECT count(*) FROM session s JOIN account a ON a.id = s.account_id WHERE a.name = 'eva'"), '0');
  assert.match(ctl(url, 'user', 'list'), /eva\s+analyst\s+disabled/);
  ctl(url, 'user', 'enable', 'eva');
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: bearer })).status, 200);
}));

test('user passwd changes the password and ends sessions; user add refuses short passwords and duplicates', () => withDaemon({}, async (d, url) => {
  addUser(url, 'finn', 'admin', PW);
  const { session } = await login(d.url, 'finn', PW);
  ctlInput(url, 'another long password\n', 'user', 'passwd', 'finn');
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(session) })).status, 401);
  assert.equal((await login(d.url, 'finn', PW)).r.status, 401);
  assert.equal((await login(d.url, 'finn', 'another long password')).r.status, 200);
  assert.throws(() => addUser(url, 'gus', 'admin', 'short'), /at least 12/);
  assert.throws(() => addUser(url, 'finn', 'admin', PW), /exists/);
  assert.throws(() => addUser(url, 'hal', 'resident', PW), /unknown role/);
  // The stored hash is Argon2id, never the password.
  assert.match(psql(url, "SELECT password_hash FROM account WHERE name = 'finn'"), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
}));

test('expired and revoked tokens are refused; token list shows expiry and state', () => withDaemon({}, async (d, url) => {
  const t1 = token(url, 'ivo', 'fieldworker', '--expires', '1 hour');
  const t2 = token(url, 'ivo', 'fieldworker');
  const get = (t) => fetch(`${d.url}/api/v1/session`, { headers: { Authorization: `Bearer ${t}` } });
  assert.equal((await get(t1)).status, 200);
  psql(url, "UPDATE api_token SET expires_at = now() - interval '1 second' WHERE id = 1");
  assert.equal((await get(t1)).status, 401);
  assert.equal((await get(t2)).status, 200);
  ctl(url, 'token', 'revoke', '2');
  assert.equal((await get(t2)).status, 401);
  const list = ctl(url, 'token', 'list');
  assert.match(list, /^1\s+ivo\s+fieldworker\s+expired\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d/m);
  assert.match(list, /^2\s+ivo\s+fieldworker\s+revoked\s+\S+\s+never/m);
  // A token cannot log out: there is no session to end.
  const t3 = token(url, 'ivo', 'fieldworker');
  assert.equal((await fetch(`${d.url}/api/v1/session`, { method: 'DELETE', headers: { Authorization: `Bearer ${t3}` } })).status, 400);
}));

test('the cookie is Secure behind a trusted TLS proxy only', () => withDaemon({ VERHAAL_TRUST_PROXY_TLS: 'true' }, async (d, url) => {
  addUser(url, 'jo', 'admin', PW);
  let { session } = await login(d.url, 'jo', PW, { 'X-Forwarded-Proto': 'https' });
  assert.match(session.setCookie, /; Secure$/);
  ({ session } = await login(d.url, 'jo', PW));
  assert.doesNotMatch(session.setCookie, /Secure/);
}));

test('an idle session ends after session_idle_timeout; ended sessions are swept', () => withDaemon({}, async (d, url) => {
  addUser(url, 'kim', 'admin', PW);
  const { session } = await login(d.url, 'kim', PW);
  psql(url, "UPDATE session SET last_seen_at = now() - interval '3 hours'");
  assert.equal((await fetch(`${d.url}/api/v1/session`, { headers: sessionHeaders(session) })).status, 401);
  // Ended sessions and passed throttling windows are swept at the next login.
  psql(url, "UPDATE session SET expires_at = now() - interval '1 second'");
  await login(d.url, 'nobody', 'wrong password here');
  psql(url, "UPDATE login_throttle SET window_start = now() - interval '1 hour'");
  assert.equal((await login(d.url, 'kim', PW)).r.status, 200);
  assert.equal(psql(url, 'SELECT count(*) FROM session'), '1');
  assert.equal(psql(url, "SELECT count(*) FROM login_throttle WHERE key = 'nobody'"), '0');
}));
