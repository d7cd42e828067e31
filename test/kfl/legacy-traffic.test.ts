// Legacy KFL on items Wirehook made from real loopback traffic (recorded with tcpdump, dissected
// by the built dist/cli.js — run `npm run build` first): counts checked against what the traffic
// generators sent, and every query checked item by item against a hand-written predicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { scenarioCapture } from '../helpers/capture';
import { compileLegacy } from '../../server/kfl/legacy/index';

type AnyItem = Record<string, any>;

async function record() {
  const { file, http, dns } = await scenarioCapture();
  const r = spawnSync(process.execPath, [resolve('dist', 'cli.js'), 'items', '--pcap', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const items: AnyItem[] = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { items, http, dns };
}

const body = (it: AnyItem): unknown => {
  try {
    return JSON.parse(Buffer.from(it.response?.content?.text ?? '', 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
};

test('legacy KFL over items from real HTTP and DNS traffic', async () => {
  const { items, http, dns } = await record();
  const isHttp = (it: AnyItem) => it.protocol?.abbr === 'HTTP';
  const isDns = (it: AnyItem) => it.protocol?.abbr === 'DNS';
  const cases: [query: string, predicate: (it: AnyItem) => boolean, sent?: number][] = [
    ['http', isHttp, http.length],
    ['dns', isDns, dns.length],
    ['http and response.status >= 400', (it) => isHttp(it) && it.response.status >= 400, http.filter((x) => x.status >= 400).length],
    ['http and response.status == r"^5"', (it) => isHttp(it) && String(it.response.status).startsWith('5'), http.filter((x) => x.status >= 500).length],
    ['http and request.method == "DELETE"', (it) => isHttp(it) && it.request.method === 'DELETE', http.filter((x) => x.method === 'DELETE').length],
    ['http and request.path.startsWith("/api/users")', (it) => isHttp(it) && it.request.path.startsWith('/api/users'), http.filter((x) => x.url.startsWith('/api/users')).length],
    ['dns and response.code == "Non-Existent Domain"', (it) => isDns(it) && it.response.code === 'Non-Existent Domain', dns.filter((x) => x.rcode === 'NXDOMAIN').length],
    ['dns and request.questions[0].type == "AAAA"', (it) => isDns(it) && it.request.questions[0]?.type === 'AAAA', dns.filter((x) => x.type === 'AAAA').length],
    // a wildcard with several results is an array, and an array never matches a regex (§8.3)
    ['(dns and request.questions[0].type == "A") and response.answers.*.ip == r"^10[.]"', (it) => isDns(it) && it.request.questions[0]?.type === 'A' && it.response.answers.length === 1 && /^10[.]/.test(it.response.answers[0].ip)],
    ['(dns and request.questions[0].type == "A") and response.answers.*.ip == "10.0.0.1"', (it) => isDns(it) && it.request.questions[0]?.type === 'A' && it.response.answers.some((a: AnyItem) => a.ip === '10.0.0.1')],
    ['http and request.headers["Accept-Encoding"].contains("gzip")', (it) => isHttp(it) && String(it.request.headers['Accept-Encoding'] ?? '').includes('gzip')],
    ['http and request.queryString["q"] == "hook"', (it) => isHttp(it) && [].concat(it.request.queryString?.q ?? []).includes('hook' as never)],
    ['http and response.content.text.json()..id > 0', (it) => {
      if (!isHttp(it)) return false;
      const first = (function find(v: unknown): unknown {
        if (Array.isArray(v)) { for (const x of v) { const r = find(x); if (r !== undefined) return r; } return undefined; }
        if (v && typeof v === 'object') {
          if ('id' in v) return (v as AnyItem).id;
          for (const x of Object.values(v)) { const r = find(x); if (r !== undefined) return r; }
        }
        return undefined;
      })(body(it));
      return typeof first === 'number' && first > 0;
    }],
    ['src.ip == "127.0.0.1" and !http and !dns', (it) => it.src?.ip === '127.0.0.1' && !isHttp(it) && !isDns(it)],
    ['elapsedTime >= 0 and timestamp > datetime("1/1/2024, 12:00:00.000 AM")', (it) => it.elapsedTime >= 0 && it.timestamp > Date.UTC(2024, 0, 1)],
  ];
  for (const [q, pred, sent] of cases) {
    const c = compileLegacy(q);
    const got = items.filter((it) => c.match(it as never));
    const want = items.filter(pred);
    assert.deepEqual(got.map((i) => i.id), want.map((i) => i.id), q);
    if (sent !== undefined) assert.equal(got.length, sent, `${q}: the generators sent ${sent}`);
  }
  assert.ok(items.filter(isHttp).length > 5 && items.filter(isDns).length > 5, 'the capture has both protocols');
});
