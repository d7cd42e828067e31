/**
 * The hook console: `wirehook/console` lines into the "Wirehook" log output channel, each
 * prefixed with `script.js:LINE` (a link back to the script via a document link provider on
 * the output view), with clear / pause / filter commands, and a bounded store for the API.
 */
import * as vscode from 'vscode';
import type { ConsoleLine, ConsoleNotification } from '../server/protocol';

/** Lines kept for `getConsoleLines()`; older ones fall off. */
const KEEP = 10_000;

export class HookConsole implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly lines: ConsoleLine[] = [];
  private paused = false;
  private hiddenWhilePaused = 0;
  private filter: RegExp | undefined;
  private filterText = '';
  private readonly emitter = new vscode.EventEmitter<ConsoleLine[]>();
  /** Fires with each batch, after the filter-independent store took it. */
  readonly onLines = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.channel = vscode.window.createOutputChannel('Wirehook', { log: true });
    this.disposables.push(
      this.channel,
      this.emitter,
      vscode.languages.registerDocumentLinkProvider({ scheme: 'output' }, new ConsoleLinks()),
    );
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Messages from the extension itself (not from a script). */
  info(text: string): void {
    this.channel.info(text);
  }
  warn(text: string): void {
    this.channel.warn(text);
  }

  receive(n: ConsoleNotification): void {
    for (const l of n.lines) {
      this.lines.push(l);
    }
    if (this.lines.length > KEEP) this.lines.splice(0, this.lines.length - KEEP);
    if (this.paused) {
      this.hiddenWhilePaused += n.lines.length;
    } else {
      for (const l of n.lines) this.write(l);
      if (n.skipped > 0) this.channel.warn(`… ${n.skipped} lines skipped by the rate limit`);
    }
    this.emitter.fire(n.lines);
  }

  private write(l: ConsoleLine): void {
    const text = `${where(l)}${l.role === 'hub' ? ' [hub]' : ''}${l.replay ? ' [replay]' : ''} ${l.text}${l.count && l.count > 1 ? ` (×${l.count})` : ''}`;
    if (this.filter && !this.filter.test(text)) return;
    if (l.level === 'error') this.channel.error(text);
    else if (l.level === 'info') this.channel.debug(text);
    else this.channel.info(text);
  }

  getLines(): ConsoleLine[] {
    return this.lines.slice();
  }

  clear(): void {
    this.lines.length = 0;
    this.channel.clear();
  }

  setPaused(p: boolean): void {
    if (p === this.paused) return;
    this.paused = p;
    if (!p) {
      this.channel.info(this.hiddenWhilePaused ? `(console resumed; ${this.hiddenWhilePaused} lines arrived while paused — Wirehook API getConsoleLines() keeps them)` : '(console resumed)');
      this.hiddenWhilePaused = 0;
    } else {
      this.channel.info('(console paused)');
    }
    void vscode.commands.executeCommand('setContext', 'wirehook.consolePaused', p);
  }

  /** A substring, or `/regex/flags`; empty clears the filter. Throws on a bad regex. */
  setFilter(text: string): void {
    const t = text.trim();
    if (!t) {
      this.filter = undefined;
    } else {
      const m = /^\/(.*)\/([a-z]*)$/.exec(t);
      this.filter = m ? new RegExp(m[1], m[2]) : new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    }
    this.filterText = t;
    this.channel.info(t ? `(console filter: ${t})` : '(console filter cleared)');
  }

  get filterValue(): string {
    return this.filterText;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** `status-codes.js:12` — workspace-relative when the script is in the workspace. */
export function where(l: ConsoleLine): string {
  let name = l.uri;
  try {
    const uri = vscode.Uri.parse(l.uri);
    name = uri.scheme === 'file' ? vscode.workspace.asRelativePath(uri, false) : uri.toString();
  } catch {
    // keep the raw text
  }
  return l.line > 0 ? `${name}:${l.line}` : name;
}

/** Links `name.js:LINE` at the start of console lines to the script (output views are text documents). */
class ConsoleLinks implements vscode.DocumentLinkProvider {
  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    if (!/wirehook/i.test(doc.uri.toString())) return [];
    const links: vscode.DocumentLink[] = [];
    const re = /\] (\S+\.(?:m?js|cjs))(?::(\d+))?(?=\s|$)/g;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const max = Math.min(doc.lineCount, 20_000);
    for (let i = 0; i < max; i++) {
      const text = doc.lineAt(i).text;
      re.lastIndex = 0;
      const m = re.exec(text);
      if (!m) continue;
      const file = m[1].startsWith('/') ? vscode.Uri.file(m[1]) : folder ? vscode.Uri.joinPath(folder, m[1]) : undefined;
      if (!file) continue;
      const start = m.index + 2;
      const range = new vscode.Range(i, start, i, start + m[0].length - 2);
      const link = new vscode.DocumentLink(range, m[2] ? file.with({ fragment: `L${m[2]}` }) : file);
      link.tooltip = 'Open the hook script';
      links.push(link);
    }
    return links;
  }
}
