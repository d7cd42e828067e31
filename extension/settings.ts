/** The `wirehook.*` settings as the server reads them (server/protocol.ts WirehookSettings). */
import * as vscode from 'vscode';
import { DEFAULT_SETTINGS, type WirehookSettings } from '../server/protocol';

export function readSettings(): WirehookSettings {
  const c = vscode.workspace.getConfiguration('wirehook');
  return {
    scripts: c.get<string[]>('scripts', DEFAULT_SETTINGS.scripts),
    es5Warning: c.get<boolean>('es5Warning', DEFAULT_SETTINGS.es5Warning),
    allowNetwork: c.get<boolean>('allowNetwork', DEFAULT_SETTINGS.allowNetwork),
    // Trust is not a setting: restricted mode always wins.
    trusted: vscode.workspace.isTrusted,
    envFile: c.get<string>('envFile', DEFAULT_SETTINGS.envFile),
    maxItems: c.get<number>('maxItems', DEFAULT_SETTINGS.maxItems),
    maxStoreMB: c.get<number>('maxStoreMB', DEFAULT_SETTINGS.maxStoreMB),
    liveMode: c.get<'latency' | 'throughput'>('liveMode', DEFAULT_SETTINGS.liveMode),
  };
}
