/** Capture control commands: live interface (+BPF), capture file, command as a pcap source, stop. */
import * as vscode from 'vscode';
import { ListInterfaces, StartCapture, StopCapture, type CaptureSource, type StartCaptureResult } from '../server/protocol';
import type { Backend } from './backend';
import { splitArgs } from './argv';

export async function startCapture(backend: Backend, source: CaptureSource): Promise<StartCaptureResult> {
  const c = await backend.require();
  const r = await c.sendRequest(StartCapture, { source });
  backend.lastSource = source;
  return r;
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
