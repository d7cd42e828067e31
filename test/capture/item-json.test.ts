/**
 * The hand-written item JSON writer (capture/item/json.ts) against JSON.stringify on items of
 * every shape: real items, then thousands of mutated ones (keys removed, added, reordered,
 * values of other types, strings JSON must escape). The writer checks shapes and falls back;
 * this shows the output is the same whatever the item looks like, with one stated trust: a
 * base64 body preview longer than 256 characters is written unscanned (the HTTP dissector made
 * it with Buffer#toString('base64'), which never needs escaping).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../capture/item/schema';
import { prng } from '../dissectors/harness';

const TRICKY: unknown[] = [
  '', 'plain', 'a"b', 'back\\slash', 'nl\nx', 'tab\t', '\u0000', '\u001f', '\u007f', 'é', '日本',
  '\ud83d\ude00', 'lone \ud83d', 'lone \ude00', '\u2028', '</script>', 'x'.repeat(300),
  0, -0, 1.5, -7, 1e21, 2 ** 53, NaN, Infinity, -Infinity, true, false, null, undefined,
  () => 1, Symbol('s'),
];
/** Fresh each time: a shared one could be mutated into a cycle. */
const trickyObject = (rnd: () => number): unknown => {
  const all = [[], [1, 'a', undefined], {}, { a: 1 }, new Date(0), { toJSON: () => 'tj' }, { toJSON: () => undefined }];
  return all[Math.floor(rnd() * all.length)];
};

type Node = Record<string, unknown> | unknown[];

/** Every object or array inside v (v included), for picking a place to mutate. */
function containers(v: unknown, out: Node[] = []): Node[] {
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    out.push(v as Node);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

function mutate(item: Item, rnd: () => number): Item {
  const copy = structuredClone(item) as unknown as Record<string, unknown>;
  // structuredClone keeps the shared objects apart; the writer caches by identity, so also try
  // the original protocol/node objects.
  if (rnd() < 0.5) {
    copy.protocol = item.protocol;
    copy.node = item.node;
  }
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const value = (): unknown => (rnd() < 0.2 ? trickyObject(rnd) : pick(TRICKY));
  const steps = 1 + Math.floor(rnd() * 3);
  for (let s = 0; s < steps; s++) {
    // Not the shared originals (protocol is frozen; node is every item's).
    const all = containers(copy).filter((c) => c !== (item.protocol as unknown) && c !== (item.node as unknown) && !Object.isFrozen(c));
    const c = pick(all);
    const keys = Object.keys(c);
    const op = rnd();
    if (Array.isArray(c)) {
      if (op < 0.5 && c.length > 0) c[Math.floor(rnd() * c.length)] = value();
      else c.push(value());
    } else if (op < 0.45 && keys.length > 0) {
      c[pick(keys)] = value();
    } else if (op < 0.6 && keys.length > 0) {
      delete c[pick(keys)];
    } else if (op < 0.75) {
      c[pick(['extra', 'toJSON', '0', 'text', 'name', '__x'])] = value();
    } else if (op < 0.9 && keys.length > 1) {
      // Same keys, another order.
      const entries = Object.entries(c);
      for (const k of keys) delete c[k];
      entries.sort(() => rnd() - 0.5);
      for (const [k, v] of entries) c[k] = v;
    } else if (keys.length > 0) {
      const k = pick(keys);
      c[k] = Array.isArray(c[k]) ? { ...(c[k] as object) } : [c[k]];
    }
  }
  return copy as unknown as Item;
}

test("the CLI's item writer equals JSON.stringify, byte for byte, on real items and on 20,000 mutated ones, and leaves them untouched", async () => {
  const { mixCapture } = await import('./lib');
  const { itemJson, itemJsonUnchecked } = await import('../../capture/item/json');
  const { runPipeline } = await import('../../capture/pipeline');
  const { fileSource } = await import('../../capture/sources/file');
  const items: Item[] = [];
  for (const f of [(await mixCapture()).file, 'examples/captures/demo.pcap']) await runPipeline(fileSource(f), { item: (i) => void items.push(i) });
  assert.ok(items.some((i) => i.protocol.name === 'dns') && items.some((i) => i.protocol.name === 'http'));
  assert.ok(items.some((i) => ((i.response as { content?: { text?: string } }).content?.text?.length ?? 0) > 256), 'a large body is covered');
  for (const i of items) {
    const before = JSON.stringify(i);
    // Unchecked: the hand writer itself (itemJson checks the first items of each protocol
    // against JSON.stringify and would hide a difference there).
    assert.equal(itemJsonUnchecked(i), before);
    assert.equal(itemJson(i), before);
    assert.equal(JSON.stringify(i), before, 'the item is left untouched');
  }

  const rnd = prng(20261124);
  for (let n = 0; n < 20000; n++) {
    const base = items[Math.floor(rnd() * items.length)];
    const m = mutate(base, rnd);
    const want = JSON.stringify(m);
    const got = itemJsonUnchecked(m);
    if (got !== want) assert.fail(`mutation ${n} differs\nwant ${want}\ngot  ${got}`);
    assert.equal(itemJson(m), want);
    // The unmutated item right after: caches changed by the mutation must not leak into it.
    assert.equal(itemJsonUnchecked(base), JSON.stringify(base));
  }
});

test('real items take the hand writer (a shape check broken towards the fallback would keep the output and lose the speed), with any string values; another key order does not', async () => {
  const { mixCapture } = await import('./lib');
  const { handWritten, itemJsonUnchecked } = await import('../../capture/item/json');
  const { runPipeline } = await import('../../capture/pipeline');
  const { fileSource } = await import('../../capture/sources/file');
  const items: Item[] = [];
  for (const f of [(await mixCapture()).file, 'examples/captures/demo.pcap']) await runPipeline(fileSource(f), { item: (i) => void items.push(i) });
  assert.ok(items.length > 50);
  for (const i of items) assert.equal(handWritten(i), true, `${i.protocol.name} item ${i.id}`);
  // Every string inside (header values, names, paths, bodies) replaced by strings JSON must escape:
  // still the hand writer's, still JSON.stringify's bytes.
  const strings = TRICKY.filter((t): t is string => typeof t === 'string');
  const rnd = prng(7);
  const swap = (v: unknown, top: boolean): unknown => {
    if (typeof v === 'string') return strings[Math.floor(rnd() * strings.length)];
    if (Array.isArray(v)) return v.map((x) => swap(x, false));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, top && (k === 'protocol' || k === 'stream') ? x : swap(x, false)]));
    return v;
  };
  let n = 0;
  for (const i of items) {
    const t = swap(structuredClone(i), true) as Item;
    assert.equal(itemJsonUnchecked(t), JSON.stringify(t));
    if (handWritten(t)) n++;
  }
  assert.equal(n, items.length, 'escaped strings are written by hand too');
  // Keys in another order (JSON.stringify keeps the order): the fallback's job.
  const first = items[0];
  const { id, ...rest } = first;
  const reordered = { ...rest, id } as Item;
  assert.equal(handWritten(reordered), false);
  assert.equal(itemJsonUnchecked(reordered), JSON.stringify(reordered));
  const req = first.request as Record<string, unknown>;
  const [k0, ...others] = Object.keys(req);
  const reqReordered = { ...first, request: Object.fromEntries([...others.map((k) => [k, req[k]]), [k0, req[k0]]]) } as Item;
  // (inside, an object of another shape is written by the generic writer: same bytes)
  assert.equal(itemJsonUnchecked(reqReordered), JSON.stringify(reqReordered));
});
