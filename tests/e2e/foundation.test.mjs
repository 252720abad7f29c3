// Foundation: readiness follows the database, config checking, migrations,
// signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Cluster, freshDatabase, startDaemon, runDaemon, psql, ctl, tmpdir, top, build, waitFor } from './lib/harness.mjs';

test('readyz is 503 while the database is stopped and 200 after it starts, same process', async () => {
  const pg = new Cluster().init().start();
  const d = await startDaemon({ databaseUrl: pg.url });
  try {
    let r = await fetch(`${d.url}/readyz`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).checks.migrations, 'ok');

    pg.stop();
    r = await fetch(`${d.url}/readyz`);
    assert.equal(r.status, 503);
    const body = await r.json();
    assert.equal(body.status, 'not ready');
    assert.notEqual(body.checks.database, 'ok');
    assert.equal(body.checks.data_dir, 'ok');

    // /healthz does not depend on the database.
    assert.equal((await fetch(`${d.url}/healthz`)).status, 200);

    pg.start();
    r = await fetch(`${d.url}/readyz`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).checks.database, 'ok');
    assert.equal(await d.stop(), 0);
  } finally {
    await d.stop('SIGKILL');
    pg.destroy();
  }
});

test('a daemon started before its database migrates it once it answers', async () => {
  const pg = new Cluster().init();
  const d = await startDaemon({ databaseUrl: pg.url });
  try {
    const r = await fetch(`${d.url}/readyz`);
    assert.equal(r.status, 503);
    pg.start();
    await waitFor(async () => (await fetch(`${d.url}/readyz`)).status === 200, { timeout: 15000 });
    assert.match(d.log(), /schema is current/);
    assert.doesNotMatch(ctl(pg.url, 'migrate', '--status'), /pending/);
  } finally {
    await d.stop('SIGKILL');
    pg.destroy();
  }
});

test('with migrate_on_start off, readyz names pending migrations', async () => {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_MIGRATE_ON_START: 'false' } });
  try {
    const r = await fetch(`${d.url}/readyz`);
    assert.equal(r.status, 503);
    assert.match((await r.json()).checks.migrations, /migration\(s\) pending/);
    ctl(url, 'migrate');
    assert.equal((await fetch(`${d.url}/readyz`)).status, 200);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('readyz names an unwritable data directory', async () => {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url });
  try {
    const { chmodSync } = await import('node:fs');
    chmodSync(d.dataDir, 0o500);
    // root ignores mode bits; make the path a file instead in that case.
    const r = await fetch(`${d.url}/readyz`);
    if (process.getuid() !== 0) {
      assert.equal(r.status, 503);
      assert.match((await r.json()).checks.data_dir, /not writable/);
    } else {
      const { rmSync } = await import('node:fs');
      chmodSync(d.dataDir, 0o755);
      rmSync(d.dataDir, { recursive: true });
      writeFileSync(d.dataDir, 'not a directory');
      const r2 = await fetch(`${d.url}/readyz`);
      assert.equal(r2.status, 503);
      assert.match((await r2.json()).checks.data_dir, /not writable/);
    }
  } finally {
    await d.stop('SIGKILL');
  }
});

test('verhaald -n reports FILE:LINE for a broken config and exits 1', async () => {
  const dir = tmpdir('conf');
  const bad = path.join(dir, 'bad.conf');
  writeFileSync(bad, '# ok\nlisten_port = 8080\n\nmax_upload_size = lots\n');
  let r = await runDaemon(['-n', '-c', bad]);
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`${bad}:4: bad value 'lots' for max_upload_size`));

  writeFileSync(bad, 'listen_port = 8080\nlisten_prot = 1\n');
  r = await runDaemon(['-n', '-c', bad]);
  assert.equal(r.code, 1);
  assert.match(r.out, /bad\.conf:2: unknown key 'listen_prot'/);

  writeFileSync(bad, 'listen_port = 8080\nno equals sign here\n');
  r = await runDaemon(['-n', '-c', bad]);
  assert.equal(r.code, 1);
  assert.match(r.out, /bad\.conf:2: syntax error/);

  r = await runDaemon(['-n', '-c', path.join(top, 'config/verhaald.conf')]);
  assert.equal(r.code, 0, r.out);

  // The environment overrides the file, and is checked too.
  r = await runDaemon(['-n', '-c', path.join(top, 'config/verhaald.conf')], { VERHAAL_WORKERS: 'many' });
  assert.equal(r.code, 1);
  assert.match(r.out, /VERHAAL_WORKERS/);
});

test('migrations: applied once under concurrency, listed by --status', async () => {
  const url = freshDatabase();
  // Four migrators at once: the advisory lock makes them queue.
  const runs = await Promise.all([1, 2, 3, 4].map(() => new Promise((resolve) => {
    const p = spawn(path.join(build, 'verhaalctl'), ['migrate'], { env: { ...process.env, VERHAAL_DATABASE_URL: url } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ code, out }));
  })));
  for (const r of runs) assert.equal(r.code, 0, r.out);
  const applied = runs.map((r) => (r.out.match(/^applied /gm) ?? []).length).reduce((a, b) => a + b, 0);
  const known = Number(psql(url, 'SELECT count(*) FROM schema_migrations'));
  assert.equal(applied, known, 'each migration applied exactly once in total');
  const status = ctl(url, 'migrate', '--status');
  assert.match(status, /^0001_foundation\s+\d{4}-\d\d-\d\dT/m);
  assert.doesNotMatch(status, /pending/);
});

test('verhaald refuses to start against a schema newer than it knows', async () => {
  const url = freshDatabase();
  ctl(url, 'migrate');
  psql(url, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future')");
  const r = await runDaemon(['-c', path.join(top, 'config/verhaald.conf')], {
    VERHAAL_DATABASE_URL: url, VERHAAL_LISTEN_PORT: '0', VERHAAL_DATA_DIR: path.join(tmpdir(), 'd'),
  });
  assert.equal(r.code, 1);
  assert.match(r.out, /schema is at version 9999, newer than this build knows/);
});

test('SIGHUP reloads reloadable keys and names the ones that need a restart', async () => {
  const url = freshDatabase();
  const dir = tmpdir('conf');
  const conf = path.join(dir, 'v.conf');
  writeFileSync(conf, 'log_level = info\nmax_connections = 100\n');
  const d = await startDaemon({ databaseUrl: url, args: ['-c', conf], env: { VERHAAL_LOG_LEVEL: null } });
  try {
    writeFileSync(conf, 'log_level = info\nmax_connections = 50\nworkers = 2\n');
    d.proc.kill('SIGHUP');
    await waitFor(() => /config: max_connections = 50/.test(d.log()));
    assert.match(d.log(), /config: workers changed to 2; takes effect after a restart/);
    // A broken file is refused and the daemon keeps running.
    writeFileSync(conf, 'max_connections = none\n');
    d.proc.kill('SIGHUP');
    await waitFor(() => /reload refused/.test(d.log()));
    assert.equal((await fetch(`${d.url}/healthz`)).status, 200);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('SIGTERM exits 0; unknown routes get problem+json with a request id', async () => {
  const d = await startDaemon({ databaseUrl: freshDatabase() });
  try {
    const r = await fetch(`${d.url}/no/such/thing`);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    const p = await r.json();
    assert.equal(p.type, '/problems/not-found');
    assert.equal(p.status, 404);
    assert.equal(p.request_id, r.headers.get('x-request-id'));
    const line = new RegExp(`req=${p.request_id} 127\\.0\\.0\\.1 "GET /no/such/thing" 404`);
    await waitFor(() => line.test(d.log()));
    assert.equal(await d.stop('SIGTERM'), 0);
    assert.match(d.log(), /shutdown complete/);
  } finally {
    await d.stop('SIGKILL');
  }
});
