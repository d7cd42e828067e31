/**
 * Authoring: a new hook script from the bundled templates (examples/hooks/*.js), and the
 * typings (wirehook.d.ts) written into the workspace's jsconfig.json on request — for `tsc`
 * checks and editors without the TypeScript server plugin (extension/tsserver-plugin), which
 * types hook scripts in VS Code's own JavaScript service without it.
 */
import * as vscode from 'vscode';

export async function newHookScript(extensionUri: vscode.Uri): Promise<vscode.Uri | undefined> {
  const dir = vscode.Uri.joinPath(extensionUri, 'examples', 'hooks');
  const entries = await vscode.workspace.fs.readDirectory(dir);
  const picks: (vscode.QuickPickItem & { file: string })[] = [];
  for (const [name] of entries.filter(([n]) => n.endsWith('.js')).sort()) {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, name)));
    const first = /^\s*\/\/\s*(.+)$/m.exec(text)?.[1] ?? '';
    picks.push({ label: name.replace(/\.js$/, ''), description: first, file: name });
  }
  const pick = await vscode.window.showQuickPick(picks, { title: 'Wirehook: new hook script from a template', matchOnDescription: true });
  if (!pick) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const template = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, pick.file)));
  if (!folder) {
    const doc = await vscode.workspace.openTextDocument({ language: 'javascript', content: template });
    await vscode.window.showTextDocument(doc);
    return doc.uri;
  }
  let target = vscode.Uri.joinPath(folder, pick.file);
  for (let i = 2; await exists(target); i++) target = vscode.Uri.joinPath(folder, pick.file.replace(/\.js$/, `-${i}.js`));
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(template));
  await vscode.window.showTextDocument(target);
  return target;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies wirehook.d.ts into .vscode/ and lists it in the workspace's jsconfig.json (created when
 * absent, amended when it is plain JSON). Returns the jsconfig's URI.
 */
export async function addTypes(extensionUri: vscode.Uri, announce = true): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) {
    void vscode.window.showWarningMessage('Wirehook: open a folder first; the typings go into its jsconfig.json.');
    return undefined;
  }
  const dts = vscode.Uri.joinPath(folder, '.vscode', 'wirehook.d.ts');
  await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder, '.vscode'));
  await vscode.workspace.fs.writeFile(dts, await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'wirehook.d.ts')));
  const jsconfig = vscode.Uri.joinPath(folder, 'jsconfig.json');
  const entry = '.vscode/wirehook.d.ts';
  let config: any = { compilerOptions: { target: 'ES2020', checkJs: false, lib: ['ES2020'] }, include: ['**/*.js', entry] };
  if (await exists(jsconfig)) {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(jsconfig));
    try {
      config = JSON.parse(text);
    } catch {
      void vscode.window.showWarningMessage(`Wirehook: ${jsconfig.fsPath} is not plain JSON; add "${entry}" to its "include" yourself.`);
      return jsconfig;
    }
    const inc: string[] = Array.isArray(config.include) ? config.include : ['**/*.js'];
    if (inc.includes(entry)) return jsconfig;
    config.include = [...inc, entry];
  }
  await vscode.workspace.fs.writeFile(jsconfig, new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
  if (announce) void vscode.window.showInformationMessage(`Wirehook: hook globals (data, console, kfl, …) are typed through ${vscode.workspace.asRelativePath(jsconfig)}.`);
  return jsconfig;
}

/** Opens the bundled demo capture in the pcap editor (walkthrough step). */
export async function openDemo(extensionUri: vscode.Uri): Promise<void> {
  const uri = vscode.Uri.joinPath(extensionUri, 'examples', 'captures', 'demo.pcap');
  await vscode.commands.executeCommand('vscode.openWith', uri, 'wirehook.pcap');
}

/**
 * `npm run demo:editor` (test/e2e/demo-editor.mjs) opens the workbench on an example hook with
 * WIREHOOK_DEMO_CAPTURE set in the extension host's environment: once that hook is loaded, the
 * capture plays beside it in the Wirehook Capture editor and the console shows its output.
 */
export async function playDemoOnStart(): Promise<void> {
  const pcap = process.env.WIREHOOK_DEMO_CAPTURE;
  if (!pcap || !vscode.workspace.isTrusted) return;
  const hook = vscode.window.activeTextEditor ?? (await new Promise<vscode.TextEditor | undefined>((resolve) => {
    const sub = vscode.window.onDidChangeActiveTextEditor((e) => {
      if (!e) return;
      sub.dispose();
      clearTimeout(timer);
      resolve(e);
    });
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(undefined);
    }, 15_000);
  }));
  // Run Script answers once the hook is loaded, so it sees the capture from its first item.
  if (hook?.document.languageId === 'javascript') await vscode.commands.executeCommand('wirehook.runScript', hook.document.uri);
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(pcap), 'wirehook.pcap', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
  await vscode.commands.executeCommand('wirehook.showConsole');
}
