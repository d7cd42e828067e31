/**
 * Extension side of an items webview (the panel view and each pcap custom editor use the same
 * webview code): answers its requests through the language server and forwards live batches.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CheckQuery, GetItem, QueryItems, SetQuery, type ItemsNotification, type SetQueryResult } from '../../server/protocol';
import type { Backend } from '../backend';
import type { ToHost, ToView, CopyFormat } from '../webview/messages';
import { toCurl, toHar } from './formats';
import { itemUri } from './document';

export class ItemsHub implements vscode.Disposable {
  private readonly hosts = new Set<ItemsHost>();
  query = '';
  queryLanguage = 'empty';
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly backend: Backend) {
    this.disposables.push(
      backend.onItems((n) => this.broadcastItems(n)),
      backend.onState(() => this.broadcastStatus()),
      backend.onStatus(() => this.broadcastStatus()),
      // A new server after a crash has no query: give it the one the views show.
      backend.onRestarted(() => void this.reapplyQuery().catch(() => undefined)),
    );
  }

  private async reapplyQuery(): Promise<void> {
    if (!this.query) return;
    const c = await this.backend.require();
    const r = await c.sendRequest(SetQuery, { query: this.query });
    this.broadcast(queryMessage(this.query, r));
  }

  attach(webview: vscode.Webview): ItemsHost {
    const h = new ItemsHost(this, webview);
    this.hosts.add(h);
    return h;
  }

  detach(h: ItemsHost): void {
    this.hosts.delete(h);
  }

  private broadcastItems(n: ItemsNotification): void {
    const msg: ToView = { type: 'items', previews: n.previews, matched: n.matched, reset: n.reset, evicted: this.backend.stats?.evicted ?? 0, counting: !!n.counting, ...(n.older ? { older: n.older } : {}) };
    for (const h of this.hosts) h.post(msg);
  }

  broadcast(msg: ToView): void {
    for (const h of this.hosts) h.post(msg);
  }

  statusMessage(): ToView {
    const s = this.backend.state;
    const b = this.backend;
    let text: string;
    if (!vscode.workspace.isTrusted) text = 'Restricted Mode: hook scripts do not run.';
    else if (b.status === 'failed') text = b.lastError;
    else if (b.status === 'starting') text = 'Starting the Wirehook language server…';
    else if (!s?.source) text = 'No capture yet.';
    else text = `${s.source}${s.running ? ' — capturing' : s.finished ? ' — finished' : ' — stopped'}${s.error ? ` — ${s.error}` : ''}`;
    return { type: 'status', text, running: !!s?.running, source: s?.source ?? null, serverReady: b.status === 'ready' };
  }

  private broadcastStatus(): void {
    this.broadcast(this.statusMessage());
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export class ItemsHost implements vscode.Disposable {
  private readonly sub: vscode.Disposable;

  constructor(private readonly hub: ItemsHub, private readonly webview: vscode.Webview) {
    this.sub = webview.onDidReceiveMessage((m: ToHost) => void this.handle(m).catch((e) => this.fail(e)));
  }

  post(msg: ToView): void {
    void this.webview.postMessage(msg);
  }

  private fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(`Wirehook: ${msg}`);
  }

  private async handle(m: ToHost): Promise<void> {
    const backend = this.hub.backend;
    switch (m.type) {
      case 'ready': {
        this.post(this.hub.statusMessage());
        this.post({ type: 'query', query: this.hub.query, ok: true, language: this.hub.queryLanguage });
        // The view starts (or restarts after being hidden) empty: it asks for rows itself.
        const c = await backend.ensure();
        this.post(this.hub.statusMessage());
        if (c) {
          const r = await c.sendRequest(QueryItems, { offset: 0, limit: 0 });
          this.post({ type: 'items', previews: [], matched: r.total, reset: true, evicted: backend.stats?.evicted ?? 0, counting: false });
        }
        return;
      }
      case 'rows': {
        const c = await backend.ensure();
        if (!c) return this.post({ type: 'rows', seq: m.seq, offset: m.offset, total: 0, items: [] });
        try {
          const r = await c.sendRequest(QueryItems, { offset: m.offset, limit: m.limit });
          return this.post({ type: 'rows', seq: m.seq, offset: m.offset, total: r.total, items: r.items, error: r.error });
        } catch (e) {
          // Always answer, so the view does not wait for rows that will not come.
          this.post({ type: 'rows', seq: m.seq, offset: m.offset, total: -1, items: [] });
          throw e;
        }
      }
      case 'check': {
        const c = await backend.ensure();
        if (!c) return;
        const r = await c.sendRequest(CheckQuery, { query: m.query });
        return this.post({ type: 'check', seq: m.seq, ok: r.ok, language: r.language, error: r.error, matched: r.matched });
      }
      case 'setQuery': {
        const c = await backend.require();
        const t0 = performance.now();
        const r = await c.sendRequest(SetQuery, { query: m.query });
        // WIREHOOK_TRACE_QUERY=<file> (the server writes its side there too): the round trip.
        if (process.env.WIREHOOK_TRACE_QUERY) fs.appendFileSync(process.env.WIREHOOK_TRACE_QUERY, JSON.stringify({ at: Date.now(), host: true, query: m.query, roundTripMs: +(performance.now() - t0).toFixed(1) }) + '\n');
        if (r.ok) {
          this.hub.query = m.query;
          this.hub.queryLanguage = r.language;
        }
        return this.hub.broadcast(queryMessage(m.query, r));
      }
      case 'getItem': {
        const c = await backend.require();
        const r = await c.sendRequest(GetItem, { id: m.id });
        return this.post({ type: 'item', id: m.id, item: r.item });
      }
      case 'copy':
        return copyItem(backend, m.id, m.format);
      case 'open':
        return void (await vscode.window.showTextDocument(itemUri(m.id), { preview: true, viewColumn: vscode.ViewColumn.Beside }));
      case 'export':
        return void (await vscode.commands.executeCommand('wirehook.exportItems', m.ids));
      case 'command':
        if (/^wirehook\./.test(m.command)) await vscode.commands.executeCommand(m.command);
        return;
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.hub.detach(this);
  }
}

/** Copy one item to the clipboard as JSON, cURL or HAR (built here from the full item). */
export async function copyItem(backend: Backend, id: string, format: CopyFormat): Promise<void> {
  const c = await backend.require();
  const { item } = await c.sendRequest(GetItem, { id });
  if (!item) throw new Error(`item ${id} is no longer stored`);
  const text = format === 'json' ? JSON.stringify(item, null, 2) : format === 'curl' ? toCurl(item as any) : JSON.stringify(toHar([item as any]), null, 2);
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Wirehook: item ${id} copied as ${format === 'json' ? 'JSON' : format === 'curl' ? 'cURL' : 'HAR'}`, 3000);
}

/** What the views are told of a query the server took (or refused). */
function queryMessage(query: string, r: SetQueryResult): ToView {
  return { type: 'query', query, ok: r.ok, language: r.language, error: r.error, matched: r.matched, ...(r.partial ? { partial: true } : {}) };
}
