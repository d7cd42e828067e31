/** Export the selected items, or all items matching the active filter, to HAR, NDJSON or pcap. */
import * as vscode from 'vscode';
import { ExportItems, type ExportFormat, type ExportItemsResult } from '../server/protocol';
import type { Backend } from './backend';

const FORMATS: { label: string; format: ExportFormat; ext: string; description: string }[] = [
  { label: 'HAR', format: 'har', ext: 'har', description: 'HTTP Archive 1.2 (HTTP items)' },
  { label: 'NDJSON', format: 'ndjson', ext: 'ndjson', description: 'one item JSON per line' },
  { label: 'pcap', format: 'pcap', ext: 'pcap', description: "the items' packets" },
];

export async function exportItems(backend: Backend, query: string, ids?: string[]): Promise<ExportItemsResult | undefined> {
  const what = ids?.length ? `${ids.length} selected item${ids.length === 1 ? '' : 's'}` : query.trim() ? `items matching ${query.trim()}` : 'all stored items';
  const pick = await vscode.window.showQuickPick(FORMATS, { title: `Wirehook: export ${what} as…` });
  if (!pick) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: `Wirehook: export ${what}`,
    defaultUri: folder ? vscode.Uri.joinPath(folder, `wirehook-items.${pick.ext}`) : undefined,
    filters: { [pick.label]: [pick.ext] },
  });
  if (!target) return undefined;
  const c = await backend.require();
  const r = await c.sendRequest(ExportItems, { format: pick.format, path: target.fsPath, ...(ids?.length ? { ids } : { query }) });
  const extra = (r.packets !== undefined ? ` (${r.packets} packets)` : '') + (r.skipped ? `; ${r.skipped} items this format cannot hold were left out` : '');
  void vscode.window.showInformationMessage(`Wirehook: exported ${r.items} items${extra} to ${r.path}`, 'Open').then((a) => {
    if (a === 'Open' && pick.format !== 'pcap') void vscode.window.showTextDocument(vscode.Uri.file(r.path));
  });
  return r;
}
