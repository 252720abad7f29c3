// make bench: the tus project's Node.js server (@tus/server with
// @tus/file-store) as a peer for verhaald, on loopback, at the same path.
//   node tus-server.mjs PORT DIRECTORY
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error('usage: node tus-server.mjs PORT DIRECTORY');
  process.exit(2);
}

const tus = new Server({
  path: '/api/v1/uploads',
  datastore: new FileStore({ directory }),
});

// A plain http.Server, so that keep-alive and timeouts are node's defaults.
const srv = http.createServer((req, res) => tus.handle(req, res));
srv.listen(Number(port), '127.0.0.1', () => {
  console.log(`tus-server listening on http://127.0.0.1:${port}/`);
});
process.on('SIGTERM', () => srv.close(() => process.exit(0)));
