// The systemd units in contrib/systemd: the hardening they promise is in
// them, `systemd-analyze verify` accepts them (against a copy whose
// ExecStart names the binary of this build, since /usr/local/bin/verhaald
// is not installed here), and the daemon does what they rely on: -n
// checks the file (ExecStartPre), SIGHUP reloads (ExecReload), --jobs-only
// runs the runners without a listener, SIGTERM ends it with status 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, freshDatabase, runDaemon, startDaemon, tmpdir, top, waitFor } from './lib/harness.mjs';

const units = ['verhaald.service', 'verhaald-runner.service'];
const unitText = (u) => readFileSync(path.join(top, 'contrib/systemd', u), 'utf8');
const directives = (text) => text.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
const conf = path.join(top, 'config/verhaald.conf');

test('each unit carries the hardening and the restart and reload rules', () => {
  for (const u of units) {
    const d = directives(unitText(u));
    for (const want of ['User=verhaal', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/verhaal',
      'NoNewPrivileges=yes', 'PrivateTmp=yes', 'ProtectHome=yes', 'MemoryDenyWriteExecute=yes',
      'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      assert.ok(d.includes(want), `${u}: ${want}`);
    }
    assert.ok(d.some((l) => /^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$/.test(l)), `${u}: address families`);
    assert.ok(d.some((l) => /^SystemCallFilter=@system-service\b/.test(l)), `${u}: system call filter`);
  }
  assert.ok(directives(unitText('verhaald-runner.service')).some((l) => /^ExecStart=\S+verhaald --jobs-only /.test(l)));
});

test('systemd-analyze verify accepts both units once their binary exists', () => {
  const dir = tmpdir('units');
  const bin = path.join(build, 'verhaald');
  for (const u of units) writeFileSync(path.join(dir, u), unitText(u).replaceAll('/usr/local/bin/verhaald', bin));
  const copies = units.map((u) => path.join(dir, u));
  // man: pages are checked only where they are installed.
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...copies], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings either');
  // The path check is real: the units as shipped fail it here.
  if (!existsSync('/usr/local/bin/verhaald')) {
    const orig = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => path.join(top, 'contrib/systemd', u))],
      { encoding: 'utf8' });
    assert.notEqual(orig.status, 0);
    assert.match(orig.stderr, /\/usr\/local\/bin\/verhaald is not executable/);
  }
  // verify reports a misspelt key or a bad value on stderr (its exit
  // status stays 0), so the empty stderr above means something.
  writeFileSync(path.join(dir, 'broken.service'), unitText(units[0]).replaceAll('/usr/local/bin/verhaald', bin)
    .replace('ProtectSystem=strict', 'ProtectSytem=strict').replace('PrivateTmp=yes', 'PrivateTmp=sometimes'));
  const bad = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'broken.service')], { encoding: 'utf8' });
  assert.match(bad.stderr, /Unknown key 'ProtectSytem'/);
  assert.match(bad.stderr, /PrivateTmp.*sometimes|sometimes.*PrivateTmp|Failed to parse .*sometimes/);
});

test('ExecStartPre: verhaald -n checks the configuration file', async () => {
  const r = await runDaemon(['-n', '-c', conf]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /configuration ok/);
});

test('ExecReload: SIGHUP reloads a running verhaald, which keeps serving', async () => {
  const d = await startDaemon({ databaseUrl: freshDatabase() });
  try {
    d.proc.kill('SIGHUP');
    await waitFor(() => /reloading configuration/.test(d.log()));
    assert.equal((await fetch(`${d.url}/healthz`)).status, 200);
    assert.equal(await d.stop(), 0);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('the runner unit: --jobs-only reloads on SIGHUP, listens on nothing and stops cleanly', async () => {
  const url = freshDatabase();
  const data = path.join(tmpdir('runner'), 'data');
  const p = spawn(path.join(build, 'verhaald'), ['--jobs-only', '-c', conf], {
    env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: data, VERHAAL_MEDIA_RUNNERS: '2',
      VERHAAL_LISTEN_PORT: '0', VERHAAL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  p.stderr.on('data', (c) => { log += c; });
  const exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve(code ?? sig)));
  try {
    await waitFor(() => /running media jobs only/.test(log));
    assert.doesNotMatch(log, /listening on/);
    p.kill('SIGHUP');
    await waitFor(() => /reloading configuration/.test(log));
    p.kill('SIGTERM');
    assert.equal(await exited, 0, log);
  } finally {
    p.kill('SIGKILL');
  }
  // With no runners it has nothing to do and says so.
  const r = await runDaemon(['--jobs-only', '-c', conf], { VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: data,
    VERHAAL_MEDIA_RUNNERS: '0' });
  assert.equal(r.code, 1);
  assert.match(r.out, /--jobs-only with media_runners = 0 has nothing to do/);
});
