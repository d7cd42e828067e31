// Observed values (completions, hover, the unknown-field lint) and item previews, over the items
// the pipeline made from a real capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsItem, HttpItem, Item } from '../../capture/item/schema';
import { ItemStore } from '../../server/session/store';
import { pathSegments } from '../../server/session/store-observed';
import { preview } from '../../server/session/preview';
import { captureItems, cloneAs } from './items';

async function filled(): Promise<{ store: ItemStore; items: Item[] }> {
  const { items } = await captureItems();
  const store = new ItemStore({ maxItems: 10_000, maxBytes: 16 << 20 });
  for (const it of items) store.add(it);
  return { store, items };
}

const http = (items: Item[]) => items.filter((i): i is HttpItem => i.protocol.name === 'http');
const dns = (items: Item[]) => items.filter((i): i is DnsItem => i.protocol.name === 'dns');

test('paths in the forms the editor writes become plain segments', () => {
  assert.deepEqual(pathSegments('request.headers["User-Agent"]'), ['request', 'headers', 'User-Agent']);
  assert.deepEqual(pathSegments("response.answers[0].ip"), ['response', 'answers', 'ip']);
  assert.deepEqual(pathSegments('request.questions.0.name'), ['request', 'questions', 'name']);
  assert.deepEqual(pathSegments('request.headers.*'), ['request', 'headers', '*']);
  assert.deepEqual(pathSegments('request.headers["a.b"]'), ['request', 'headers', 'a.b']);
});

test('values: protocol names, header names, hosts, paths and DNS names, most frequent first', async () => {
  const { store, items } = await filled();
  const o = store.observed;
  assert.equal(o.itemCount, items.length);
  const freq = (vals: string[]) => {
    const m = new Map<string, number>();
    for (const v of vals) m.set(v, (m.get(v) ?? 0) + 1);
    return [...m].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  };
  assert.deepEqual(o.values('protocol.name'), freq(items.map((i) => i.protocol.name)));
  const reqHeaderNames = new Set(http(items).flatMap((i) => Object.keys(i.request.headers)));
  assert.deepEqual(new Set(o.values('request.headers.*', 100)), reqHeaderNames);
  assert.deepEqual(new Set(o.values('response.headers.*', 100)), new Set(http(items).flatMap((i) => Object.keys(i.response.headers ?? {}))));
  assert.deepEqual(o.values('request.host'), freq(http(items).map((i) => i.request.headers.Host).filter(Boolean)));
  assert.deepEqual(new Set(o.values('request.path', 100)), new Set(http(items).map((i) => i.request.path)));
  const qnames = freq(dns(items).flatMap((i) => i.request.questions.map((q) => q.name)));
  assert.deepEqual(o.values('request.questions[0].name', 100), qnames);
  assert.deepEqual(o.values('request.questions.name', 100), qnames);
  assert.deepEqual(new Set(o.values('response.status', 100)), new Set(http(items).map((i) => String(i.response.status))));
  // A path nobody counts is answered from the newest items.
  assert.deepEqual(new Set(o.values('response.content.mimeType', 100)), new Set(http(items).map((i) => i.response.content?.mimeType).filter(Boolean)));
  assert.deepEqual(o.values('no.such.path'), []);
  assert.ok(o.values('protocol.name', 1).length === 1);
});

test('recent: the last distinct values seen at a path, newest first', async () => {
  const { store, items } = await filled();
  const want: unknown[] = [];
  for (const it of [...items].reverse().slice(0, 50)) {
    const s = (it.response as { status?: number }).status;
    if (s !== undefined && !want.includes(s)) want.push(s);
  }
  assert.deepEqual(store.observed.recent('response.status', 3), want.slice(0, 3));
  const lastDns = dns(items).at(-1)!;
  assert.deepEqual(store.observed.recent('request.questions[0].name', 1), [lastDns.request.questions[0].name]);
  assert.deepEqual(store.observed.recent('request.nothing'), []);
});

test('hasPath: any path some stored item has, including header names of a single item and new protocol shapes', async () => {
  const { store, items } = await filled();
  const o = store.observed;
  for (const p of ['request', 'src.ip', 'dst.name', 'request.headers["User-Agent"]', 'request.headers.Host', 'response.answers[0].ip', 'request.questions.name', 'response.content.mimeType', 'request.postData.text', 'protocol.abbr']) {
    assert.equal(o.hasPath(p), true, p);
  }
  assert.ok(http(items).some((i) => i.request.postData), 'the capture has a request body');
  for (const p of ['request.nope', 'response.headers["X-Nope"]', 'nothing', 'request.headers.Host.deeper']) assert.equal(o.hasPath(p), false, p);
  // Many items later, one carries a header nobody sent before, and one a protocol never seen.
  for (let i = 0; i < 2000; i++) store.add(cloneAs(items[i % items.length], `again-${i}`));
  const odd = cloneAs(http(items)[0], 'odd-0') as HttpItem;
  odd.request.headers['X-Only-Once'] = '1';
  store.add(odd);
  const redisLike = { ...cloneAs(items[0], 'redis-0'), protocol: { ...items[0].protocol, name: 'redis', abbr: 'REDIS' }, request: { command: 'GET', key: 'user:1' }, response: { type: 'bulk', value: 'x' } } as Item;
  store.add(redisLike);
  assert.equal(o.hasPath('request.headers["X-Only-Once"]'), true);
  assert.equal(o.hasPath('request.command'), true);
  assert.equal(o.hasPath('response.value'), true);
  assert.deepEqual(o.values('protocol.name').slice(-1), ['redis']);
});

test('counters stay bounded under many distinct values and keep the frequent ones', async () => {
  const { items } = await captureItems();
  const store = new ItemStore({ maxItems: 100, maxBytes: 16 << 20 });
  const tpl = http(items)[0];
  for (let i = 0; i < 5000; i++) {
    const it = cloneAs(tpl, `p-${i}`) as HttpItem;
    it.request.path = i % 3 === 0 ? '/hot' : `/cold/${i}`;
    store.add(it);
  }
  const v = store.observed.values('request.path', 1000);
  assert.equal(v[0], '/hot');
  assert.ok(v.length <= 400, `${v.length} values kept`);
});

test('previews: HTTP method + target and status, DNS question and answers, marks, errors, other protocols', async () => {
  const { items } = await captureItems();
  for (const it of http(items)) {
    const p = preview(it);
    assert.equal(p.summary, `${it.request.method} ${it.request.url}`);
    assert.equal(p.status, `${it.response.status} ${it.response.statusText}`.trim());
    assert.equal(p.statusError, it.response.status >= 400);
    assert.equal(p.size, it.requestSize + it.responseSize);
    assert.equal(p.elapsedMs, it.elapsedTime);
    assert.deepEqual(p.protocol, { name: 'http', abbr: it.protocol.abbr, backgroundColor: it.protocol.backgroundColor, foregroundColor: it.protocol.foregroundColor });
    assert.equal(p.src, it.src.name || `${it.src.ip}:${it.src.port}`);
  }
  assert.ok(http(items).some((i) => preview(i).statusError));
  for (const it of dns(items)) {
    const p = preview(it);
    const q = it.request.questions[0];
    assert.ok(p.summary.startsWith(`${q.type} ${q.name}`), p.summary);
    for (const a of it.response.answers.slice(0, 3)) if (a.ip !== '<nil>') assert.ok(p.summary.includes(a.ip), `${p.summary} lacks ${a.ip}`);
    assert.equal(p.status, it.response.code);
    assert.equal(p.statusError, it.response.code !== 'No Error');
  }
  const it = items[0];
  const marked = preview(it, { passed: true, queried: { slow: true } });
  assert.equal(marked.passed, true);
  assert.equal(marked.failed, false);
  assert.deepEqual(marked.queried, { slow: true });
  const timedOut = { ...cloneAs(dns(items)[0], 't-0'), response: {}, error: { type: 'timeout', msg: 'no answer' } } as Item;
  assert.equal(preview(timedOut).status, 'timeout');
  assert.equal(preview(timedOut).statusError, true);
  const redis = { ...cloneAs(items[0], 'r-0'), protocol: { ...items[0].protocol, name: 'redis', abbr: 'REDIS' }, request: { command: 'GET', key: 'user:1' }, response: { type: 'error', value: 'ERR wrong type' } } as Item;
  const rp = preview(redis);
  assert.equal(rp.summary, 'GET user:1');
  assert.equal(rp.status, 'error');
  assert.equal(rp.statusError, true);
  const long = cloneAs(http(items)[0], 'long') as HttpItem;
  long.request.url = '/' + 'x'.repeat(1000);
  assert.ok(preview(long).summary.length <= 240);
});
