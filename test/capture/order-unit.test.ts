/**
 * capture/stream/order.ts, case by case, from the survivors of its whole mutation run
 * (docs/reliability.md): items go out as soon as nothing earlier is owed (the model test checks
 * they never go out too early), time comparisons on seconds and nanoseconds at their
 * boundaries, and the marks heap's rebuild keeping the earliest live mark on top.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderBuffer } from '../../capture/stream/order';

function setup() {
  const out: string[] = [];
  const rb = new ReorderBuffer<string>((s) => void out.push(s));
  return { out, rb };
}

test('push: with nothing held, an item at or before the earliest owed request goes out at once', () => {
  const { out, rb } = setup();
  rb.setPending(1, 12, 0);
  rb.push('a second earlier', 11, 0);
  assert.deepEqual(out, ['a second earlier'], 'earlier second, later nanoseconds would not matter');
  rb.setPending(1, 10, 500);
  rb.push('same instant', 10, 500);
  assert.deepEqual(out, ['a second earlier', 'same instant'], 'a request owed at the same instant does not hold it');
  rb.push('after', 10, 501);
  assert.deepEqual(out, ['a second earlier', 'same instant'], 'one nanosecond after the owed request: held');
  assert.equal(rb.held, 1);
});

test('push: once something is held, a new item waits for release() even when nothing is owed', () => {
  const { out, rb } = setup();
  rb.setPending(1, 10, 0);
  rb.push('A', 11, 0);
  rb.setPending(1, null);
  rb.push('B', 12, 0);
  assert.deepEqual(out, [], 'B must not overtake the held A');
  rb.release(12);
  assert.deepEqual(out, ['A', 'B']);
});

test('release: an owed request holds only what comes after it, to the nanosecond', () => {
  const { out, rb } = setup();
  rb.setPending(1, 10, 900);
  rb.push('held', 10, 950);
  rb.push('same second, earlier', 10, 100);
  rb.push('same instant', 10, 900);
  rb.release(10);
  assert.deepEqual(out, ['same second, earlier', 'same instant'], 'before and at the owed instant go; after it waits');
  assert.equal(rb.held, 1);
});

test('release: an owed request a second later does not hold an item with larger nanoseconds', () => {
  const { out, rb } = setup();
  rb.setPending(1, 11, 0);
  rb.push('held', 11, 5);
  rb.push('earlier second', 10, 999_999_000);
  rb.release(11);
  assert.deepEqual(out, ['earlier second']);
});

test('release: held items go out by time, nanoseconds before push order', () => {
  const { out, rb } = setup();
  rb.setPending(1, 5, 0);
  rb.push('10.900', 10, 900);
  rb.push('10.100', 10, 100);
  rb.push('9.999', 9, 999);
  rb.push('10.100 again', 10, 100);
  rb.flush();
  assert.deepEqual(out, ['9.999', '10.100', '10.100 again', '10.900']);
});

test('marks: the rebuild of a heap of superseded marks keeps the earliest live one on top', () => {
  const { out, rb } = setup();
  // Insertion order 1, 2, 3 with the latest owed first: the rebuilt array needs its root fixed.
  rb.setPending(1, 50, 0);
  rb.setPending(2, 20, 0);
  let rebuilt = false;
  for (let k = 0; k < 5000 && !rebuilt; k++) {
    const before = rb.marksHeld;
    rb.setPending(3, 30, 0); // superseded marks accumulate until the heap is rebuilt
    rebuilt = rb.marksHeld < before;
  }
  assert.ok(rebuilt && rb.marksHeld === 3, `the heap was rebuilt from the 3 live marks (marks held ${rb.marksHeld})`);
  rb.push('at 25', 25, 0);
  assert.deepEqual(out, [], 'stream 2 still owes t=20');
  rb.setPending(2, null);
  rb.release(25);
  assert.deepEqual(out, ['at 25'], 'stream 3 owes t=30, after it');
  rb.push('at 40', 40, 0);
  rb.release(40);
  assert.deepEqual(out, ['at 25'], 'held for stream 3 (t=30)');
  rb.setPending(3, null);
  rb.release(40);
  assert.deepEqual(out, ['at 25', 'at 40'], 'stream 1 owes t=50, after it');
});
