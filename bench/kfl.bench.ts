// KFL throughput: items/s of a compiled query over in-memory items (a mix of HTTP and DNS items
// built to capture/item/schema.ts), legacy KFL and KFL2 side by side, against the floor of an
// empty function call per item measured in the same run.
//
// KFL2 runs on its closure compiler (fast.ts) where the query allows, else on @bufbuild/cel's
// evaluator; "KFL2 via cel" forces the latter, to show what the closure compiler buys. Each
// pass builds every item's KFL2 variables afresh (they are shared only between consecutive
// queries on one item, the last row).
import type { Item } from '../capture/item/schema';
import { PROTOCOLS } from '../capture/item/protocols';
import type { CompiledQuery } from '../server/kfl/api';
import { compileKfl2 } from '../server/kfl/kfl2/index';
import { compileLegacy } from '../server/kfl/legacy/index';

const N = 10_000;
const ROUNDS = 15;

function makeItems(n: number): Item[] {
  const items: Item[] = [];
  let seed = 42;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % k; // high bits: the low ones cycle
  const paths = ['/', '/health', '/api/v1/users/17', '/api/v2/users/9/orders', '/static/app.js', '/login', '/api/v1/items?page=2'];
  const names = ['x', 'example.com', 'api.internal.svc', 'db.local', 'cdn.example.net', 'x.y.z'];
  for (let i = 0; i < n; i++) {
    const base = {
      id: `local/lo/${String(i).padStart(12, '0')}.pcap-0`, index: i % 5, stream: `${String(i).padStart(12, '0')}.pcap`,
      worker: 'local/lo', node: { name: 'devbox', ip: '10.0.0.5' }, tls: false, outgoing: false,
      src: { ip: '127.0.0.1', port: String(40000 + rnd(20000)), name: 'curl', namespace: '', processName: 'curl', processId: 100 + rnd(50) },
      dst: { ip: '127.0.0.1', port: '8080', name: '', namespace: '', processName: '', processId: 0 },
      timestamp: 1_700_000_000_000 + i, startTime: new Date(1_700_000_000_000 + i).toISOString(),
      requestSize: 200 + rnd(500), responseSize: 300 + rnd(2000), elapsedTime: rnd(50),
      passed: false, failed: false, error: null, entryFile: `${String(i).padStart(12, '0')}_pcap-0_entry.json`,
    };
    if (rnd(10) < 6) {
      const path = paths[rnd(paths.length)];
      const status = [200, 200, 200, 201, 204, 301, 404, 500][rnd(8)];
      items.push({
        ...base, protocol: PROTOCOLS.http11,
        request: {
          method: ['GET', 'GET', 'POST', 'PUT', 'DELETE'][rnd(5)], url: path, targetUri: path, path: path.split('?')[0],
          pathSegments: path.split('?')[0].slice(1).split('/'), httpVersion: 'HTTP/1.1',
          headers: { Host: '127.0.0.1:8080', 'User-Agent': rnd(3) ? 'curl/8.5.0' : 'Go-http-client/1.1', Accept: '*/*', 'Content-Type': 'application/json' },
          cookies: {}, queryString: {}, headersSize: -1, bodySize: rnd(100),
        },
        response: {
          status, statusText: 'X', httpVersion: 'HTTP/1.1', headers: { 'Content-Type': 'application/json', 'Content-Length': '42' },
          cookies: {}, content: { size: 42, mimeType: 'application/json', encoding: 'base64', text: 'e30=' },
          redirectURL: '', headersSize: -1, bodySize: 42,
        },
      } as Item);
    } else {
      const name = names[rnd(names.length)];
      items.push({
        ...base, protocol: PROTOCOLS.dns, dst: { ...base.dst, port: '53' },
        request: { opCode: 'Query', questions: [{ name, type: rnd(2) ? 'A' : 'AAAA', class: 'IN' }] },
        response: {
          code: rnd(10) ? 'No Error' : 'Non-Existent Domain', authorities: [], additionals: [],
          answers: [{ name, type: 'A', class: 'IN', ttl: 30, ip: '10.1.2.3', ns: '', cname: '', ptr: '', txts: '', soa: '', srv: '', mx: '', opt: '', uri: '' }],
        },
      } as Item);
    }
  }
  // Objects made with `{ ...base, … }` end up in V8's slow (dictionary) mode, which makes even a
  // hand-written `it.response.status === 500` run at ~1M/s; items from a dissector or from
  // JSON are fast-mode objects, so re-materialise them as such.
  return JSON.parse(JSON.stringify(items));
}

/**
 * Best items/s of `match` over `sets` (one array per round): on a shared machine the fastest
 * pass is the one least disturbed by other work. Each call gets its own copy of the loop, so
 * the JIT treats the floor and every query alike (one shared loop would see its call site go
 * polymorphic and slow down whatever is measured later).
 */
function rate(match: (it: Item) => boolean, sets: Item[][]): { perSec: number; hits: number } {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const loop = new Function('items', 'match', 'let h = 0; for (let i = 0; i < items.length; i++) if (match(items[i])) h++; return h;') as
    (items: Item[], m: (it: Item) => boolean) => number;
  let hits = 0;
  const rates: number[] = [];
  for (const items of sets) {
    const t0 = process.hrtime.bigint();
    hits = loop(items, match);
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(items.length / (ns / 1e9));
  }
  return { perSec: Math.max(...rates), hits };
}

const items = makeItems(N);
const same = Array.from({ length: ROUNDS }, () => items);

// Is the legacy engine there yet (not the signatures-only stub)?
let legacyReady = false;
try {
  legacyReady = compileLegacy('http').match(items.find((i) => i.protocol.name === 'http')!) === true;
} catch {
  legacyReady = false;
}

const floorFn = (it: Item) => it === null; // an empty call per item: the floor
rate(floorFn, same); // warm-up

const pairs: [string, string, string][] = [
  ['status 500', 'http and response.status == 500', 'http && status_code == 500'],
  ['DNS name', 'dns and request.questions[0].name == "x"', 'dns && "x" in dns_questions'],
  ['regex path', 'http and request.path == r"^/api/v[0-9]+/users/"', 'http && path.matches("^/api/v[0-9]+/users/")'],
  ['contains header', 'http and request.headers["User-Agent"].contains("curl")', 'http && request.headers["user-agent"].contains("curl")'],
];

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);
console.log(`${N} items (${items.filter((i) => i.protocol.name === 'http').length} HTTP, rest DNS), best of ${ROUNDS} passes`);
console.log('floor/x: how many times slower than an empty call per item, measured just before each row');
if (!legacyReady) console.log('legacy KFL: engine not implemented yet in server/kfl/legacy (stub) — KFL2 only');
console.log('query'.padEnd(18), 'engine'.padEnd(16), 'items/s'.padStart(9), 'floor/x'.padStart(8), 'hits'.padStart(6));
for (const [label, legacyQ, kfl2Q] of pairs) {
  const rows: [string, CompiledQuery][] = [];
  if (legacyReady) rows.push(['legacy KFL', compileLegacy(legacyQ)]);
  const k2 = compileKfl2(kfl2Q);
  rows.push([k2.fast ? 'KFL2' : 'KFL2 (cel)', k2]);
  if (k2.fast) rows.push(['KFL2 via cel', compileKfl2(kfl2Q, { engine: 'cel' })]);
  for (const [engine, q] of rows) row(label, engine, (it) => q.match(it));
}

// All four queries on each item in turn: KFL2 shares the item's variables between them.
const legacyAll = legacyReady ? pairs.map(([, l]) => compileLegacy(l)) : [];
const kfl2All = pairs.map(([, , k]) => compileKfl2(k));
const every = (qs: CompiledQuery[]) => (it: Item) => {
  let any = false;
  for (let i = 0; i < qs.length; i++) any = qs[i].match(it) || any;
  return any;
};
if (legacyReady) row('all 4, per item', 'legacy KFL', every(legacyAll));
row('all 4, per item', 'KFL2', every(kfl2All));

function row(label: string, engine: string, match: (it: Item) => boolean) {
  rate(match, same.slice(0, 1)); // warm-up
  const floor = rate(floorFn, same).perSec;
  const r = rate(match, same);
  console.log(label.padEnd(18), engine.padEnd(16), fmt(r.perSec).padStart(9), `${(floor / r.perSec).toFixed(1)}x`.padStart(8), String(r.hits).padStart(6));
}
