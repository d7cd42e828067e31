/** Capture control commands: live interface (+BPF), capture file, command as a pcap source, stop. */
import * as vscode from 'vscode';
import { ListInterfaces, StartCapture, StopCapture, type CaptureSource, type StartCaptureResult } from '../server/protocol';
import type { Backend } from './backend';

export async function startCapture(backend: Backend, source: CaptureSource): Promise<StartCaptureResult> {
  const c = await backend.require();
  return c.sendRequest(StartCapture, { source });
}

export async function stopCapture(backend: Backend): Promise<void> {
  const c = await backend.require();
  await c.sendRequest(StopCapture);
}

/** QuickPick of interfaces, then an optional BPF filter. */
export async function pickLiveSource(backend: Backend): Promise<CaptureSource | undefined> {
  const c = await backend.require();
  const r = await c.sendRequest(ListInterfaces);
  if (r.error && r.interfaces.length === 0) {
    void vscode.window.showErrorMessage(`Wirehook cannot list interfaces: ${r.error}`);
    return undefined;
  }
  const picks = r.interfaces.map((i) => ({
    label: `$(${i.loopback ? 'home' : 'globe'}) ${i.name}`,
    description: [i.up ? '' : 'down', i.addresses.join(', ')].filter(Boolean).join(' · '),
    detail: i.description || undefined,
    name: i.name,
  }));
  const pick = await vscode.window.showQuickPick(picks, { title: 'Wirehook: capture on which interface?', placeHolder: 'lo, eth0, any…', matchOnDescription: true });
  if (!pick) return undefined;
  const filter = await vscode.window.showInputBox({
    title: `Wirehook: BPF filter for ${pick.name} (optional)`,
    placeHolder: 'tcp port 80 or udp port 53',
    prompt: 'tcpdump filter syntax; leave empty to capture everything',
  });
  if (filter === undefined) return undefined;
  return { interface: pick.name, ...(filter.trim() ? { filter: filter.trim() } : {}) };
}

/** Splits a command line into argv (quotes group, backslash escapes; no shell). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (cur || any) out.push(cur);
  return out;
}

export function registerCaptureCommands(backend: Backend): vscode.Disposable[] {
  const run = async (source: CaptureSource | undefined) => {
    if (!source) return;
    const r = await startCapture(backend, source);
    void vscode.commands.executeCommand('wirehook.items.focus');
    return r;
  };
  return [
    vscode.commands.registerCommand('wirehook.startCapture', async (source?: CaptureSource) => run(source ?? (await pickLiveSource(backend)))),
    vscode.commands.registerCommand('wirehook.stopCapture', () => stopCapture(backend)),
    vscode.commands.registerCommand('wirehook.openCaptureFile', async (uri?: vscode.Uri) => {
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({ title: 'Wirehook: open a capture file', canSelectMany: false, filters: { 'Capture files': ['pcap', 'pcapng', 'cap'], 'All files': ['*'] } });
        uri = picked?.[0];
      }
      if (!uri) return;
      return run({ pcap: uri.fsPath });
    }),
    vscode.commands.registerCommand('wirehook.runCommandSource', async () => {
      const line = await vscode.window.showInputBox({
        title: 'Wirehook: a command whose standard output is a pcap stream',
        placeHolder: 'ssh host tcpdump -U -w - port 80',
        validateInput: (v) => {
          try {
            return splitArgs(v).length ? undefined : 'enter a command';
          } catch (e) {
            return (e as Error).message;
          }
        },
      });
      if (!line) return;
      return run({ command: splitArgs(line) });
    }),
  ];
}
