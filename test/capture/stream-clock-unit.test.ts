// SweepClock (capture/stream/clock.ts): forward moves, the once-per-second sweep, lone outliers
// ignored, two agreeing outliers make a jump (either way), the JUMP_S boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JUMP_S, SweepClock } from '../../capture/stream/clock';

/** Feeds `secs` in order; returns what see() said for each and the clock after each. */
function run(c: SweepClock, secs: number[]): [boolean, number][] {
  return secs.map((s) => [c.see(s), c.now]);
}

test('clock: starts at -Infinity; the first packet sets it and asks for a sweep', () => {
  const c = new SweepClock();
  assert.equal(c.now, -Infinity);
  assert.equal(JUMP_S, 3600);
  assert.deepEqual(run(c, [5_000_000]), [[true, 5_000_000]]);
});

test('clock: one sweep per second of clock, never backwards', () => {
  const c = new SweepClock();
  assert.deepEqual(run(c, [100, 100, 100.5, 101, 99, 101, 102, 105, 104]), [
    [true, 100],
    [false, 100],
    [false, 100.5],
    [true, 101], // 101 - 100 = 1: due
    [false, 101], // slightly back (several CPUs): ignored
    [false, 101],
    [true, 102],
    [true, 105],
    [false, 105],
  ]);
});

test('clock: JUMP_S ahead or behind is still in range; one more is an outlier', () => {
  const c = new SweepClock();
  c.see(10_000);
  assert.deepEqual(run(c, [10_000 + JUMP_S]), [[true, 10_000 + JUMP_S]]);
  const d = new SweepClock();
  d.see(10_000);
  assert.deepEqual(run(d, [10_000 + JUMP_S + 1]), [[false, 10_000]]);
  const e = new SweepClock();
  e.see(10_000);
  e.see(10_001);
  // Behind by exactly JUMP_S: in range (no move); one more: an outlier. Both answer false, so
  // check with the packet after: an in-range one clears the candidate, an outlier is remembered.
  assert.deepEqual(run(e, [10_001 - JUMP_S, 10_001 - JUMP_S]), [
    [false, 10_001],
    [false, 10_001],
  ]);
  const f = new SweepClock();
  f.see(10_000);
  f.see(10_001);
  assert.deepEqual(run(f, [10_001 - JUMP_S - 1, 10_001 - JUMP_S - 1]), [
    [false, 10_001],
    [true, 10_001 - JUMP_S - 1], // two agreeing outliers: the clock stepped back
  ]);
});

test('clock: a lone outlier changes nothing, either way', () => {
  const c = new SweepClock();
  assert.deepEqual(run(c, [1000, 1000 + 365 * 86400, 1001, 1002]), [
    [true, 1000],
    [false, 1000],
    [true, 1001],
    [true, 1002],
  ]);
  const d = new SweepClock();
  assert.deepEqual(run(d, [100_000, 5, 100_001]), [
    [true, 100_000],
    [false, 100_000],
    [true, 100_001],
  ]);
});

test('clock: an in-range packet forgets the outlier candidate', () => {
  const c = new SweepClock();
  // 50_000, then 50_000 again after an in-range packet: still a lone outlier.
  assert.deepEqual(run(c, [100, 50_000, 101, 50_000, 102]), [
    [true, 100],
    [false, 100],
    [true, 101],
    [false, 101],
    [true, 102],
  ]);
});

test('clock: two agreeing outliers jump forward, and sweeping resumes at once', () => {
  const c = new SweepClock();
  assert.deepEqual(run(c, [100, 90_000, 90_000 + JUMP_S, 90_000 + JUMP_S, 90_001 + JUMP_S]), [
    [true, 100],
    [false, 100],
    [true, 90_000 + JUMP_S], // agrees (exactly JUMP_S after the candidate): jump, sweep due
    [false, 90_000 + JUMP_S],
    [true, 90_001 + JUMP_S],
  ]);
});

test('clock: a jump back sweeps at once even though the new time is below the last sweep', () => {
  const c = new SweepClock();
  assert.deepEqual(run(c, [100_000, 100, 100 - JUMP_S + 50, 101]), [
    [true, 100_000],
    [false, 100_000],
    [true, 100 - JUMP_S + 50], // within JUMP_S below the candidate: agrees; the last sweep is forgotten
    [true, 101], // 3551 s later: in range, forward, due
  ]);
});

test('clock: disagreeing outliers replace the candidate; the candidate is forgotten after a jump', () => {
  const c = new SweepClock();
  assert.deepEqual(run(c, [0, 10_000, 20_000, 20_000 + JUMP_S + 1, 20_000 + JUMP_S + 2]), [
    [true, 0],
    [false, 0],
    [false, 0], // 20_000 disagrees with 10_000: new candidate
    [false, 0], // just past JUMP_S from 20_000: another new candidate
    [true, 20_000 + JUMP_S + 2],
  ]);
  // After a jump to 13_600 (agreeing with the candidate 10_000), 6_400 agrees with the old
  // candidate but not with the clock: it must be a fresh outlier, not a second jump.
  const d = new SweepClock();
  assert.deepEqual(run(d, [0, 10_000, 10_000 + JUMP_S, 10_000 - JUMP_S]), [
    [true, 0],
    [false, 0],
    [true, 10_000 + JUMP_S],
    [false, 10_000 + JUMP_S],
  ]);
  // And the candidate's lower bound: exactly JUMP_S below it agrees, one more does not.
  const e = new SweepClock();
  assert.deepEqual(run(e, [0, 50_000, 50_000 - JUMP_S]), [
    [true, 0],
    [false, 0],
    [true, 50_000 - JUMP_S],
  ]);
  const f = new SweepClock();
  assert.deepEqual(run(f, [0, 50_000, 50_000 - JUMP_S - 1]), [
    [true, 0],
    [false, 0],
    [false, 0],
  ]);
});
