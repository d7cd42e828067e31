/**
 * The capture thread's handle on the runtime worker: buffers items and packet infos into
 * batches, keeps a bounded number of batches in flight (flush() awaits when the worker falls
 * behind, which backs up the pipeline instead of growing memory), and turns replies into
 * promises.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Item } from '../../capture/item/schema';
import { ScriptLoadError } from './errors';
import type { FromWorker, ToWorker } from './protocol';
import type { RuntimeStats } from './runtime';
import type { LoadedScript, QueriedItem, RuntimeEvent, RuntimeOptions } from './types';
import type { Projection } from './analyze';
import { compileProjection, mergeProjections, type Projector } from './projection';

const PACKETS_PER_BATCH = 4096;
const MAX_IN_FLIGHT = 8;

/** dist/runtime-worker.js next to the bundle; from source (tests, benches under tsx), worker.ts through tsx. */
function startWorker(): Worker {
  const built = path.join(__dirname, 'runtime-worker.js');
  if (__filename.endsWith('.js') && fs.existsSync(built)) return new Worker(built);
  const src = path.join(__dirname, 'worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(src)});`, { eval: true });
}

export class RuntimeClient {
  onEvent: (e: RuntimeEvent) => void = () => {};
  private worker: Worker;
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
  private project: Projector | null = null;
  private projectKey = 'true';

  private constructor(opts: RuntimeOptions, private batchSize = opts.batchSize ?? 256) {
    this.worker = startWorker();
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
          this.inFlight--;
          this.ackWaiters.shift()?.();
          break;
        case 'fatal':
          this.failed = new Error(`runtime worker failed: ${m.message}`);
          fail(this.failed);
          break;
        default: {
          const w = this.waiters.get(m.id);
          this.waiters.delete(m.id);
          w?.(m);
        }
      }
    });
    this.worker.on('error', (e) => {
      this.failed = e;
      fail(e);
      for (const w of this.waiters.values()) w({ t: 'fatal', message: e.message });
      for (const a of this.ackWaiters.splice(0)) a();
    });
    this.post({ t: 'init', opts });
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
      this.waiters.set(m.id, (r) => (r.t === 'fatal' ? reject(new Error(r.message)) : resolve(r as T)));
      this.post(m);
    });
  }

  /** Loads or hot-reloads a script; rejects with ScriptLoadError (the old version keeps running). */
  async load(file: string, source: string): Promise<LoadedScript> {
    this.sendBuffered();
    const r = await this.request<Extract<FromWorker, { t: 'loaded' }>>({ t: 'load', id: ++this.seq, file, source });
    if (r.ok) {
      this.projections.set(file, r.script.itemProjection);
      this.reproject();
      return r.script;
    }
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

  private sendItems(): void {
    if (!this.items.length) return;
    this.inFlight++;
    // One JSON string per batch: cheaper than structured clone, and the worker can hand it to
    // QuickJS untouched when the script reads exactly this projection.
    this.post({ t: 'items', json: JSON.stringify(this.items), count: this.items.length, key: this.projectKey });
    this.items = [];
  }

  private sendPackets(): void {
    if (!this.npkts) return;
    const buf = this.npkts === PACKETS_PER_BATCH ? this.pkts : this.pkts.slice(0, this.npkts * 5);
    this.inFlight++;
    this.post({ t: 'packets', buf }, [buf.buffer as ArrayBuffer]);
    this.pkts = new Float64Array(PACKETS_PER_BATCH * 5);
    this.npkts = 0;
  }

  private sendBuffered(): void {
    this.sendItems();
    this.sendPackets();
  }

  /** Backpressure point (the pipeline's flush sink): resolves once few enough batches are in flight. */
  flush(): void | Promise<void> {
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

  /** Current metrics text; with `port`, also starts the /metrics endpoint (once). */
  async metrics(port?: number): Promise<{ text: string; port?: number }> {
    const r = await this.request<Extract<FromWorker, { t: 'metrics' }>>({ t: 'metrics', id: ++this.seq, port });
    if (r.error) throw new Error(r.error);
    return { text: r.text, port: r.port };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
