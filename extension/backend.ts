/**
 * The language client: starts `node dist/server.js --stdio` with a real Node runtime, passes the
 * settings (initializationOptions, then on change), and re-emits the server's notifications.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ConsoleNotificationType, ItemsNotificationType, StateNotificationType, StatsNotificationType,
  type CaptureState, type ConsoleNotification, type ItemsNotification, type StatsNotification,
} from '../server/protocol';
import { findNode, NodeNotFoundError } from './node';
import { readSettings } from './settings';

const START_TIMEOUT_MS = 30_000;

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
  private readonly disposables: vscode.Disposable[] = [this.consoleE, this.itemsE, this.stateE, this.statsE, this.statusE];

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
    const client = new LanguageClient('wirehook', 'Wirehook', serverOptions, clientOptions);
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
