/**
 * A script's diagnostics come from three places with different lives: lints and syntax errors
 * (recomputed as the user types), the load error of the last save (until a save loads), and
 * runtime errors (at the line that threw, counted, until that hook next runs clean). This keeps
 * the three per document and publishes their union.
 */
import { DiagnosticSeverity, type Connection, type Diagnostic } from 'vscode-languageserver';
import type { SourcePos } from '../protocol';
import type { RuntimeErrorReport } from './scripts';

interface PerDoc {
  lints: Diagnostic[];
  load: SourcePos | null;
  runtime: Map<string, RuntimeErrorReport>;
}

/** Runtime errors kept per document; past this the oldest are dropped (each distinct line/message is one). */
const MAX_RUNTIME_PER_DOC = 50;

export class DiagnosticsBook {
  private docs = new Map<string, PerDoc>();
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly conn: Connection) {}

  private doc(uri: string): PerDoc {
    let d = this.docs.get(uri);
    if (!d) this.docs.set(uri, (d = { lints: [], load: null, runtime: new Map() }));
    return d;
  }

  setLints(uri: string, lints: Diagnostic[]): void {
    this.doc(uri).lints = lints;
    this.publishSoon(uri);
  }

  setLoadError(uri: string, e: SourcePos | null): void {
    this.doc(uri).load = e;
    this.publishSoon(uri);
  }

  runtimeError(r: RuntimeErrorReport): void {
    const d = this.doc(r.uri);
    const key = `${r.hook}\0${r.line}\0${r.col}\0${r.message}`;
    const old = d.runtime.get(key);
    if (old) old.count += r.count;
    else {
      if (d.runtime.size >= MAX_RUNTIME_PER_DOC) d.runtime.delete(d.runtime.keys().next().value as string);
      d.runtime.set(key, { ...r });
    }
    this.publishSoon(r.uri);
  }

  /** The hook ran clean: its runtime errors go. */
  clean(uri: string, hook: string): void {
    const d = this.docs.get(uri);
    if (!d) return;
    let changed = false;
    for (const [k, r] of d.runtime) if (r.hook === hook || hook === '*') (d.runtime.delete(k), (changed = true));
    if (changed) this.publishSoon(uri);
  }

  /** A new version loaded: runtime errors of the old one no longer apply. */
  clearRuntime(uri: string): void {
    const d = this.docs.get(uri);
    if (d?.runtime.size) {
      d.runtime.clear();
      this.publishSoon(uri);
    }
  }

  forget(uri: string): void {
    this.docs.delete(uri);
    void this.conn.sendDiagnostics({ uri, diagnostics: [] });
  }

  /** Runtime errors can arrive thousands a second: publish at most every 100 ms. */
  private publishSoon(uri: string): void {
    this.dirty.add(uri);
    this.timer ??= setTimeout(() => this.publishNow(), 100);
  }

  publishNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const uri of this.dirty) {
      const d = this.docs.get(uri);
      if (d) void this.conn.sendDiagnostics({ uri, diagnostics: this.union(d) });
    }
    this.dirty.clear();
  }

  private union(d: PerDoc): Diagnostic[] {
    const out = [...d.lints];
    if (d.load) {
      const line = Math.max(0, d.load.line - 1);
      const col = Math.max(0, d.load.col - 1);
      out.push({
        range: { start: { line, character: col }, end: { line, character: col + 1 } },
        severity: DiagnosticSeverity.Error,
        source: 'wirehook',
        code: 'load-error',
        message: `${d.load.message} (this version did not load; the previous one keeps running)`,
      });
    }
    for (const r of d.runtime.values()) {
      const line = Math.max(0, r.line - 1);
      const col = Math.max(0, r.col - 1);
      out.push({
        range: { start: { line, character: col }, end: { line, character: col + 1 } },
        severity: DiagnosticSeverity.Error,
        source: 'wirehook',
        code: 'runtime-error',
        message: `${r.hook ? `${r.hook}: ` : ''}${firstLine(r.message)}${r.count > 1 ? ` (×${r.count})` : ''}`,
      });
    }
    return out;
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
