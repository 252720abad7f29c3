// Behind a real proxy: Debian's nginx runs contrib/nginx/verhaal.conf
// (ports, certificate and prefix substituted; a self-signed certificate
// made here) in front of verhaald with trusted_proxies = 127.0.0.1. Through
// it, over TLS: HTTP/2 answers, a tus upload whose connection is cut
// mid-body resumes and completes byte-exact, and a Range request is served
// 206. Clients reach nginx from 127.0.0.2 and 127.0.0.3; login throttling
// keys on the forwarded address, so one is throttled and the other not, and
// the access log and audit name the real client. A forged X-Forwarded-For
// sent straight to verhaald from an untrusted address is not believed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { freshDatabase, startDaemon, tmpdir, top, psql, waitFor, ctl } from './lib/harness.mjs';
import { addUser } from './lib/accounts.mjs';
import { fieldworkerToken, sha256, randomFile, blobPath, tusMetadata, MiB } from './lib/uploads.mjs';

const PW = 'a long enough password';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One HTTPS request through nginx from a chosen loopback source address.
function request(ctx, { method = 'GET', path: p, headers = {}, body, from = '127.0.0.2' }) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: ctx.tls, servername: 'localhost', ca: ctx.cert,
      localAddress: from, method, path: p, headers, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A plain HTTP request straight to verhaald (no proxy).
function direct(url, { method = 'GET', path: p, headers = {}, body, from }) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, localAddress: from, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function loginBody(name, password) {
  return { method: 'POST', path: '/api/v1/session', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, password }) };
}

// contrib/nginx/verhaal.conf with test ports, certificate and upstream.
function nginxConfig(dir, { tls, plain, upstream, cert, key }) {
  let site = readFileSync(path.join(top, 'contrib/nginx/verhaal.conf'), 'utf8');
  const sub = (re, to) => {
    assert.match(site, re, `contrib/nginx/verhaal.conf has ${re}`);
    site = site.replace(re, to);
  };
  sub(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${upstream};`);
  sub(/listen 443 ssl http2;/, `listen 127.0.0.1:${tls} ssl http2;`);
  sub(/listen 80;/, `listen 127.0.0.1:${plain};`);
  sub(/\n\s*listen \[::\]:443 ssl http2;/, '');
  sub(/\n\s*listen \[::\]:80;/, '');
  sub(/ssl_certificate\s+\S+;/, `ssl_certificate ${cert};`);
  sub(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${key};`);
  writeFileSync(path.join(dir, 'verhaal.conf'), site);
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(path.join(dir, t), { recursive: true });
  const main = `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
events { worker_connections 256; }
http {
	access_log ${dir}/logs/access.log;
	client_body_temp_path ${dir}/body;
	proxy_temp_path ${dir}/proxy;
	fastcgi_temp_path ${dir}/fastcgi;
	uwsgi_temp_path ${dir}/uwsgi;
	scgi_temp_path ${dir}/scgi;
	include ${dir}/verhaal.conf;
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), main);
  return path.join(dir, 'nginx.conf');
}

async function startNginx(ctx) {
  const dir = tmpdir('nginx');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  ctx.cert = readFileSync(cert);
  ctx.tls = await freePort();
  const conf = nginxConfig(dir, { tls: ctx.tls, plain: await freePort(), upstream: ctx.upstream, cert, key });
  execFileSync('nginx', ['-t', '-q', '-p', dir, '-e', `${dir}/logs/error.log`, '-c', conf]);
  const proc = spawn('nginx', ['-p', dir, '-e', `${dir}/logs/error.log`, '-c', conf], { stdio: 'ignore' });
  ctx.nginx = proc;
  ctx.nginxDir = dir;
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(ctx.tls, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
}

test('behind nginx: HTTP/2, tus resume after a cut, Range, forwarded addresses', async (t) => {
  const db = freshDatabase();
  ctl(db, 'migrate');
  const d = await startDaemon({
    databaseUrl: db,
    env: {
      VERHAAL_TRUSTED_PROXIES: '127.0.0.1',
      VERHAAL_LOGIN_MAX_FAILURES: '100',
      VERHAAL_LOGIN_MAX_FAILURES_ADDRESS: '3',
      VERHAAL_LOGIN_WINDOW: '60s',
      VERHAAL_METRICS_LISTEN: '',
    },
  });
  const ctx = { upstream: Number(new URL(d.url).port) };
  try {
    await startNginx(ctx);
    const fw = fieldworkerToken(db, 'proxy-fw');
    addUser(db, 'anna', 'admin', PW);
    addUser(db, 'bert', 'analyst', PW);
    const admin = ctl(db, 'token', 'create', '--user', 'anna', '--role', 'admin').trim().split('\n').pop();

    // HTTP/2 through TLS.
    await new Promise((resolve, reject) => {
      const s = http2.connect(`https://localhost:${ctx.tls}`, { ca: ctx.cert });
      s.on('error', reject);
      const r = s.request({ ':path': '/healthz' });
      r.on('response', (h) => {
        assert.equal(h[':status'], 200);
        r.resume();
        r.on('end', () => { s.close(); resolve(); });
      });
      r.end();
    });

    // A tus upload through nginx: the first PATCH is cut mid-body.
    const data = randomFile(8 * MiB);
    const tus = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${fw}` };
    const c = await request(ctx, {
      method: 'POST', path: '/api/v1/uploads',
      headers: { ...tus, 'Upload-Length': String(data.length), 'Upload-Metadata': tusMetadata({ kind: 'visit', filename: 'via-nginx.bin' }) },
    });
    assert.equal(c.status, 201, c.body.toString());
    const loc = new URL(c.headers.location, `https://localhost:${ctx.tls}`).pathname;
    await new Promise((resolve) => {
      const req = https.request({
        host: '127.0.0.1', port: ctx.tls, servername: 'localhost', ca: ctx.cert, method: 'PATCH', path: loc, agent: false,
        headers: { ...tus, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(data.length) },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(data.subarray(0, 3 * MiB), () => setTimeout(() => { req.destroy(); resolve(); }, 700));
    });
    const head = async () => {
      const r = await request(ctx, { method: 'HEAD', path: loc, headers: tus });
      assert.equal(r.status, 200);
      return Number(r.headers['upload-offset']);
    };
    // The daemon keeps what reached it, durably, once its handler is done.
    const off = await waitFor(async () => { const o = await head(); return o > 0 ? o : false; });
    assert.ok(off > 0 && off <= 3 * MiB, `offset after the cut: ${off}`);
    const rest = await request(ctx, {
      method: 'PATCH', path: loc, body: data.subarray(off),
      headers: { ...tus, 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' },
    });
    assert.equal(rest.status, 204, rest.body.toString());
    assert.equal(await head(), data.length);
    const hex = sha256(data);
    assert.ok(existsSync(blobPath(d.dataDir, hex)), 'the whole file is in the blob store');
    assert.equal(sha256(readFileSync(blobPath(d.dataDir, hex))), hex);

    // Range through nginx: 206 with exactly those bytes.
    const id = psql(db, `SELECT id FROM media WHERE blob_sha256 = '${hex}'`);
    assert.match(id, /^\d+$/);
    const rg = await request(ctx, {
      path: `/api/v1/media/${id}/original`,
      headers: { Authorization: `Bearer ${admin}`, 'X-Access-Reason': 'proxy e2e test', Range: 'bytes=1000-1999' },
    });
    assert.equal(rg.status, 206);
    assert.equal(rg.headers['content-range'], `bytes 1000-1999/${data.length}`);
    assert.ok(rg.body.equals(data.subarray(1000, 2000)), 'the range as stored');

    // Login throttling on the forwarded address: 127.0.0.2 fails its
    // three, then is refused even with the right password; 127.0.0.3,
    // behind the same proxy, is not. A client's own X-Forwarded-For is
    // appended to, not believed.
    for (let i = 0; i < 3; i++) {
      const r = await request(ctx, { ...loginBody(`nobody${i}`, 'wrong'), from: '127.0.0.2', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '198.51.100.7' } });
      assert.equal(r.status, 401);
    }
    assert.equal((await request(ctx, { ...loginBody('anna', PW), from: '127.0.0.2' })).status, 429);
    assert.equal((await request(ctx, { ...loginBody('bert', PW), from: '127.0.0.3' })).status, 200);
    assert.equal(psql(db, "SELECT string_agg(key, ',' ORDER BY key) FROM login_throttle WHERE scope = 'address' AND failures > 0"), '127.0.0.2');
    assert.match(psql(db, "SELECT string_agg(DISTINCT client_addr::text, ',') FROM audit WHERE action = 'login_failed'"), /^127\.0\.0\.2(\/32)?$/);
    assert.match(d.log(), /req=\S+ 127\.0\.0\.2 "POST \/api\/v1\/session" 429/, 'the access log names the real client');

    // Straight to verhaald from 127.0.0.2, an untrusted peer: its forged
    // X-Forwarded-For is ignored, so the throttled address stays throttled.
    const forged = await direct(d.url, { ...loginBody('anna', PW), from: '127.0.0.2', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' } });
    assert.equal(forged.status, 429, 'a forged X-Forwarded-For from an untrusted peer is not believed');
    assert.doesNotMatch(d.log(), /203\.0\.113\.9|198\.51\.100\.7/);
    // And from a fresh untrusted address it is that address that counts.
    assert.equal((await direct(d.url, { ...loginBody('anna', PW), from: '127.0.0.4', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '127.0.0.2' } })).status, 200);
  } finally {
    if (ctx.nginx) {
      ctx.nginx.kill('SIGQUIT');
      await new Promise((r) => { ctx.nginx.on('exit', r); setTimeout(r, 3000); });
      if (process.env.VERHAAL_TEST_VERBOSE && ctx.nginxDir) {
        t.diagnostic(readFileSync(path.join(ctx.nginxDir, 'logs/error.log'), 'utf8').slice(-3000));
      }
    }
    await d.stop('SIGKILL');
  }
});
