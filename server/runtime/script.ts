/**
 * One script in one role (worker or hub): its own QuickJS runtime + context, so memory/stack
 * limits, prototype pollution and faults stay per script. The host talks to it only through
 * the prelude's driver (strings in, strings out), a few crossings per batch.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { HOOK_NAMES, type ConsoleSite } from './analyze';
import { PRELUDE } from './prelude';
import { firstLocation, locationFixer, ScriptLoadError } from './errors';
import { instrument, siteName } from './sites';
import type { RuntimeLimits } from './types';

/** The helpers' host side: `op` plus up to three string/number arguments; see prelude `call()`. */
export type Dispatch = (op: string, a: string | number | undefined, b: string | number | undefined, c: string | number | undefined) => string | undefined;

export type Fault = 'timeout' | 'memory' | 'stack';

/** One error as the instance reports it. */
export interface ScriptError {
  /** What ran: a hook name, `top level`, `job TAG`, `setTimeout callback`. */
  where: string;
  /** `where` as a hook id: a hook name, or `load` / `job` / `timer`. */
  hook: string;
  /** `FILE:LINE:COL: text` (or `FILE: text` when no frame of the script is on the stack). */
  message: string;
  /** The message without its location. */
  text: string;
  stack: string;
  /** The script frame that threw (1-based), 0 when unknown. */
  line: number;
  col: number;
  fault?: Fault;
}

export interface ScriptSink {
  /** A console line; line/col of the `console.*` call, 0 when not known. */
  log(stream: 'log' | 'error' | 'clear', text: string, line: number, col: number): void;
  error(e: ScriptError): void;
  queried?(index: number, flags: number, replacedJson: string | null): void;
}

/** `where` (what the driver was running) as the hook id of events and stats. */
export function hookOf(where: string): string {
  if (where === 'top level') return 'load';
  if (where === 'setTimeout callback') return 'timer';
  if (where.startsWith('job ')) return 'job';
  return where;
}

export interface ScriptConfig {
  file: string;
  source: string;
  role: 'worker' | 'hub';
  nodeName: string;
  env: Record<string, unknown>;
  limits: RuntimeLimits;
  /** The script's direct console calls (analyze.ts), located through sites.ts. */
  consoleSites: ConsoleSite[];
  pktNeedsTs: boolean;
  /** onPacketCaptured only reads fields of its argument: one info object can be refilled. */
  pktReuse: boolean;
}

const PREFIX = '(function(){';
const SUFFIX = `\n;return [${HOOK_NAMES.map((n) => `typeof ${n}==='function'?${n}:undefined`).join(',')}];})`;

interface DriverError { h: string; i: number; n: string; m: string; s: string }
interface DriverResult { i: number; o: (string | DriverError)[]; q: [number, number, string | null][] }

export class ScriptInstance {
  readonly hooks = new Set<string>();
  private rt: QuickJSRuntime;
  private ctx: QuickJSContext;
  private driver: Record<string, QuickJSHandle> = {};
  private deadline = Infinity;
  private fix: (s: string) => string;
  /** The evaluated source (console sites renamed) and where each site is. */
  private source: string;
  private sites: ConsoleSite[];
  /** A host stack fault left the VM untrustworthy: nothing more runs in it. */
  private stopped = false;
  private disposed = false;
  /** Set by a fault; read by the owner to apply the fault policy. */
  lastFault: 'timeout' | 'memory' | 'stack' | null = null;

  constructor(readonly module: QuickJSWASMModule, readonly cfg: ScriptConfig, private dispatch: Dispatch, private sink: ScriptSink) {
    this.fix = locationFixer(cfg.file, PREFIX.length);
    ({ source: this.source, sites: this.sites } = instrument(cfg.source, cfg.consoleSites));
    this.rt = module.newRuntime();
    this.rt.setMemoryLimit(cfg.limits.memoryBytes);
    this.rt.setMaxStackSize(cfg.limits.stackBytes);
    this.rt.setInterruptHandler(() => Date.now() > this.deadline);
    this.ctx = this.rt.newContext();
    this.installDriver();
  }

  /** Host time spent blocked inside a helper (a webhook) does not count against the hook's budget. */
  extendDeadline(ms: number): void {
    this.deadline += ms;
  }

  private installDriver(): void {
    const ctx = this.ctx;
    const h = ctx.newFunction('H', (...args) => {
      const v = args.map((a) => {
        const t = ctx.typeof(a);
        return t === 'string' ? ctx.getString(a) : t === 'number' ? ctx.getNumber(a) : undefined;
      });
      let r: string | undefined;
      try {
        r = this.dispatch(v[0] as string, v[1], v[2], v[3]);
      } catch (e) {
        r = `!${(e as Error).message}`;
      }
      return r === undefined ? ctx.undefined : ctx.newString(r);
    });
    const cfg = { sites: this.sites.map((_, i) => siteName(i)), sliceMs: this.cfg.limits.timeoutMs, env: JSON.stringify(this.cfg.env ?? {}), nodeName: this.cfg.nodeName, pktNeedsTs: this.cfg.pktNeedsTs, pktReuse: this.cfg.pktReuse };
    const factory = ctx.unwrapResult(ctx.evalCode(PRELUDE, 'wirehook:prelude'));
    const cfgH = ctx.unwrapResult(ctx.evalCode(`(${JSON.stringify(cfg)})`));
    const drv = ctx.unwrapResult(ctx.callFunction(factory, ctx.undefined, h, ctx.global, cfgH));
    for (const name of ['load', 'items', 'resume', 'packets', 'job', 'timer', 'hubAction', 'state', 'drain']) {
      this.driver[name] = ctx.getProp(drv, name);
    }
    drv.dispose();
    cfgH.dispose();
    factory.dispose();
    h.dispose();
  }

  /** Runs the top-level code. Throws ScriptLoadError with the user's `file:line:col`. */
  load(): string[] {
    const { file } = this.cfg;
    const source = this.source;
    const ctx = this.ctx;
    this.deadline = Date.now() + this.cfg.limits.loadTimeoutMs;
    const compiled = ctx.evalCode(PREFIX + source + SUFFIX, file);
    if (compiled.error) {
      const err = ctx.dump(compiled.error) as { name?: string; message?: string; stack?: string; lineNumber?: number };
      compiled.error.dispose();
      throw this.loadError(err);
    }
    const r = ctx.callFunction(this.driver.load, ctx.undefined, compiled.value);
    compiled.value.dispose();
    if (r.error) {
      const err = ctx.dump(r.error);
      r.error.dispose();
      this.drainQuietly();
      throw this.loadError(err);
    }
    const raw = ctx.getString(r.value);
    r.value.dispose();
    let out: { hooks: string[]; r: string };
    try {
      out = JSON.parse(raw) as { hooks: string[]; r: string };
      if (!Array.isArray(out.hooks) || typeof out.r !== 'string') throw new Error('unexpected shape');
    } catch {
      // The driver's answer was tampered with (prelude.ts encode() should prevent it): refuse
      // the script cleanly rather than run it half understood.
      throw new ScriptLoadError(file, 1, 1, 'Error: the script changed the runtime so that its result could not be read back');
    }
    const loadErr = this.handleLoad(out.r);
    if (loadErr) throw loadErr;
    for (const h of out.hooks) this.hooks.add(h);
    return out.hooks;
  }

  private loadError(err: { name?: string; message?: string; stack?: string; lineNumber?: number } | unknown): ScriptLoadError {
    const e = (err && typeof err === 'object' ? err : { message: String(err) }) as { name?: string; message?: string; stack?: string; lineNumber?: number };
    const stack = this.fix(e.stack ?? '');
    const loc = firstLocation(stack, this.cfg.file) ?? { line: e.lineNumber ?? 1, col: 1 };
    const text = e.message === 'interrupted' ? `top-level code ran longer than ${this.cfg.limits.loadTimeoutMs} ms; stopped` : `${e.name ?? 'Error'}: ${e.message}`;
    return new ScriptLoadError(this.cfg.file, loc.line, loc.col, text, stack);
  }

  /** Runs `hook` over a JSON array of (projected) items; `base` numbers them for kfl.match. */
  items(hook: 'onItemCaptured' | 'onItemQueried', json: string, count: number, base: number, query = ''): void {
    const ctx = this.ctx;
    this.batchLen = count;
    const s = ctx.newString(json);
    const hookH = ctx.newString(hook);
    const q = ctx.newString(query);
    const b = ctx.newNumber(base);
    this.enter(() => ctx.callFunction(this.driver.items, ctx.undefined, s, hookH, b, q), hook, (from) => {
      const f = ctx.newNumber(from);
      try {
        return ctx.callFunction(this.driver.resume, ctx.undefined, f);
      } finally {
        f.dispose();
      }
    });
    this.batchLen = -1;
    s.dispose();
    hookH.dispose();
    q.dispose();
    b.dispose();
  }

  /** `onPacketCaptured` over packed infos: [sec, nsec, caplen, len, flags] per packet. */
  packets(infos: Float64Array): void {
    const ctx = this.ctx;
    const buf = ctx.newArrayBuffer(infos.buffer.slice(infos.byteOffset, infos.byteOffset + infos.byteLength) as ArrayBuffer);
    const call = (from: number) => {
      const f = ctx.newNumber(from);
      try {
        return ctx.callFunction(this.driver.packets, ctx.undefined, buf, f);
      } finally {
        f.dispose();
      }
    };
    this.batchLen = infos.length / 5;
    this.enter(() => call(0), 'onPacketCaptured', call);
    this.batchLen = -1;
    buf.dispose();
  }

  job(tag: string): void {
    this.simple('job', `job ${tag}`, tag);
  }

  timer(id: number): void {
    this.simple('timer', 'setTimeout callback', id);
  }

  hubAction(action: string, json: string): void {
    this.simple('hubAction', 'onHubAction', action, json);
  }

  private simple(fn: string, where: string, ...args: (string | number)[]): void {
    const ctx = this.ctx;
    const hs = args.map((a) => (typeof a === 'number' ? ctx.newNumber(a) : ctx.newString(a)));
    this.enter(() => ctx.callFunction(this.driver[fn], ctx.undefined, ...hs), where, null);
    for (const h of hs) h.dispose();
  }

  /**
   * One driver call under the budget. The driver yields after a time slice, so when the
   * interrupt fires the current item has itself run for at least the budget: it is the
   * runaway; report it and resume after it.
   */
  private enter(first: () => ReturnType<QuickJSContext['callFunction']>, where: string, resume: ((from: number) => ReturnType<QuickJSContext['callFunction']>) | null): void {
    if (this.stopped || this.disposed) return;
    const ctx = this.ctx;
    const budget = this.cfg.limits.timeoutMs;
    let call = first;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.deadline = Date.now() + 2 * budget;
      let r: ReturnType<QuickJSContext['callFunction']>;
      try {
        r = call();
      } catch (e) {
        // The host (wasm) stack gave out before QuickJS's own limit: the VM state cannot be
        // trusted any more, so this instance stops here (dispose() still frees it).
        this.deadline = Infinity;
        this.stopped = true;
        const text = `${where}: ${(e as Error).message}; the script was stopped`;
        this.sink.error({ where, hook: hookOf(where), message: `${this.cfg.file}: ${text}`, text, stack: '', line: 0, col: 0, fault: 'stack' });
        return;
      }
      this.deadline = Infinity;
      if (r.error) {
        const err = ctx.dump(r.error) as { name?: string; message?: string; stack?: string };
        r.error.dispose();
        const st = this.state();
        this.drainQuietly();
        const fault = faultOf(err?.message);
        this.reportError(st.hook || where, err, fault);
        if (!resume || st.i < 0 || fault === null) return;
        const next = st.i + 1;
        call = () => resume(next);
        continue;
      }
      const out = ctx.getString(r.value);
      r.value.dispose();
      const more = this.handleRaw(out);
      if (more === null || !resume) return;
      call = () => resume(more);
    }
  }

  /** Processes a driver result; returns the index to resume from when the driver yielded, else null. */
  private handleRaw(out: string): number | null {
    let i: number;
    if (out.charCodeAt(0) === 123 /* { */) {
      const r = JSON.parse(out) as DriverResult;
      this.flush(r);
      i = r.i;
    } else i = Number(out);
    return i >= 0 && this.batchLen >= 0 && i < this.batchLen ? i : null;
  }

  /** Length of the batch being processed (items or packets), -1 when none. */
  batchLen = -1;

  /** A load result: output is flushed; an error thrown by the top level becomes the load error. */
  private handleLoad(out: string): ScriptLoadError | null {
    if (out.charCodeAt(0) !== 123) return null;
    const r = JSON.parse(out) as DriverResult;
    const topErr = r.o.find((e): e is DriverError => typeof e === 'object' && e.h === 'top level');
    this.flush({ ...r, o: r.o.filter((e) => e !== topErr) });
    return topErr ? this.loadError({ name: topErr.n, message: topErr.m, stack: topErr.s }) : null;
  }

  /** Console lines and errors, in the order they happened. */
  private flush(r: DriverResult): void {
    for (const l of r.o) {
      if (typeof l !== 'string') {
        this.reportError(l.h, { name: l.n, message: l.m, stack: l.s }, faultOf(l.m));
        continue;
      }
      const k = l.charCodeAt(0);
      const colon = l.indexOf(':');
      const site = colon > 1 ? this.sites[Number(l.slice(1, colon))] : undefined;
      const line = site?.line ?? 0;
      const col = site?.col ?? 0;
      if (k === 76 /* L */) this.sink.log('log', l.slice(colon + 1), line, col);
      else if (k === 69 /* E */) this.sink.log('error', l.slice(colon + 1), line, col);
      else this.sink.log('clear', '', line, col);
    }
    if (this.sink.queried) for (const q of r.q) this.sink.queried(q[0], q[1], q[2]);
  }

  private reportError(where: string, err: { name?: string; message?: string; stack?: string } | undefined, fault: 'timeout' | 'memory' | 'stack' | null): void {
    const stack = this.fix(err?.stack ?? '');
    const loc = firstLocation(stack, this.cfg.file);
    const at = loc ? `${this.cfg.file}:${loc.line}:${loc.col}` : this.cfg.file;
    let text: string;
    if (fault === 'timeout') text = `${where} ran longer than ${this.cfg.limits.timeoutMs} ms; stopped`;
    else if (fault === 'memory') text = `${where} ran out of memory (limit ${Math.round(this.cfg.limits.memoryBytes / 1048576)} MB)`;
    else if (fault === 'stack') text = `${where}: stack overflow (limit ${Math.round(this.cfg.limits.stackBytes / 1024)} KB)`;
    else text = `${where}: ${err?.name ?? 'Error'}: ${err?.message ?? String(err)}`;
    this.lastFault = fault;
    this.sink.error({ where, hook: hookOf(where), message: `${at}: ${text}`, text, stack, line: loc?.line ?? 0, col: loc?.col ?? 0, fault: fault ?? undefined });
  }

  private state(): { hook: string; i: number } {
    this.deadline = Date.now() + 1000;
    const r = this.ctx.callFunction(this.driver.state, this.ctx.undefined);
    this.deadline = Infinity;
    if (r.error) {
      r.error.dispose();
      return { hook: '', i: -1 };
    }
    const s = JSON.parse(this.ctx.getString(r.value));
    r.value.dispose();
    return s;
  }

  /** After an abort: collect what the script printed before it. */
  private drainQuietly(): void {
    this.deadline = Date.now() + 1000;
    const r = this.ctx.callFunction(this.driver.drain, this.ctx.undefined);
    this.deadline = Infinity;
    if (r.error) {
      r.error.dispose();
      return;
    }
    const out = this.ctx.getString(r.value);
    r.value.dispose();
    if (out.charCodeAt(0) === 123) this.flush(JSON.parse(out));
  }

  /** Approximate heap in use (for stats). */
  memoryUsed(): number {
    const h = this.rt.computeMemoryUsage();
    const v = this.ctx.dump(h) as { memory_used_size?: number };
    h.dispose();
    return v.memory_used_size ?? 0;
  }

  /** A host stack fault stopped it: its runtime cannot be freed inside its module (see dispose). */
  get hostFaulted(): boolean {
    return this.stopped;
  }

  /** Whether dispose() freed the context, and the runtime unless a host stack fault left it to its module. */
  get released(): boolean {
    return !this.ctx.alive && (this.stopped || !this.rt.alive);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of Object.values(this.driver)) h.dispose();
    this.ctx.dispose();
    // After a host stack fault the unwound wasm frames never released the objects they held, and
    // JS_FreeRuntime aborts on them (a QuickJS assertion; measured). The context and its objects
    // are freed above; the runtime goes with its whole module, which the owner replaces after
    // such a fault and lets go once no instance lives on it (HookRuntime.moduleFaulted).
    if (!this.stopped) this.rt.dispose();
  }
}

function faultOf(message: string | undefined): 'timeout' | 'memory' | 'stack' | null {
  if (message === 'interrupted') return 'timeout';
  if (message === 'out of memory') return 'memory';
  if (message === 'stack overflow' || message === 'Maximum call stack size exceeded') return 'stack';
  return null;
}
