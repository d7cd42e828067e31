/**
 * Inline output: after each `console.*` line of a script, the last value it printed and how
 * many times, as an `after` decoration in a muted theme colour. Live, redrawn at most every
 * 200 ms; off with `wirehook.inlineOutput`. A saved script starts over (its lines move), and so
 * does a new run of it (a reopened tab, Replay): the count is this run's, not the sum of all.
 */
import * as vscode from 'vscode';
import type { ConsoleLine } from '../server/protocol';

interface Seen {
  text: string;
  count: number;
}

const MAX_TEXT = 80;

export class InlineOutput implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('wirehook.inlineOutputForeground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  /** uri → 1-based line → last value */
  private readonly byUri = new Map<string, Map<number, Seen>>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private enabled = true;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.enabled = vscode.workspace.getConfiguration('wirehook').get<boolean>('inlineOutput', true);
    this.disposables.push(
      this.type,
      vscode.window.onDidChangeVisibleTextEditors(() => this.redrawAll()),
      vscode.workspace.onDidSaveTextDocument((d) => this.restart(d.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('wirehook.inlineOutput')) return;
        this.enabled = vscode.workspace.getConfiguration('wirehook').get<boolean>('inlineOutput', true);
        this.redrawAll();
      }),
    );
  }

  add(lines: ConsoleLine[]): void {
    for (const l of lines) {
      if (l.line <= 0) continue;
      let m = this.byUri.get(l.uri);
      if (!m) this.byUri.set(l.uri, (m = new Map()));
      const s = m.get(l.line);
      const n = l.count ?? 1;
      if (s) {
        s.text = l.text;
        s.count += n;
      } else m.set(l.line, { text: l.text, count: n });
      this.dirty.add(l.uri);
    }
    if (this.dirty.size && !this.timer) this.timer = setTimeout(() => this.flush(), 200);
  }

  /** What is shown after a line (for tests and the API). */
  valueAt(uri: string, line: number): Seen | undefined {
    return this.byUri.get(uri)?.get(line);
  }

  /** The script runs anew: what its last run printed goes. */
  restart(uri: string): void {
    if (!this.byUri.delete(uri)) return;
    this.dirty.add(uri);
    this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    for (const ed of vscode.window.visibleTextEditors) {
      if (this.dirty.has(ed.document.uri.toString())) this.draw(ed);
    }
    this.dirty.clear();
  }

  private redrawAll(): void {
    for (const ed of vscode.window.visibleTextEditors) this.draw(ed);
  }

  private draw(ed: vscode.TextEditor): void {
    const m = this.byUri.get(ed.document.uri.toString());
    if (!this.enabled || !m) {
      ed.setDecorations(this.type, []);
      return;
    }
    const opts: vscode.DecorationOptions[] = [];
    for (const [line, s] of m) {
      if (line > ed.document.lineCount) continue;
      const end = ed.document.lineAt(line - 1).range.end;
      const text = s.text.length > MAX_TEXT ? s.text.slice(0, MAX_TEXT - 1) + '…' : s.text;
      opts.push({
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: `${text.replace(/\s+/g, ' ')}${s.count > 1 ? `  ×${s.count}` : ''}` } },
        hoverMessage: new vscode.MarkdownString().appendCodeblock(s.text, 'text').appendText(`printed ${s.count} time${s.count === 1 ? '' : 's'}`),
      });
    }
    ed.setDecorations(this.type, opts);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
