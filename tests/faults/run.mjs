// The fault suite (make check-faults; root, loopback only): runs each
// fault, prints one table row per fault, and exits non-zero when any
// acknowledged upload was lost or corrupted, litter stayed, or an outage
// answer did not say when to come back. FAULTS="kill9 disk" picks faults.
const all = ['kill9', 'pgdown', 'disk', 'twodaemons', 'transcode'];
const pick = (process.env.FAULTS ?? all.join(' ')).split(/\s+/).filter(Boolean);
const rows = [];
for (const name of pick) {
  const t0 = Date.now();
  let row;
  try {
    const m = await import(`./${name}.mjs`);
    row = await m.run();
  } catch (e) {
    row = { fault: name, cycles: 0, acknowledged: 0, lost: '?', corrupted: '?', leftovers: '?', ok: false, notes: `FAILED: ${e.stack ?? e}`.slice(0, 300) };
  }
  row.seconds = Math.round((Date.now() - t0) / 1000);
  rows.push(row);
  console.error(`fault ${name}: ${JSON.stringify(row)}`);
}
const bad = rows.filter((r) => r.lost !== 0 || r.corrupted !== 0 || r.leftovers !== 0 || r.ok === false);
for (const r of rows) r.fault = `${r.ok === false || r.lost || r.corrupted || r.leftovers ? 'FAIL' : 'ok'} ${r.fault}`;
const cols = ['fault', 'cycles', 'acknowledged', 'lost', 'corrupted', 'leftovers', 'seconds', 'notes'];
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
const line = (vals) => '| ' + vals.map((v, i) => String(v ?? '').padEnd(width[i])).join(' | ') + ' |';
console.log(line(cols));
console.log('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(cols.map((c) => r[c])));
if (bad.length) {
  console.log(`${bad.length} fault(s) failed: ${bad.map((r) => r.fault).join(', ')}`);
  process.exitCode = 1;
}
