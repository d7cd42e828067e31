/**
 * "Closing a script stops it", as a user sees closing: the last tab showing a hook script.
 * LSP's didClose follows the text document's lifetime, not its tabs, and VS Code keeps a
 * document alive after its tab closes for as long as anything holds it (tsserver, an API
 * call), so a script the user closed could run on. Here a closed tab stops the script on the
 * server (`wirehook/stopScript`), reopening the tab runs it again (`wirehook/runScript`), and
 * deleting the file stops it for good.
 */
import * as vscode from 'vscode';
import { ListScripts, RunScript, StopScript } from '../server/protocol';
import type { Backend } from './backend';

const SCRIPT = /\.[cm]?js$/i;

const textUri = (tab: vscode.Tab): vscode.Uri | undefined =>
  tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file' && SCRIPT.test(tab.input.uri.path) ? tab.input.uri : undefined;

/** Is `uri` shown in any tab still open? */
function shown(uri: string): boolean {
  return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => textUri(t)?.toString() === uri));
}

/** `onRun`: a closed script is about to run again (its inline output starts over). */
export function followScriptTabs(backend: Backend, onRun: (uri: string) => void = () => {}): vscode.Disposable {
  /** Scripts this module stopped because their last tab closed. */
  const stopped = new Set<string>();

  /** The client and the server's loaded scripts, or nothing while it is not up (nothing runs then). */
  const running = async () => {
    if (backend.status !== 'ready') return undefined;
    const c = await backend.ensure();
    if (!c) return undefined;
    return { c, loaded: new Set((await c.sendRequest(ListScripts)).scripts.map((s) => s.uri)) };
  };

  const onTabs = async (e: vscode.TabChangeEvent): Promise<void> => {
    const closed = e.closed.map(textUri).filter((u): u is vscode.Uri => !!u).map(String).filter((u) => !shown(u));
    const opened = e.opened.map(textUri).filter((u): u is vscode.Uri => !!u).map(String).filter((u) => stopped.has(u));
    if (!closed.length && !opened.length) return;
    const up = await running();
    if (!up) return;
    const { c, loaded } = up;
    for (const uri of closed) {
      if (!loaded.has(uri)) continue;
      stopped.add(uri);
      await c.sendRequest(StopScript, { uri });
    }
    for (const uri of opened) {
      stopped.delete(uri);
      // The server loads the document's text: make sure the document is open.
      await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      onRun(uri);
      await c.sendRequest(RunScript, { uri });
    }
  };

  const onDelete = async (f: vscode.Uri): Promise<void> => {
    if (!stopped.size && backend.status !== 'ready') return;
    const up = await running();
    // A deleted folder takes the scripts under it.
    const prefix = f.toString().replace(/\/?$/, '/');
    for (const uri of [...(up?.loaded ?? []), ...stopped]) {
      if (uri !== f.toString() && !uri.startsWith(prefix)) continue;
      stopped.delete(uri);
      if (up?.loaded.has(uri)) await up.c.sendRequest(StopScript, { uri });
    }
  };

  // A server restarted after a crash is sent every open document again, closed tabs' too.
  const restopAfterCrash = async (): Promise<void> => {
    const c = await backend.ensure();
    if (c) for (const uri of stopped) await c.sendRequest(StopScript, { uri });
  };

  const report = (what: string) => (err: unknown) => console.error(`wirehook: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  // A watcher, not onDidDeleteFiles: that one sees only deletes made in the workbench, not a
  // `git checkout`, an `rm` or workspace.fs. Deletes only; a folder's delete may come alone.
  const watcher = vscode.workspace.createFileSystemWatcher('**', true, true, false);
  return vscode.Disposable.from(
    watcher,
    watcher.onDidDelete((u) => void onDelete(u).catch(report('deleted scripts'))),
    vscode.window.tabGroups.onDidChangeTabs((e) => void onTabs(e).catch(report('script tabs'))),
    backend.onRestarted(() => void restopAfterCrash().catch(report('scripts after a restart'))),
  );
}
