/**
 * The Wirehook language server: one capture session with its item store, the open hook scripts
 * running on it, and the language features of those scripts. It speaks LSP plus the
 * `wirehook/…` methods of server/protocol.ts. Save → run is the heart: opening a hook script
 * loads it, saving reloads it (atomically; a broken version leaves the old one running), and a
 * recording that finished playing is replayed through the new version at once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CodeLensRefreshRequest,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { minimatch } from 'minimatch';
import type { Item } from '../../capture/item/schema';
import { listInterfaces as capInterfaces } from '../../capture/sources/interfaces';
import {
  CheckQuery,
  DEFAULT_SETTINGS,
  ExportItems,
  GetItem,
  ListInterfaces,
  ListScripts,
  QueryItems,
  Replay,
  RunScript,
  SetQuery,
  StartCapture,
  StopCapture,
  StopScript,
  type HookStats,
  type StatsNotification,
  type WirehookSettings,
} from '../protocol';
import { loadEnv } from '../runtime/env';
import type { RuntimeOptions } from '../runtime/types';
import { exportItems } from '../session/export';
import { PacketKeeper } from '../session/packets';
import { preview } from '../session/preview';
import { CaptureSession } from '../session/session';
import { ItemStore } from '../session/store';
import { DiagnosticsBook } from './diagnostics';
import * as features from './features/index';
import { compile, ItemFeed, matcher } from './items';
import { Outbox } from './outbox';
import { fileOfUri, ScriptHost } from './scripts';
import { TRACE, trace } from './trace';

const LINT_DELAY_MS = 150;
const PACKET_KEEPER_BYTES = 64 * 1024 * 1024;

export class WirehookServer {
  private readonly documents = new TextDocuments(TextDocument);
  private settings: WirehookSettings = { ...DEFAULT_SETTINGS };
  private root: string | null = null;
  private env: Record<string, unknown> = {};
  private envError: string | null = null;
  private readonly outbox: Outbox;
  private readonly diags: DiagnosticsBook;
  private store!: ItemStore;
  private packets!: PacketKeeper;
  private scripts!: ScriptHost;
  private session!: CaptureSession;
  private feed!: ItemFeed;
  /** The filter box check being counted (stopped by a newer check or an applied query). */
  private checking: AbortController | null = null;
  private lintTimers = new Map<string, NodeJS.Timeout>();
  private statsTimer: NodeJS.Timeout | null = null;
  private hookStats: HookStats[] = [];
  private lensRefresh = false;
  private lastRates = { t: performance.now(), packets: 0, items: 0 };
  private tmp: string;

  constructor(private readonly conn: Connection) {
    this.outbox = new Outbox(conn);
    this.diags = new DiagnosticsBook(conn);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wirehook-server-'));
    conn.onInitialize((p) => this.initialize(p));
    conn.onInitialized(() => this.initialized());
    conn.onShutdown(() => this.shutdown());
    conn.onDidChangeConfiguration((p) => this.configure((p.settings as { wirehook?: Partial<WirehookSettings> } | null)?.wirehook));
    this.wireDocuments();
    this.wireFeatures();
    this.wireRequests();
    this.documents.listen(conn);
  }

  // ---------------------------------------------------------------- lifecycle

  private initialize(p: InitializeParams): InitializeResult {
    const folder = p.workspaceFolders?.[0]?.uri ?? p.rootUri;
    this.root = folder ? fileOfUri(folder) : null;
    this.settings = { ...DEFAULT_SETTINGS, ...((p.initializationOptions as Partial<WirehookSettings> | undefined) ?? {}) };
    this.lensRefresh = p.capabilities.workspace?.codeLens?.refreshSupport === true;
    this.loadEnvFile();
    this.store = new ItemStore({ maxItems: this.settings.maxItems, maxBytes: this.settings.maxStoreMB * 1024 * 1024, spillDir: this.tmp });
    this.packets = new PacketKeeper({ maxBytes: PACKET_KEEPER_BYTES, dir: this.tmp });
    this.scripts = new ScriptHost(this.runtimeOptions(), {
      console: (l) => this.outbox.console(l),
      runtimeError: (e) => this.diags.runtimeError(e),
      clean: (uri, hook) => this.diags.clean(uri, hook),
      notice: (uri, text, level) => this.outbox.console({ uri, line: 0, col: 0, level: level === 'error' ? 'error' : 'info', text, time: Date.now(), replay: false }),
    });
    this.feed = new ItemFeed(this.store, this.scripts, this.outbox);
    this.session = new CaptureSession(this.store, this.packets, {
      runtime: () => this.scripts.runtime,
      wantsPackets: () => this.scripts.wantsPackets,
      item: (it) => {
        if (TRACE) trace.stored(it.timestamp);
        this.feed.item(it);
      },
      batch: () => this.feed.batch(),
      state: (s) => this.outbox.state(s),
      ended: () => this.sendStats(),
      ...(TRACE ? { firstPacket: (sec: number, nsec: number) => trace.firstPacket(sec, nsec) } : {}),
    });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: ['.', '"', "'", '[', '('], resolveProvider: false },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['(', ','] },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'wirehook', version: '0.1.0' },
    };
  }

  private initialized(): void {
    this.statsTimer = setInterval(() => void this.tick(), 1000);
    this.statsTimer.unref?.();
    // Once the client's start-up requests are answered: warm the capture path (warmup.ts).
    setTimeout(() => this.session.warm.start(), 500).unref?.();
  }

  private async shutdown(): Promise<void> {
    // Before anything is stopped: the memory figures are those of the running server.
    trace.report();
    if (this.statsTimer) clearInterval(this.statsTimer);
    await this.session.warm.cancel();
    await this.session.stop().catch(() => {});
    await this.scripts.close().catch(() => {});
    this.outbox.close();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  private configure(s: Partial<WirehookSettings> | undefined): void {
    if (!s) return;
    const before = this.settings;
    this.settings = { ...before, ...s };
    const rtChanged = before.allowNetwork !== this.settings.allowNetwork || before.envFile !== this.settings.envFile;
    if (rtChanged) {
      this.loadEnvFile();
      void this.scripts.restart(this.runtimeOptions());
    }
    if (before.trusted !== this.settings.trusted) {
      if (this.settings.trusted) for (const d of this.documents.all()) void this.maybeLoad(d, false);
      else for (const s of [...this.scripts.scripts.keys()]) void this.scripts.unload(s);
    }
    for (const d of this.documents.all()) this.lintSoon(d);
  }

  private loadEnvFile(): void {
    this.env = {};
    this.envError = null;
    const f = this.settings.envFile;
    if (!f) return;
    try {
      this.env = loadEnv([path.resolve(this.root ?? process.cwd(), f)]);
    } catch (e) {
      this.envError = (e as Error).message;
    }
  }

  private runtimeOptions(): RuntimeOptions {
    const base = this.root ?? this.tmp;
    return { env: this.env, allowNetwork: this.settings.allowNetwork, filesDir: path.join(base, '.wirehook', 'files') };
  }

  // ---------------------------------------------------------------- documents → scripts

  private isHookScript(doc: TextDocument): boolean {
    if (doc.languageId !== 'javascript' && !/\.[cm]?js$/.test(doc.uri)) return false;
    if (features.isHookScript(doc.getText())) return true;
    if (!this.settings.scripts.length || !this.root) return false;
    const rel = path.relative(this.root, fileOfUri(doc.uri));
    return this.settings.scripts.some((g) => minimatch(rel, g, { dot: true }));
  }

  private wireDocuments(): void {
    this.documents.onDidOpen((e) => {
      this.lintSoon(e.document);
      void this.maybeLoad(e.document, true);
    });
    this.documents.onDidChangeContent((e) => this.lintSoon(e.document));
    this.documents.onDidSave((e) => void this.maybeLoad(e.document, true));
    this.documents.onDidClose((e) => {
      const uri = e.document.uri;
      clearTimeout(this.lintTimers.get(uri));
      this.lintTimers.delete(uri);
      this.diags.forget(uri);
      void this.scripts.unload(uri);
    });
  }

  /** Loads (or reloads) a hook script; on a finished recording, replays the stored items through it. */
  private async maybeLoad(doc: TextDocument, replay: boolean, force = false): Promise<boolean> {
    if (!force && !this.isHookScript(doc)) {
      if (this.scripts.scripts.has(doc.uri)) await this.scripts.unload(doc.uri);
      return false;
    }
    if (!this.settings.trusted) {
      this.outbox.console({ uri: doc.uri, line: 0, col: 0, level: 'info', text: 'Restricted Mode: hook scripts do not run in an untrusted workspace. Trust it (Workspaces: Manage Workspace Trust) to run this script.', time: Date.now(), replay: false });
      return false;
    }
    if (this.envError) this.outbox.console({ uri: doc.uri, line: 0, col: 0, level: 'error', text: `wirehook.envFile: ${this.envError}`, time: Date.now(), replay: false });
    const err = await this.scripts.load(doc.uri, doc.getText());
    this.diags.setLoadError(doc.uri, err);
    if (err) return false;
    this.diags.clearRuntime(doc.uri);
    const st = this.session.state;
    if (replay && st.finished && this.store.size > 0) await this.scripts.replay(doc.uri, () => this.store.iterate());
    return true;
  }

  private lintSoon(doc: TextDocument): void {
    if (doc.languageId !== 'javascript' && !/\.[cm]?js$/.test(doc.uri)) return;
    clearTimeout(this.lintTimers.get(doc.uri));
    this.lintTimers.set(
      doc.uri,
      setTimeout(() => {
        this.lintTimers.delete(doc.uri);
        const cur = this.documents.get(doc.uri);
        if (!cur) return;
        this.diags.setLints(cur.uri, this.isHookScript(cur) ? features.diagnostics(cur.getText(), this.featureContext()) : []);
      }, LINT_DELAY_MS),
    );
  }

  private featureContext(): features.FeatureContext {
    return { observed: this.store.observed, es5Warning: this.settings.es5Warning, envKeys: Object.keys(this.env) };
  }

  // ---------------------------------------------------------------- language features

  private wireFeatures(): void {
    const c = this.conn;
    const at = (uri: string) => this.documents.get(uri);
    c.onCompletion((p) => {
      const d = at(p.textDocument.uri);
      return d ? features.completions(d.getText(), d.offsetAt(p.position), this.featureContext()) : [];
    });
    c.onHover((p) => {
      const d = at(p.textDocument.uri);
      return d ? features.hover(d.getText(), d.offsetAt(p.position), this.featureContext()) : null;
    });
    c.onSignatureHelp((p) => {
      const d = at(p.textDocument.uri);
      return d ? features.signatureHelp(d.getText(), d.offsetAt(p.position), this.featureContext()) : null;
    });
    c.onCodeAction((p) => {
      const d = at(p.textDocument.uri);
      return d ? features.codeActions(d.getText(), d.uri, p.range, p.context.diagnostics, this.featureContext()) : [];
    });
    c.onCodeLens((p) => {
      const d = at(p.textDocument.uri);
      if (!d || !this.scripts.scripts.has(d.uri)) return [];
      return features.codeLenses(d.getText(), this.hookStats.filter((h) => h.uri === d.uri));
    });
  }

  // ---------------------------------------------------------------- wirehook/… requests

  private wireRequests(): void {
    const c = this.conn;
    c.onRequest(StartCapture, async (p) => {
      // Scripts opened just before the capture see its first item.
      await this.scripts.settled();
      this.feed.reset();
      if (TRACE) trace.restart();
      return this.session.start(p.source, p.speed ?? 'asap', p.mode ?? this.settings.liveMode);
    });
    c.onRequest(StopCapture, () => this.session.stop());
    c.onRequest(ListInterfaces, () => {
      try {
        return { interfaces: capInterfaces().map((i) => ({ name: i.name, description: i.description, addresses: i.addresses, loopback: i.loopback, up: i.up !== false })) };
      } catch (e) {
        return { interfaces: [], error: (e as Error).message };
      }
    });
    c.onRequest(SetQuery, (p) => {
      // An applied query counts itself: a check still counting (most often of the same text)
      // stops taking turns from the answer's scan.
      this.checking?.abort();
      return this.feed.setQuery(p.query ?? '');
    });
    c.onRequest(CheckQuery, async (p) => {
      const r = compile(p.query ?? '');
      if (!r.ok) return { ok: false, language: r.language, error: r.error };
      // Only the newest text typed is worth counting (the filter box drops older answers).
      this.checking?.abort();
      const abort = (this.checking = new AbortController());
      const n = await this.store.prepare(matcher(r.query), abort.signal);
      if (this.checking === abort) this.checking = null;
      // Stopped by a newer check or an applied query: not counted (no `matched`).
      return abort.signal.aborted ? { ok: true, language: r.language } : { ok: true, language: r.language, matched: n };
    });
    c.onRequest(GetItem, (p) => {
      const it = this.store.get(p.id);
      if (!it) return { item: null };
      const m = this.store.marks(p.id);
      return { item: m ? { ...it, passed: m.passed ?? it.passed, failed: m.failed ?? it.failed } : it };
    });
    c.onRequest(QueryItems, async (p) => {
      const r = p.query === undefined ? { ok: true as const, query: this.feed.query } : compile(p.query);
      if (!r.ok) return { total: 0, items: [], error: r.error };
      const m = matcher(r.query);
      // Offsets count from the oldest match: a query not yet counted is counted first, in slices
      // (the server keeps answering meanwhile; a new query's count may already be under way).
      await this.store.prepare(m);
      const res = this.store.query(m, Math.max(0, p.offset | 0), Math.min(Math.max(0, p.limit | 0), 5000));
      return { total: res.total, items: res.items.map((it) => preview(it, this.store.marks(it.id))) };
    });
    c.onRequest(ExportItems, async (p) => {
      let items: Iterable<Item>;
      if (p.ids) items = p.ids.map((id) => this.store.get(id)).filter((x): x is Item => x !== null);
      else {
        const r = compile(p.query ?? '');
        if (!r.ok) throw new Error(`query ${r.error.line}:${r.error.col}: ${r.error.message}`);
        const q = r.query;
        items = this.store.matches(matcher(q));
      }
      return exportItems(items, p.format, p.path, this.packets);
    });
    c.onRequest(Replay, async (p) => ({ items: await this.scripts.replay(p.uri, () => this.store.iterate()) }));
    c.onRequest(RunScript, async (p) => {
      const d = this.documents.get(p.uri);
      const text = d?.getText() ?? fs.readFileSync(fileOfUri(p.uri), 'utf8');
      const doc = d ?? TextDocument.create(p.uri, 'javascript', 0, text);
      const ok = await this.maybeLoad(doc, true, true);
      const e = this.scripts.scripts.get(p.uri)?.error ?? undefined;
      return { ok, ...(e ? { error: e } : {}) };
    });
    c.onRequest(StopScript, (p) => this.scripts.unload(p.uri));
    c.onRequest(ListScripts, () => ({
      scripts: [...this.scripts.scripts.values()].map((s) => ({ uri: s.uri, hooks: s.loaded?.hooks ?? [], running: s.loaded !== null, ...(s.error ? { error: s.error } : {}) })),
    }));
  }

  // ---------------------------------------------------------------- stats

  private async tick(): Promise<void> {
    try {
      const hs = await this.scripts.hookStats();
      const changed = JSON.stringify(hs) !== JSON.stringify(this.hookStats);
      this.hookStats = hs;
      if (changed && this.lensRefresh) void this.conn.sendRequest(CodeLensRefreshRequest.type).catch(() => {});
    } catch {
      // the runtime restarting: keep the last figures
    }
    this.sendStats();
  }

  private sendStats(): void {
    const c = this.session.counters;
    const now = performance.now();
    const dt = Math.max(1, now - this.lastRates.t) / 1000;
    const pps = Math.round((c.packets - this.lastRates.packets) / dt);
    const ips = Math.round((c.items - this.lastRates.items) / dt);
    this.lastRates = { t: now, packets: c.packets, items: c.items };
    const ls = this.session.lastStats;
    const st = this.store.stats();
    const msg: StatsNotification = {
      session: this.session.state.session,
      packets: c.packets,
      bytes: c.bytes,
      itemsByProtocol: { ...c.itemsByProtocol },
      drops: this.session.drops(),
      gaps: ls?.gaps ?? 0,
      packetsPerSec: Math.max(0, pps),
      itemsPerSec: Math.max(0, ips),
      stored: st.stored,
      storedTotal: st.total,
      evicted: st.evicted,
      // Memory and spill apart: their sum passed maxStoreMB while memory stayed under it.
      storeBytes: st.memBytes,
      storeSpillBytes: st.spillBytes,
      warnings: ls?.warnings ?? {},
      hooks: this.hookStats,
      hookErrors: this.hookStats.reduce((a, h) => a + h.errors, 0),
    };
    this.outbox.stats(msg);
  }
}
