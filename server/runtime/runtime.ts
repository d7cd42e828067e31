/**
 * The hook runtime: loads scripts (each in its own QuickJS runtime, one per role), feeds them
 * items and packets in batches, runs their jobs/timers, and applies limits and the fault
 * policy. Used directly (tests, benchmarks) or inside the worker thread (server/runtime/worker.ts).
 *
 * This file is the scripts' lifecycle (load, reload, unload) and the batching of items and
 * packets into crossings. The parts: loaded.ts (what is kept per script), faults.ts (crossings,
 * error counting and the fault policy: every per-script limit), helper-calls.ts (the host side
 * of every helper a script calls).
 *
 * Shared between scripts: the `this` store (JSON values, see docs/runtime.md), the job
 * scheduler's running state, the metrics registry and the files folder. Nothing survives a
 * reload: a new version gets a fresh context, old jobs and timers stop.
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import { newQuickJSWASMModule, type QuickJSWASMModule } from 'quickjs-emscripten';
import type { Item } from '../../capture/item/schema';
import { analyzeScript, AnalysisSyntaxError, type ScriptAnalysis } from './analyze';
import { ScriptLoadError } from './errors';
import { FileSandbox } from './helpers/files';
import { MetricsRegistry } from './helpers/metrics';
import { NetHelpers } from './helpers/net';
import { JobScheduler } from './jobs';
import { PcapHelpers } from './pcap';
import { compileProjection, itemProjection, readsKey } from './projection';
import { ErrorFolder } from './fold';
import { FaultPolicy } from './faults';
import { HelperCalls } from './helper-calls';
import { clearTimers, type Loaded } from './loaded';
import { ScriptInstance } from './script';
import { DEFAULT_LIMITS, type LoadedScript, type QueriedItem, type RuntimeEvent, type RuntimeLimits, type RuntimeOptions, type RuntimeStats } from './types';

export type { RuntimeStats } from './types';

let modulePromise: Promise<QuickJSWASMModule> | null = null;
let shared: QuickJSWASMModule | null = null;
/** The QuickJS wasm module, loaded once per thread (~15 ms), until a host stack fault taints it. */
export function quickjs(): Promise<QuickJSWASMModule> {
  return (modulePromise ??= newQuickJSWASMModule().then((m) => (shared = m)));
}

/** A host stack fault happened in `m`: runtimes made from now on get a fresh module. */
function untrust(m: QuickJSWASMModule): void {
  if (shared === m) {
    shared = null;
    modulePromise = null;
  }
}

export class HookRuntime {
  readonly limits: RuntimeLimits;
  readonly metrics = new MetricsRegistry();
  readonly jobs = new JobScheduler();
  readonly files: FileSandbox;
  readonly pcapDir: string;
  private scripts = new Map<string, Loaded>();
  private net: NetHelpers;
  private pcap: PcapHelpers;
  private helpers: HelperCalls;
  private policy: FaultPolicy;
  /** Items of the batch being run (lazily parsed when they came as JSON), for kfl.match by index. */
  private batchOf: () => Item[] = () => [];
  private delivering = false;
  private env: Record<string, unknown>;
  private nodeName: string;
  private batchSize: number;
  private itemCount = 0;
  private packetCount = 0;
  /**
   * Instances living on each QuickJS module. After a host stack fault (wasm stack exhausted
   * inside QuickJS) the faulted runtime cannot be freed: the unwound wasm frames never dropped
   * their references and JS_FreeRuntime aborts on them. Its module is then replaced for new
   * instances and let go (with the runtime in it) once its last instance is disposed.
   */
  private users = new Map<QuickJSWASMModule, number>();
  private replacing: Promise<void> | null = null;

  static async create(opts: RuntimeOptions, onEvent: (e: RuntimeEvent) => void): Promise<HookRuntime> {
    return new HookRuntime(await quickjs(), opts, onEvent);
  }

  constructor(private module: QuickJSWASMModule, opts: RuntimeOptions, private onEvent: (e: RuntimeEvent) => void) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.env = opts.env ?? {};
    this.nodeName = opts.nodeName ?? hostname();
    this.batchSize = opts.batchSize ?? 256;
    const filesDir = path.resolve(opts.filesDir ?? path.join('.wirehook', 'files'));
    this.pcapDir = path.resolve(opts.pcapDir ?? path.join(filesDir, 'pcaps'));
    this.files = new FileSandbox(filesDir, [this.pcapDir]);
    this.pcap = new PcapHelpers(this.pcapDir, () => this.files.root, (d) => this.files.resolve(d, true));
    this.net = new NetHelpers(opts.allowNetwork ?? false, opts.networkTimeoutMs ?? 10_000);
    this.policy = new FaultPolicy(this.limits, (e) => this.onEvent(e), (s) => {
      this.jobs.removeAll(s.worker);
      if (s.hub) this.jobs.removeAll(s.hub);
      clearTimers(s);
    }, () => this.replaying);
    this.helpers = new HelperCalls(
      {
        batch: () => this.batchOf(),
        crossing: (s, hook, calls, fn) => this.guard(s, hook, calls, fn),
        deliverHub: () => this.deliverHub(),
        onEvent: (e) => this.onEvent(e),
      },
      { jobs: this.jobs, metrics: this.metrics, files: this.files, pcap: this.pcap, net: this.net },
    );
  }

  /** Loads (or hot-reloads) a script. On failure the previous version, if any, keeps running. */
  load(file: string, source: string): LoadedScript {
    let analysis: ScriptAnalysis;
    try {
      analysis = analyzeScript(source);
    } catch (e) {
      if (e instanceof AnalysisSyntaxError) throw new ScriptLoadError(file, e.line, e.col, `SyntaxError: ${e.message}`);
      throw e;
    }
    const entry: Loaded = {
      file, analysis, worker: null as unknown as ScriptInstance, hub: null, disabled: null, faults: [], consecutive: 0, faultedThisCall: false,
      timers: new Map(), folder: new ErrorFolder((e) => this.onEvent(e)), errors: 0, erroredHooks: new Set(), crossingErrors: new Set(), hookStats: new Map(), busyMs: 0,
      projectors: {
        captured: compileProjection(analysis.hooks.onItemCaptured!.reads),
        queried: compileProjection(analysis.hooks.onItemQueried!.reads),
        capturedKey: JSON.stringify(analysis.hooks.onItemCaptured!.reads),
        queriedKey: JSON.stringify(analysis.hooks.onItemQueried!.reads),
      },
    };
    const made: ScriptInstance[] = [];
    try {
      entry.worker = this.instance(entry, 'worker', source);
      made.push(entry.worker);
      entry.worker.load();
      if (/\bonHubAction\b/.test(source)) {
        entry.hub = this.instance(entry, 'hub', source);
        made.push(entry.hub);
        entry.hub.load();
      }
    } catch (e) {
      for (const m of made) this.disposeInstance(m);
      clearTimers(entry);
      throw e;
    }
    for (const name of new Set([...entry.worker.hooks, ...(entry.hub?.hooks ?? [])])) {
      entry.hookStats.set(name, { name, line: analysis.hookLines[name] ?? 0, calls: 0, errors: 0, totalUs: 0 });
    }
    const old = this.scripts.get(file);
    if (old) this.retire(old);
    this.scripts.set(file, entry);
    this.deliverHub();
    return this.describe(entry);
  }

  unload(file: string): void {
    const s = this.scripts.get(file);
    if (!s) return;
    this.retire(s);
    this.scripts.delete(file);
  }

  private retire(s: Loaded): void {
    s.folder.flush(true);
    clearTimers(s);
    this.disposeInstance(s.worker);
    if (s.hub) this.disposeInstance(s.hub);
  }

  /** Pending setTimeout timers of all scripts. */
  get pendingTimers(): number {
    let n = 0;
    for (const s of this.scripts.values()) n += s.timers.size;
    return n;
  }

  private disposeInstance(i: ScriptInstance): void {
    this.jobs.removeAll(i);
    i.dispose();
    const n = (this.users.get(i.module) ?? 1) - 1;
    if (n > 0) this.users.set(i.module, n);
    else this.users.delete(i.module);
  }

  /** A host stack fault in `m`: new instances get a fresh module once it is loaded (~10 ms; until then `m`). */
  private moduleFaulted(m: QuickJSWASMModule): void {
    untrust(m);
    if (m !== this.module || this.replacing) return;
    this.replacing = quickjs().then(
      (fresh) => {
        this.module = fresh;
        this.replacing = null;
      },
      () => {
        this.replacing = null; // keep the old module: it still runs scripts
      },
    );
  }

  /** Resolves once a module replacement after a host stack fault is done (tests, diagnostics). */
  moduleSettled(): Promise<void> {
    return this.replacing ?? Promise.resolve();
  }

  /** QuickJS modules with instances on them (1 but for a while after a host stack fault). */
  get moduleCount(): number {
    return this.users.size;
  }

  get loaded(): LoadedScript[] {
    return [...this.scripts.values()].map((s) => this.describe(s));
  }

  private describe(s: Loaded): LoadedScript {
    const a = s.analysis;
    const captured = s.worker.hooks.has('onItemCaptured') ? a.hooks.onItemCaptured!.reads : {};
    return { file: s.file, title: a.title, hooks: [...s.worker.hooks], hookLines: { ...a.hookLines }, usesPcap: a.usesPcap, itemProjection: itemProjection(captured, a.usesKflMatch, a.usesPcap) };
  }

  /** Whether any loaded script mentions `pcap` (then the capture side should record stream pcaps). */
  get needsPcap(): boolean {
    return [...this.scripts.values()].some((s) => s.analysis.usesPcap);
  }

  /** Whether some script defines the hook (lets callers skip work, e.g. packet infos). */
  wants(hook: string): boolean {
    for (const s of this.scripts.values()) if (!s.disabled && s.worker.hooks.has(hook)) return true;
    return false;
  }

  private instance(entry: Loaded, role: 'worker' | 'hub', source: string): ScriptInstance {
    const file = entry.file;
    // eslint-disable-next-line prefer-const -- the dispatcher closes over the instance it belongs to
    let inst: ScriptInstance;
    const pktReads = entry.analysis.hooks.onPacketCaptured!.reads;
    inst = new ScriptInstance(
      this.module,
      {
        file, source, role, nodeName: role === 'hub' ? 'hub' : this.nodeName, env: this.env, limits: this.limits,
        consoleSites: entry.analysis.consoleSites, pktNeedsTs: readsKey(pktReads, 'timestamp'), pktReuse: pktReads !== true,
      },
      (op, a, b, c) => this.helpers.dispatch(entry, inst, op, a, b, c),
      {
        log: (stream, text, line, col) =>
          this.onEvent(this.replaying ? { type: 'log', script: file, role, stream, text, line, col, replay: true } : { type: 'log', script: file, role, stream, text, line, col }),
        error: (e) => {
          if (inst.hostFaulted) this.moduleFaulted(inst.module);
          this.policy.error(entry, role, e);
        },
        queried: (index, flags, replaced) => this.queriedOut?.(index, flags, replaced),
      },
    );
    this.users.set(inst.module, (this.users.get(inst.module) ?? 0) + 1);
    return inst;
  }

  /** Sends the counts of folded errors that are due (all of them with `all`, e.g. at drain). */
  flushRepeats(all: boolean): void {
    for (const s of this.scripts.values()) s.folder.flush(all);
  }

  /** Set while replay() runs: its events are marked. */
  private replaying = false;

  // -------------------------------------------------------------- feeding

  /** `onItemCaptured` for each script that defines it, in batches. */
  captured(items: Item[]): void {
    this.itemCount += items.length;
    if (this.needsPcap) for (const it of items) if (it.protocol?.name === 'dns') this.pcap.observeDns(it as never);
    for (let o = 0; o < items.length; o += this.batchSize) {
      const chunk = o === 0 && items.length <= this.batchSize ? items : items.slice(o, o + this.batchSize);
      this.batchOf = () => chunk;
      const jsonByKey = new Map<string, string>();
      for (const s of this.scripts.values()) {
        if (s.disabled || !s.worker.hooks.has('onItemCaptured')) continue;
        let json = jsonByKey.get(s.projectors.capturedKey);
        if (json === undefined) {
          json = JSON.stringify(s.projectors.capturedKey === 'true' ? chunk : chunk.map(s.projectors.captured));
          jsonByKey.set(s.projectors.capturedKey, json);
        }
        this.guard(s, 'onItemCaptured', chunk.length, () => s.worker.items('onItemCaptured', json!, chunk.length, 0));
      }
    }
    this.batchOf = () => [];
    this.deliverHub();
  }

  /**
   * Same as captured() for a batch that arrives as JSON, already projected to `key` (the union
   * of what the scripts read, see RuntimeClient): a script whose own projection is that union
   * gets the string as is — no parse, no stringify on this thread.
   */
  capturedJson(json: string, count: number, key: string): void {
    this.itemCount += count;
    let parsed: Item[] | null = null;
    const items = () => (parsed ??= JSON.parse(json) as Item[]);
    this.batchOf = items;
    if (this.needsPcap) for (const it of items()) if (it.protocol?.name === 'dns') this.pcap.observeDns(it as never);
    const jsonByKey = new Map<string, string>([[key, json]]);
    for (const s of this.scripts.values()) {
      if (s.disabled || !s.worker.hooks.has('onItemCaptured')) continue;
      let j = jsonByKey.get(s.projectors.capturedKey);
      if (j === undefined) {
        j = JSON.stringify(items().map(s.projectors.captured));
        jsonByKey.set(s.projectors.capturedKey, j);
      }
      this.guard(s, 'onItemCaptured', count, () => s.worker.items('onItemCaptured', j!, count, 0));
    }
    this.batchOf = () => [];
    this.deliverHub();
  }

  /**
   * Replays stored items through one script's onItemCaptured (after a reload, for a capture
   * that has finished): only that script runs, its events are marked `replay`, and the items do
   * not count as captured. Returns how many items it ran (0 if the script has no such hook or
   * is disabled). `items` are whole items.
   */
  replay(file: string, items: Item[]): number {
    const s = this.scripts.get(file);
    if (!s || s.disabled || !s.worker.hooks.has('onItemCaptured')) return 0;
    for (let o = 0; o < items.length; o += this.batchSize) {
      const chunk = items.slice(o, o + this.batchSize);
      this.replayBatch(s, JSON.stringify(chunk.map(s.projectors.captured)), chunk.length, () => chunk);
    }
    return items.length;
  }

  /** replay() for a batch that arrives as JSON, projected to `key` (RuntimeClient.replay sends the script's own projection). */
  replayJson(file: string, json: string, count: number, key: string): number {
    const s = this.scripts.get(file);
    if (!s || s.disabled || !s.worker.hooks.has('onItemCaptured')) return 0;
    let parsed: Item[] | null = null;
    const items = () => (parsed ??= JSON.parse(json) as Item[]);
    this.replayBatch(s, key === s.projectors.capturedKey ? json : JSON.stringify(items().map(s.projectors.captured)), count, items);
    return count;
  }

  private replayBatch(s: Loaded, json: string, count: number, items: () => Item[]): void {
    this.replaying = true;
    this.batchOf = items;
    try {
      this.guard(s, 'onItemCaptured', count, () => s.worker.items('onItemCaptured', json, count, 0));
    } finally {
      this.replaying = false;
      this.batchOf = () => [];
    }
    this.deliverHub();
  }

  private queriedOut: ((index: number, flags: number, replaced: string | null) => void) | null = null;

  /** `onItemQueried(data, query)` for items matching the active query; results by batch index. */
  queried(items: Item[], query: string): QueriedItem[] {
    const out: QueriedItem[] = items.map((_, index) => ({ index, passed: false, failed: false, replaced: null }));
    for (let o = 0; o < items.length; o += this.batchSize) {
      const chunk = items.slice(o, o + this.batchSize);
      this.batchOf = () => chunk;
      for (const s of this.scripts.values()) {
        if (s.disabled || !s.worker.hooks.has('onItemQueried')) continue;
        const json = JSON.stringify(s.projectors.queriedKey === 'true' ? chunk : chunk.map(s.projectors.queried));
        this.queriedOut = (i, flags, replaced) => {
          const r = out[o + i];
          if (flags & 1) r.passed = true;
          if (flags & 2) r.failed = true;
          if (replaced !== null) {
            try {
              r.replaced = JSON.parse(replaced);
            } catch {
              /* not JSON-able: keep the item */
            }
          }
        };
        this.guard(s, 'onItemQueried', chunk.length, () => s.worker.items('onItemQueried', json, chunk.length, 0, query));
        this.queriedOut = null;
      }
    }
    this.batchOf = () => [];
    this.deliverHub();
    return out;
  }

  /** `onPacketCaptured` over packed infos: [sec, nsec, caplen, len, flags(1 truncated, 2 fragmented)] × n. */
  packets(infos: Float64Array): void {
    this.packetCount += infos.length / 5;
    for (const s of this.scripts.values()) {
      if (s.disabled || !s.worker.hooks.has('onPacketCaptured')) continue;
      this.guard(s, 'onPacketCaptured', infos.length / 5, () => s.worker.packets(infos));
    }
    this.deliverHub();
  }

  /** Runs one crossing into `s` (faults.ts: stats, error folding, the fault policy). */
  private guard(s: Loaded, hook: string, calls: number, fn: () => void): void {
    this.policy.crossing(s, hook, calls, fn);
  }

  // -------------------------------------------------------------- hub actions

  /** Delivers queued `hub.action` calls to the hub instances' `onHubAction` (after the current crossing). */
  private deliverHub(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      const queue = this.helpers.hubQueue;
      for (let guard = 0; queue.length && guard < 10_000; guard++) {
        const [action, json] = queue.shift()!;
        for (const s of this.scripts.values()) {
          if (s.disabled || !s.hub || !s.hub.hooks.has('onHubAction')) continue;
          this.guard(s, 'onHubAction', 1, () => s.hub!.hubAction(action, json));
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Runs a job now (the editor's Jobs panel). */
  runJob(file: string, tag: string): void {
    const s = this.scripts.get(file);
    if (s && !s.disabled) this.guard(s, 'job', 1, () => s.worker.job(tag));
    this.deliverHub();
  }

  stats(): RuntimeStats {
    return {
      scripts: [...this.scripts.values()].map((s) => ({
        file: s.file, title: s.analysis.title, hooks: [...s.hookStats.values()].map((h) => ({ ...h, totalUs: Math.round(h.totalUs) })),
        disabled: s.disabled, faults: s.faults.length, errors: s.errors, busyMs: Math.round(s.busyMs * 10) / 10,
      })),
      items: this.itemCount,
      packets: this.packetCount,
      jobs: this.jobs.size,
    };
  }

  close(): void {
    for (const s of this.scripts.values()) this.retire(s);
    this.scripts.clear();
    this.jobs.close();
    this.net.close();
  }
}
