/**
 * One script in one role (worker or hub): its own QuickJS runtime + context, so memory/stack
 * limits, prototype pollution and faults stay per script. The host talks to it only through
 * the prelude's driver (strings in, strings out), a few crossings per batch.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { PRELUDE } from './prelude';
import { firstLocation, locationFixer, ScriptLoadError } from './errors';
import type { RuntimeLimits } from './types';

/** The helpers' host side: `op` plus up to three string/number arguments; see prelude `call()`. */
export type Dispatch = (op: string, a: string | number | undefined, b: string | number | undefined, c: string | number | undefined) => string | undefined;

export interface ScriptSink {
  log(stream: 'log' | 'error' | 'clear', text: string): void;
  error(where: string, message: string, stack: string, fault?: 'timeout' | 'memory' | 'stack'): void;
  queried?(index: number, flags: number, replacedJson: string | null): void;
}

export interface ScriptConfig {
  file: string;
  source: string;
  role: 'worker' | 'hub';
  nodeName: string;
  env: Record<string, unknown>;
  limits: RuntimeLimits;
  pktNeedsTs: boolean;
  /** onPacketCaptured only reads fields of its argument: one info object can be refilled. */
  pktReuse: boolean;
}

const PREFIX = '(function(){';
const HOOK_NAMES = ['onItemCaptured', 'onItemQueried', 'onPacketCaptured', 'onJobPassed', 'onJobFailed', 'onHubAction'];
const SUFFIX = `\n;return [${HOOK_NAMES.map((n) => `typeof ${n}==='function'?${n}:undefined`).join(',')}];})`;

interface DriverResult { i: number; l: string[]; e: { h: string; i: number; n: string; m: string; s: string }[]; q: [number, number, string | null][] }

export class ScriptInstance {
  readonly hooks = new Set<string>();
  private rt: QuickJSRuntime;
  private ctx: QuickJSContext;
  private driver: Record<string, QuickJSHandle> = {};
  private deadline = Infinity;
  private fix: (s: string) => string;
  private disposed = false;
  /** Set by a fault; read by the owner to apply the fault policy. */
  lastFault: 'timeout' | 'memory' | 'stack' | null = null;

  constructor(module: QuickJSWASMModule, readonly cfg: ScriptConfig, private dispatch: Dispatch, private sink: ScriptSink) {
    this.fix = locationFixer(cfg.file, PREFIX.length);
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
    const cfg = { sliceMs: this.cfg.limits.timeoutMs, env: JSON.stringify(this.cfg.env ?? {}), nodeName: this.cfg.nodeName, pktNeedsTs: this.cfg.pktNeedsTs, pktReuse: this.cfg.pktReuse };
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
    const { file, source } = this.cfg;
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
    const out = JSON.parse(ctx.getString(r.value)) as { hooks: string[]; r: string };
    r.value.dispose();
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
    if (this.disposed) return;
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
        // trusted any more, so this instance stops here.
        this.deadline = Infinity;
        this.disposed = true;
        this.sink.error(where, `${this.cfg.file}: ${where}: ${(e as Error).message}; the script was stopped`, '', 'stack');
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
    const topErr = r.e.find((e) => e.h === 'top level');
    this.flush({ ...r, e: r.e.filter((e) => e !== topErr) });
    return topErr ? this.loadError({ name: topErr.n, message: topErr.m, stack: topErr.s }) : null;
  }

  private flush(r: DriverResult): void {
    for (const l of r.l) {
      const k = l.charCodeAt(0);
      if (k === 76 /* L */) this.sink.log('log', l.slice(1));
      else if (k === 69 /* E */) this.sink.log('error', l.slice(1));
      else this.sink.log('clear', '');
    }
    for (const e of r.e) this.reportError(e.h, { name: e.n, message: e.m, stack: e.s }, faultOf(e.m));
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
    this.sink.error(where, `${at}: ${text}`, stack, fault ?? undefined);
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

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of Object.values(this.driver)) h.dispose();
    this.ctx.dispose();
    this.rt.dispose();
  }
}

function faultOf(message: string | undefined): 'timeout' | 'memory' | 'stack' | null {
  if (message === 'interrupted') return 'timeout';
  if (message === 'out of memory') return 'memory';
  if (message === 'stack overflow' || message === 'Maximum call stack size exceeded') return 'stack';
  return null;
}
