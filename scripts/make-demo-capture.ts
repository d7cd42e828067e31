/**
 * Regenerates examples/captures/demo.pcap from real loopback traffic: a small REST API called by
 * two clients at once (a few 500s, 404s and slow responses, form and JSON posts, compressed and
 * chunked bodies) and DNS lookups (dig over UDP and TCP with a truncated answer, node's resolver).
 *
 *   node --import tsx scripts/make-demo-capture.ts [out.pcap]
 *
 * Needs tcpdump and dig, and root (or CAP_NET_RAW) for tcpdump. Uses ports 8080 and 53 when free.
 */
import http from 'node:http';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { startHttpServer, startDnsServer, dnsScenario, type Running } from '../test/helpers/traffic';
import { captureLoopback } from '../test/helpers/capture';

const out = process.argv[2] ?? 'examples/captures/demo.pcap';

async function tryPorts(start: (p: number) => Promise<Running>, preferred: number): Promise<Running> {
  try {
    return await start(preferred);
  } catch {
    return start(0);
  }
}

function get(agent: http.Agent, port: number, method: string, path: string, body?: string, type = 'application/json'): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'User-Agent': 'shop-frontend/2.3', Accept: 'application/json' };
    if (body !== undefined) { headers['Content-Type'] = type; headers['Content-Length'] = Buffer.byteLength(body); }
    const r = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** Two "services" calling the API at once, each on its own keep-alive connection. */
async function restTraffic(port: number): Promise<void> {
  const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const b = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const frontend = async () => {
    for (let i = 0; i < 6; i++) {
      await get(a, port, 'GET', '/api/users');
      await get(a, port, 'GET', `/api/users/${i % 3}`);
      await get(a, port, 'GET', `/api/search?q=shoe&size=${40 + i}&color=red&color=blue`);
      if (i % 2 === 0) await get(a, port, 'GET', '/api/fail');
      if (i % 3 === 0) await get(a, port, 'GET', `/slow?ms=${150 + i * 50}`);
    }
    await get(a, port, 'GET', '/gzip');
    await get(a, port, 'GET', '/chunked');
    await get(a, port, 'GET', '/old');
    await get(a, port, 'GET', '/cookie');
  };
  const checkout = async () => {
    for (let i = 0; i < 5; i++) {
      await get(b, port, 'POST', '/api/echo', JSON.stringify({ order: 1000 + i, items: [{ sku: 'A-1', qty: i + 1 }] }));
      await get(b, port, 'POST', '/upload', `user=ada&order=${1000 + i}&note=gift+wrap`, 'application/x-www-form-urlencoded');
      if (i === 3) await get(b, port, 'GET', '/slow?ms=400');
      await get(b, port, 'DELETE', '/api/empty');
    }
    await get(b, port, 'HEAD', '/api/users');
    await get(b, port, 'GET', '/nowhere');
  };
  await Promise.all([frontend(), checkout()]);
  a.destroy();
  b.destroy();
}

async function main(): Promise<void> {
  const h = await tryPorts(startHttpServer, 8080);
  const d = await tryPorts(startDnsServer, 53);
  mkdirSync(dirname(out), { recursive: true });
  try {
    const file = await captureLoopback(`port ${h.port} or port ${d.port}`, async () => {
      const r = new Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${d.port}`]);
      await r.resolve4('a.wirehook.test'); // the frontend looks the API up first
      await Promise.all([restTraffic(h.port), dnsScenario(d.port)]);
      await r.resolve6('a.wirehook.test');
      await r.resolveMx('wirehook.test');
    }, { file: out });
    console.log(`${file}: ${statSync(file).size} bytes (HTTP on ${h.port}, DNS on ${d.port})`);
  } finally {
    await h.close();
    await d.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
