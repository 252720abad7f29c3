// The real tus client (tus-js-client from npm) uploads 30 MB through a TCP
// proxy in this test; the test cuts the connection twice and restarts
// verhaald once (SIGKILL, same data directory and database), and the file
// that lands in the blob store must be the file that was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync } from 'node:fs';
import * as tus from 'tus-js-client';
import { freshDatabase, startDaemon } from './lib/harness.mjs';
import {
  fieldworkerToken, blobPath, sha256, sha256File, tablesHoldingSha, randomFile, tusHead, MiB,
} from './lib/uploads.mjs';

// A loopback TCP proxy whose upstream can be swapped (for a restarted
// daemon on another port) and whose connections can be cut at will. It
// forwards client bytes at a limited rate, so that a cut lands inside a
// PATCH body, and calls onUp(total) with the bytes forwarded so far.
class Proxy {
  constructor(port, rate = 24 * 1000 * 1000) {
    this.port = port;
    this.rate = rate;
    this.up = 0;
    this.onUp = () => {};
    this.pairs = new Set();
    this.server = net.createServer((client) => {
      if (!this.port) { client.destroy(); return; }
      const up = net.connect({ host: '127.0.0.1', port: this.port });
      const pair = [client, up];
      this.pairs.add(pair);
      const drop = () => { client.destroy(); up.destroy(); this.pairs.delete(pair); };
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      client.on('data', (d) => {
        client.pause();
        // Forward in slices, each followed by its share of time.
        const send = (off) => {
          if (up.destroyed) return;
          if (off >= d.length) { client.resume(); return; }
          const piece = d.subarray(off, off + 16384);
          up.write(piece);
          this.up += piece.length;
          this.onUp(this.up);
          setTimeout(() => send(off + piece.length), (piece.length / this.rate) * 1000);
        };
        send(0);
      });
      up.pipe(client);
    });
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }

  // Cuts every open connection at once: a reset towards the client, a
  // close towards the daemon (which reads what was forwarded, then EOF).
  cut() {
    const n = this.pairs.size;
    for (const [a, b] of this.pairs) { a.resetAndDestroy(); b.destroy(); }
    this.pairs.clear();
    return n;
  }

  close() { this.cut(); this.server.close(); }
}

const portOf = (url) => Number(new URL(url).port);

test('tus-js-client uploads 30 MB through two cut connections and a kill -9 restart; the stored SHA-256 matches', async () => {
  const db = freshDatabase();
  let d = await startDaemon({ databaseUrl: db });
  const proxy = await new Proxy(portOf(d.url)).listen();
  try {
    const token = fieldworkerToken(db, 'tus-client');
    const data = randomFile(30 * 1000 * 1000);
    const want = sha256(data);
    const chunkSize = 4 * MiB;
    const events = [];
    const heads = [];
    let restarting = null;
    let uploadUrl = null;
    let lastPatch = null;

    // Cuts and the kill are timed by the bytes that reached the daemon's
    // side of the proxy, so that each lands inside a PATCH body.
    proxy.onUp = (sent) => {
      if (sent >= 6 * MiB && events.length === 0) events.push(['cut', sent, proxy.cut()]);
      else if (sent >= 15 * MiB && events.length === 1) events.push(['cut', sent, proxy.cut()]);
      else if (sent >= 23 * MiB && events.length === 2) {
        events.push(['kill', sent]);
        restarting = (async () => {
          proxy.port = 0;		// new connections are refused meanwhile
          await d.stop('SIGKILL');
          proxy.cut();
          d = await startDaemon({ databaseUrl: db, dataDir: d.dataDir });
          proxy.port = portOf(d.url);
        })();
      }
    };
    const done = new Promise((resolve, reject) => {
      const upload = new tus.Upload(data, {
        endpoint: `${proxy.url}/api/v1/uploads`,
        chunkSize,
        retryDelays: [0, 100, 300, 500, 1000, 1000, 2000, 2000, 3000, 3000],
        headers: { Authorization: `Bearer ${token}` },
        metadata: { kind: 'story', title: 'Dertig megabyte', filename: 'opname.wav', filetype: 'audio/wav' },
        onAfterResponse(req, res) {
          const m = req.getMethod();
          if (m === 'HEAD') heads.push(Number(res.getHeader('Upload-Offset')));
          if (m === 'PATCH' && res.getStatus() === 204) lastPatch = res;
        },
        onSuccess() { resolve(); },
        onError(err) { reject(err); },
      });
      upload.start();
      // The URL is known once created; kept for the checks below.
      const t = setInterval(() => { if (upload.url) { uploadUrl = upload.url; clearInterval(t); } }, 20);
    });
    await done;
    await restarting;

    console.log(`# tus-js-client: events ${JSON.stringify(events)}, resumed at ${heads}`);
    assert.deepEqual(events.map((e) => e[0]), ['cut', 'cut', 'kill'], `events: ${JSON.stringify(events)}`);
    assert.ok(events[0][2] > 0 && events[1][2] > 0, 'each cut hit an open connection');
    // The client resumed with HEAD after each interruption.
    assert.ok(heads.length >= 3, `HEADs: ${heads}`);
    // A PATCH cut mid-way keeps what arrived: at least one resume point
    // lies inside a 4 MiB chunk rather than on a chunk boundary.
    assert.ok(heads.some((o) => o % chunkSize !== 0), `resume offsets ${heads} are all chunk boundaries`);
    assert.ok(lastPatch, 'a final 204');
    assert.equal(Number(lastPatch.getHeader('Upload-Offset')), data.length);
    assert.ok(lastPatch.getHeader('Upload-Entry'), 'Upload-Entry on the final PATCH');
    assert.ok(uploadUrl, 'the upload had a URL');

    const file = blobPath(d.dataDir, want);
    assert.ok(existsSync(file), `the blob file ${file}`);
    assert.equal(await sha256File(file), want, 'the stored bytes are the bytes sent');
    assert.ok(tablesHoldingSha(db, want).length > 0, 'a database row names the SHA-256');
    // The restarted daemon knows the upload is done.
    const h = await tusHead(uploadUrl.replace(proxy.url, d.url), token);
    assert.equal(h.status, 200, 'HEAD of the finished upload');
    assert.equal(h.offset, data.length);
    assert.equal(h.headers.get('upload-entry'), lastPatch.getHeader('Upload-Entry'));
  } finally {
    proxy.close();
    await d.stop('SIGKILL');
  }
});
