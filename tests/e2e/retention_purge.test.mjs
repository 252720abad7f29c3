// Retention: with a shortened period the daemon's own purge erases what
// has expired (and nothing else) and logs it; verhaalctl purge --dry-run
// lists without erasing, and without --dry-run erases and logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { psql, build, waitFor } from './lib/harness.mjs';
import { setup, submit, CONSENT, walk, sha256, tablesHolding } from './lib/consent.mjs';

test('the daemon purges entries past a shortened period, by scope, and logs it', async () => {
  const ctx = await setup({ VERHAAL_RETENTION_STORY_ANALYSIS_ONLY: '3s', VERHAAL_RETENTION_PURGE_INTERVAL: '1s' });
  try {
    const note = Buffer.from('kort bewaren: ijsvogelnest\n');
    let r = await submit(ctx, { text: 'verloopt ijsvogelnest', consent: CONSENT('analysis_only') }, [{ name: 'n.txt', data: note, type: 'text/plain' }]);
    const short = (await r.json()).id;
    r = await submit(ctx, { text: 'blijft', consent: CONSENT('publish') });
    const long = (await r.json()).id;
    const t0 = Date.now();
    await waitFor(() => psql(ctx.url, `SELECT count(*) FROM entry WHERE id = ${short}`) === '0', { timeout: 20000, interval: 250 });
    console.log(`purged ${Date.now() - t0} ms after arrival (period 3 s, interval 1 s)`);
    assert.equal(psql(ctx.url, `SELECT count(*) FROM entry WHERE id = ${long}`), '1');
    assert.equal(psql(ctx.url, `SELECT reason || ' ' || actor FROM deletion_log WHERE entry_id = ${short}`), 'retention retention');
    assert.equal(psql(ctx.url, `SELECT what->>'media' FROM deletion_log WHERE entry_id = ${short}`), '1');
    assert.equal(psql(ctx.url, `SELECT reason FROM tombstone WHERE entry_id = ${short}`), 'retention');
    assert.ok(!walk(ctx.d.dataDir).some((f) => f.sha256 === sha256(note)));
    assert.deepEqual(tablesHolding(ctx.url, 'ijsvogelnest'), []);
    await waitFor(() => /retention: erased 1 entry/.test(ctx.d.log()));
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

test('verhaalctl purge --dry-run lists, purge erases', async () => {
  const ctx = await setup();	// default periods: nothing expires
  try {
    const ids = [];
    for (const scope of ['analysis_only', 'quote_anonymised', 'publish']) {
      const r = await submit(ctx, { text: scope, consent: CONSENT(scope) });
      ids.push((await r.json()).id);
    }
    // Make two of them old, as if they had arrived three years ago.
    psql(ctx.url, `UPDATE entry SET created_at = now() - interval '3 years' WHERE id IN (${ids[0]}, ${ids[1]})`);
    const run = (...args) => execFileSync(path.join(build, 'verhaalctl'), args, {
      encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: ctx.url, VERHAAL_DATA_DIR: ctx.d.dataDir },
    });
    let out = run('purge', '--dry-run');
    assert.match(out, new RegExp(`would erase entry ${ids[0]}\\tstory\\tanalysis_only`));
    assert.match(out, new RegExp(`would erase entry ${ids[1]}\\tstory\\tquote_anonymised`));
    assert.doesNotMatch(out, new RegExp(`entry ${ids[2]}\\t`));
    assert.match(out, /2 entries past their retention period \(dry run\)/);
    assert.equal(psql(ctx.url, 'SELECT count(*) FROM entry'), '3');
    assert.equal(psql(ctx.url, 'SELECT count(*) FROM deletion_log'), '0');
    out = run('purge');
    assert.match(out, /2 erased, 0 failed/);
    assert.equal(psql(ctx.url, 'SELECT string_agg(id::text, \',\') FROM entry'), String(ids[2]));
    assert.equal(psql(ctx.url, 'SELECT count(*) FROM deletion_log WHERE reason = \'retention\''), '2');
    // The publish scope's five years are not over.
    assert.match(run('purge', '--dry-run'), /0 entries past/);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
