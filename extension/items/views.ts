/**
 * Where the items webview lives: the "Items" view in Wirehook's panel container, and the
 * read-only custom editor for *.pcap/*.pcapng (opening one makes it the capture source).
 */
import * as vscode from 'vscode';
import { startCapture } from '../capture';
import type { ItemsHub } from './host';
import { itemsHtml, webviewOptions } from './html';

export const ITEMS_VIEW = 'wirehook.items';
export const PCAP_EDITOR = 'wirehook.pcap';

export class ItemsViewProvider implements vscode.WebviewViewProvider {
  view: vscode.WebviewView | undefined;
  constructor(private readonly extensionUri: vscode.Uri, private readonly hub: ItemsHub) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = itemsHtml(view.webview, this.extensionUri, 'panel');
    const host = this.hub.attach(view.webview);
    view.onDidDispose(() => {
      host.dispose();
      this.view = undefined;
    });
  }
}

export class PcapEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly extensionUri: vscode.Uri, private readonly hub: ItemsHub) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(doc: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = itemsHtml(panel.webview, this.extensionUri, 'editor');
    const host = this.hub.attach(panel.webview);
    panel.onDidDispose(() => host.dispose());
    if (doc.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Wirehook reads capture files from disk only; ${doc.uri.toString()} is not a local file.`);
      return;
    }
    try {
      await startCapture(this.hub.backend, { pcap: doc.uri.fsPath });
    } catch (e) {
      void vscode.window.showErrorMessage(`Wirehook: could not open ${doc.uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
