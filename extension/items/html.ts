/** The items webview's HTML shell: strict CSP, the bundled script and styles from dist/. */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

export function itemsHtml(webview: vscode.Webview, extensionUri: vscode.Uri, mode: 'panel' | 'editor'): string {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const res = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(dist, f)).toString();
  const nonce = randomBytes(16).toString('base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${res('codicon.css')}">
<link rel="stylesheet" href="${res('webview.css')}">
<title>Wirehook items</title>
</head>
<body class="mode-${mode}">
<div id="app"></div>
<script nonce="${nonce}" src="${res('webview.js')}"></script>
</body>
</html>`;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}
