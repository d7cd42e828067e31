// exportItems and PacketKeeper over real captures: the HAR passes har-validator, NDJSON gives the
// items back, the pcap opens in tshark with the same HTTP requests and DNS questions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
// har-validator has no types; its promise API rejects with the schema errors.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const harValidator = require('har-validator') as { har(d: unknown): Promise<unknown> };
import type { HttpItem, Item } from '../../capture/item/schema';
import { compileQuery } from '../../server/kfl/index';
import { exportItems } from '../../server/session/export';
import { PacketKeeper } from '../../server/session/packets';
import { ItemStore } from '../../server/session/store';
import { scenarioCapture } from '../helpers/capture';
import { captureItems, type Captured } from './items';

const base = resolve('test', '.out', 'session');
mkdirSync(base, { recursive: true });
const tmp = () => mkdtempSync(join(base, 'export-'));

function tshark(file: string, filter: string, fields: string[]): string[] {
  const args = ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=|'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

function keeperFor(c: Captured, dir: string, maxBytes = 64 << 20): PacketKeeper {
  const k = new PacketKeeper({ maxBytes, dir });
  for (const { stream, pkt } of c.packets) k.add(stream, pkt);
  return k;
}

const http = (items: Item[]) => items.filter((i): i is HttpItem => i.protocol.name === 'http');
const dns = (items: Item[]) => items.filter((i) => i.protocol.name === 'dns');

test('pcap export of a query: tshark finds the same HTTP requests and DNS questions as the items', async () => {
  const cap = await captureItems();
  const dir = tmp();
  try {
    const keeper = keeperFor(cap, join(dir, 'packets'));
    const store = new ItemStore({ maxItems: 1000, maxBytes: 8 << 20 });
    for (const it of cap.items) store.add(it);
    // Everything: every packet of every stream comes back.
    const all = await exportItems(store.iterate(), 'pcap', join(dir, 'all.pcap'), keeper);
    assert.equal(all.items, cap.items.length);
    assert.equal(all.packets, cap.packets.length);
    const reqs = tshark(all.path, 'http.request', ['http.request.method', 'http.request.uri']);
    assert.deepEqual(reqs.sort(), http(cap.items).map((i) => `${i.request.method}|${i.request.url}`).sort());
    const qs = tshark(all.path, 'dns.flags.response == 0', ['dns.qry.name']);
    assert.deepEqual(qs.sort(), dns(cap.items).map((i) => (i.request as { questions: { name: string }[] }).questions[0].name).sort());
    // A query: only the matching items' streams.
    const q = compileQuery('http and request.method == "POST"', 'auto');
    const posts = store.query(q.match, 0, 1000).items;
    assert.ok(posts.length > 0);
    const some = await exportItems(posts, 'pcap', join(dir, 'posts.pcap'), keeper);
    assert.equal(some.items, posts.length);
    const streams = new Set(posts.map((i) => i.stream));
    assert.equal(some.packets, cap.packets.filter((p) => streams.has(p.stream)).length);
    const got = tshark(some.path, 'http.request', ['http.request.method', 'http.request.uri']);
    const want = cap.items.filter((i): i is HttpItem => streams.has(i.stream)).map((i) => `${i.request.method}|${i.request.url}`);
    assert.deepEqual(got.sort(), want.sort());
    // Frames are in time order and byte-identical to the capture's.
    const frames = tshark(all.path, 'frame', ['frame.time_epoch', 'frame.len']);
    const times = frames.map((l) => Number(l.split('|')[0]));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    keeper.close();
    assert.deepEqual(readdirSync(join(dir, 'packets')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HAR export of recorded HTTP traffic passes har-validator; DNS items are counted as skipped', async () => {
  const sc = await scenarioCapture();
  const cap = await captureItems(sc.file);
  const demo = await captureItems();
  const items = [...cap.items, ...demo.items];
  assert.ok(http(cap.items).length >= 8 && dns(items).length > 0);
  const dir = tmp();
  try {
    const r = await exportItems(items, 'har', join(dir, 'out.har'), undefined);
    assert.equal(r.items, http(items).length);
    assert.equal(r.skipped, dns(items).length);
    const har = JSON.parse(readFileSync(r.path, 'utf8'));
    await harValidator.har(har).catch((e: { errors?: unknown }) => assert.fail(`HAR invalid: ${JSON.stringify(e.errors ?? e)}`));
    assert.equal(har.log.entries.length, r.items);
    assert.match(har.log.comment, new RegExp(`${r.skipped} item\\(s\\).*${r.skipped} DNS`));
    const byId = new Map(http(items).map((i) => [i.id, i]));
    for (const e of har.log.entries) {
      const it = byId.get(e.comment.split(' ')[0])!;
      assert.ok(it, e.comment);
      assert.equal(e.request.method, it.request.method);
      assert.equal(new URL(e.request.url).pathname, new URL(it.request.path, 'http://x').pathname);
      assert.equal(e.response.status, (it.response as { status?: number }).status ?? 0);
      assert.equal(e.time, it.elapsedTime);
      assert.equal(Date.parse(e.startedDateTime), it.timestamp);
    }
    // The client's view agrees: every request the scenario made is there with its status.
    for (const x of sc.http) {
      assert.ok(har.log.entries.some((e: { request: { method: string; url: string }; response: { status: number } }) => e.request.method === x.method && e.request.url.endsWith(x.url) && e.response.status === x.status), `${x.method} ${x.url}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NDJSON export gives the stored items back, one per line', async () => {
  const cap = await captureItems();
  const dir = tmp();
  try {
    const store = new ItemStore({ maxItems: 1000, maxBytes: 8 << 20 });
    for (const it of cap.items) store.add(it);
    const r = await exportItems(store.iterate(), 'ndjson', join(dir, 'items.ndjson'));
    assert.equal(r.items, cap.items.length);
    const lines = readFileSync(r.path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => JSON.parse(l)), JSON.parse(JSON.stringify(cap.items)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad export requests get clear errors and leave no file behind', async () => {
  const cap = await captureItems();
  const dir = tmp();
  try {
    await assert.rejects(exportItems(cap.items, 'pcap', join(dir, 'x.pcap')), /pcap needs the packets/);
    await assert.rejects(exportItems(cap.items, 'csv' as 'har', join(dir, 'x.csv')), /unknown format "csv"/);
    await assert.rejects(exportItems(cap.items, 'har', join(dir, 'missing', 'x.har')), /folder .*missing does not exist/);
    // An item iterable that fails halfway: the target is not created, nothing partial stays.
    function* failing() {
      yield cap.items[1];
      throw new Error('store went away');
    }
    writeFileSync(join(dir, 'keep.ndjson'), 'old\n');
    await assert.rejects(exportItems(failing(), 'ndjson', join(dir, 'keep.ndjson')), /store went away/);
    assert.equal(readFileSync(join(dir, 'keep.ndjson'), 'utf8'), 'old\n', 'an existing file is not clobbered by a failed export');
    assert.deepEqual(readdirSync(dir).sort(), ['keep.ndjson']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the packet keeper stays under its byte bound by dropping the oldest streams whole', async () => {
  const cap = await captureItems();
  const dir = tmp();
  try {
    const maxBytes = 3 << 20;
    const k = new PacketKeeper({ maxBytes, dir });
    // The demo's packets over and over, as new streams each round (a long capture).
    const rounds = 150;
    for (let r = 0; r < rounds; r++) {
      for (const { stream, pkt } of cap.packets) k.add(`r${r}-${stream}`, pkt);
      const used = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
      assert.ok(used <= maxBytes, `round ${r}: ${used} bytes on disk`);
    }
    const st = k.stats();
    const streamsPerRound = new Set(cap.packets.map((p) => p.stream)).size;
    assert.ok(st.droppedStreams > 0 && st.streams > 0);
    assert.equal(st.streams + st.droppedStreams, rounds * streamsPerRound);
    // A kept stream is complete; a dropped one writes nothing.
    const last = `r${rounds - 1}-${cap.packets[0].stream}`;
    assert.equal(await k.write([last], join(base, `keeper-${process.pid}.pcap`)), cap.packets.filter((p) => p.stream === cap.packets[0].stream).length);
    assert.equal(k.has(`r0-${cap.packets[0].stream}`), false);
    assert.equal(await k.write([`r0-${cap.packets[0].stream}`], join(base, `keeper-${process.pid}.pcap`)), 0);
    // An export of everything kept while the capture goes on past the bound: what it started
    // with stays readable until it is done, then the bound holds again.
    const kept = Array.from({ length: rounds }, (_, r) => [...new Set(cap.packets.map((p) => `r${r}-${p.stream}`))]).flat().filter((s) => k.has(s));
    const before = k.stats().packets;
    const out = join(base, `keeper-all-${process.pid}.pcap`);
    const exporting = k.write(kept, out);
    for (let r = rounds; r < rounds + 100; r++) for (const { stream, pkt } of cap.packets) k.add(`r${r}-${stream}`, pkt);
    assert.equal(await exporting, before);
    assert.equal(tshark(out, 'frame', ['frame.number']).length, before);
    rmSync(out, { force: true });
    const used = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    assert.ok(used <= maxBytes, `${used} bytes on disk after the export`);
    k.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(base, `keeper-${process.pid}.pcap`), { force: true });
  }
});

test('the packet keeper writes full buffers in the background; exports wait for them and get every packet', async () => {
  const cap = await captureItems();
  const dir = tmp();
  const out = join(base, `keeper-bg-${process.pid}.pcap`);
  try {
    const k = new PacketKeeper({ maxBytes: 64 << 20, dir });
    const perRound = cap.packets.reduce((a, p) => a + p.pkt.caplen + 24, 0);
    const rounds = Math.ceil((3 << 20) / perRound);
    for (let r = 0; r < rounds; r++) {
      for (const { stream, pkt } of cap.packets) k.add(`r${r}-${stream}`, pkt);
      // The event loop turns between rounds, as in a capture: background writes complete.
      await new Promise<void>((res) => setImmediate(res));
    }
    const streams = Array.from({ length: rounds }, (_, r) => [...new Set(cap.packets.map((p) => `r${r}-${p.stream}`))]).flat();
    assert.ok(k.stats().bytes > 2 << 20, 'more than two write buffers were filled');
    // Exported right after the last add: a write may still be in flight.
    for (const { stream, pkt } of cap.packets) k.add(`last-${stream}`, pkt);
    const n = await k.write([...streams, ...new Set(cap.packets.map((p) => `last-${p.stream}`))], out);
    assert.equal(n, (rounds + 1) * cap.packets.length);
    assert.equal(tshark(out, 'frame', ['frame.number']).length, n);
    k.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { force: true });
  }
});
