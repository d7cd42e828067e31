/**
 * Drives the real language server (`node dist/server.js --stdio`) over JSON-RPC, as an editor
 * would: initialize, open/change/save documents, custom requests; collects every notification
 * so tests wait for what they assert.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-languageserver-protocol/node';
import {
  ConsoleNotificationType,
  ItemsNotificationType,
  StateNotificationType,
  StatsNotificationType,
  type CaptureState,
  type ConsoleLine,
  type ItemsNotification,
  type StatsNotification,
  type WirehookSettings,
} from '../../server/protocol';
import type { Diagnostic } from 'vscode-languageserver-protocol';

export interface LspClient {
  conn: MessageConnection;
  proc: ChildProcess;
  console: ConsoleLine[];
  items: ItemsNotification[];
  states: CaptureState[];
  stats: StatsNotification[];
  diagnostics: Map<string, Diagnostic[]>;
  /** Called with each console batch as it arrives (benches time lines with it). */
  onConsole: ((lines: ConsoleLine[]) => void) | null;
  stderr(): string;
  /** Resolves when `cond()` holds (checked on every message), rejects after `ms` with `what`. */
  until(what: string, cond: () => boolean, ms?: number): Promise<void>;
  open(uri: string, text: string): void;
  /** Replaces the whole text (version bumps) and saves. */
  save(uri: string, text: string): void;
  close(): Promise<void>;
}

export const uriOf = (p: string) => pathToFileURL(p).href;

/** `serverJs`: another build of the server (test/extension/vsix.test.ts runs the one a .vsix holds). */
export async function startServer(root: string, settings: Partial<WirehookSettings> = {}, serverJs = resolve('dist', 'server.js')): Promise<LspClient> {
  // WIREHOOK_SERVER_NODE_ARGS: node flags for the server only (e.g. --cpu-prof when profiling a bench).
  const extra = (process.env.WIREHOOK_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...extra, serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const c: LspClient = {
    conn,
    proc,
    console: [],
    items: [],
    states: [],
    stats: [],
    diagnostics: new Map(),
    onConsole: null,
    stderr: () => stderr,
    until: (what, cond, ms = 20_000) =>
      new Promise((res, rej) => {
        if (cond()) return res();
        const t = setTimeout(() => {
          waiters.delete(check);
          rej(new Error(`timed out waiting for ${what}; console so far:\n${c.console.map((l) => `${l.line}: ${l.text}`).slice(-20).join('\n')}\nstderr: ${stderr.slice(-2000)}`));
        }, ms);
        const check = () => {
          if (!cond()) return;
          clearTimeout(t);
          waiters.delete(check);
          res();
        };
        waiters.add(check);
      }),
    open(uri, text) {
      versions.set(uri, 1);
      void conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text } });
    },
    save(uri, text) {
      const v = (versions.get(uri) ?? 1) + 1;
      versions.set(uri, v);
      void conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
      void conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
    },
    async close() {
      try {
        await Promise.race([conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
        void conn.sendNotification('exit');
      } catch {
        // already gone
      }
      const gone = new Promise((r) => proc.once('exit', r));
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      await gone;
      conn.dispose();
    },
  };
  const versions = new Map<string, number>();
  const waiters = new Set<() => void>();
  const poke = () => { for (const w of [...waiters]) w(); };
  conn.onNotification(ConsoleNotificationType, (n) => { c.console.push(...n.lines); c.onConsole?.(n.lines); poke(); });
  conn.onNotification(ItemsNotificationType, (n) => { c.items.push(n); poke(); });
  conn.onNotification(StateNotificationType, (n) => { c.states.push(n); poke(); });
  conn.onNotification(StatsNotificationType, (n) => { c.stats.push(n); poke(); });
  conn.onNotification('textDocument/publishDiagnostics', (n: { uri: string; diagnostics: Diagnostic[] }) => { c.diagnostics.set(n.uri, n.diagnostics); poke(); });
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/configuration', () => []);
  proc.on('exit', poke);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: uriOf(root),
    workspaceFolders: [{ uri: uriOf(root), name: 'ws' }],
    capabilities: { workspace: { codeLens: { refreshSupport: true }, configuration: true } },
    initializationOptions: { es5Warning: true, trusted: true, ...settings },
  });
  void conn.sendNotification('initialized', {});
  return c;
}
