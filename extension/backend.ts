/**
 * The language client: starts `node dist/server.js --stdio` with a real Node runtime, passes the
 * settings (initializationOptions, then on change), and re-emits the server's notifications.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import { CloseAction, ErrorAction, LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ConsoleNotificationType, ItemsNotificationType, StateNotificationType, StatsNotificationType,
  type CaptureSource, type CaptureState, type ConsoleNotification, type ItemsNotification, type StatsNotification,
} from '../server/protocol';
import { findNode, NodeNotFoundError } from './node';
import { readSettings } from './settings';

const START_TIMEOUT_MS = 30_000;
/** A server that dies more often than this within CRASH_WINDOW_MS is not restarted again. */
const MAX_CRASHES = 4;
const CRASH_WINDOW_MS = 3 * 60_000;

export type BackendStatus = 'stopped' | 'starting' | 'ready' | 'failed';

export class Backend implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  status: BackendStatus = 'stopped';
  lastError = '';
  state: CaptureState | undefined;
  stats: StatsNotification | undefined;

  private readonly consoleE = new vscode.EventEmitter<ConsoleNotification>();
  private readonly itemsE = new vscode.EventEmitter<ItemsNotification>();
  private readonly stateE = new vscode.EventEmitter<CaptureState>();
  private readonly statsE = new vscode.EventEmitter<StatsNotification>();
  private readonly statusE = new vscode.EventEmitter<BackendStatus>();
  readonly onConsole = this.consoleE.event;
  readonly onItems = this.itemsE.event;
  readonly onState = this.stateE.event;
  readonly onStats = this.statsE.event;
  readonly onStatus = this.statusE.event;
  /** The last capture source started (capture.ts), to offer it again after a crash. */
  lastSource: CaptureSource | undefined;
  private crashes: number[] = [];
  private readonly restartedE = new vscode.EventEmitter<void>();
  /** The server died and a new one is up: what the old one held (scripts stopped by hand, the query) must be said again. */
  readonly onRestarted = this.restartedE.event;
  private readonly disposables: vscode.Disposable[] = [this.consoleE, this.itemsE, this.stateE, this.statsE, this.statusE, this.restartedE];

  constructor(private readonly ctx: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('wirehook.nodePath')) void this.restart();
        else if (e.affectsConfiguration('wirehook')) this.pushSettings();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.pushSettings()),
    );
  }

  get serverPath(): string {
    return vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'server.js').fsPath;
  }

  /** The running client, starting it on first use; undefined when it cannot start (the user was told). */
  ensure(): Promise<LanguageClient | undefined> {
    if (this.client && this.status === 'ready') return Promise.resolve(this.client);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Like ensure(), but throws with the reason (for commands and the API). */
  async require(): Promise<LanguageClient> {
    const c = await this.ensure();
    if (!c) throw new Error(this.lastError || 'the Wirehook language server is not running');
    return c;
  }

  private setStatus(s: BackendStatus): void {
    this.status = s;
    this.statusE.fire(s);
  }

  private async start(): Promise<LanguageClient | undefined> {
    this.setStatus('starting');
    const nodePath = vscode.workspace.getConfiguration('wirehook').get<string>('nodePath', 'node');
    let node;
    try {
      node = await findNode(nodePath);
    } catch (e) {
      return this.fail(e instanceof NodeNotFoundError ? e.message : String(e), true);
    }
    if (!fs.existsSync(this.serverPath)) {
      return this.fail(`The Wirehook language server is missing (${this.serverPath}); run \`npm run build\`.`, false);
    }
    this.log.info(`starting language server: ${node.path} (${node.version}) ${this.serverPath} --stdio`);
    const run = { command: node.path, args: [this.serverPath], transport: TransportKind.stdio, options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined } } };
    const serverOptions: ServerOptions = { run, debug: run };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'javascript' }],
      initializationOptions: readSettings(),
      outputChannel: this.log,
      // A server that pulls `workspace/configuration` gets the same object as the push below,
      // trust included (trust is not a setting the user can write).
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const res = await next(params, token);
            if (!Array.isArray(res)) return res;
            return params.items.map((it, i) => (it.section === 'wirehook' ? readSettings() : res[i]));
          },
        },
      },
    };
    clientOptions.errorHandler = {
      // Read/write errors: the close that follows decides.
      error: () => ({ action: ErrorAction.Continue, handled: true }),
      closed: () => this.serverDied(client),
    };
    const client = new LanguageClient('wirehook', 'Wirehook', serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      // Running again after a crash: the client restarted it and re-sent the open documents.
      if (e.newState === State.Running && this.client === client && this.status === 'starting') {
        this.pushSettings();
        this.setStatus('ready');
        this.log.info('language server restarted');
        this.restartedE.fire();
      }
    });
    client.onNotification(ConsoleNotificationType, (n) => this.consoleE.fire(n));
    client.onNotification(ItemsNotificationType, (n) => this.itemsE.fire(n));
    client.onNotification(StateNotificationType, (s) => {
      this.state = s;
      this.stateE.fire(s);
    });
    client.onNotification(StatsNotificationType, (s) => {
      this.stats = s;
      this.statsE.fire(s);
    });
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`no answer to initialize within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      });
      await Promise.race([client.start(), timeout]).finally(() => clearTimeout(timer));
    } catch (e) {
      void client.stop(1000).catch(() => undefined);
      return this.fail(`The Wirehook language server did not start: ${e instanceof Error ? e.message : String(e)}`, false);
    }
    this.client = client;
    this.pushSettings();
    this.setStatus('ready');
    return client;
  }

  /**
   * The server's connection closed while it was supposed to run (a crash, a kill, out of
   * memory). Everything it held is gone: the capture and its stored items, the query. Say so
   * plainly, clear what the views show, and start a new one (the client re-sends the open
   * documents, so open hook scripts load again); offer the capture again rather than restart it
   * unasked, since the capture may be what killed it.
   */
  private serverDied(client: LanguageClient): { action: CloseAction; handled: true } {
    if (this.client !== client) return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const st = this.state;
    const stored = this.stats?.stored ?? 0;
    const lost = st?.source ? ` The capture of ${st.source} stopped${stored ? ` and its ${stored.toLocaleString('en-US')} stored items are gone` : ''}.` : '';
    this.state = undefined;
    this.stats = undefined;
    this.stateE.fire({ session: st?.session ?? 0, source: null, running: false, speed: st?.speed ?? 'asap', finished: false });
    this.itemsE.fire({ previews: [], skipped: 0, matched: 0, reset: true });
    const source = this.lastSource;
    const offer = (message: string, ...extra: string[]) =>
      void vscode.window.showErrorMessage(message, ...extra, 'Show Log').then((a) => {
        if (a === 'Show Log') this.log.show(true);
        if (a === 'Restart Capture' && source) void vscode.commands.executeCommand('wirehook.startCapture', source);
        if (a === 'Restart Language Server') void this.restart();
      });
    if (this.crashes.length > MAX_CRASHES) {
      this.client = undefined;
      this.fail(`The Wirehook language server stopped unexpectedly ${this.crashes.length} times in 3 minutes; it is not restarted again.${lost}`, false);
      offer('Wirehook: the language server keeps stopping (see the log).', 'Restart Language Server');
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const message = `The Wirehook language server stopped unexpectedly and was restarted.${lost}`;
    this.log.error(message);
    this.setStatus('starting');
    offer(`Wirehook: ${message}`, ...(source ? ['Restart Capture'] : []));
    return { action: CloseAction.Restart, handled: true };
  }

  private fail(message: string, offerSettings: boolean): undefined {
    this.lastError = message;
    this.log.error(message);
    this.setStatus('failed');
    const actions = offerSettings ? ['Open Settings', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(message, ...actions).then((a) => {
      if (a === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'wirehook.nodePath');
      if (a === 'Show Log') this.log.show(true);
    });
    return undefined;
  }

  /** The settings as a `workspace/didChangeConfiguration` push (trust changes too). */
  pushSettings(): void {
    if (!this.client) return;
    void this.client.sendNotification('workspace/didChangeConfiguration', { settings: { wirehook: readSettings() } }).catch(() => undefined);
  }

  async restart(): Promise<void> {
    // A start in flight finishes first (it may have read the old settings), then is replaced.
    if (this.starting) await this.starting.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    this.setStatus('stopped');
    if (c) await c.stop().catch(() => undefined);
    await this.ensure();
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) d.dispose();
    const c = this.client;
    this.client = undefined;
    if (c) await c.stop().catch(() => undefined);
  }
}
