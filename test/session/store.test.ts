// ItemStore over items the real pipeline made from a real capture (examples/captures/demo.pcap):
// lookups, KFL/KFL2 queries against a plain filter, bounds by count and bytes, the spill file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Item } from '../../capture/item/schema';
import { compileQuery } from '../../server/kfl/index';
import { ItemStore, SPILL_WRITES } from '../../server/session/store';
import { captureItems, cloneAs } from './items';

const json = (x: unknown) => JSON.parse(JSON.stringify(x));
const QUERIES = ['', 'http', 'dns', 'response.status == 404', 'request.method == "POST" and response.status < 300', 'http && path.startsWith("/api")', 'dns && size(dns_answers) > 1', 'src.port == "53" or dst.port == "53"'];

/** `n` copies of the demo items with distinct ids, in capture order. */
async function many(n: number): Promise<Item[]> {
  const { items } = await captureItems();
  return Array.from({ length: n }, (_, i) => cloneAs(items[i % items.length], `${items[i % items.length].id}#${i}`));
}

function tmp(): string {
  const d = resolve('test', '.out', 'session');
  return mkdtempSync(join(d + '-'));
}

test('items come back as they went in, by id, in order, and queries match what a plain filter matches', async () => {
  const { items } = await captureItems();
  assert.ok(items.length > 50 && items.some((i) => i.protocol.name === 'dns') && items.some((i) => i.protocol.name === 'http'));
  const store = new ItemStore({ maxItems: 1000, maxBytes: 16 << 20 });
  for (const it of items) store.add(it);
  assert.equal(store.size, items.length);
  for (const it of items) {
    assert.ok(store.has(it.id));
    assert.deepEqual(json(store.get(it.id)), json(it));
  }
  assert.equal(store.get('no/such-0'), null);
  assert.deepEqual([...store.iterate()].map((i) => i.id), items.map((i) => i.id));
  for (const q of QUERIES) {
    const c = compileQuery(q, 'auto');
    const want = items.filter((i) => c.match(json(i))).map((i) => i.id);
    assert.ok(want.length > 0 && (q === '' || want.length < items.length), `${q} should match some items, not all`);
    const all = store.query(c.match, 0, 10_000);
    assert.equal(all.total, want.length, q);
    assert.deepEqual(all.items.map((i) => i.id), want, q);
    assert.equal(store.count(c.match), want.length);
    assert.deepEqual(store.query(c.match, 2, 3).items.map((i) => i.id), want.slice(2, 5), `${q}: offset from the oldest match`);
    assert.deepEqual(store.newest(c.match, 4).map((i) => i.id), want.slice(-4).reverse(), `${q}: newest first`);
    assert.deepEqual([...store.matches(c.match)].map((i) => i.id), want, `${q}: matches()`);
  }
  assert.equal(store.query(null, 0, 5).total, items.length);
  const st = store.stats();
  assert.equal(st.stored, items.length);
  assert.equal(st.total, items.length);
  assert.equal(st.evicted, 0);
  assert.ok(st.bytes > 0 && st.spillBytes === 0);
});

test('the count bound keeps the newest items; cached query results follow evictions and new items', async () => {
  const items = await many(400);
  const store = new ItemStore({ maxItems: 100, maxBytes: 16 << 20 });
  const q = compileQuery('http and response.status == 200', 'auto');
  const fresh = (kept: Item[]) => kept.filter((i) => q.match(json(i))).map((i) => i.id);
  for (let n = 0; n < items.length; n++) {
    store.add(items[n]);
    if (n % 37 === 0 || n === items.length - 1) {
      const kept = items.slice(Math.max(0, n + 1 - 100), n + 1);
      const r = store.query(q.match, 0, 1000);
      assert.deepEqual(r.items.map((i) => i.id), fresh(kept), `after ${n + 1} items`);
      assert.equal(r.total, fresh(kept).length);
    }
  }
  assert.equal(store.size, 100);
  assert.equal(store.get(items[0].id), null);
  assert.equal(store.has(items[299].id), false);
  assert.ok(store.get(items[300].id));
  assert.deepEqual(store.stats().evicted, 300);
  assert.deepEqual([...store.iterate()].map((i) => i.id), items.slice(300).map((i) => i.id));
});

test('the byte bound without a spill directory drops the oldest items and keeps memory under it', async () => {
  const items = await many(3000);
  const maxBytes = 1 << 20;
  const store = new ItemStore({ maxItems: 100_000, maxBytes });
  for (const it of items) {
    store.add(it);
    assert.ok(store.stats().memBytes <= maxBytes);
  }
  const st = store.stats();
  assert.ok(st.stored < 3000 && st.stored > 100, `stored ${st.stored}`);
  assert.equal(st.evicted, 3000 - st.stored);
  const kept = items.slice(3000 - st.stored);
  assert.deepEqual([...store.iterate()].map((i) => i.id), kept.map((i) => i.id));
  assert.deepEqual(json(store.get(kept[0].id)), json(kept[0]));
});

test('with a spill directory the last maxItems stay queryable past the byte bound; files go once their items are evicted', async () => {
  const items = await many(6000);
  const dir = tmp();
  try {
    const maxBytes = 1 << 20;
    const store = new ItemStore({ maxItems: 4000, maxBytes, spillDir: dir });
    for (const it of items) store.add(it);
    const st = store.stats();
    assert.equal(st.stored, 4000);
    assert.ok(st.memBytes <= maxBytes);
    assert.ok(st.spillBytes > 2 * maxBytes, `spilled ${st.spillBytes}`);
    assert.ok(readdirSync(dir).length > 0);
    const kept = items.slice(2000);
    // The oldest kept item lives in the spill file.
    assert.deepEqual(json(store.get(kept[0].id)), json(kept[0]));
    assert.equal(store.get(items[1999].id), null);
    const q = compileQuery('dns and request.questions[0].type == "AAAA" or response.status >= 400', 'auto');
    const want = kept.filter((i) => q.match(json(i))).map((i) => i.id);
    assert.ok(want.length > 10);
    assert.deepEqual(store.query(q.match, 0, 10_000).items.map((i) => i.id), want);
    assert.deepEqual(store.newest(q.match, 3).map((i) => i.id), want.slice(-3).reverse());
    // matches() is lazy: items evicted while it runs are skipped, not served stale.
    const lazy = store.matches(q.match)[Symbol.iterator]();
    assert.equal(lazy.next().value?.id, want[0]);
    for (const it of items.slice(0, 500)) store.add(cloneAs(it, `late-${it.id}`));
    const rest = [...{ [Symbol.iterator]: () => lazy }].map((i) => i.id);
    const kept2 = new Set(kept.slice(500).map((i) => i.id));
    assert.deepEqual(rest, want.slice(1).filter((id) => kept2.has(id)));
    for (const it of items.slice(0, 500)) assert.ok(store.has(`late-${it.id}`));
    let n = 0;
    for (const it of store.iterate()) assert.equal(it.id, (n < 3500 ? kept[n + 500] : { id: `late-${items[n - 3500].id}` }).id, `iterate ${n++}`);
    assert.equal(n, 4000);
    store.clear();
    assert.deepEqual(readdirSync(dir), []);
    assert.deepEqual(store.stats(), { stored: 0, total: 0, evicted: 0, bytes: 0, memBytes: 0, spillBytes: 0 });
    assert.equal(store.observed.itemCount, 0);
    store.add(items[0]);
    assert.equal(store.get(items[0].id)?.id, items[0].id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the spill bound evicts whole spill files, oldest first', async () => {
  const items = await many(5000);
  const dir = tmp();
  try {
    const store = new ItemStore({ maxItems: 100_000, maxBytes: 1 << 20, spillDir: dir, maxSpillBytes: 2 << 20 });
    for (const it of items) {
      store.add(it);
      assert.ok(store.stats().spillBytes <= 2 << 20);
    }
    const st = store.stats();
    assert.ok(st.evicted > 0 && st.stored + st.evicted === 5000);
    assert.deepEqual(json(store.get(items[5000 - st.stored].id)), json(items[5000 - st.stored]));
    store.clear();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('marks show on stored items; an item added again under its id replaces the old one', async () => {
  const { items } = await captureItems();
  const store = new ItemStore({ maxItems: 1000, maxBytes: 16 << 20 });
  for (const it of items) store.add(it);
  const id = items[5].id;
  store.mark(id, { passed: true, queried: { note: 'slow' } });
  store.mark(id, { failed: true });
  assert.deepEqual(store.marks(id), { passed: true, failed: true, queried: { note: 'slow' } });
  assert.equal(store.get(id)?.passed, true);
  assert.equal(store.get(id)?.failed, true);
  assert.equal(store.query(compileQuery('passed == true', 'kfl').match, 0, 10).total, 1);
  assert.equal(store.marks(items[6].id), null);
  store.mark('gone/0', { passed: true }); // evicted or unknown: ignored
  const all = compileQuery('', 'auto').match;
  assert.equal(store.count(all), items.length);
  const again = cloneAs(items[3], items[3].id);
  (again.request as { method: string }).method = 'PATCH';
  store.add(again);
  assert.equal(store.size, items.length);
  assert.equal(store.count(all), items.length, 'a cached count drops the replaced item');
  assert.equal(store.get(items[3].id)?.request && (store.get(items[3].id)!.request as { method: string }).method, 'PATCH');
  assert.deepEqual(store.newest(null, 1).map((i) => i.id), [items[3].id]);
  assert.equal([...store.iterate()].filter((i) => i.id === items[3].id).length, 1);
});

test('bad input: invalid bounds and items that are not JSON get clear errors, and the store keeps working', async () => {
  assert.throws(() => new ItemStore({ maxItems: 0, maxBytes: 1 }), /maxItems and maxBytes must be positive/);
  const { items } = await captureItems();
  const store = new ItemStore({ maxItems: 10, maxBytes: 1 << 20 });
  const bad = cloneAs(items[1], 'bad/0') as Item & { self?: unknown };
  bad.self = bad;
  assert.throws(() => store.add(bad), /item bad\/0 cannot be stored as JSON/);
  assert.equal(bad.protocol, items[1].protocol, 'the item is left as it was');
  store.add(items[1]);
  assert.equal(store.size, 1);
  assert.deepEqual(json(store.get(items[1].id)), json(items[1]));
});

test('prepare() tests a full store in slices (items may arrive meanwhile) and can be aborted', async () => {
  const items = await many(7000);
  const store = new ItemStore({ maxItems: 100_000, maxBytes: 32 << 20 });
  for (const it of items.slice(0, 6000)) store.add(it);
  const q = compileQuery('dns or response.status >= 400', 'auto');
  const want = (upto: number) => items.slice(0, upto).filter((i) => q.match(json(i))).map((i) => i.id);
  const stop = new AbortController();
  stop.abort();
  const partial = await store.prepare(q.match, stop.signal);
  assert.ok(partial < want(6000).length, 'aborted after the first slice');
  // Its first slice runs now; the items arrive before the next one.
  const p = store.prepare(q.match);
  for (const it of items.slice(6000)) store.add(it);
  assert.equal(await p, want(7000).length);
  assert.deepEqual(store.query(q.match, 0, 100_000).items.map((i) => i.id), want(7000));
});

test('callers counting the same query share one scan; it stops once all of them abort', async () => {
  const items = await many(20_000);
  const store = new ItemStore({ maxItems: 100_000, maxBytes: 64 << 20 });
  for (const it of items) store.add(it);
  const q = compileQuery('dns or response.status >= 400', 'auto');
  const want = items.filter((i) => q.match(json(i))).length;
  let tested = 0;
  const match = (it: Item) => (tested++, q.match(it));
  // Three callers (a check, the same query applied, a rows request), one of them stopped early.
  const stop = new AbortController();
  const a = store.prepare(match);
  const b = store.prepare(match, stop.signal);
  const c = store.prepare(match);
  stop.abort();
  // Items tested per turn of the event loop: one slice, not one per caller (a request waits
  // for every slice of a turn).
  const perTurn: number[] = [];
  let done = false;
  void (async () => {
    for (let last = tested; !done; ) {
      await new Promise((r) => setImmediate(r));
      perTurn.push(tested - last);
      last = tested;
    }
  })();
  await b;
  assert.deepEqual(await Promise.all([a, c]), [want, want]);
  done = true;
  assert.equal(tested, items.length, 'every item tested once, not once per caller');
  assert.ok(Math.max(...perTurn) <= 2000, `at most one slice per turn (${perTurn.join(' ')})`);
  // Every caller stops: so does the scan (slices of ≤ 2,000 items).
  tested = 0;
  const match2 = (it: Item) => (tested++, q.match(it));
  const s1 = new AbortController();
  const s2 = new AbortController();
  const both = [store.prepare(match2, s1.signal), store.prepare(match2, s2.signal)];
  s1.abort();
  s2.abort();
  await Promise.all(both);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.ok(tested > 0 && tested <= 2000, `the scan stopped after its first slice (${tested} tested)`);
  // A new caller resumes where it stopped.
  assert.equal(await store.prepare(match2), want);
  assert.equal(tested, items.length);
});

test('random adds, replacements, queries and lookups agree with a plain model of the last maxItems adds', async () => {
  const { items } = await captureItems();
  const dir = tmp();
  try {
    const maxItems = 300;
    const store = new ItemStore({ maxItems, maxBytes: 256 << 10, spillDir: dir });
    const qs = ['', 'http and response.status >= 400', 'dns', 'request.method == "GET"'].map((q) => compileQuery(q, 'auto'));
    // The model: every add in order; an add under a live id kills the older one.
    const log: { item: Item; dead: boolean; hit: boolean[] }[] = [];
    let seed = 7;
    const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % k;
    for (let step = 0; step < 3000; step++) {
      const op = rnd(20);
      const entries = () => log.slice(Math.max(0, log.length - maxItems)).filter((e) => !e.dead);
      const window = () => entries().map((e) => e.item);
      if (op < 14) {
        const reuse = op === 0 && log.length > 0;
        const id = reuse ? log[log.length - 1 - rnd(Math.min(log.length, 400))].item.id : `r-${step}`;
        const it = cloneAs(items[rnd(items.length)], id);
        for (const e of log) if (e.item.id === id) e.dead = true;
        const j = json(it);
        log.push({ item: it, dead: false, hit: qs.map((q) => q.match(j)) });
        store.add(it);
      } else if (op < 18) {
        const qi = rnd(qs.length);
        const q = qs[qi];
        const want = entries().filter((e) => e.hit[qi]).map((e) => e.item.id);
        const off = rnd(Math.max(1, want.length));
        const r = store.query(q.match, off, 20);
        assert.equal(r.total, want.length, `step ${step}: total of ${q.source}`);
        assert.deepEqual(r.items.map((i) => i.id), want.slice(off, off + 20), `step ${step}: page of ${q.source}`);
        if (op === 17) assert.deepEqual(store.newest(q.match, 5).map((i) => i.id), want.slice(-5).reverse(), `step ${step}: newest`);
      } else {
        const live = window();
        assert.equal(store.size, live.length, `step ${step}: size`);
        if (live.length) {
          const pick = live[rnd(live.length)];
          assert.deepEqual(json(store.get(pick.id)), json(pick), `step ${step}: get`);
        }
        const old = log[rnd(Math.max(1, log.length - maxItems))];
        if (old && log.length > maxItems && !live.some((i) => i.id === old.item.id)) assert.equal(store.get(old.item.id), null, `step ${step}: evicted`);
      }
    }
    assert.ok(store.stats().spillBytes > 0, 'part of the store was spilled');
    assert.deepEqual([...store.iterate()].map((i) => i.id), log.slice(log.length - maxItems).filter((e) => !e.dead).map((e) => e.item.id));
    store.clear();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a match function that throws leaves the query cache consistent', async () => {
  const { items } = await captureItems();
  const store = new ItemStore({ maxItems: 1000, maxBytes: 8 << 20 });
  for (const it of items) store.add(it);
  let calls = 0;
  const flaky = (it: Item) => {
    if (++calls === 30) throw new Error('flaky');
    return it.protocol.name === 'dns';
  };
  assert.throws(() => store.query(flaky, 0, 10), /flaky/);
  const r = store.query(flaky, 0, 1000);
  assert.deepEqual(r.items.map((i) => i.id), items.filter((i) => i.protocol.name === 'dns').map((i) => i.id));
});

test('items with big base64 bodies and non-ASCII text come back byte for byte (written into the chunk in pieces)', async () => {
  const { items } = await captureItems();
  const http = items.find((i) => i.protocol.name === 'http' && (i.response as { content?: unknown }).content)!;
  const store = new ItemStore({ maxItems: 100, maxBytes: 1 << 20 });
  const made: Item[] = [];
  for (let n = 0; n < 40; n++) {
    const it = cloneAs(http, `body-${n}`);
    const res = it.response as { content: { text?: string; encoding: string; size: number } };
    res.content = { ...res.content, size: 1000 + n, encoding: 'base64', text: Buffer.alloc(1000 + 97 * n, `body ${n} ünïcode `).toString('base64') };
    (it.request as { path: string }).path = `/caf\u00e9/\u{1F600}/${n}`;
    store.add(it);
    made.push(it);
  }
  for (const it of made) assert.deepEqual(json(store.get(it.id)), json(it));
});

test('spill writes run in the background: items stay readable while written, memory stays bounded, clear() leaves no file', async () => {
  const items = await many(3000);
  const dir = tmp();
  try {
    const maxBytes = 512 << 10;
    const store = new ItemStore({ maxItems: 2500, maxBytes, spillDir: dir });
    let background = 0;
    for (let n = 0; n < items.length; n++) {
      store.add(items[n]);
      background = Math.max(background, store.spillWritesInFlight);
      assert.ok(store.stats().memBytes <= maxBytes, `memory bound after ${n + 1} items`);
      // Let writes complete now and then, so both the background and the synchronous path run.
      if (n % 97 === 0) await new Promise<void>((r) => setImmediate(r));
      if (n % 301 === 0) {
        const back = items[Math.max(0, n - 2499) + ((n * 7) % Math.min(n + 1, 2500))];
        assert.deepEqual(json(store.get(back.id)), json(back), `item ${back.id} while spilling`);
      }
    }
    assert.ok(background > 1 && background <= SPILL_WRITES, `spill writes ran in the background, at most ${SPILL_WRITES} at a time (saw ${background})`);
    // Wait for the writes to finish (not a fixed time): they must, and nothing else may change.
    const writesDone = async () => {
      const t0 = Date.now();
      while (store.spillWritesInFlight > 0) {
        assert.ok(Date.now() - t0 < 20_000, `${store.spillWritesInFlight} spill writes still in flight after 20 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await writesDone();
    assert.equal(store.spillWritesInFlight, 0);
    const kept = items.slice(500);
    assert.deepEqual([...store.iterate()].map((i) => i.id), kept.map((i) => i.id));
    assert.deepEqual(json(store.get(kept[0].id)), json(kept[0]));
    assert.equal(store.spillError, null);
    // A clear while a write may be in flight: no file is left, and the store starts afresh.
    store.add(cloneAs(items[0], 'after-0'));
    store.clear();
    assert.deepEqual(readdirSync(dir), []);
    await writesDone();
    assert.deepEqual(store.stats(), { stored: 0, total: 0, evicted: 0, bytes: 0, memBytes: 0, spillBytes: 0 });
    assert.deepEqual(readdirSync(dir), [], 'a write in flight at the clear left no file when it ended');
    for (const it of items.slice(0, 2000)) store.add(it);
    await writesDone();
    assert.deepEqual(json(store.get(items[1999].id)), json(items[1999]));
    assert.equal(store.size, 2000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('newestFirst: the newest matches without a count; a scan that saw everything fills the query cache', async () => {
  const items = await many(5000);
  const store = new ItemStore({ maxItems: 100_000, maxBytes: 64 << 20 });
  for (const it of items) store.add(it);
  const common = compileQuery('http', 'auto');
  const rare = compileQuery('response.status == 404', 'auto');
  const want = (q: typeof common) => items.filter((i) => q.match(json(i))).map((i) => i.id);
  const page = await store.newestFirst(common.match, 50);
  assert.equal(page.all, false);
  assert.deepEqual(page.items.map((i) => i.id), want(common).slice(-50).reverse());
  const whole = await store.newestFirst(rare.match, 10_000);
  assert.equal(whole.all, true);
  assert.deepEqual(whole.items.map((i) => i.id), want(rare).reverse());
  // Its cache came from the scan, and follows new items.
  for (const it of items.slice(0, 300)) store.add(cloneAs(it, `more-${it.id}`));
  const all = [...items, ...items.slice(0, 300).map((i) => cloneAs(i, `more-${i.id}`))];
  assert.deepEqual(store.query(rare.match, 0, 100_000).items.map((i) => i.id), all.filter((i) => rare.match(json(i))).map((i) => i.id));
  // A scan told to stop stops at its first turn of the event loop.
  const stopped = await store.newestFirst(compileQuery('response.status == 599', 'auto').match, 10, () => true);
  assert.equal(stopped.all, false);
  assert.equal(stopped.items.length, 0);
});

// (issue #9, setQuery's first page) Scans yield by time as well as by count: a slice of 2,000
// whole items took 20–40 ms, and the reply to the setQuery that started it waited behind it.
// The clock is faked (each match "takes" 1 ms), so nothing here is timed.
test('newestFirst() and prepare() yield to the event loop after ~8 ms of work, not only after 2,000 items', async (t) => {
  const items = await many(3000);
  const store = new ItemStore({ maxItems: 100_000, maxBytes: 64 << 20 });
  for (const it of items) store.add(it);
  let fake = 0;
  t.mock.method(performance, 'now', () => fake);
  const rare = compileQuery('response.status == 599', 'auto');
  let tested = 0;
  // A new function each time: the store caches a query's hits by its match function.
  const slowMatch = () => (it: Item) => {
    tested++;
    fake += 1;
    return rare.match(it);
  };
  for (const scan of [() => store.newestFirst(slowMatch(), 10), () => store.prepare(slowMatch())]) {
    tested = 0;
    let before = -1;
    setImmediate(() => (before = tested));
    const r = await scan();
    assert.ok(before > 0 && before <= 8 + 32, `${before} items tested before the first turn of the event loop (${tested} in all)`);
    assert.equal(tested, 3000, 'and every item is tested in the end');
    assert.equal(typeof r === 'number' ? r : r.items.length, 0);
  }
});
