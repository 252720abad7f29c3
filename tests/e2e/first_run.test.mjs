// The first five minutes: make run's path on an empty database creates one
// admin whose printed password logs in, and loads Utrecht's areas; a second
// start creates nothing. verhaalctl finds make run's private cluster by its
// rule; --version; log_format = json; clear exits when the port is taken or
// the data directory is not writable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { top, build, tmpdir, freshDatabase, psql, startDaemon, waitFor } from './lib/harness.mjs';

const pgcluster = path.join(top, 'contrib/dev/pgcluster.sh');
const conf = path.join(top, 'config/verhaald.conf');

// run.sh process groups still running when the file ends (a failed
// assertion skipped a stop) are killed, so they cannot keep the runner waiting.
const groups = new Set();
after(() => { for (const pid of groups) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } } });

// contrib/dev/run.sh (what make run runs after building) against a given
// database; resolves once verhaald listens.
function runPath(databaseUrl, dataDir) {
  const proc = spawn('sh', [path.join(top, 'contrib/dev/run.sh'), build], {
    cwd: top,
    detached: true,	// its own process group, as a terminal's Ctrl-C reaches it
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      VERHAAL_DATABASE_URL: databaseUrl,
      VERHAAL_DATA_DIR: dataDir,
      VERHAAL_LISTEN_PORT: '0',
      VERHAAL_MEDIA_RUNNERS: '0',
    },
  });
  let out = '';
  groups.add(proc.pid);
  const exited = new Promise((resolve) => proc.on('close', (code, sig) => {
    groups.delete(proc.pid);
    resolve(code ?? sig);
  }));
  for (const s of [proc.stdout, proc.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (d) => { out += d; });
  }
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/[^/ ]+)\//.exec(out);
      if (!m) return;
      clearInterval(timer);
      resolve({
        url: m[1],
        out: () => out,
        async stop() {
          try { process.kill(-proc.pid, 'SIGINT'); } catch { /* gone */ }
          return exited;
        },
      });
    }, 50);
    exited.then((code) => { clearInterval(timer); reject(new Error(`run.sh exited (${code}):\n${out}`)); });
  });
}

// Runs verhaald to its end; the output is complete once its pipes close
// (the exit event may come before the last bytes).
function runToEnd(args, env, opts = {}) {
  return new Promise((resolve) => {
    const p = spawn(path.join(build, 'verhaald'), args, {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...opts,
    });
    let out = '';
    p.stdout.on('data', (x) => { out += x; });
    p.stderr.on('data', (x) => { out += x; });
    p.on('close', (code) => resolve({ code, out }));
  });
}

async function login(url, name, password) {
  const r = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  return { status: r.status, body: await r.json(), cookie: r.headers.get('set-cookie') };
}

test('make run on an empty database: one admin with a one-time password, Utrecht areas, nothing new the second time', async () => {
  const db = freshDatabase();
  const dataDir = path.join(tmpdir('data'), 'data');

  const first = await runPath(db, dataDir);
  const out = first.out();
  const m = /sign in as (\S+) with password (\S+) \(shown only this once\)/.exec(out);
  assert.ok(m, `no sign-in line in:\n${out}`);
  const [, name, password] = m;
  assert.equal(name, 'admin');
  assert.ok(password.length >= 12);

  const ok = await login(first.url, name, password);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.role, 'admin');
  assert.doesNotMatch(out, /no account exists yet/);
  assert.equal((await login(first.url, name, password + 'x')).status, 401);

  assert.equal(psql(db, "SELECT count(*) FROM account"), '1');
  assert.equal(psql(db, "SELECT role FROM account WHERE name = 'admin'"), 'admin');
  assert.equal(psql(db, "SELECT count(*) || '/' || count(boundary) FROM area WHERE level = 'wijk'"), '10/10');
  assert.equal(psql(db, "SELECT count(*) || '/' || count(boundary) FROM area WHERE level = 'buurt'"), '111/111');
  assert.equal(psql(db, "SELECT name FROM area WHERE code = 'WK034401'"), 'Wijk 01 West');
  // The same areas through the API, with the session of the login.
  const wijken = await (await fetch(`${first.url}/api/v1/areas?level=wijk`, {
    headers: { Cookie: ok.cookie.split(';')[0] },
  })).json();
  assert.equal(wijken.length, 10);
  assert.ok(wijken.every((w) => w.has_boundary));
  assert.equal(psql(db, "SELECT count(*) FROM audit WHERE action = 'user_add' AND object_id = 'admin'"), '1');
  await first.stop();
  assert.match(first.out(), /run: stopped verhaald/);

  const second = await runPath(db, dataDir);
  assert.doesNotMatch(second.out(), /sign in as|password/);
  assert.match(second.out(), /accounts exist already/);
  assert.doesNotMatch(second.out(), /loaded the areas/);
  assert.equal(psql(db, "SELECT count(*) FROM account"), '1');
  assert.equal(psql(db, "SELECT count(*) FROM area"), '122');
  // The first password still works: nothing was reset.
  assert.equal((await login(second.url, name, password)).status, 200);
  await second.stop();
});

test('two first runs at once make one admin', async () => {
  const db = freshDatabase();
  const one = () => new Promise((resolve) => {
    const p = spawn(path.join(build, 'verhaalctl'), ['first-run'], {
      env: { ...process.env, VERHAAL_DATABASE_URL: db },
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
  const rs = await Promise.all([one(), one()]);
  assert.deepEqual(rs.map((r) => r.code), [0, 0], rs.map((r) => r.out).join('\n'));
  assert.equal(rs.filter((r) => /sign in as admin/.test(r.out)).length, 1);
  assert.equal(psql(db, 'SELECT count(*) FROM account'), '1');
});

test('verhaalctl finds the private cluster of make run by its rule, and says which', async () => {
  // A checkout-like directory: var/pg holds a running private cluster,
  // build/verhaalctl is a copy of the program.
  const dir = tmpdir('rule');
  const pg = path.join(dir, 'var/pg');
  execFileSync('sh', [pgcluster, 'init', pg]);
  execFileSync('sh', [pgcluster, 'start', pg]);
  try {
    mkdirSync(path.join(dir, 'build'));
    const ctlCopy = path.join(dir, 'build/verhaalctl');
    copyFileSync(path.join(build, 'verhaalctl'), ctlCopy);
    chmodSync(ctlCopy, 0o755);
    const env = { ...process.env, VERHAAL_DATABASE_URL: '' };
    const run = (cwd, ...args) => new Promise((resolve) => {
      const p = spawn(ctlCopy, args, { cwd, env });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });

    // From the top of the checkout (the cwd rule).
    let r = await run(dir, 'migrate');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no database_url configured; using the private cluster of make run in \S*var\/pg\/run/);
    r = await run(dir, 'db-url');
    assert.equal(r.code, 0, r.stderr);
    const url = r.stdout.trim();
    assert.match(url, /^host='[^']*\/var\/pg\/run' dbname=verhaal user=verhaal$/);
    assert.equal(psql(url, 'SELECT count(*) FROM schema_migrations') !== '', true);

    // From anywhere else: the checkout that holds the program.
    r = await run('/', 'user', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^name\s+role/);
    assert.match(r.stderr, /private cluster of make run/);

    // A configured database_url wins, silently.
    const other = freshDatabase();
    const p = spawn(ctlCopy, ['migrate'], { cwd: dir, env: { ...process.env, VERHAAL_DATABASE_URL: other } });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    assert.equal(await new Promise((res) => p.on('close', res)), 0);
    assert.doesNotMatch(err, /private cluster/);
  } finally {
    execFileSync('sh', [pgcluster, 'stop', pg]);
  }

  // No cluster running and nothing configured: a message that says what to do.
  const lone = tmpdir('lone');
  mkdirSync(path.join(lone, 'bin'));
  copyFileSync(path.join(build, 'verhaalctl'), path.join(lone, 'bin/verhaalctl'));
  chmodSync(path.join(lone, 'bin/verhaalctl'), 0o755);
  const r = await new Promise((resolve) => {
    const p = spawn(path.join(lone, 'bin/verhaalctl'), ['user', 'list'], {
      cwd: lone, env: { ...process.env, VERHAAL_DATABASE_URL: '' },
    });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no database configured \(database_url in the config file, or VERHAAL_DATABASE_URL\), and no private cluster of make run is running in \.\/var\/pg\/run; start make run, or set database_url/);
});

test('--version prints the Makefile version and the newest migration', () => {
  const version = /^VERSION\s*:?=\s*(\S+)/m.exec(readFileSync(path.join(top, 'Makefile'), 'utf8'))[1];
  const newest = execFileSync('sh', ['-c', 'ls schema/[0-9]*.sql | sort | tail -n 1'], { cwd: top, encoding: 'utf8' })
    .trim().replace(/^schema\//, '').replace(/\.sql$/, '');
  for (const prog of ['verhaald', 'verhaalctl']) {
    const out = execFileSync(path.join(build, prog), ['--version'], { encoding: 'utf8' });
    assert.equal(out, `${prog} ${version} (schema ${newest})\n`);
  }
});

test('log_format = json: every line is one JSON object with time, level, request_id and message', async () => {
  const d = await startDaemon({ databaseUrl: freshDatabase(), env: { VERHAAL_LOG_FORMAT: 'json' } });
  const r = await fetch(`${d.url}/readyz`, { headers: { 'X-Request-Id': 'json-log-1' } });
  await r.arrayBuffer();
  // A request the parser refuses is logged too (with its own id).
  await new Promise((resolve) => {
    const s = net.connect(new URL(d.url).port, '127.0.0.1', () => {
      s.end(Buffer.concat([Buffer.from('GET /nope-'), Buffer.from([0xff, 0x22, 0x5c, 0x01]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    });
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', resolve);
  });
  await waitFor(() => / 400 /.test(d.log()));
  assert.equal(await d.stop(), 0);
  if (process.env.VERHAAL_TEST_VERBOSE) console.log(d.log());
  const lines = d.log().split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 3);
  const objs = lines.map((l) => {
    try { return JSON.parse(l); } catch { assert.fail(`not JSON: ${l}`); }
  });
  for (const o of objs) {
    assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['error', 'warn', 'info', 'debug'].includes(o.level), o.level);
    assert.equal(typeof o.message, 'string');
  }
  const access = objs.find((o) => o.request_id === 'json-log-1');
  assert.ok(access, 'no line carries the request id');
  assert.match(access.message, /"GET \/readyz"/);
  assert.doesNotMatch(access.message, /^req=/);
  assert.ok(objs.some((o) => o.message.startsWith('listening on http://')));
  // A daemon on a database without accounts says how to make the first.
  assert.ok(objs.some((o) => o.level === 'warn' && /^no account exists yet: `verhaalctl first-run` creates the first admin/.test(o.message)));
  // A bad value for the key is refused with the choices.
  const bad = await runToEnd(['-n', '-c', conf], { VERHAAL_LOG_FORMAT: 'xml' });
  assert.equal(bad.code, 1);
  assert.match(bad.out, /VERHAAL_LOG_FORMAT: bad value 'xml' for log_format: expected text or json/);
});

test('a port in use: a message naming it, and exit status 69', async () => {
  const d = await startDaemon({ databaseUrl: freshDatabase() });
  const port = new URL(d.url).port;
  const r = await runToEnd(['-c', conf], {
    VERHAAL_DATABASE_URL: '', VERHAAL_LISTEN_PORT: port, VERHAAL_MEDIA_RUNNERS: '0',
    VERHAAL_DATA_DIR: path.join(tmpdir('data'), 'data'),
  });
  await d.stop();
  assert.equal(r.code, 69, r.out);
  assert.match(r.out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use \\(another verhaald or make run\\?\\); stop that one or set listen_port`));
});

test('a data directory that cannot be written or created: a message naming it, and exit status 73', async () => {
  // As root every mode allows writing, so the daemon runs as nobody there.
  const asRoot = process.getuid() === 0;
  const base = tmpdir('ro');
  if (!asRoot) chmodSync(base, 0o555);
  const run = (dataDir) => runToEnd(['-c', conf],
    { VERHAAL_DATABASE_URL: '', VERHAAL_LISTEN_PORT: '0', VERHAAL_DATA_DIR: dataDir },
    asRoot ? { uid: 65534, gid: 65534 } : {});
  const uid = asRoot ? 65534 : process.getuid();

  let r = await run(base);
  assert.equal(r.code, 73, r.out);
  assert.match(r.out, new RegExp(`data directory ${base} is not writable: Permission denied; give uid ${uid} write access to it or set data_dir`));

  r = await run(path.join(base, 'sub/data'));
  assert.equal(r.code, 73, r.out);
  assert.match(r.out, new RegExp(`data directory ${base}/sub/data cannot be created \\(${base}/sub: Permission denied\\); create it for uid ${uid} or set data_dir`));
  if (!asRoot) chmodSync(base, 0o755);
});
