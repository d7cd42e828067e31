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
