// The end-to-end harness: throwaway databases and PostgreSQL clusters, and
// the real verhaald started on a free loopback port. tests/run.sh creates
// the shared cluster of a run and exports VERHAAL_TEST_PGDIR.
import { spawn, execFileSync } from 'node:child_process';
import { after } from 'node:test';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const build = process.env.VERHAAL_BUILD ?? path.join(top, 'build');
export const shared = path.resolve(top, '..', 'shared');
const pgcluster = path.join(top, 'contrib/dev/pgcluster.sh');

// A temporary directory the postgres user can reach; removed at exit.
export function tmpdir(prefix = 'e2e') {
  const base = process.env.VERHAAL_TEST_TMP ?? os.tmpdir();
  const dir = mkdtempSync(path.join(base, `${prefix}-`));
  chmodSync(dir, 0o755);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A new, empty database in the run's shared cluster.
export function freshDatabase() {
  const dir = process.env.VERHAAL_TEST_PGDIR;
  if (!dir) throw new Error('VERHAAL_TEST_PGDIR is not set: run the e2e tests through make test');
  const name = 't_' + randomBytes(6).toString('hex');
  execFileSync('sh', [pgcluster, 'createdb', dir, name]);
  return `host=${dir}/run dbname=${name} user=verhaal`;
}

// A private cluster of one test, for stopping and starting under a daemon.
export class Cluster {
  constructor() { this.dir = path.join(tmpdir('pg'), 'pg'); }
  init() { execFileSync('sh', [pgcluster, 'init', this.dir]); return this; }
  start() { execFileSync('sh', [pgcluster, 'start', this.dir]); return this; }
  stop() { execFileSync('sh', [pgcluster, 'stop', this.dir]); return this; }
  get url() { return `host=${this.dir}/run dbname=verhaal user=verhaal`; }
  destroy() { try { this.stop(); } catch { /* already down */ } }
}

export function psql(url, query) {
  return execFileSync('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8' }).trim();
}

export function ctl(url, ...args) {
  return execFileSync(path.join(build, 'verhaalctl'), args, {
    encoding: 'utf8',
    env: { ...process.env, VERHAAL_DATABASE_URL: url },
  });
}

// Daemons still running when a test file ends (a failed assertion skipped
// its stop) are killed, so they cannot keep the runner waiting.
const running = new Set();
after(() => { for (const p of running) p.kill('SIGKILL'); });

// Starts verhaald; resolves once it listens. stop() sends a signal and
// resolves with the exit code. dataDir and port restart a daemon on the
// data directory (and port) of a previous one.
export function startDaemon({ databaseUrl, env = {}, dataDir, port = 0, args = ['-c', path.join(top, 'config/verhaald.conf')] } = {}) {
  dataDir ??= path.join(tmpdir('data'), 'data');
  // A null in env removes that variable.
  const fullEnv = {
    ...process.env,
    VERHAAL_DATABASE_URL: databaseUrl ?? '',
    VERHAAL_LISTEN_PORT: String(port),
    VERHAAL_DATA_DIR: dataDir,
    VERHAAL_LOG_LEVEL: 'debug',
    // Media runners would classify (and quarantine) the random bytes other
    // tests upload: only tests that ask for them (tests/e2e/lib/media.mjs) run them.
    VERHAAL_MEDIA_RUNNERS: '0',
    ...env,
  };
  for (const k of Object.keys(fullEnv)) if (fullEnv[k] === null) delete fullEnv[k];
  const proc = spawn(path.join(build, 'verhaald'), args, {
    env: fullEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  running.add(proc);
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => {
    running.delete(proc);
    resolve(code ?? sig);
  }));
  return new Promise((resolve, reject) => {
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      if (process.env.VERHAAL_TEST_VERBOSE) process.stderr.write(chunk);
      const m = /listening on (http:\/\/[^/ ]+)\//.exec(log);
      if (m) resolve(daemon(m[1]));
    });
    exited.then((code) => reject(new Error(`verhaald exited (${code}) before listening:\n${log}`)));
  });

  function daemon(url) {
    return {
      url, proc, dataDir, exited,
      log: () => log,
      async stop(signal = 'SIGTERM') {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        return exited;
      },
    };
  }
}

// Runs verhaald to completion (for -n and refusals).
export function runDaemon(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(path.join(build, 'verhaald'), args, {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ code, out }));
  });
}

export async function waitFor(fn, { timeout = 10000, interval = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, interval));
  }
}
