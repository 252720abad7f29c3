// Times GET requests against verhaald over one keep-alive connection.
//   node search_client.mjs BASE TOKEN PATHFILE ITERATIONS
// PATHFILE holds one path per line; they are requested round-robin,
// ITERATIONS in all, after one warm-up pass. Prints one latency in
// milliseconds per line.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [base, token, file, iters] = process.argv.slice(2);
const paths = readFileSync(file, 'utf8').split('\n').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(p) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http.get(base + p, { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${p}: ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    }).on('error', reject);
  });
}

for (const p of paths) await get(p);
const out = [];
for (let i = 0; i < Number(iters); i++) out.push((await get(paths[i % paths.length])).toFixed(3));
console.log(out.join('\n'));
agent.destroy();
