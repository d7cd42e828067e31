/**
 * The outbox's console throttle (server/lsp/outbox.ts, RATES in server/protocol.ts): the timing
 * contract that bounds the read → line time (issue #9), checked on a fake clock by counting
 * messages and reading when each was sent. No real time passes, so nothing here is timed.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox } from '../../server/lsp/outbox';
import { RATES, type CaptureState, type ConsoleLine } from '../../server/protocol';

interface Sent {
  method: string;
  at: number;
  params: { lines?: ConsoleLine[]; skipped?: number };
}

function setup() {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const sent: Sent[] = [];
  const now = () => Date.now();
  const conn = {
    sendNotification(type: { method: string } | string, params?: unknown) {
      sent.push({ method: typeof type === 'string' ? type : type.method, at: now(), params: params as Sent['params'] });
      return Promise.resolve();
    },
  };
  const out = new Outbox(conn as never, now);
  const line = (text: string): ConsoleLine => ({ uri: 'file:///h.js', line: 2, col: 3, level: 'log', text, time: now(), replay: false });
  const consoleSent = () => sent.filter((s) => s.method === 'wirehook/console');
  return { out, sent, consoleSent, line, tick: (ms: number) => mock.timers.tick(ms) };
}

test('console: a quiet stream sends at once; a line within the interval waits until exactly last send + interval', (t) => {
  t.after(() => mock.timers.reset());
  const { out, consoleSent, line, tick } = setup();
  assert.equal(RATES.consoleIntervalMs, 50);
  out.console(line('a'));
  assert.equal(consoleSent().length, 1, 'the first line goes out on the leading edge');
  assert.equal(consoleSent()[0].at, 0);
  tick(10);
  out.console(line('b'));
  tick(20);
  out.console(line('c'));
  tick(19);
  assert.equal(consoleSent().length, 1, 'nothing before last + interval');
  tick(1);
  assert.equal(consoleSent().length, 2);
  assert.equal(consoleSent()[1].at, 50);
  assert.deepEqual(consoleSent()[1].params.lines!.map((l) => l.text), ['b', 'c']);
  // Idle for longer than the interval: the next line is not held at all.
  tick(200);
  out.console(line('d'));
  assert.equal(consoleSent().length, 3);
  assert.equal(consoleSent()[2].at, 250);
});

test('console: a steady 10k lines/s stream goes out every interval (≤ 20 messages/s), whole, no line waiting longer than one interval', (t) => {
  t.after(() => mock.timers.reset());
  const { out, consoleSent, line, tick } = setup();
  const bornAt = new Map<string, number>();
  for (let ms = 0; ms < 1000; ms++) {
    for (let k = 0; k < 10; k++) {
      const text = `${ms}.${k}`;
      bornAt.set(text, ms);
      out.console(line(text));
    }
    tick(1);
  }
  tick(RATES.consoleIntervalMs);
  const batches = consoleSent();
  // One leading-edge send at 0, then one per 50 ms: 21 over the 1,000 ms plus the tail.
  assert.ok(batches.length <= 1000 / RATES.consoleIntervalMs + 2, `${batches.length} messages`);
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i].at - batches[i - 1].at >= RATES.consoleIntervalMs, `batch ${i} sent ${batches[i].at - batches[i - 1].at} ms after the one before`);
  const lines = batches.flatMap((b) => b.params.lines!);
  assert.equal(lines.length, 10_000, 'every line delivered');
  assert.equal(batches.reduce((n, b) => n + b.params.skipped!, 0), 0);
  let worst = 0;
  for (const b of batches) for (const l of b.params.lines!) worst = Math.max(worst, b.at - bornAt.get(l.text)!);
  assert.ok(worst <= RATES.consoleIntervalMs, `a line waited ${worst} ms`);
});

test('console: a send with nothing queued (a state change flushes) does not hold back the next line', (t) => {
  t.after(() => mock.timers.reset());
  const { out, sent, consoleSent, line, tick } = setup();
  const st: CaptureState = { session: 1, source: 'file/x.pcap', running: true, speed: 'realtime', finished: false };
  out.state(st);
  assert.equal(sent.filter((s) => s.method === 'wirehook/state').length, 1);
  assert.equal(consoleSent().length, 0, 'no empty console batch');
  tick(5);
  out.console(line('x'));
  assert.equal(consoleSent().length, 1, 'sent at once, not 50 ms after the state flush');
  assert.equal(consoleSent()[0].at, 5);
});

test('state: the final stats queued when a capture ends go out before its state, not a throttle interval later', (t) => {
  t.after(() => mock.timers.reset());
  const { out, sent, tick } = setup();
  const stats = (stored: number) => ({ session: 1, stored }) as never;
  out.stats(stats(10));
  assert.equal(sent.filter((s) => s.method === 'wirehook/stats').length, 1, 'leading edge');
  tick(5);
  out.stats(stats(69)); // the capture's end, within the interval: queued
  assert.equal(sent.filter((s) => s.method === 'wirehook/stats').length, 1);
  out.state({ session: 1, source: 'file/x.pcap', running: false, speed: 'asap', finished: true });
  const order = sent.map((s) => s.method).filter((m) => m !== 'wirehook/console' && m !== 'wirehook/items');
  assert.deepEqual(order, ['wirehook/stats', 'wirehook/stats', 'wirehook/state']);
  assert.equal((sent.filter((s) => s.method === 'wirehook/stats')[1].params as { stored?: number }).stored, 69);
  assert.equal(sent.at(-1)!.at, 5, 'all at once');
});

test('console: lines queued during a stall are carried by the next batch, up to the per-interval room', (t) => {
  t.after(() => mock.timers.reset());
  const { out, consoleSent, line, tick } = setup();
  out.console(line('first'));
  tick(1);
  out.console(line('held'));
  // The timer is due at 50 ms, but the event loop stalls for 300 ms: the clock moves, the timer
  // does not fire, lines keep arriving (from callbacks that ran before the stall).
  mock.timers.setTime(Date.now() + 300);
  const n = 5 * RATES.maxConsoleLinesPerBatch;
  for (let k = 0; k < n; k++) out.console(line(String(k)));
  tick(0);
  const b = consoleSent()[1];
  assert.equal(b.params.lines!.length, n + 1);
  assert.equal(b.params.skipped, 0, 'six intervals of room: nothing dropped');
  // Past the room (6 intervals' worth here), the oldest are dropped and counted.
  tick(1);
  out.console(line('held2'));
  mock.timers.setTime(Date.now() + 300);
  for (let k = 0; k < 7 * RATES.maxConsoleLinesPerBatch; k++) out.console(line(`late${k}`));
  const room = Math.floor(((Date.now() - consoleSent()[1].at) / RATES.consoleIntervalMs) * RATES.maxConsoleLinesPerBatch);
  tick(0);
  const c = consoleSent()[2];
  assert.equal(c.params.lines!.length, room);
  assert.equal(c.params.skipped, 7 * RATES.maxConsoleLinesPerBatch + 1 - room);
  assert.ok(c.params.skipped! > 0);
  assert.equal(c.params.lines!.at(-1)!.text, `late${7 * RATES.maxConsoleLinesPerBatch - 1}`, 'the newest are kept');
});
