// Item store: 1M real-shaped items (the pipeline's items from a real capture, cloned with new
// ids, ports and times) through ItemStore with the default bounds (DEFAULT_SETTINGS: 100k
// items, 128 MB, spill on): time per add, observed-values cost per item, the process's RSS
// after, first and cached query time over the 100k stored, get time. `--big` adds a phase with
// 24 KB body previews (most of the store then lives in the spill file).
//
// RSS is what the server would have, so the measuring process runs this file bundled with
// esbuild (as the server is), not under tsx (whose transpiler alone adds ~60 MB).
//   npm run bench -- store [--big] [--pcap FILE] [--items N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { openSource, runPipeline } from '../capture/pipeline';
import type { Item } from '../capture/item/schema';
import { compileQuery } from '../server/kfl/index';
import { DEFAULT_SETTINGS } from '../server/protocol';
import { ItemStore } from '../server/session/store';
import { StoreObserved } from '../server/session/store-observed';
import { preview } from '../server/session/preview';
import { PacketKeeper } from '../server/session/packets';
import type { RawPacket } from '../capture/types';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const DATA = resolve('bench', '.data');

async function parent(): Promise<void> {
  const { build } = await import('esbuild');
  mkdirSync(DATA, { recursive: true });
  const out = resolve(DATA, 'store-bench.cjs');
  await build({ entryPoints: [resolve('bench', 'store.bench.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', external: ['esbuild', 'cap', 'quickjs-emscripten', '@jitl/*'] });
  const r = spawnSync(process.execPath, ['--expose-gc', out, '--child', ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const mb = (n: number) => (n / 1048576).toFixed(0);
const rss = () => process.memoryUsage().rss;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function templates(file: string): Promise<{ items: Item[]; packets: { stream: string; pkt: RawPacket }[] }> {
  const items: Item[] = [];
  const packets: { stream: string; pkt: RawPacket }[] = [];
  await runPipeline(await openSource({ pcap: file }), {
    item: (i) => void items.push(i),
    streamPacket: (stream, pkt) => void packets.push({ stream, pkt: { ...pkt, data: Buffer.from(pkt.data), buf: undefined } }),
  });
  if (items.length === 0) throw new Error(`${file}: no items`);
  return { items, packets };
}

/** PacketKeeper: µs per packet kept, and a pcap export of 1000 streams. */
async function packetPhase(packets: { stream: string; pkt: RawPacket }[]): Promise<void> {
  const dir = resolve(DATA, `packets-${process.pid}`);
  const keeper = new PacketKeeper({ maxBytes: 256 << 20, dir });
  try {
    const ROUNDS = 3000;
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) for (const { stream, pkt } of packets) keeper.add(`${r}-${stream}`, pkt);
    const n = ROUNDS * packets.length;
    const us = ((performance.now() - t0) * 1000) / n;
    const st = keeper.stats();
    const names = Array.from({ length: 1000 }, (_, i) => `${ROUNDS - 1 - (i % 40)}-${packets[i % packets.length].stream}`);
    const t1 = performance.now();
    const written = await keeper.write(names, resolve(DATA, `export-${process.pid}.pcap`));
    console.log(`packets: ${n} kept at ${us.toFixed(2)} µs/packet (${mb(st.bytes)} MB on disk, ${st.streams} streams); pcap export of ${written} packets in ${(performance.now() - t1).toFixed(0)} ms`);
  } finally {
    keeper.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(resolve(DATA, `export-${process.pid}.pcap`), { force: true });
  }
}

/** Adds n clones of the templates (new id, client port and time each), returns wall and CPU µs per add. */
function fill(store: ItemStore, tpl: Item[], n: number, tag: string): string {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t = tpl[i % tpl.length];
    const id = t.id, port = t.src.port, ts = t.timestamp;
    t.id = `${tag}/${i}`;
    t.src.port = String(30000 + (i % 30000));
    t.timestamp = ts + i;
    store.add(t);
    t.id = id;
    t.src.port = port;
    t.timestamp = ts;
  }
  const c = process.cpuUsage(c0);
  return `${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs/item (CPU ${((c.user + c.system) / n).toFixed(2)})`;
}

function time<T>(f: () => T): [T, number, number] {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, performance.now() - t0, (c.user + c.system) / 1000];
}

const QUERIES = ['http and response.status == 200', 'path.contains("users") || status_code >= 500', 'dns and response.code != "No Error"'];

function queries(store: ItemStore, label: string): void {
  for (const q of QUERIES) {
    const c = compileQuery(q, 'auto');
    const [r, first, firstCpu] = time(() => store.query(c.match, 0, 100));
    const [, page] = time(() => store.query(c.match, Math.floor(r.total / 2), 100));
    const [, newest] = time(() => store.newest(c.match, 100));
    console.log(`${label} query ${c.language.padEnd(4)} ${JSON.stringify(q).padEnd(62)} ${String(r.total).padStart(6)} matches: first ${first.toFixed(0)} ms (CPU ${firstCpu.toFixed(0)}), next page ${page.toFixed(2)} ms, newest(100) ${newest.toFixed(2)} ms`);
  }
}

function gets(store: ItemStore, tag: string, from: number, to: number): number {
  const K = 5000;
  let found = 0;
  const t0 = performance.now();
  for (let k = 0; k < K; k++) if (store.get(`${tag}/${from + Math.floor(((k * 7919) % K) * ((to - from) / K))}`)) found++;
  const us = ((performance.now() - t0) * 1000) / K;
  if (found !== K) throw new Error(`get: found ${found} of ${K}`);
  return us;
}

async function child(): Promise<void> {
  const file = opt('--pcap', resolve('examples', 'captures', 'demo.pcap'));
  const N = Number(opt('--items', '1000000'));
  const { items: tpl, packets } = await templates(file);
  const jsonBytes = tpl.reduce((a, t) => a + JSON.stringify(t).length, 0) / tpl.length;
  gc();
  const base = rss();
  console.log(`${tpl.length} template items from ${file} (mean ${jsonBytes.toFixed(0)} B as JSON); baseline RSS ${mb(base)} MB`);

  // Observed values alone, per item.
  const obs = new StoreObserved(() => []);
  const OBS = 200_000;
  const [, obsMs] = time(() => {
    for (let i = 0; i < OBS; i++) obs.observe(tpl[i % tpl.length]);
  });
  const [, prevMs] = time(() => {
    for (let i = 0; i < OBS; i++) preview(tpl[i % tpl.length]);
  });
  console.log(`observe: ${((obsMs * 1000) / OBS).toFixed(2)} µs/item; preview: ${((prevMs * 1000) / OBS).toFixed(2)} µs/item`);

  const spillDir = resolve(DATA, `spill-${process.pid}`);
  rmSync(spillDir, { recursive: true, force: true });
  const store = new ItemStore({ maxItems: DEFAULT_SETTINGS.maxItems, maxBytes: DEFAULT_SETTINGS.maxStoreMB * 1048576, spillDir });
  try {
    const us = fill(store, tpl, N, 'a');
    const after = rss();
    gc();
    const st = store.stats();
    console.log(`add ${N} items: ${us}; stored ${st.stored}, evicted ${st.evicted}, memory ${mb(st.memBytes)} MB + spill ${mb(st.spillBytes)} MB`);
    const mu = process.memoryUsage();
    if (args.includes('--proc')) console.log(require('node:fs').readFileSync('/proc/self/status', 'utf8').split('\n').filter((l: string) => /^Rss/.test(l)).join('; '));
    console.log(`RSS after ${N} items: ${mb(after)} MB (after GC ${mb(rss())} MB; V8 heap ${mb(mu.heapUsed)} MB used of ${mb(mu.heapTotal)} MB, buffers ${mb(mu.arrayBuffers)} MB)`);
    queries(store, 'small');
    console.log(`get: ${gets(store, 'a', N - st.stored, N).toFixed(1)} µs (random stored ids, memory and spill)`);
    const [all, iterMs] = time(() => {
      let n = 0;
      for (const _ of store.iterate()) n++;
      return n;
    });
    console.log(`iterate: ${all} items in ${iterMs.toFixed(0)} ms; RSS now ${mb(rss())} MB`);

    await packetPhase(packets);

    if (args.includes('--big')) {
      store.clear();
      const body = Buffer.alloc(18 * 1024, 'wirehook body preview ').toString('base64');
      const big = tpl.map((t) => {
        const c = JSON.parse(JSON.stringify(t)) as Item;
        c.protocol = t.protocol;
        const res = c.response as { content?: { text?: string } };
        if (res.content) res.content.text = body;
        return c;
      });
      const BN = Math.min(N, 150_000);
      const bus = fill(store, big, BN, 'b');
      const bst = store.stats();
      console.log(`big: add ${BN} items (~${mb(bst.bytes / bst.stored * 1048576 / 1024)} KB each): ${bus}; memory ${mb(bst.memBytes)} MB + spill ${mb(bst.spillBytes)} MB; RSS ${mb(rss())} MB`);
      queries(store, 'big');
      console.log(`big get: ${gets(store, 'b', BN - bst.stored, BN).toFixed(1)} µs`);
    }
  } finally {
    store.clear();
    rmSync(spillDir, { recursive: true, force: true });
  }
}

if (args.includes('--child')) child().catch((e) => { console.error(e); process.exit(1); });
else parent().catch((e) => { console.error(e); process.exit(1); });
