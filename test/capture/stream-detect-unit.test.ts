// TcpDetector (capture/stream/detect.ts): candidates in order, true / false / 'maybe' / a
// throwing detector, the per-direction DETECT_BYTES cap, what each detector is shown, reset().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETECT_BYTES, TcpDetector } from '../../capture/stream/detect';
import type { Direction, Dissector, FlowAddr } from '../../capture/types';

const FLOW: FlowAddr = { srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 80, transport: 'tcp' };
const TS = { sec: 7, nsec: 8 };

type Answer = boolean | 'maybe' | 'throw';
/** A TCP dissector answering by `f`, recording every `first` it is shown (as latin1). */
function cand(name: string, f: (first: Buffer, dir: Direction) => Answer, log: string[] = [], tcp = true): Dissector {
  return {
    name,
    priority: 0,
    detect(first, dir, flow) {
      assert.equal(flow, FLOW);
      log.push(`${name}${dir}:${first.toString('latin1')}`);
      const r = f(first, dir);
      if (r === 'throw') throw new Error('detector bug');
      return r;
    },
    ...(tcp ? { tcp: () => ({ data() {}, gap() {}, end() {} }) } : {}),
  };
}

test('detect: DETECT_BYTES is 4 KiB', () => {
  assert.equal(DETECT_BYTES, 4096);
});

test('detect: no TCP-capable candidate: ignore at once, nothing kept', () => {
  const log: string[] = [];
  const det = new TcpDetector([cand('u', () => true, log, false)]);
  assert.equal(det.feed(0, Buffer.from('x'), TS, FLOW), 'ignore');
  assert.equal(det.chunks.length, 0);
  assert.deepEqual(log, []);
  assert.equal(new TcpDetector([]).feed(0, Buffer.from('x'), TS, FLOW), 'ignore');
});

test('detect: the first true in candidate order claims; false drops; later ones are not asked', () => {
  const log: string[] = [];
  const a = cand('a', () => false, log);
  const b = cand('b', () => true, log);
  const c = cand('c', () => true, log);
  const det = new TcpDetector([a, b, c]);
  assert.equal(det.feed(0, Buffer.from('GET'), TS, FLOW), b);
  assert.deepEqual(log, ['a0:GET', 'b0:GET']);
});

test('detect: maybe waits for more bytes; the candidate sees the whole direction so far', () => {
  const log: string[] = [];
  const a = cand('a', (f) => (f.length < 6 ? 'maybe' : f.toString() === 'abcdef'), log);
  const det = new TcpDetector([a]);
  assert.equal(det.feed(0, Buffer.from('abc'), TS, FLOW), null);
  assert.equal(det.feed(1, Buffer.from('XY'), { sec: 9, nsec: 1 }, FLOW), null);
  assert.equal(det.feed(0, Buffer.from('def'), TS, FLOW), a);
  assert.deepEqual(log, ['a0:abc', 'a1:XY', 'a0:abcdef']);
  assert.deepEqual(
    det.chunks.map((c) => [c.dir, c.data.toString(), c.ts]),
    [
      [0, 'abc', TS],
      [1, 'XY', { sec: 9, nsec: 1 }],
      [0, 'def', TS],
    ],
  );
});

test('detect: once every candidate declined: ignore, and later feeds keep nothing', () => {
  const log: string[] = [];
  const det = new TcpDetector([cand('a', () => 'maybe', log), cand('b', () => false, log)]);
  assert.equal(det.feed(0, Buffer.from('1'), TS, FLOW), null);
  assert.deepEqual(log, ['a0:1', 'b0:1']);
  const det2 = new TcpDetector([cand('a', () => false), cand('b', () => false)]);
  assert.equal(det2.feed(0, Buffer.from('1'), TS, FLOW), 'ignore');
  assert.equal(det2.feed(0, Buffer.from('2'), TS, FLOW), 'ignore');
  assert.equal(det2.chunks.length, 1);
  // Only the 'maybe' one is asked again.
  log.length = 0;
  assert.equal(det.feed(0, Buffer.from('2'), TS, FLOW), null);
  assert.deepEqual(log, ['a0:12']);
});

test('detect: a throwing detector declines; the next candidate still gets its turn', () => {
  const log: string[] = [];
  const b = cand('b', () => true, log);
  const det = new TcpDetector([cand('a', () => 'throw', log), b]);
  assert.equal(det.feed(0, Buffer.from('z'), TS, FLOW), b);
  const only = new TcpDetector([cand('a', () => 'throw')]);
  assert.equal(only.feed(0, Buffer.from('z'), TS, FLOW), 'ignore');
});

test('detect: chunks are copies (the source buffer is reused by the reader)', () => {
  const det = new TcpDetector([cand('a', () => 'maybe')]);
  const src = Buffer.from('hello');
  const ts = { sec: 1, nsec: 2 };
  det.feed(0, src, ts, FLOW);
  src.fill(0);
  ts.sec = 99;
  assert.equal(det.chunks[0].data.toString(), 'hello');
  assert.deepEqual(det.chunks[0].ts, { sec: 1, nsec: 2 });
});

test('detect: a lone chunk is shown as is (no copy); several are joined', () => {
  const shown: Buffer[] = [];
  const det = new TcpDetector([cand('a', (f) => (shown.push(f), 'maybe'))]);
  det.feed(0, Buffer.from('ab'), TS, FLOW);
  assert.equal(shown[0], det.chunks[0].data);
  det.feed(0, Buffer.from('cd'), TS, FLOW);
  assert.equal(shown[1].toString(), 'abcd');
});

test('detect: at DETECT_BYTES in a direction maybe counts as no; one byte less still waits', () => {
  const justUnder = new TcpDetector([cand('a', () => 'maybe')]);
  assert.equal(justUnder.feed(0, Buffer.alloc(DETECT_BYTES - 1, 0x41), TS, FLOW), null);
  const at = new TcpDetector([cand('a', () => 'maybe')]);
  assert.equal(at.feed(0, Buffer.alloc(DETECT_BYTES - 1, 0x41), TS, FLOW), null);
  assert.equal(at.feed(0, Buffer.from('B'), TS, FLOW), 'ignore');
  // A claim at the cap still claims.
  const a = cand('a', (f) => f.length >= DETECT_BYTES);
  assert.equal(new TcpDetector([a]).feed(0, Buffer.alloc(DETECT_BYTES), TS, FLOW), a);
});

test('detect: the cap is per direction', () => {
  const det = new TcpDetector([cand('a', () => 'maybe')]);
  assert.equal(det.feed(0, Buffer.alloc(DETECT_BYTES - 100), TS, FLOW), null);
  assert.equal(det.feed(1, Buffer.alloc(DETECT_BYTES - 100), TS, FLOW), null);
  assert.equal(det.feed(1, Buffer.alloc(99), TS, FLOW), null);
  assert.equal(det.feed(0, Buffer.alloc(100), TS, FLOW), 'ignore');
});

test('detect: a candidate is shown at most DETECT_BYTES of its direction, from the start', () => {
  const shown: string[] = [];
  const det = new TcpDetector([cand('a', (f) => (shown.push(f.toString('latin1')), 'maybe'))]);
  det.feed(0, Buffer.alloc(3000, 0x61), TS, FLOW);
  det.feed(1, Buffer.alloc(50, 0x7a), TS, FLOW);
  det.feed(0, Buffer.alloc(3000, 0x62), TS, FLOW);
  assert.equal(shown[2].length, DETECT_BYTES);
  assert.equal(shown[2], 'a'.repeat(3000) + 'b'.repeat(DETECT_BYTES - 3000));
  // A single chunk over the cap is cut too.
  const shown2: number[] = [];
  new TcpDetector([cand('a', (f) => (shown2.push(f.length), 'maybe'))]).feed(1, Buffer.alloc(5000), TS, FLOW);
  assert.deepEqual(shown2, [DETECT_BYTES]);
});

test('detect: reset() forgets the bytes and chunks (loss while detecting)', () => {
  const shown: string[] = [];
  const det = new TcpDetector([cand('a', (f) => (shown.push(f.toString('latin1')), 'maybe'))]);
  det.feed(0, Buffer.alloc(DETECT_BYTES - 10, 0x61), TS, FLOW);
  det.reset();
  assert.equal(det.chunks.length, 0);
  assert.equal(det.feed(0, Buffer.from('after'), TS, FLOW), null); // 4096 - 10 + 5 < cap again
  assert.equal(shown[1], 'after');
  assert.equal(det.feed(0, Buffer.alloc(DETECT_BYTES - 6), TS, FLOW), null);
  assert.equal(det.feed(0, Buffer.alloc(1), TS, FLOW), 'ignore');
  // Both directions are forgotten.
  const det2 = new TcpDetector([cand('a', () => 'maybe')]);
  det2.feed(1, Buffer.alloc(DETECT_BYTES - 1), TS, FLOW);
  det2.reset();
  assert.equal(det2.feed(1, Buffer.alloc(1), TS, FLOW), null);
});
