/**
 * The open hook scripts and the runtime they run in. Loads are serialized (open, save,
 * restart happen in the order they were asked for); a version that fails to load leaves the old
 * one running. The runtime worker is started on the first load and restarted (scripts
 * reloaded) when its options change or it dies.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Item } from '../../capture/item/schema';
import type { ConsoleLine, HookStats, SourcePos } from '../protocol';
import { RuntimeClient } from '../runtime/client';
import { ScriptLoadError } from '../runtime/errors';
import type { LoadedScript, QueriedItem, RuntimeEvent, RuntimeOptions } from '../runtime/types';
import { TRACE, trace } from './trace';

export interface ScriptEntry {
  uri: string;
  /** The name the runtime knows the script by (its file path), used in messages. */
  file: string;
  text: string;
  loaded: LoadedScript | null;
  error: SourcePos | null;
}

/** A runtime error as the editor shows it: at the line that threw, with a count. */
export interface RuntimeErrorReport {
  uri: string;
  hook: string;
  line: number;
  col: number;
  message: string;
  count: number;
  replay: boolean;
}

export interface ScriptHostEvents {
  console(line: ConsoleLine): void;
  runtimeError(e: RuntimeErrorReport): void;
  /** A hook that had errors ran clean: its error diagnostics go. */
  clean(uri: string, hook: string): void;
  /** Anything the user should read that is not a script's output (disabled script, restarts). */
  notice(uri: string, text: string, level: 'info' | 'error'): void;
}

export function fileOfUri(uri: string): string {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

export class ScriptHost {
  private client: RuntimeClient | null = null;
  private starting: Promise<RuntimeClient> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  readonly scripts = new Map<string, ScriptEntry>();
  private byFile = new Map<string, string>();
  private closed = false;

  constructor(
    private options: RuntimeOptions,
    private readonly events: ScriptHostEvents,
  ) {}

  /** The running runtime, or null before the first script (the capture feeds it only when non-null). */
  get runtime(): RuntimeClient | null {
    return this.client;
  }

  get wantsPackets(): boolean {
    for (const s of this.scripts.values()) if (s.loaded?.hooks.includes('onPacketCaptured')) return true;
    return false;
  }

  get running(): ScriptEntry[] {
    return [...this.scripts.values()].filter((s) => s.loaded);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f, f);
    this.chain = p.catch(() => {});
    return p;
  }

  private async ensure(): Promise<RuntimeClient> {
    if (this.client) return this.client;
    this.starting ??= RuntimeClient.start(this.options).then((c) => {
      c.onEvent = (e) => this.onEvent(e);
      c.onExit = (err) => this.died(c, err);
      if (TRACE) c.onAck = (ms, n) => trace.roundTrip(ms, n);
      this.client = c;
      this.starting = null;
      return c;
    });
    return this.starting;
  }

  /** Resolves once every load, unload and restart asked for so far has finished. */
  settled(): Promise<void> {
    return this.chain.then(() => {});
  }

  /** Loads or reloads a script. Resolves with the load error (the old version keeps running) or null. */
  load(uri: string, text: string): Promise<SourcePos | null> {
    return this.serial(async () => {
      if (this.closed) return null;
      const file = fileOfUri(uri);
      let entry = this.scripts.get(uri);
      if (!entry) {
        entry = { uri, file, text, loaded: null, error: null };
        this.scripts.set(uri, entry);
        this.byFile.set(file, uri);
      }
      entry.text = text;
      const client = await this.ensure();
      try {
        const reload = entry.loaded !== null;
        entry.loaded = await client.load(file, text);
        entry.error = null;
        // Counted repeats of the old version's errors are flushed by a drain: they must arrive
        // before the caller clears that version's runtime diagnostics.
        if (reload) await client.drain();
      } catch (e) {
        if (e instanceof ScriptLoadError) entry.error = { line: e.line, col: e.col, message: e.text };
        else entry.error = { line: 1, col: 1, message: (e as Error).message };
      }
      return entry.error;
    });
  }

  /** Stops a script (closing its document, or the stop command). */
  unload(uri: string): Promise<void> {
    return this.serial(async () => {
      const entry = this.scripts.get(uri);
      if (!entry) return;
      this.scripts.delete(uri);
      this.byFile.delete(entry.file);
      if (entry.loaded && this.client) this.client.unload(entry.file);
    });
  }

  /** New runtime options (env, network, limits): a fresh runtime with every script loaded again. */
  restart(options: RuntimeOptions): Promise<void> {
    this.options = options;
    return this.serial(async () => {
      const old = this.client;
      this.client = null;
      if (old) await old.close();
      if (!this.scripts.size) return;
      const client = await this.ensure();
      for (const s of this.scripts.values()) {
        try {
          s.loaded = await client.load(s.file, s.text);
          s.error = null;
        } catch (e) {
          s.loaded = null;
          s.error = e instanceof ScriptLoadError ? { line: e.line, col: e.col, message: e.text } : { line: 1, col: 1, message: (e as Error).message };
        }
      }
    });
  }

  private died(c: RuntimeClient, err: Error): void {
    if (this.client !== c || this.closed) return;
    this.client = null;
    for (const s of this.scripts.values()) this.events.notice(s.uri, `the hook runtime stopped (${err.message}); restarting it`, 'error');
    void this.restart(this.options);
  }

  uriOf(file: string): string {
    return this.byFile.get(file) ?? file;
  }

  /** Runs one script's onItemCaptured over stored items (the new version after a save); output marked replay. */
  replay(uri: string, items: () => Iterable<Item>): Promise<number> {
    return this.serial(async () => {
      const entry = this.scripts.get(uri);
      const client = this.client;
      if (!entry?.loaded || !client || !entry.loaded.hooks.includes('onItemCaptured')) return 0;
      let n = 0;
      let chunk: Item[] = [];
      for (const it of items()) {
        chunk.push(it);
        if (chunk.length === 1000) {
          n += (await client.replay(entry.file, chunk)).items;
          chunk = [];
        }
      }
      if (chunk.length) n += (await client.replay(entry.file, chunk)).items;
      return n;
    });
  }

  /** onItemQueried over matching items; empty when no script has the hook. */
  async queried(items: Item[], query: string): Promise<QueriedItem[]> {
    const client = this.client;
    if (!client || !items.length || !this.running.some((s) => s.loaded!.hooks.includes('onItemQueried'))) return [];
    return client.queried(items, query);
  }

  /** Per-hook stats of the running scripts, for CodeLens and the status bar. */
  async hookStats(): Promise<HookStats[]> {
    const client = this.client;
    if (!client) return [];
    const rs = await client.stats();
    const out: HookStats[] = [];
    for (const s of rs.scripts) {
      const uri = this.uriOf(s.file);
      for (const h of s.hooks) out.push({ uri, hook: h.name, line: h.line, calls: h.calls, errors: h.errors, meanUs: h.calls ? Math.round((h.totalUs / h.calls) * 10) / 10 : 0 });
    }
    return out;
  }

  private onEvent(e: RuntimeEvent): void {
    if (e.type === 'log') {
      // The common case (a line per item at 10k items/s): one object, no spreads.
      if (e.stream === 'clear') return;
      if (TRACE) trace.event(e.text);
      this.events.console({ uri: this.uriOf(e.script), line: e.line, col: e.col, time: Date.now(), replay: e.replay === true, role: e.role, level: e.stream === 'error' ? 'error' : 'log', text: e.text });
      return;
    }
    const uri = this.uriOf(e.script);
    const base = { uri, line: 'line' in e ? e.line : 0, col: 'col' in e ? e.col : 0, time: Date.now(), replay: 'replay' in e && e.replay === true, role: 'role' in e ? e.role : undefined };
    switch (e.type) {
      case 'error': {
        const count = e.count ?? 1;
        // A repeat only adds to the count of the line and diagnostic already shown.
        if (!e.repeat) this.events.console({ ...base, level: 'error', text: e.message, count });
        this.events.runtimeError({ uri, hook: e.hook, line: e.line, col: e.col, message: e.text, count, replay: base.replay });
        return;
      }
      case 'disabled':
        this.events.notice(uri, `${path.basename(e.script)} was disabled: ${e.reason}`, 'error');
        return;
      case 'network':
        this.events.notice(uri, `${e.helper} ${e.sent ? 'sent' : e.error ? 'failed' : 'recorded (not sent; set wirehook.allowNetwork to send)'}: ${e.summary}${e.error ? ` — ${e.error}` : ''}`, 'info');
        return;
      case 'notice':
        this.events.notice(uri, e.text, 'info');
        return;
      case 'clean':
        this.events.clean(uri, e.hook);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => {});
    await this.client?.close();
    this.client = null;
  }
}
