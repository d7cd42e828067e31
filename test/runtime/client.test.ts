/**
 * The worker path (RuntimeClient → runtime thread): items are projected on the capture thread
 * to the union of what the scripts read and sent as JSON; every script must still see exactly
 * its fields, kfl.match the whole item. Hot reload and load errors through the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeClient } from '../../server/runtime/client';
import { ScriptLoadError } from '../../server/runtime/errors';
import type { RuntimeEvent } from '../../server/runtime/types';
import { itemsOf, scenarioPcap, tmpName } from './fixture';
import { harness } from './harness';

const SCRIPTS: Record<string, string> = {
  'a.js': 'function onItemCaptured(d) { console.log(d.protocol.name, d.src.port); }',
  'b.js': 'function onItemCaptured(data) { var r = data.response; console.log(r.status === undefined ? r.code : r.status, data.elapsedTime); }',
};
const KFL = 'function onItemCaptured(d) { console.log(d.index, kfl.match("http and request.headers[\\"User-Agent\\"] != \\"\\"", d)); }';

async function viaWorker(scripts: Record<string, string>, items: unknown[]): Promise<RuntimeEvent[]> {
  const c = await RuntimeClient.start({ filesDir: tmpName('client-files') });
  const events: RuntimeEvent[] = [];
  c.onEvent = (e) => events.push(e);
  for (const [f, s] of Object.entries(scripts)) await c.load(f, s);
  for (const it of items) c.captured(it as never);
  await c.drain();
  await c.close();
  return events;
}

const logsOf = (ev: RuntimeEvent[], f: string) => ev.flatMap((e) => (e.type === 'log' && e.script === f ? [e.text] : []));

test('through the worker each script sees what it sees in-thread (union projection, kfl on whole items)', async () => {
  const { file } = await scenarioPcap();
  const items = itemsOf(file);
  for (const set of [SCRIPTS, { ...SCRIPTS, 'k.js': KFL }]) {
    const ev = await viaWorker(set, items);
    const h = await harness();
    for (const [f, s] of Object.entries(set)) h.rt.load(f, s);
    h.rt.captured(items);
    for (const f of Object.keys(set)) {
      assert.equal(logsOf(ev, f).length, items.length, f);
      assert.deepEqual(logsOf(ev, f), h.logs(f), f);
    }
    assert.deepEqual(ev.filter((e) => e.type === 'error'), []);
    h.rt.close();
  }
});

test('hot reload through the worker: a broken version is rejected with FILE:LINE:COL and the old one keeps running', async () => {
  const c = await RuntimeClient.start({ filesDir: tmpName('client-files') });
  const events: RuntimeEvent[] = [];
  c.onEvent = (e) => events.push(e);
  const { file } = await scenarioPcap();
  const [item] = itemsOf(file);
  await c.load('r.js', 'function onItemCaptured(d) { console.log("v1", d.index); }');
  await assert.rejects(c.load('r.js', 'function onItemCaptured(d) {\n  console.log("v2" d);\n}'), (e: unknown) => e instanceof ScriptLoadError && /^r\.js:2:\d+: SyntaxError: /.test(e.message));
  c.captured(item);
  await c.drain();
  const r = await c.load('r.js', '// Version 3\nfunction onItemCaptured(d) { console.log("v3", d.index); }');
  assert.equal(r.title, 'Version 3');
  c.captured(item);
  await c.drain();
  await c.close();
  assert.deepEqual(logsOf(events, 'r.js'), [`v1 ${item.index}`, `v3 ${item.index}`]);
});

test('atomic reload: items captured during the load round trip reach the new version with the fields it reads', async () => {
  const { file } = await scenarioPcap();
  const items = itemsOf(file).slice(0, 5);
  const versions = [
    'function onItemCaptured(d) { console.log("v2", d.src.ip, d.dst.port); }',
    // A hook reassigned at top level: the fields of the final function count.
    'function onItemCaptured(d) { console.log("unused", d.protocol.name); }\nonItemCaptured = function (d) { console.log("v2", d.src.ip, d.dst.port); };',
  ];
  for (const v2 of versions) {
    const c = await RuntimeClient.start({ filesDir: tmpName('client-files') });
    const events: RuntimeEvent[] = [];
    c.onEvent = (e) => events.push(e);
    await c.load('r.js', 'function onItemCaptured(d) { console.log("v1", d.protocol.name); }');
    const loading = c.load('r.js', v2);
    for (const it of items) c.captured(it);
    await loading;
    await c.drain();
    await c.close();
    assert.deepEqual(logsOf(events, 'r.js'), items.map((it) => `v2 ${it.src.ip} ${it.dst.port}`), v2);
  }
});

test('replay through the worker: only that script, events marked, in batches; stats per hook', async () => {
  const { file } = await scenarioPcap();
  const base = itemsOf(file);
  const items = Array.from({ length: 700 }, (_, i) => base[i % base.length]);
  const c = await RuntimeClient.start({ filesDir: tmpName('client-files'), batchSize: 256 });
  const events: RuntimeEvent[] = [];
  c.onEvent = (e) => events.push(e);
  await c.load('a.js', 'function onItemCaptured(d) { console.log(d.protocol.name, kfl.match("http", d)); }');
  await c.load('b.js', 'function onItemCaptured(d) { console.log("b"); }');
  const r = await c.replay('a.js', items);
  assert.equal(r.items, 700);
  await c.drain();
  const logs = events.filter((e) => e.type === 'log');
  assert.equal(logs.length, 700);
  assert.ok(logs.every((e) => e.type === 'log' && e.script === 'a.js' && e.replay === true && e.line === 1 && e.col === 30));
  assert.deepEqual(logs.map((e) => (e as { text: string }).text), items.map((it) => `${it.protocol.name} ${it.protocol.name === 'http'}`));
  assert.deepEqual(await c.replay('missing.js', items), { items: 0 });
  const st = await c.stats();
  assert.equal(st.items, 0);
  const a = st.scripts.find((s) => s.file === 'a.js')!;
  assert.deepEqual(a.hooks.map((h) => [h.name, h.line, h.calls, h.errors]), [['onItemCaptured', 1, 700, 0]]);
  await c.close();
});

test('worker death: waiting and later calls reject with the reason, onExit is called once', async () => {
  const { file } = await scenarioPcap();
  const items = itemsOf(file);
  const c = await RuntimeClient.start({ filesDir: tmpName('client-files'), batchSize: 4 });
  const exits: Error[] = [];
  c.onExit = (e) => exits.push(e);
  await c.load('slow.js', 'function onItemCaptured(d) { var t = Date.now(); while (Date.now() - t < 5) {} }');
  for (let i = 0; i < 40; i++) c.captured(items[i % items.length]);
  const flushed = c.flush(); // 10 batches in flight: waits for the worker
  assert.ok(flushed instanceof Promise);
  const drained = c.drain();
  await (c as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
  await assert.rejects(flushed, /runtime worker exited/);
  await assert.rejects(drained, /runtime worker exited/);
  await assert.rejects(c.drain(), /runtime worker exited/);
  await assert.rejects(Promise.resolve(c.flush()), /runtime worker exited/);
  await assert.rejects(c.load('x.js', ''), /runtime worker exited/);
  assert.equal(exits.length, 1);
  assert.match(exits[0].message, /runtime worker exited \(code \d+\)/);
  await c.close();
});
