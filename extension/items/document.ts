/** Read-only JSON documents of items: `wirehook-item:/<id>.json`, fetched with `wirehook/getItem`. */
import * as vscode from 'vscode';
import { GetItem } from '../../server/protocol';
import type { Backend } from '../backend';

export const ITEM_SCHEME = 'wirehook-item';

export function itemUri(id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: ITEM_SCHEME, path: `/${encodeURIComponent(id)}.json` });
}

export class ItemDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly backend: Backend) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.json$/, ''));
    const c = await this.backend.require();
    const { item } = await c.sendRequest(GetItem, { id });
    if (item === null) return `// Item ${id} is no longer stored (evicted or from an earlier capture).\n`;
    return JSON.stringify(item, null, 2) + '\n';
  }
}
