// make bench: how responsive a server stays while it takes uploads. One
// keep-alive connection sends a HEAD for one small stored resource every
// INTERVAL ms (the next only once the last was answered) for SECONDS, or
// until SIGTERM, and prints one line that tests/bench/run.sh reads:
//   HEAD n=... p50_us=... p99_us=... max_us=... errors=...
// For tus servers the resource is an upload it creates first (POST with
// Upload-Length and no body; verhaald's HEAD goes through the worker pool
// and PostgreSQL, so it shows queueing there too); for nginx a file it PUTs.
//   node head-probe.mjs tus|put URL PATH TOKEN SECONDS INTERVAL_MS
import http from 'node:http';

const [mode, base, path, token, secs, interval] = process.argv.slice(2);
if (!mode || !base || !path) {
  console.error('usage: node head-probe.mjs tus|put URL PATH TOKEN SECONDS INTERVAL_MS');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const auth = token ? { Authorization: `Bearer ${token}` } : {};
const tus = { 'Tus-Resumable': '1.0.0' };

function request(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(url, base), { method, headers, agent,
      timeout: 60000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function target() {
  if (mode === 'put') {
    const url = `${path}-head-probe`;
    await request('PUT', url, { 'Content-Type': 'application/octet-stream' }, 'probe');
    return { url, headers: {} };
  }
  // The same metadata as upload.lua: a fieldworker's story.
  const res = await request('POST', path, { ...auth, ...tus, 'Upload-Length': '10',
    'Upload-Metadata': 'filename YmVuY2guYmlu,kind c3Rvcnk=,title YmVuY2g=' });
  if (res.statusCode !== 201 || !res.headers.location)
    throw new Error(`creating the probe's upload answered ${res.statusCode}`);
  return { url: res.headers.location, headers: { ...auth, ...tus } };
}

const lat = [];
let errors = 0;
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function report() {
  lat.sort((a, b) => a - b);
  const pct = (p) => lat.length ? lat[Math.min(lat.length - 1,
    Math.ceil(lat.length * p / 100) - 1)] : 0;
  console.log(`HEAD n=${lat.length} p50_us=${pct(50)} p99_us=${pct(99)} ` +
    `max_us=${lat.length ? lat[lat.length - 1] : 0} errors=${errors}`);
}

let t;
try {
  t = await target();
} catch (e) {
  console.error(`head-probe: ${e.message}`);
  errors = 1;
  report();
  process.exit(0);
}
const end = Date.now() + Number(secs || 5) * 1000;
while (!stop && Date.now() < end) {
  const t0 = process.hrtime.bigint();
  try {
    const res = await request('HEAD', t.url, t.headers);
    if (res.statusCode >= 400)
      errors++;
    else
      lat.push(Number((process.hrtime.bigint() - t0) / 1000n));
  } catch {
    errors++;
  }
  await sleep(Number(interval || 20));
}
report();
process.exit(0);
