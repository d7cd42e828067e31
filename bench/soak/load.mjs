// Soak load generator (bench/soak/run.ts): an HTTP server and a client in this one process,
// at a steady bounded rate, stopping by itself. Args: RATE (requests/s) SECONDS.
// Prints the port, waits for "go" on stdin, sends for SECONDS, then prints a JSON summary.
// Request seq: GET (or POST with a 2 KB body when seq % 5 == 0) /soak/<seq>; status 500 when
// seq % 10 == 7. At most 64 requests in flight: a stalled server slows the load, never piles it up.
import http from 'node:http';
import { createInterface } from 'node:readline';

const RATE = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 1800);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const seq = Number(req.url.split('/').pop());
    res.statusCode = seq % 10 === 7 ? 500 : 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ seq, got: Buffer.concat(chunks).length }));
  });
});
await new Promise((r) => server.listen(Number(process.env.SOAK_PORT ?? 0), '127.0.0.1', r));
console.log(server.address().port);
await new Promise((r) => createInterface({ input: process.stdin }).once('line', r));

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const body = Buffer.alloc(2048, 'x');
let sent = 0, ok = 0, failed = 0, inFlight = 0, deferred = 0;
const t0 = Date.now();
const one = (seq) => new Promise((resolve) => {
  const post = seq % 5 === 0;
  inFlight++;
  const req = http.request({ host: '127.0.0.1', port: server.address().port, path: `/soak/${seq}`, method: post ? 'POST' : 'GET', agent,
    headers: post ? { 'Content-Length': body.length } : {} }, (res) => {
    res.resume();
    res.on('end', () => { ok++; inFlight--; resolve(); });
  });
  req.on('error', () => { failed++; inFlight--; resolve(); });
  req.end(post ? body : undefined);
});
const pending = new Set();
while (Date.now() - t0 < SECONDS * 1000) {
  const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
  while (sent < due) {
    if (inFlight >= 64) { deferred++; break; }
    const p = one(sent++);
    pending.add(p);
    p.then(() => pending.delete(p));
  }
  await new Promise((r) => setTimeout(r, 10));
}
await Promise.all(pending);
agent.destroy();
server.close();
console.log(JSON.stringify({ sent, ok, failed, deferred, seconds: (Date.now() - t0) / 1000 }));
process.exit(0); // stdin (the "go" line) would keep the process alive
