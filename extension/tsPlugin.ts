/**
 * Tells our TypeScript server plugin (extension/tsserver-plugin) the `wirehook.scripts` globs
 * and the workspace folders, through the TypeScript extension's `configurePlugin` API: a file
 * the globs name then gets wirehook.d.ts in VS Code's JavaScript service as it is a hook script
 * for our server.
 */
import * as vscode from 'vscode';
import type { PluginConfig } from './tsserver-plugin/config';

const PLUGIN = 'wirehook-tsserver-plugin';
const TS_EXTENSION = 'vscode.typescript-language-features';

interface TsApi {
  configurePlugin(pluginId: string, configuration: unknown): void;
}

function currentConfig(): PluginConfig {
  return {
    roots: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    scripts: vscode.workspace.getConfiguration('wirehook').get<string[]>('scripts', []),
  };
}

export function configureTsPlugin(): vscode.Disposable {
  let sent = '';
  const send = async (): Promise<void> => {
    const config = currentConfig();
    // Nothing to say while no globs are set (the plugin's default), unless they were just removed.
    if (!config.scripts?.length && !sent) return;
    const key = JSON.stringify(config);
    if (key === sent) return;
    const ext = vscode.extensions.getExtension<{ getAPI?(v: 0): TsApi | undefined }>(TS_EXTENSION);
    if (!ext) return;
    const api = (ext.isActive ? ext.exports : await ext.activate())?.getAPI?.(0);
    if (!api) return;
    api.configurePlugin(PLUGIN, config);
    sent = key;
  };
  const later = () => void send().catch(() => undefined);
  later();
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('wirehook.scripts') && later()),
    vscode.workspace.onDidChangeWorkspaceFolders(later),
  );
}
