// Live capture on lo through the real backends, with real traffic to our own port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { openSource, runPipeline } from '../../capture/pipeline';
import { CapSource, loadCap } from '../../capture/sources/cap';
import type { Item } from '../../capture/item/schema';
import { startHttpServer, httpScenario } from '../helpers/traffic';
import { startLiveCli } from '../helpers/capture';

/** Polls `cond` until it holds (at most 20 s: the assertion after it then says what is missing). */
async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
}

test('tcpdump backend: items, kernel timestamps, process names, numeric drop counters', async () => {
  const h = await startHttpServer();
  const src = await openSource({ interface: 'lo', filter: `tcp port ${h.port}` });
  assert.equal(src.name, 'local/lo');
  const items: Item[] = [];
  const ac = new AbortController();
  let packets = 0;
  const run = runPipeline(src, { item: (i) => void items.push(i), packet: () => void packets++ }, { signal: ac.signal });
  const sent = await httpScenario(h.port);
  // Wait for what is asserted (not a sleep): stopping then must not lose or add an item.
  await waitUntil(() => items.length >= sent.length);
  ac.abort();
  const stats = await run;
  await h.close();
  assert.equal(items.length, sent.length);
  assert.ok(packets > sent.length);
  assert.ok(stats.drops, 'drops are known with tcpdump');
  assert.equal(typeof stats.drops.kernel, 'number');
  assert.equal(typeof stats.drops.ifdrop, 'number');
  const i = items[0];
  assert.equal(i.worker, 'local/lo');
  assert.equal(i.dst.port, String(h.port));
  // Both ends are this test process.
  assert.equal(i.dst.processId, process.pid);
  assert.equal(i.src.processId, process.pid);
  assert.equal(i.src.processName, 'node');
  // Kernel timestamps: within a few seconds of now, with nanosecond digits.
  assert.ok(Math.abs(i.timestamp - Date.now()) < 60_000);
  assert.ok(items.some((x) => !x.startTime.endsWith('000Z')));
});

test('Ctrl-C on `wirehook items --interface lo` flushes items, prints stats, exits 0', async () => {
  const h = await startHttpServer();
  const live = await startLiveCli(['items', '-i', 'lo', '-f', `tcp port ${h.port}`, '--stats']);
  const sent = await httpScenario(h.port);
  const code = await live.interrupt();
  await h.close();
  const out = live.out();
  const err = live.err();
  assert.equal(code, 0, err);
  assert.equal(out.trim().split('\n').length, sent.length);
  assert.match(err, /^wirehook: drops: kernel=\d+ ifdrop=\d+$/m);
});

test('cap backend (fallback): packets arrive, drops are reported as unknown', { skip: !loadCap() && 'cap addon not built' }, async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = (sock.address() as { port: number }).port;
  const src = new CapSource(loadCap()!, 'lo', `udp port ${port}`);
  src.start();
  let packets = 0;
  const ac = new AbortController();
  const run = runPipeline(src, { packet: () => void packets++ }, { signal: ac.signal });
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => sock.send(Buffer.from('x'), port, '127.0.0.1', () => r()));
  await waitUntil(() => packets >= 20);
  ac.abort();
  const stats = await run;
  sock.close();
  assert.equal(packets, 20);
  assert.equal(stats.drops, null);
  assert.match(stats.notices.join('\n'), /drops are unknown/);
});
