// The idle-time warm-up (server/session/warmup.ts): it runs the real pipeline over the bundled
// capture, stops when asked, and a capture started while it runs gives the same items as one
// in a process that never warmed (no state leaks from the throwaway pipeline).
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WarmUp } from '../../server/session/warmup';
import { CaptureSession } from '../../server/session/session';
import { ItemStore } from '../../server/session/store';
import type { Item } from '../../capture/item/schema';

const DEMO = path.resolve('examples/captures/demo.pcap');
const turn = () => new Promise((r) => setImmediate(r));

async function capture(warm: boolean): Promise<{ items: Item[]; warmed: number }> {
  const items: Item[] = [];
  let ended!: () => void;
  const over = new Promise<void>((r) => (ended = r));
  const session = new CaptureSession(new ItemStore({ maxItems: 10_000, maxBytes: 64 << 20 }), null, {
    runtime: () => null, wantsPackets: () => false, item: (it) => items.push(it), batch: () => {}, state: () => {}, ended: () => ended(),
  });
  if (warm) {
    session.warm.start(DEMO);
    while (session.warm.items < 100) await turn();
  }
  await session.start({ pcap: DEMO });
  await over;
  return { items, warmed: session.warm.items };
}

test('warm-up: runs the pipeline over the demo capture and stops when cancelled', async () => {
  const w = new WarmUp();
  w.start(DEMO);
  while (w.items < 50) await turn();
  await w.cancel();
  const n = w.items;
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(w.items, n, 'no item after cancel() resolved');
  w.start(DEMO); // once only: a second start after cancel does nothing
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(w.items, n);
});

test('warm-up: a missing file or WIREHOOK_WARMUP=0 makes it a no-op', async () => {
  const a = new WarmUp();
  a.start(null);
  await a.cancel();
  assert.equal(a.items, 0);
  process.env.WIREHOOK_WARMUP = '0';
  try {
    const b = new WarmUp();
    b.start(DEMO);
    for (let i = 0; i < 20; i++) await turn();
    await b.cancel();
    assert.equal(b.items, 0);
  } finally {
    delete process.env.WIREHOOK_WARMUP;
  }
});

test('warm-up: a capture started while warming cancels it and gets the same items as without', async () => {
  const cold = await capture(false);
  const warmed = await capture(true);
  assert.ok(warmed.warmed >= 100);
  assert.ok(cold.items.length > 20);
  // Stream numbers (and so ids and entry files) go on across sessions by design; the rest is equal.
  const strip = (its: Item[]) => its.map((it) => JSON.stringify({ ...it, id: undefined, stream: undefined, entryFile: undefined }));
  assert.deepEqual(strip(warmed.items), strip(cold.items));
  const ids = new Set(cold.items.map((i) => i.id));
  assert.ok(warmed.items.every((it) => !ids.has(it.id)), 'ids never repeat across sessions');
});
