/**
 * Status bar (capture state, packets/s, items/s, drops, hook errors) and the progress
 * notification while a capture file loads.
 */
import * as vscode from 'vscode';
import type { Backend } from './backend';
import type { CaptureState } from '../server/protocol';

function rate(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

export class CaptureStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('wirehook.status', vscode.StatusBarAlignment.Left, 50);
  private progress: { report: (v: { message?: string; increment?: number }) => void; done: () => void; last: number; session: number } | undefined;
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(private readonly backend: Backend) {
    this.item.name = 'Wirehook capture';
    this.disposables.push(
      backend.onState((s) => {
        this.render();
        this.trackProgress(s);
      }),
      backend.onStats(() => this.render()),
      backend.onStatus(() => this.render()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.render()),
    );
    this.render();
    this.item.show();
  }

  render(): void {
    const it = this.item;
    const b = this.backend;
    const s = b.state;
    const st = b.stats;
    it.backgroundColor = undefined;
    if (!vscode.workspace.isTrusted) {
      it.text = '$(shield) Wirehook: restricted';
      it.tooltip = new vscode.MarkdownString('This workspace is in **Restricted Mode**: hook scripts do not run. Trust the workspace to run them.');
      it.command = 'workbench.trust.manage';
      it.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      return;
    }
    if (b.status === 'failed') {
      it.text = '$(error) Wirehook';
      it.tooltip = b.lastError;
      it.command = 'wirehook.showConsole';
      it.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      return;
    }
    if (!s || !s.source) {
      it.text = b.status === 'starting' ? '$(loading~spin) Wirehook' : '$(radio-tower) Wirehook';
      it.tooltip = 'Wirehook: no capture. Click to start one.';
      it.command = 'wirehook.startCapture';
      return;
    }
    const icon = s.error ? '$(warning)' : s.running ? '$(record)' : s.finished ? '$(check)' : '$(debug-pause)';
    const parts = [`${icon} ${s.source}`];
    if (st && st.session === s.session) {
      if (s.running) parts.push(`${rate(st.packetsPerSec)} pkt/s`, `${rate(st.itemsPerSec)} items/s`);
      else parts.push(`${rate(st.storedTotal)} items`);
      const drops = st.drops ? st.drops.kernel + st.drops.ifdrop : 0;
      if (drops) parts.push(`$(arrow-down) ${rate(drops)} dropped`);
      if (st.hookErrors) parts.push(`$(bug) ${st.hookErrors}`);
      if (drops || st.hookErrors) it.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    }
    if (s.error) it.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    it.text = parts.join('  ');
    const tip = new vscode.MarkdownString(`**Wirehook** — ${s.source}${s.running ? ' (running)' : s.finished ? ' (finished)' : ' (stopped)'}`);
    if (s.error) tip.appendMarkdown(`\n\n$(error) ${s.error}`);
    if (st) tip.appendMarkdown(`\n\n${st.packets} packets, ${st.storedTotal} items (${st.stored} stored, ${st.evicted} evicted), ${st.hookErrors} hook errors`);
    tip.supportThemeIcons = true;
    it.tooltip = tip;
    it.command = s.running ? 'wirehook.stopCapture' : 'wirehook.startCapture';
  }

  /** A file source reports `progress`; show it until it finishes or stops. */
  private trackProgress(s: CaptureState): void {
    const p = s.progress;
    if (this.progress && (this.progress.session !== s.session || !s.running || s.finished)) {
      this.progress.done();
      this.progress = undefined;
    }
    if (!p || !s.running || s.finished || p.totalBytes <= 0) return;
    const pct = Math.min(100, (p.bytesRead / p.totalBytes) * 100);
    if (!this.progress) {
      if (pct >= 90) return; // small files: nothing worth a notification
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const holder = { report: (_: { message?: string; increment?: number }) => {}, done, last: 0, session: s.session };
      this.progress = holder;
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Wirehook: loading ${s.source}`, cancellable: true },
        (progress, token) => {
          holder.report = (v) => progress.report(v);
          token.onCancellationRequested(() => void vscode.commands.executeCommand('wirehook.stopCapture'));
          return finished;
        },
      );
    }
    const h = this.progress;
    h.report({ increment: pct - h.last, message: `${Math.round(pct)}%` });
    h.last = pct;
  }

  dispose(): void {
    this.progress?.done();
    for (const d of this.disposables) d.dispose();
  }
}
