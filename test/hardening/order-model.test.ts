/**
 * Model-based property test of the request-order release (capture/stream/order.ts), written
 * after mutation testing showed its tie-breaks and bounds untested by the pipeline tests.
 * Random operation sequences (streams owing/clearing earlier requests, items pushed, releases at
 * a capture time, a final flush) are checked against what the release promises.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_HELD, MAX_WAIT_S, ReorderBuffer } from '../../capture/stream/order';
import { params } from './fuzz-lib';

type Op =
  | { k: 'pending'; id: number; sec: number | null; nsec: number }
  | { k: 'push'; sec: number; nsec: number }
  | { k: 'release'; now: number };

// Few distinct times, so ties on seconds and on nanoseconds are common.
const sec = fc.integer({ min: 100, max: 104 });
const nsec = fc.constantFrom(0, 1, 500, 999_999_999);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('pending' as const), id: fc.integer({ min: 1, max: 4 }), sec: fc.option(sec, { nil: null, freq: 3 }), nsec }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('push' as const), sec, nsec }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('release' as const), now: fc.integer({ min: 100, max: 120 }) }) },
);

interface It { n: number; sec: number; nsec: number }
const before = (a: { sec: number; nsec: number }, b: { sec: number; nsec: number }) => a.sec < b.sec || (a.sec === b.sec && a.nsec < b.nsec);

test('reorder: every item out once; never ahead of an earlier owed request; ties in push order; old items not held', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const out: It[] = [];
      const owed = new Map<number, { sec: number; nsec: number }>();
      let bounded = false; // a release at a time ≥ MAX_WAIT_S past an item may let it overtake
      const rb = new ReorderBuffer<It>((it) => {
        if (!bounded) for (const p of owed.values()) assert.ok(!before(p, it), `item ${it.n} at ${it.sec}.${it.nsec} went out while a request at ${p.sec}.${p.nsec} was owed`);
        out.push(it);
      });
      const pushed: It[] = [];
      for (const o of ops) {
        if (o.k === 'pending') {
          if (o.sec === null) owed.delete(o.id);
          else owed.set(o.id, { sec: o.sec, nsec: o.nsec });
          rb.setPending(o.id, o.sec, o.nsec);
        } else if (o.k === 'push') {
          const it = { n: pushed.length, sec: o.sec, nsec: o.nsec };
          pushed.push(it);
          bounded = false;
          assert.equal(rb.push(it, o.sec, o.nsec), true);
        } else {
          bounded = pushed.some((it) => !out.includes(it) && o.now - it.sec >= MAX_WAIT_S);
          assert.equal(rb.release(o.now), true);
          // Nothing MAX_WAIT_S of capture time old stays held.
          for (const it of pushed) if (o.now - it.sec >= MAX_WAIT_S) assert.ok(out.includes(it), `item ${it.n} (${it.sec}) held at ${o.now}`);
          bounded = false;
        }
        assert.equal(rb.held, pushed.length - out.length);
      }
      bounded = true;
      assert.equal(rb.flush(), true);
      assert.deepEqual([...out].sort((a, b) => a.n - b.n), pushed, 'every item out exactly once');
      assert.equal(rb.held, 0);
      // An item pushed earlier with a time not after a later one's goes out first (ties in push order).
      const pos = new Map(out.map((it, i) => [it.n, i]));
      for (const a of pushed) for (const b of pushed) if (a.n < b.n && !before(b, a)) assert.ok(pos.get(a.n)! < pos.get(b.n)!, `item ${a.n} (${a.sec}.${a.nsec}) after item ${b.n} (${b.sec}.${b.nsec})`);
    }),
    params(400),
  );
});

test('reorder: a stuck stream holds at most MAX_HELD items; the rest go out in order', () => {
  const out: number[] = [];
  const rb = new ReorderBuffer<number>((n) => void out.push(n));
  rb.setPending(1, 100, 0);
  for (let i = 0; i <= MAX_HELD; i++) rb.push(i, 100, i + 1);
  rb.release(100);
  assert.equal(rb.held, MAX_HELD);
  assert.deepEqual(out, [0]);
  rb.flush();
  assert.equal(out.length, MAX_HELD + 1);
  out.forEach((n, i) => assert.equal(n, i));
});

test('reorder: a consumer that says stop ends push, release and flush', () => {
  let left = 2;
  const rb = new ReorderBuffer<number>(() => --left > 0);
  assert.equal(rb.push(1, 1, 0), true);
  assert.equal(rb.push(2, 1, 0), false, 'the second item out is refused');
  rb.setPending(7, 5, 0);
  left = 1;
  rb.push(3, 6, 0);
  assert.equal(rb.release(6), true, 'still owed: nothing released');
  assert.equal(rb.flush(), false);
});
