// docs/privacy.md says exactly what the audit trail logs: its list of
// audited actions is the one list in the code (lib/domain/vh_audit.c, printed by
// `verhaalctl audit --actions`), the same actions with the same objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, top } from './lib/harness.mjs';

test('docs/privacy.md lists the audited actions of the code, no more and no fewer', () => {
  const out = execFileSync(path.join(build, 'verhaalctl'), ['audit', '--actions'], {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: 'host=/nonexistent dbname=none' },
  });
  const code = out.trim().split('\n').map((l) => l.split('\t')).map(([name, objects, what]) => ({ name, objects, what }));
  assert.ok(code.length >= 20, `only ${code.length} actions`);
  for (const must of ['read', 'play', 'export', 'approve', 'publish', 'reject', 'redact', 'withdraw', 'purge',
    'login', 'user_add', 'token_create', 'token_revoke', 'collection_create', 'consent_text_add', 'config_reload', 'audit_trim']) {
    assert.ok(code.some((a) => a.name === must), `${must} is not audited`);
  }
  const doc = readFileSync(path.join(top, 'docs/privacy.md'), 'utf8');
  const m = /<!-- audited-actions: begin -->\n([\s\S]*?)<!-- audited-actions: end -->/.exec(doc);
  assert.ok(m, 'docs/privacy.md has no audited-actions block');
  const listed = m[1].split('\n').map((l) => /^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|$/.exec(l)).filter(Boolean)
    .map(([, name, objects, what]) => ({ name, objects: objects.trim(), what: what.trim() }));
  assert.deepEqual(listed.map((a) => a.name), code.map((a) => a.name), 'the same actions, in the same order');
  for (const a of code) {
    const d = listed.find((x) => x.name === a.name);
    assert.equal(d.objects, a.objects, `${a.name}: objects`);
    assert.equal(d.what, a.what, `${a.name}: what is recorded`);
  }
});
