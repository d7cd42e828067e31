// Legacy KFL throughput: items/s of compiled queries over in-memory items (variations of the real
// 2023 HTTP sample and the seed DNS item), printed as ratios to two peers measured in the same
// run: the empty-call floor (a function call per item) and a hand-written JS predicate doing the
// same test (what the closure compiler aims to approach).
import { readFileSync } from 'node:fs';
import { compileLegacy } from '../server/kfl/legacy/index';

const N = 20_000;
const ROUNDS = 7;
const ref = (p: string) => readFileSync(new URL(`../../shared/reference/${p}`, import.meta.url), 'utf8');
const HTTP = JSON.parse(ref('samples/kubeshark-http-item-2023.json'));
const DNS = JSON.parse(/^DATA: (\{.*\})$/m.exec(ref('network-hooks-seed.md'))![1]);

function makeItems(): object[] {
  const out: object[] = [];
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % k;
  const paths = ['/license', '/api/v1/users', '/health', '/login'];
  for (let i = 0; i < N; i++) {
    if (rnd(10) < 6) {
      const h = structuredClone(HTTP);
      h.response.status = [200, 200, 201, 204, 404, 500][rnd(6)];
      h.request.path = paths[rnd(paths.length)];
      h.request.method = ['GET', 'POST', 'PUT'][rnd(3)];
      h.response.content.text = Buffer.from(JSON.stringify({ ok: rnd(2) === 0, id: i })).toString('base64');
      out.push(h);
    } else {
      const d = structuredClone(DNS);
      d.request.questions[0].name = ['a.example.com', 'kube-dns.kube-system.svc', 'x.y'][rnd(3)];
      out.push(d);
    }
  }
  return JSON.parse(JSON.stringify(out)); // fast-mode objects, as items from JSON or a dissector
}

function rate(fn: (it: any) => boolean, items: object[]): { perSec: number; hits: number } {
  const rates: number[] = [];
  let hits = 0;
  for (let r = 0; r < ROUNDS; r++) {
    hits = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < items.length; i++) if (fn(items[i])) hits++;
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(items.length / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  return { perSec: rates[ROUNDS >> 1], hits };
}

const items = makeItems();
const floor = rate((it) => it === null, items).perSec;
const CASES: [string, (it: any) => boolean][] = [
  ['http and response.status == 500', (it) => it.protocol?.abbr === 'HTTP' && it.response?.status === 500],
  ['dns and request.questions[0].name == r"^kube-dns"', (it) => it.protocol?.abbr === 'DNS' && /^kube-dns/.test(it.request?.questions?.[0]?.name ?? '')],
  ['http and request.method == "POST" and request.path.startsWith("/api")', (it) => it.protocol?.abbr === 'HTTP' && it.request?.method === 'POST' && String(it.request?.path).startsWith('/api')],
  ['(http and response.status >= 400) or dns', (it) => (it.protocol?.abbr === 'HTTP' && it.response?.status >= 400) || it.protocol?.abbr === 'DNS'],
  ['http and response.content.text.json().ok == true', (it) => it.protocol?.abbr === 'HTTP' && JSON.parse(Buffer.from(it.response.content.text, 'base64').toString()).ok === true],
];

console.log(`legacy KFL, ${N} items (60% HTTP, 40% DNS), median of ${ROUNDS} rounds; empty-call floor ${(floor / 1e6).toFixed(1)}M items/s`);
for (const [q, hand] of CASES) {
  const c = compileLegacy(q);
  const k = rate((it) => c.match(it), items);
  const h = rate(hand, items);
  if (k.hits !== h.hits) throw new Error(`${q}: ${k.hits} hits, hand-written ${h.hits}`);
  console.log(`${(k.perSec / 1e6).toFixed(2)}M items/s  ${(k.perSec / floor).toFixed(3)}× floor  ${(k.perSec / h.perSec).toFixed(2)}× hand-written JS  (${k.hits} hits)  ${q}`);
}
