/**
 * The capture thread's handle on the runtime worker: buffers items and packet infos into
 * batches, keeps a bounded number of batches in flight (flush() awaits when the worker falls
 * behind, which backs up the pipeline instead of growing memory), and turns replies into
 * promises. If the worker dies, every pending and later call rejects with the reason and
 * `onExit` is called.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Item } from '../../capture/item/schema';
import { ScriptLoadError } from './errors';
import type { FromWorker, ToWorker } from './protocol';
import { DEFAULT_LIMITS, type LoadedScript, type QueriedItem, type RuntimeEvent, type RuntimeOptions, type RuntimeStats } from './types';
import { analyzeScript, type Projection } from './analyze';
import { compileProjection, itemProjection, mergeProjections, type Projector } from './projection';

const PACKETS_PER_BATCH = 4096;
const MAX_IN_FLIGHT = 8;
/**
 * While the worker is idle, a partial batch goes at most this often. Live and realtime sources
 * call flush() every millisecond or so with a few items: one message each way per call was
 * ~2,000 thread messages/s at 10k items/s (postMessage and its wake-up measured 5–9 µs per item
 * on the capture thread under load). A few ms of waiting is invisible next to the console's
 * 50 ms rate. Sending at once whenever the worker is idle was weighed (issue #9): under load the
 * worker is rarely idle, and its stalls, not this spacing, make the stored → event tail
 * (docs/protocol.md). WIREHOOK_SEND_SPACING_MS overrides it for measuring.
 */
const SEND_SPACING_MS = Number(process.env.WIREHOOK_SEND_SPACING_MS ?? 4);
/** Replay batches in flight at once (each holds one JSON batch). */
const REPLAY_IN_FLIGHT = 4;

/**
 * The worker's own stack, sized from the QuickJS stack limit. QuickJS counts only its shadow
 * stack in wasm memory; the wasm frames themselves run on this thread's native stack, and some
 * recursions (JSON.stringify through toJSON: measured ~12.5 bytes of native stack per byte
 * QuickJS counts) use far more of it. With too little, the host stack gives out first and the
 * instance has to be stopped (script.ts enter()) instead of reporting a catchable stack overflow.
 * 32x leaves room: 8 MB for the default 256 KB limit.
 */
export function workerStackMb(stackBytes: number): number {
  return Math.max(4, Math.ceil((stackBytes * 32) / (1024 * 1024)));
}

/** dist/runtime-worker.js next to the bundle; from source (tests, benches under tsx), worker.ts through tsx. */
function startWorker(stackBytes: number): Worker {
  const resourceLimits = { stackSizeMb: workerStackMb(stackBytes) };
  const built = path.join(__dirname, 'runtime-worker.js');
  if (__filename.endsWith('.js') && fs.existsSync(built)) return new Worker(built, { resourceLimits });
  const src = path.join(__dirname, 'worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(src)});`, { eval: true, resourceLimits });
}

export class RuntimeClient {
  onEvent: (e: RuntimeEvent) => void = () => {};
  /** Called once if the worker dies (crash, out of memory, terminated) other than by close(). */
  onExit?: (err: Error) => void;
  /** Each item batch's round trip (sent → ack) and size, for the server's latency trace. */
  onAck?: (ms: number, items: number) => void;
  private sentAt: { t: number; n: number }[] = [];
  private worker: Worker;
  private closing = false;
  private seq = 0;
  private waiters = new Map<number, (m: FromWorker) => void>();
  private items: Item[] = [];
  private pkts = new Float64Array(PACKETS_PER_BATCH * 5);
  private npkts = 0;
  private inFlight = 0;
  private ackWaiters: (() => void)[] = [];
  private failed: Error | null = null;
  private readyP: Promise<void>;
  /** Per script, what onItemCaptured reads; items are projected here, on the capture thread. */
  private projections = new Map<string, Projection>();
  /** Projections of versions being loaded (by request id): items captured meanwhile carry their fields too. */
  private loading = new Map<number, Projection>();
  private project: Projector | null = null;
  private projectKey = 'true';

  private constructor(opts: RuntimeOptions, private batchSize = opts.batchSize ?? 256) {
    this.worker = startWorker(opts.limits?.stackBytes ?? DEFAULT_LIMITS.stackBytes);
    let ready!: () => void;
    let fail!: (e: Error) => void;
    this.readyP = new Promise((res, rej) => {
      ready = res;
      fail = rej;
    });
    this.worker.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'ready':
          ready();
          break;
        case 'events':
          for (const e of m.list) this.onEvent(e);
          break;
        case 'ack':
          if (m.list) for (const e of m.list) this.onEvent(e);
          this.inFlight--;
          if (this.onAck) {
            const b = this.sentAt.shift();
            if (b && b.n) this.onAck(performance.now() - b.t, b.n);
          }
          // Idle again: what was buffered meanwhile goes now (live traffic may send no more packets to flush it).
          if (this.inFlight === 0 && !this.failed) this.sendSoon();
          this.ackWaiters.shift()?.();
          break;
        case 'fatal':
          this.die(new Error(`runtime worker failed: ${m.message}`));
          void this.worker.terminate();
          break;
        default: {
          const w = this.waiters.get(m.id);
          this.waiters.delete(m.id);
          w?.(m);
        }
      }
    });
    this.worker.on('error', (e) => this.die(new Error(`runtime worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.die(new Error(this.closing ? 'runtime closed' : `runtime worker exited (code ${code})`)));
    this.failReady = fail;
    this.post({ t: 'init', opts });
  }

  private failReady: (e: Error) => void;

  /** The worker is gone: reject everything waiting (and everything later) with the reason. */
  private die(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.failReady(err);
    for (const w of [...this.waiters.values()]) w({ t: 'fatal', message: err.message });
    this.waiters.clear();
    for (const a of this.ackWaiters.splice(0)) a();
    if (!this.closing) this.onExit?.(err);
  }

  static async start(opts: RuntimeOptions): Promise<RuntimeClient> {
    const c = new RuntimeClient(opts);
    await c.readyP;
    return c;
  }

  private post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.failed) throw this.failed;
    this.worker.postMessage(m, transfer);
  }

  private request<T extends FromWorker>(m: ToWorker & { id: number }): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiters.set(m.id, (r) => (r.t === 'fatal' ? reject(new Error(r.message)) : resolve(r as T)));
      this.post(m);
    });
  }

  /**
   * Loads or hot-reloads a script; rejects with ScriptLoadError (the old version keeps running).
   * Atomic for items: what was captured before the call goes to the old version; what is
   * captured during the round trip is projected for both versions (the new one's fields come
   * from analysing the source here), so whichever runs it finds the fields it reads.
   */
  async load(file: string, source: string): Promise<LoadedScript> {
    this.sendBuffered();
    const id = ++this.seq;
    let next: Projection | null = null;
    try {
      const a = analyzeScript(source);
      next = itemProjection(a.hooks.onItemCaptured!.reads, a.usesKflMatch, a.usesPcap);
    } catch {
      next = null; // a syntax error: the load fails and the old version stays
    }
    if (next !== null) {
      this.loading.set(id, next);
      this.reproject();
    }
    let r: Extract<FromWorker, { t: 'loaded' }>;
    try {
      r = await this.request<Extract<FromWorker, { t: 'loaded' }>>({ t: 'load', id, file, source });
    } finally {
      this.loading.delete(id);
    }
    if (r.ok) this.projections.set(file, r.script.itemProjection);
    this.reproject();
    if (r.ok) return r.script;
    const e = r.error;
    if (e.name === 'ScriptLoadError') throw new ScriptLoadError(e.file!, e.line!, e.col!, e.text!);
    throw new Error(e.message);
  }

  unload(file: string): void {
    this.sendBuffered();
    this.post({ t: 'unload', file });
    this.projections.delete(file);
    this.reproject();
  }

  /**
   * Copying a whole 2 KB item to the worker costs the capture thread ~18 µs; the fields the
   * scripts read cost well under 1 µs. So only the union of what they read crosses (whole
   * items when a script uses kfl.match, which evaluates on the full item).
   */
  private reproject(): void {
    let p: Projection = {};
    for (const x of this.projections.values()) p = mergeProjections(p, x);
    for (const x of this.loading.values()) p = mergeProjections(p, x);
    this.project = p === true ? null : compileProjection(p);
    this.projectKey = JSON.stringify(p);
  }

  /** Queues an item for onItemCaptured (sent when a batch is full or on flush()). */
  captured(item: Item): void {
    this.items.push(this.project ? (this.project(item) as Item) : item);
    if (this.items.length >= this.batchSize) this.sendItems();
  }

  /** Queues a packet info for onPacketCaptured. */
  packet(tsSec: number, tsNsec: number, captureLength: number, length: number, truncated: boolean, fragmented: boolean): void {
    const k = this.npkts * 5;
    const a = this.pkts;
    a[k] = tsSec;
    a[k + 1] = tsNsec;
    a[k + 2] = captureLength;
    a[k + 3] = length;
    a[k + 4] = (truncated ? 1 : 0) | (fragmented ? 2 : 0);
    if (++this.npkts === PACKETS_PER_BATCH) this.sendPackets();
  }

  private lastSend = -Infinity;
  private sendTimer: NodeJS.Timeout | null = null;

  /** Sends what is buffered now, or once SEND_SPACING_MS have passed since the last batch. */
  private sendSoon(): void {
    if (!this.items.length && !this.npkts) return;
    const wait = this.lastSend + SEND_SPACING_MS - performance.now();
    if (wait <= 0) return this.sendBuffered();
    if (this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      if (this.inFlight === 0 && !this.failed) this.sendBuffered();
    }, wait);
    this.sendTimer.unref?.();
  }

  private sendItems(): void {
    if (!this.items.length) return;
    this.lastSend = performance.now();
    this.inFlight++;
    // One JSON string per batch: cheaper than structured clone, and the worker can hand it to
    // QuickJS untouched when the script reads exactly this projection.
    this.post({ t: 'items', json: JSON.stringify(this.items), count: this.items.length, key: this.projectKey });
    if (this.onAck) this.sentAt.push({ t: this.lastSend, n: this.items.length });
    this.items = [];
  }

  private sendPackets(): void {
    if (!this.npkts) return;
    const buf = this.npkts === PACKETS_PER_BATCH ? this.pkts : this.pkts.slice(0, this.npkts * 5);
    this.lastSend = performance.now();
    this.inFlight++;
    this.post({ t: 'packets', buf }, [buf.buffer as ArrayBuffer]);
    if (this.onAck) this.sentAt.push({ t: this.lastSend, n: 0 });
    this.pkts = new Float64Array(PACKETS_PER_BATCH * 5);
    this.npkts = 0;
  }

  private sendBuffered(): void {
    this.sendItems();
    this.sendPackets();
  }

  /**
   * The pipeline's flush sink, called after each packet batch: sends partial batches when the
   * worker is idle, and is the backpressure point (resolves once few enough batches are in
   * flight; rejects if the worker died).
   */
  flush(): void | Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    // An idle worker gets what is buffered now, so a trickle of live items is not held back
    // until a batch fills; a busy one lets batches fill.
    if (this.inFlight === 0) this.sendSoon();
    if (this.inFlight < MAX_IN_FLIGHT) return;
    return new Promise<void>((r) => this.ackWaiters.push(r)).then(() => this.flush());
  }

  /** onItemQueried for items that matched the active query. */
  async queried(items: Item[], query: string): Promise<QueriedItem[]> {
    this.sendBuffered();
    const r = await this.request<Extract<FromWorker, { t: 'queried' }>>({ t: 'queried', id: ++this.seq, items, query });
    return r.results;
  }

  /** Sends what is buffered and waits until the worker has run it; returns the runtime's stats. */
  async drain(): Promise<RuntimeStats> {
    this.sendBuffered();
    const r = await this.request<Extract<FromWorker, { t: 'drained' }>>({ t: 'drain', id: ++this.seq });
    return r.stats;
  }

  /**
   * The runtime's counters (per script, per hook). Does not send buffered items; it does queue
   * behind the batches already sent (at most 8 in flight, so it waits for those, not for a
   * drain). Cheap enough for a status bar refresh.
   */
  async stats(): Promise<RuntimeStats> {
    const r = await this.request<Extract<FromWorker, { t: 'stats' }>>({ t: 'stats', id: ++this.seq });
    return r.stats;
  }

  /**
   * Runs `file`'s onItemCaptured (only that script) over `items` (whole items; projected here
   * for that script), after buffered items. Its events come marked `replay: true`. Sent in
   * batches with a few in flight, so memory stays bounded by the caller's array. Resolves with
   * how many items ran (0 if the script is not loaded, disabled, or has no onItemCaptured).
   */
  async replay(file: string, items: Item[]): Promise<{ items: number }> {
    this.sendBuffered();
    const p = this.projections.get(file);
    if (p === undefined) return { items: 0 };
    const project = p === true ? null : compileProjection(p);
    const key = JSON.stringify(p);
    const pending: Promise<Extract<FromWorker, { t: 'replayed' }>>[] = [];
    let ran = 0;
    for (let o = 0; o < items.length; o += this.batchSize) {
      const chunk = items.slice(o, o + this.batchSize);
      const json = JSON.stringify(project ? chunk.map(project) : chunk);
      pending.push(this.request({ t: 'replay', id: ++this.seq, file, json, count: chunk.length, key }));
      if (pending.length >= REPLAY_IN_FLIGHT) ran += (await pending.shift()!).items;
    }
    for (const r of await Promise.all(pending)) ran += r.items;
    return { items: ran };
  }

  /** Current metrics text; with `port`, also starts the /metrics endpoint (once). */
  async metrics(port?: number): Promise<{ text: string; port?: number }> {
    const r = await this.request<Extract<FromWorker, { t: 'metrics' }>>({ t: 'metrics', id: ++this.seq, port });
    if (r.error) throw new Error(r.error);
    return { text: r.text, port: r.port };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
