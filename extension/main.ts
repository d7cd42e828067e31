/**
 * Wirehook's VS Code client. Everything about scripts, items and captures comes from the
 * language server over LSP (server/protocol.ts); this side shows it in VS Code's own places.
 */
import * as vscode from 'vscode';
import { ListScripts, QueryItems, Replay, RunScript, StopScript, type ScriptInfo, type CaptureSource, type CaptureState, type ConsoleLine, type ItemPreview, type StartCaptureResult } from '../server/protocol';
import { Backend } from './backend';
import { HookConsole } from './console';
import { InlineOutput } from './inline';
import { CaptureStatus } from './status';
import { registerCaptureCommands, startCapture, stopCapture } from './capture';
import { ItemsHub, copyItem } from './items/host';
import { ItemDocuments, ITEM_SCHEME, itemUri } from './items/document';
import { ITEMS_VIEW, ItemsViewProvider, PCAP_EDITOR, PcapEditorProvider } from './items/views';
import { addTypes, newHookScript, openDemo, playDemoOnStart } from './authoring';
import { exportItems } from './export';
import type { CopyFormat } from './webview/messages';
import { HOOK_DECL } from './hookDecl';
import { configureTsPlugin } from './tsPlugin';
import { followScriptTabs } from './scriptTabs';

/** What `activate()` returns; docs/extension.md describes it. */
export interface WirehookApi {
  startCapture(source: CaptureSource): Promise<StartCaptureResult>;
  stopCapture(): Promise<void>;
  onConsole(listener: (lines: ConsoleLine[]) => void): vscode.Disposable;
  getConsoleLines(): ConsoleLine[];
  getItems(query?: string, offset?: number, limit?: number): Promise<{ total: number; items: ItemPreview[] }>;
  /** For tests: the inline value shown after a script line (1-based), if any. */
  inlineValue(uri: vscode.Uri, line: number): { text: string; count: number } | undefined;
  /** The scripts the server has loaded (`wirehook/listScripts`). */
  listScripts(): Promise<ScriptInfo[]>;
  /** The capture state (`wirehook/state`), and its changes. */
  getState(): CaptureState | undefined;
  onDidChangeState(listener: (s: CaptureState) => void): vscode.Disposable;
  /** The language server: `stopped`, `starting`, `ready` or `failed` (then `serverError` says why). */
  readonly serverStatus: string;
  readonly serverError: string;
  onDidChangeServerStatus(listener: (s: string) => void): vscode.Disposable;
}


export function activate(ctx: vscode.ExtensionContext): WirehookApi {
  const hookConsole = new HookConsole();
  const backend = new Backend(ctx, hookConsole.channel);
  const inline = new InlineOutput();
  const hub = new ItemsHub(backend);
  ctx.subscriptions.push(hookConsole, backend, inline, hub, new CaptureStatus(backend), configureTsPlugin(), followScriptTabs(backend, (u) => inline.restart(u)));
  ctx.subscriptions.push(
    backend.onConsole((n) => {
      hookConsole.receive(n);
      inline.add(n.lines);
    }),
  );

  if (!vscode.workspace.isTrusted) {
    hookConsole.warn('Restricted Mode: Wirehook will not run hook scripts in this workspace. Trust it (Manage Workspace Trust) to run them; captures and queries still work.');
  }
  ctx.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => hookConsole.info('Workspace trusted: hook scripts may run now.')),
  );

  const itemsView = new ItemsViewProvider(ctx.extensionUri, hub);
  ctx.subscriptions.push(
    vscode.window.registerWebviewViewProvider(ITEMS_VIEW, itemsView, { webviewOptions: { retainContextWhenHidden: false } }),
    vscode.window.registerCustomEditorProvider(PCAP_EDITOR, new PcapEditorProvider(ctx.extensionUri, hub), { supportsMultipleEditorsPerDocument: false }),
    vscode.workspace.registerTextDocumentContentProvider(ITEM_SCHEME, new ItemDocuments(backend)),
    ...registerCaptureCommands(backend),
  );

  const cmd = (id: string, f: (...a: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, f));
  const activeScript = (uri?: vscode.Uri) => (uri ?? vscode.window.activeTextEditor?.document.uri)?.toString();
  cmd('wirehook.showConsole', () => hookConsole.channel.show(true));
  cmd('wirehook.console.clear', () => hookConsole.clear());
  cmd('wirehook.console.pause', () => hookConsole.setPaused(true));
  cmd('wirehook.console.resume', () => hookConsole.setPaused(false));
  cmd('wirehook.console.filter', async (text?: string) => {
    const t = text ?? (await vscode.window.showInputBox({ title: 'Wirehook: show console lines containing…', prompt: 'text, or /regex/flags; empty shows everything', value: hookConsole.filterValue }));
    if (t === undefined) return;
    try {
      hookConsole.setFilter(t);
    } catch (e) {
      void vscode.window.showErrorMessage(`Wirehook: bad filter: ${(e as Error).message}`);
    }
  });
  cmd('wirehook.toggleInlineOutput', () => {
    const c = vscode.workspace.getConfiguration('wirehook');
    return c.update('inlineOutput', !c.get<boolean>('inlineOutput', true), vscode.ConfigurationTarget.Global);
  });
  cmd('wirehook.newHook', () => newHookScript(ctx.extensionUri));
  cmd('wirehook.addTypes', () => addTypes(ctx.extensionUri));
  cmd('wirehook.openDemo', () => openDemo(ctx.extensionUri));
  cmd('wirehook.restartServer', () => backend.restart());
  cmd('wirehook.showItems', () => vscode.commands.executeCommand(`${ITEMS_VIEW}.focus`));
  cmd('wirehook.exportItems', (ids?: string[]) => exportItems(backend, hub.query, Array.isArray(ids) ? ids : undefined));
  cmd('wirehook.openItem', (id: string) => vscode.window.showTextDocument(itemUri(String(id)), { preview: true }));
  cmd('wirehook.copyItem', (id: string, format: CopyFormat = 'json') => copyItem(backend, String(id), format));
  cmd('wirehook.runScript', async (uri?: vscode.Uri | string) => {
    const u = typeof uri === 'string' ? uri : activeScript(uri);
    // The server loads the document's text: make sure it has it.
    if (u) await vscode.workspace.openTextDocument(vscode.Uri.parse(u));
    if (!u) return;
    const r = await (await backend.require()).sendRequest(RunScript, { uri: u });
    if (!r.ok && r.error) void vscode.window.showErrorMessage(`Wirehook: ${r.error.line}:${r.error.col}: ${r.error.message}`);
    return r;
  });
  cmd('wirehook.stopScript', async (uri?: vscode.Uri | string) => {
    const u = typeof uri === 'string' ? uri : activeScript(uri);
    if (u) await (await backend.require()).sendRequest(StopScript, { uri: u });
  });
  cmd('wirehook.replay', async (uri?: vscode.Uri | string) => {
    const u = typeof uri === 'string' ? uri : activeScript(uri);
    if (!u) return;
    const c = await backend.require();
    inline.restart(u);
    return c.sendRequest(Replay, { uri: u });
  });

  // Start the server when a hook script is open (activation came from one) — cheap check on
  // the text; commands, the pcap editor and the items view start it on their own.
  const maybeStart = (doc: vscode.TextDocument) => {
    if (backend.status === 'stopped' && doc.uri.scheme === 'file' && doc.languageId === 'javascript' && HOOK_DECL.test(doc.getText())) void backend.ensure();
  };
  vscode.workspace.textDocuments.forEach(maybeStart);
  ctx.subscriptions.push(vscode.workspace.onDidOpenTextDocument(maybeStart));
  if (backend.status === 'stopped') {
    // Activated by workspaceContains on a hook script that is not open: start anyway.
    void vscode.workspace.findFiles('**/*.js', '**/node_modules/**', 200).then(async (files) => {
      for (const f of files) {
        if (backend.status !== 'stopped') return;
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(f));
        if (HOOK_DECL.test(text)) return void backend.ensure();
      }
    });
  }

  void playDemoOnStart().catch((e) => hookConsole.warn(`demo: ${e instanceof Error ? e.message : String(e)}`));

  return {
    startCapture: (source) => startCapture(backend, source),
    stopCapture: () => stopCapture(backend),
    onConsole: (listener) => hookConsole.onLines(listener),
    getConsoleLines: () => hookConsole.getLines(),
    async getItems(query?: string, offset = 0, limit = 1000) {
      const c = await backend.require();
      const r = await c.sendRequest(QueryItems, { ...(query !== undefined ? { query } : {}), offset, limit });
      if (r.error) throw new Error(`query ${r.error.line}:${r.error.col}: ${r.error.message}`);
      return { total: r.total, items: r.items };
    },
    inlineValue: (uri, line) => inline.valueAt(uri.toString(), line),
    listScripts: async () => (await (await backend.require()).sendRequest(ListScripts)).scripts,
    getState: () => backend.state,
    onDidChangeState: (listener) => backend.onState(listener),
    get serverStatus() {
      return backend.status;
    },
    get serverError() {
      return backend.status === 'failed' ? backend.lastError : '';
    },
    onDidChangeServerStatus: (listener) => backend.onStatus(listener),
  };
}

export function deactivate(): void {
  // Disposables in ctx.subscriptions stop the client.
}
