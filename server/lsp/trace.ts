/**
 * Where the read → console line time goes (issue #9), when the server runs with
 * WIREHOOK_TRACE_LATENCY=1 (the LSP bench sets it with LSP_BENCH_TRACE=1). Off, every hook
 * here is one boolean test. On, the server writes a summary to stderr at shutdown:
 * - per item, keyed by its request timestamp (the bench's hook prints `data.timestamp`):
 *   lateness when stored (against the first item: wall time since it − capture time since it),
 *   and its maximum per 500 ms of capture (WIREHOOK_TRACE_BUCKET_MS: when in the capture it is
 *   late), stored → its console event back from the runtime worker, event → console batch
 *   sent, lateness when sent;
 * - console batches' send times (the bench gives send → arrival at the client);
 * - the worker's round trip per batch (sent → ack), batch sizes;
 * - event-loop delay (monitorEventLoopDelay) and GC pauses (PerformanceObserver 'gc');
 * - console batches: size, and the time to hand each to the connection;
 * - memory at shutdown: RSS, the main thread's V8 heap by space, buffers, smaps totals.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

export const TRACE = process.env.WIREHOOK_TRACE_LATENCY === '1';

const series = new Map<string, number[]>();
const add = (k: string, v: number) => {
  let a = series.get(k);
  if (!a) series.set(k, (a = []));
  a.push(v);
};

let first: { wall: number; ts: number } | null = null;
/** The capture's first packet: when it was handed over (epoch ms) and its capture time (ms). */
let firstPkt: { epoch: number; ts: number } | null = null;
// Several items share a millisecond timestamp: a FIFO per timestamp.
const storedAt = new Map<number, number[]>();
const eventAt = new Map<number, number[]>();
const put = (m: Map<number, number[]>, k: number, v: number) => {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
};
const take = (m: Map<number, number[]>, k: number): number | undefined => {
  const a = m.get(k);
  if (!a) return undefined;
  const v = a.shift();
  if (!a.length) m.delete(k);
  return v;
};
/** When each console batch was sent (epoch ms): the bench compares them with their arrival. */
const sentEpochs: number[] = [];
/** Max lateness when stored per bucket (500 ms, WIREHOOK_TRACE_BUCKET_MS) of capture time. */
const lateBy: number[] = [];
let eld: IntervalHistogram | null = null;
const gcs: { kind: number; ms: number }[] = [];

if (TRACE) {
  eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push({ kind: ((e as { detail?: { kind?: number } }).detail)?.kind ?? 0, ms: e.duration });
  }).observe({ entryTypes: ['gc'] });
}

export const trace = {
  /** A new capture: the figures start again (a warm-up capture before the measured one). */
  restart(): void {
    series.clear();
    storedAt.clear();
    eventAt.clear();
    sentEpochs.length = 0;
    lateBy.length = 0;
    gcs.length = 0;
    first = null;
    firstPkt = null;
    eld?.reset();
  },
  /** The capture's first packet was handed over. */
  firstPacket(sec: number, nsec: number): void {
    firstPkt = { epoch: performance.timeOrigin + performance.now(), ts: sec * 1000 + nsec / 1e6 };
  },
  /** An item was stored (session item sink). */
  stored(ts: number): void {
    const now = performance.now();
    if (!first) first = { wall: now, ts };
    // Items whose line never comes (a hook that prints something else) must not pile up.
    if (storedAt.size > 50_000) storedAt.clear();
    put(storedAt, ts, now);
    const late = now - first.wall - (ts - first.ts);
    if ((series.get('late when stored')?.length ?? 0) < 200_000) add('late when stored', late);
    // When in the capture the lateness happens (a start-up cost, a periodic stall, a drift).
    const b = Math.floor((ts - first.ts) / Number(process.env.WIREHOOK_TRACE_BUCKET_MS ?? 500));
    if (b < 200) lateBy[b] = Math.max(lateBy[b] ?? -Infinity, late);
  },
  /** A console line came back from the runtime worker. */
  event(text: string): void {
    const ts = Number(text);
    const t = take(storedAt, ts);
    if (t === undefined) return;
    const now = performance.now();
    put(eventAt, ts, now);
    add('stored → event', now - t);
  },
  /** A console batch is about to be sent. */
  consoleSent(lines: { text: string }[], sendMs: number): void {
    const now = performance.now();
    add('batch lines', lines.length);
    sentEpochs.push(performance.timeOrigin + now);
    add('batch send ms', sendMs);
    for (const l of lines) {
      const ts = Number(l.text);
      const t = take(eventAt, ts);
      if (t === undefined) continue;
      add('event → sent', now - t);
      if (first) add('late when sent', now - first.wall - (ts - first.ts));
    }
  },
  /** A worker batch acked: its round trip and size. */
  roundTrip(ms: number, count: number): void {
    add('worker round trip', ms);
    add('worker batch items', count);
  },
  report(): void {
    if (!TRACE) return;
    const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    const out: string[] = [];
    for (const [k, xs] of series) {
      const s = xs.sort((a, b) => a - b);
      out.push(`trace: ${k.padEnd(20)} n ${String(s.length).padStart(6)}  p50 ${pct(s, 0.5).toFixed(1)}  p95 ${pct(s, 0.95).toFixed(1)}  p99 ${pct(s, 0.99).toFixed(1)}  max ${s[s.length - 1].toFixed(1)}`);
    }
    // Raw figures for the bench (not printed as they are): send → arrival per batch, and when
    // the first item was stored against the bench's estimate of when its packet was read.
    out.push(`trace: raw sentEpochs ${JSON.stringify(sentEpochs)}`);
    if (first) out.push(`trace: raw firstStored ${performance.timeOrigin + first.wall} ${first.ts}`);
    if (firstPkt) out.push(`trace: raw firstPacket ${firstPkt.epoch} ${firstPkt.ts}`);
    if (lateBy.length) out.push(`trace: max late when stored per ${process.env.WIREHOOK_TRACE_BUCKET_MS ?? 500} ms of capture  ${Array.from(lateBy, (x) => (x === undefined ? '-' : x.toFixed(0))).join(' ')}`);
    if (eld) out.push(`trace: event-loop delay ms  p50 ${(eld.percentile(50) / 1e6).toFixed(1)}  p99 ${(eld.percentile(99) / 1e6).toFixed(1)}  max ${(eld.max / 1e6).toFixed(1)}`);
    const byKind = new Map<number, number[]>();
    for (const g of gcs) byKind.set(g.kind, [...(byKind.get(g.kind) ?? []), g.ms]);
    for (const [k, xs] of byKind) {
      const s = xs.sort((a, b) => a - b);
      out.push(`trace: gc kind ${k} (1 minor, 2 major, 4 incremental, 8 weakcb)  n ${s.length}  total ${s.reduce((a, b) => a + b, 0).toFixed(0)} ms  p99 ${pct(s, 0.99).toFixed(1)}  max ${s[s.length - 1].toFixed(1)}`);
    }
    const mu = process.memoryUsage();
    const mb = (n: number) => (n / 1048576).toFixed(0);
    out.push(`trace: memory MB  rss ${mb(mu.rss)}  main heap ${mb(mu.heapUsed)} used of ${mb(mu.heapTotal)}  external ${mb(mu.external)} (array buffers ${mb(mu.arrayBuffers)})`);
    out.push(`trace: main heap spaces MB  ${v8.getHeapSpaceStatistics().map((h) => `${h.space_name.replace('_space', '')} ${mb(h.space_used_size)}/${mb(h.physical_space_size)}`).join('  ')}`);
    try {
      const roll = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
      out.push(`trace: smaps  ${['Rss', 'Anonymous', 'Private_Dirty', 'Shared_Clean', 'Private_Clean'].map((k) => `${k} ${mb(Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(roll)?.[1] ?? 0) * 1024)}`).join('  ')}`);
    } catch {
      // not Linux
    }
    process.stderr.write(out.join('\n') + '\n');
  },
};
