// verhaalctl --help and every subcommand's --help print the usage on
// standard output and exit 0 (without a database or a configuration), and
// docs/verhaalctl.1 documents exactly the subcommands of the table that
// --help prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, top } from './lib/harness.mjs';

// No database anywhere near: --help must not need one.
const env = { ...process.env, VERHAAL_DATABASE_URL: 'host=/nonexistent dbname=none' };
const run = (...args) => spawnSync(path.join(build, 'verhaalctl'), args, { encoding: 'utf8', env, timeout: 10000 });

function commands() {
  const r = run('--help');
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout.split('\n').map((l) => /^ {2}([a-z][a-z-]*)\b/.exec(l)).filter(Boolean).map((m) => m[1]);
  return [...new Set(names)];
}

test('verhaalctl --help, -h and help print every command on stdout and exit 0', () => {
  for (const flag of ['--help', '-h', 'help']) {
    const r = run(flag);
    assert.equal(r.status, 0, `${flag}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: verhaalctl \[-c file\] command \[args\]/);
    assert.equal(r.stderr, '');
  }
  const names = commands();
  for (const must of ['migrate', 'token', 'collection', 'import-areas', 'import-indicators', 'user', 'audit', 'purge']) {
    assert.ok(names.includes(must), `${must} is missing from --help`);
  }
  // A usage error is still one: stderr, exit 2.
  const bad = run('no-such-command');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'no-such-command'/);
});

test('every subcommand answers --help (also after its verb) with its usage', () => {
  for (const name of commands()) {
    for (const args of [[name, '--help'], [name, '-h'], [name, 'create', '--help']]) {
      const r = run(...args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: verhaalctl \\[-c file\\] ${name}\\b`), args.join(' '));
    }
  }
  assert.match(run('collection', '--help').stdout, /consent add --slug SLUG --version V --language L --file FILE/);
  assert.match(run('audit', '--help').stdout, /--verify/);
});

test('docs/verhaalctl.1 documents exactly the subcommands verhaalctl has', () => {
  const man = readFileSync(path.join(top, 'docs/verhaalctl.1'), 'utf8');
  const documented = new Set(man.split('\n').map((l) => /^\.It Cm ([a-z][a-z-]*)/.exec(l)).filter(Boolean).map((m) => m[1]));
  const names = commands();
  for (const n of names) assert.ok(documented.has(n), `docs/verhaalctl.1 does not document '${n}'`);
  for (const n of documented) assert.ok(names.includes(n), `docs/verhaalctl.1 documents '${n}', which verhaalctl does not have`);
  assert.match(man, /\.Fl -help/);
});
