// The fuzz suites' per-input deadline (fuzz-lib.ts) counts CPU time, not wall-clock time: an input
// that waits while the machine is busy elsewhere is not a blow-up; one that burns CPU is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkDeadline, cpuMsSince, startClock } from './fuzz-lib';

test('fuzz deadline: 400 ms of waiting (wall clock) is not charged against a 100 ms CPU deadline', async () => {
  const t0 = startClock();
  const w0 = performance.now();
  await sleep(400);
  assert.ok(performance.now() - w0 >= 390, 'the wall clock moved on');
  assert.ok(cpuMsSince(t0) < 100, `idle wait charged ${cpuMsSince(t0)} ms of CPU`);
  checkDeadline(t0, 'idle', 100); // does not throw
});

test('fuzz deadline: an input that burns more CPU than its deadline is reported', () => {
  const t0 = startClock();
  let x = 0;
  while (cpuMsSince(t0) <= 150) for (let i = 0; i < 10_000; i++) x = (x * 31 + i) | 0;
  assert.throws(() => checkDeadline(t0, 'busy', 100), /busy: one input took \d+ ms of CPU \(deadline 100 ms\)/);
  assert.doesNotThrow(() => checkDeadline(t0, 'busy')); // the real 5 s deadline is far off
  assert.equal(typeof x, 'number');
});
