/**
 * The e2e suite, run inside the real workbench's extension host (code-server 4.100.3, or a
 * desktop VS Code through @vscode/test-electron). The workspace comes from test/e2e/run.mjs:
 * hooks.js (a hook script), traffic.pcap (real loopback traffic), completions.js.
 * Tests that need the language server skip themselves while dist/server.js does not exist.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import * as http from 'node:http';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { WirehookApi } from '../../../extension/main';
import type { ConsoleLine } from '../../../server/protocol';
import { screenshot, setTheme, ui, when } from './harness';

const ws = () => vscode.workspace.workspaceFolders![0].uri;
const file = (name: string) => vscode.Uri.joinPath(ws(), name);
let api: WirehookApi;
let serverJs = '';

async function activate(): Promise<WirehookApi> {
  const ext = vscode.extensions.getExtension<WirehookApi>('wirehook.wirehook');
  assert.ok(ext, 'the extension under test is loaded');
  serverJs = path.join(ext.extensionPath, 'dist', 'server.js');
  return ext.isActive ? ext.exports : ext.activate();
}

const hasServer = () => fs.existsSync(serverJs);
function needsServer(ctx: Mocha.Context): void {
  if (!hasServer()) ctx.skip();
}

/** Console lines printed by hooks.js whose text contains `mark`, seen after `since`. */
function linesFrom(mark: string, since: number): ConsoleLine[] {
  const uri = file('hooks.js').toString();
  return api.getConsoleLines().filter((l) => l.uri === uri && l.time >= since && l.text.includes(mark));
}

function waitLines(mark: string, since: number, what: string): Promise<ConsoleLine[]> {
  const t = setTimeout(async () => console.log('console so far:', JSON.stringify(api.getConsoleLines().slice(-5)), api.serverStatus, JSON.stringify(api.getState()), JSON.stringify(await api.listScripts())), 40_000);
  return when(api.onConsole as vscode.Event<unknown>, () => {
    const l = linesFrom(mark, since);
    return l.length ? l : undefined;
  }, what).finally(() => clearTimeout(t));
}

async function replaceInFile(uri: vscode.Uri, from: RegExp, to: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const text = doc.getText();
  const next = text.replace(from, to);
  assert.notEqual(next, text, `pattern ${from} found in ${uri.fsPath}`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(text.length)), next);
  assert.ok(await vscode.workspace.applyEdit(edit));
  assert.ok(await doc.save());
  return doc;
}

/** The parsed JSON file at `file` once it is complete (watched: the server writes it after the dialog). */
function jsonFile(file: string, timeoutMs = 20_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const check = () => {
      try {
        const v = JSON.parse(fs.readFileSync(file, 'utf8'));
        watcher.close();
        clearTimeout(timer);
        resolve(v);
      } catch {
        // not there, or not complete yet
      }
    };
    const watcher = fs.watch(path.dirname(file), check);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${file} was not written in ${timeoutMs} ms`));
    }, timeoutMs);
    check();
  });
}

/** The language server processes this extension host started (node … dist/server.js). */
function serverPids(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('dist/server.js')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Completion labels right after `marker` in `uri`. */
async function completionsAt(uri: vscode.Uri, marker: string, expect: string[]): Promise<string[]> {
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const offset = doc.getText().indexOf(marker);
  assert.ok(offset >= 0, `${marker} in ${uri.fsPath}`);
  const pos = doc.positionAt(offset + marker.length);
  // The JS service loads the project (jsconfig + wirehook.d.ts) a while after the file opens,
  // with no event to await: ask until the expected names come, for at most 45 s.
  const deadline = Date.now() + 45_000;
  let labels: string[] = [];
  for (;;) {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, pos, '.');
    labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    if (expect.every((e) => labels.includes(e)) || Date.now() > deadline) return labels;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('trusted workspace', function () {
  before(async () => {
    api = await activate();
  });

  it('activates, and the items panel renders in the theme (no server needed)', async () => {
    assert.equal(typeof api.startCapture, 'function');
    assert.equal(typeof api.getItems, 'function');
    await vscode.commands.executeCommand('wirehook.items.focus');
    const state = await ui('panelState', { mode: 'panel' });
    assert.deepEqual(state.headers, ['Proto', 'Source → Destination', 'Summary', 'Status', 'Time', 'Size']);
    assert.match(state.filterPlaceholder, /KFL2/);
    assert.ok(state.codiconFontLoaded, 'codicon font loaded in the webview');
    if (!hasServer()) {
      assert.ok(state.emptyVisible);
      assert.deepEqual(state.buttons, ['Open the demo capture', 'Open a capture file…', 'Capture live…']);
      assert.match(state.emptyText, /language server is missing/);
    }
    await screenshot('panel-empty-dark');
    await setTheme('Default Light Modern');
    const light = await ui('panelState', { mode: 'panel', backgroundNot: state.background });
    assert.notEqual(light.background, state.background, 'the webview follows the theme');
    await screenshot('panel-empty-light');
    await setTheme('Default Dark Modern');
  });

  it('says when no usable Node.js is found, and recovers when the setting is fixed', async () => {
    const cfg = vscode.workspace.getConfiguration('wirehook');
    // Status changes after the setting changes: starting, then failed.
    const seen: string[] = [];
    const sub = api.onDidChangeServerStatus((s) => seen.push(s));
    try {
      await cfg.update('nodePath', '/nonexistent/node-20', vscode.ConfigurationTarget.Workspace);
      await when(api.onDidChangeServerStatus as vscode.Event<unknown>, () => seen.includes('starting') && api.serverStatus === 'failed', `the failed status (seen: ${seen.join(' ')})`);
      assert.match(api.serverError, /Node\.js 20 or newer/);
      assert.match(api.serverError, /"\/nonexistent\/node-20" was not found/);
      seen.length = 0;
      await cfg.update('nodePath', undefined, vscode.ConfigurationTarget.Workspace);
      await when(api.onDidChangeServerStatus as vscode.Event<unknown>, () => seen.includes('starting') && (api.serverStatus === 'ready' || api.serverStatus === 'failed'), 'a settled status');
    } finally {
      sub.dispose();
    }
    if (hasServer()) assert.equal(api.serverStatus, 'ready');
    else assert.match(api.serverError, /language server is missing/);
  });

  it('1: opens a workspace with a hook script and a real capture', async () => {
    const hooks = await vscode.workspace.openTextDocument(file('hooks.js'));
    assert.match(hooks.getText(), /function onItemCaptured\(data\)/);
    const pcap = await vscode.workspace.fs.readFile(file('traffic.pcap'));
    assert.ok(pcap.length > 1000);
    // pcap magic, either byte order
    assert.ok([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(new DataView(pcap.buffer, pcap.byteOffset).getUint32(0, false)));
    await vscode.window.showTextDocument(hooks);
  });

  it('2: starts the capture and sees console lines arrive', async function () {
    needsServer(this);
    // The server loads an opened script asynchronously and runs it on traffic from then on:
    // Run Script answers once it is loaded, so the capture below is sure to reach it.
    const run = await vscode.commands.executeCommand<{ ok: boolean }>('wirehook.runScript', file('hooks.js'));
    assert.equal(run?.ok, true);
    assert.ok((await api.listScripts()).some((s) => s.uri === file('hooks.js').toString() && s.running));
    const since = Date.now();
    const started = await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    assert.ok(started.session > 0);
    const lines = await waitLines('v1 ', since, 'console lines from hooks.js v1');
    assert.match(lines[0].text, /^v1 (HTTP|DNS) \d+ \d+$/);
    await vscode.commands.executeCommand('wirehook.showConsole');
    // Pause and filter from the console's title bar (when the Wirehook channel is shown).
    const actions: string[] = await ui('panelActions', { waitFor: 'Pause Hook Console' });
    assert.ok(actions.some((a) => a.startsWith('Filter Hook Console')), `title bar actions: ${actions.join(' | ')}`);
    await ui('panelActions', { click: 'Pause Hook Console', waitFor: 'Resume Hook Console' });
    await ui('panelActions', { click: 'Resume Hook Console', waitFor: 'Pause Hook Console' });
    await screenshot('console-dark');
    // The console's lines link to the script (a document link provider on the output view).
    const out = await when(vscode.workspace.onDidOpenTextDocument as vscode.Event<unknown>, () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && /Wirehook/i.test(d.uri.toString()) && d.getText().includes('v1 ')), 'the Wirehook output document');
    const links = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', out.uri);
    const target = links.find((l) => l.target?.path === file('hooks.js').path);
    assert.ok(target, `a link to hooks.js among ${links.length} links in ${out.uri.toString()}`);
  });

  it('2b: inline output shows the last value at the console.log line', async function () {
    needsServer(this);
    const lines = linesFrom('v1 ', 0);
    assert.ok(lines.length > 0, 'test 2 ran first');
    // docs/protocol.md: console lines carry the 1-based line of the console.* call.
    assert.equal(lines[0].line, 5, 'the console.log call is on line 5 (ConsoleLine.line from the server)');
    const ed = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file('hooks.js')));
    const inline = await when(api.onConsole as vscode.Event<unknown>, () => api.inlineValue(ed.document.uri, 5), 'the inline value on line 5');
    assert.match(inline.text, /^v1 /);
    assert.ok(inline.count >= 1);
    await vscode.commands.executeCommand('wirehook.showConsole');
    await screenshot('console-inline-dark');
    await setTheme('Default Light Modern');
    await screenshot('console-inline-light');
    await setTheme('Default Dark Modern');
  });

  it('3: edits and saves the script and sees the new output', async function () {
    needsServer(this);
    const since = Date.now();
    await replaceInFile(file('hooks.js'), /"v1 "/, '"v2 "');
    // The server replays stored items through a saved script; a new run shows it too.
    await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    await waitLines('v2 ', since, 'console lines from hooks.js v2');
  });

  it('4: a broken save shows a squiggle at the right line while the old version keeps printing', async function () {
    needsServer(this);
    const uri = file('hooks.js');
    const diag = when(vscode.languages.onDidChangeDiagnostics as vscode.Event<unknown>, () => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.severity === vscode.DiagnosticSeverity.Error);
      return d.length ? d : undefined;
    }, 'an error diagnostic on hooks.js');
    // Line 8 (1-based, `return n;` in run.mjs's hooks.js) becomes a syntax error.
    await replaceInFile(uri, /  return n;\n/, '  return n +;\n');
    const d = await diag;
    assert.equal(d[0].range.start.line, 7, `error on line 8, got ${JSON.stringify(d.map((x) => [x.range.start.line, x.message]))}`);
    const since = Date.now();
    await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    await waitLines('v2 ', since, 'the old version (v2) still printing');
    await vscode.window.showTextDocument(uri);
    await screenshot('broken-script-dark');
    await replaceInFile(uri, /  return n \+;\n/, '  return n;\n');
  });

  it('the JS service types hook scripts through the tsserver plugin (no jsconfig, nothing written)', async function () {
    // Before "Add Hook Typings", which writes a jsconfig.json that would type the file anyway.
    this.timeout(120_000);
    assert.ok(!fs.existsSync(file('jsconfig.json').fsPath), 'no jsconfig.json yet');
    const typed = file('typed.js');
    // (It runs as a hook too: nothing printed, so the console pictures stay hooks.js's.)
    const text = 'function onItemCaptured(data) {\n  var method = data.request.method, http = kfl.match("http", data);\n}\n';
    await vscode.workspace.fs.writeFile(typed, new TextEncoder().encode(text));
    const doc = await vscode.workspace.openTextDocument(typed);
    await vscode.window.showTextDocument(doc);
    const param = doc.positionAt(text.indexOf('data)') + 1);
    const kfl = doc.positionAt(text.indexOf('kfl.') + 1);
    // Our server hovers too: only TypeScript's says "(parameter) data: Item<…>", and only it
    // answers go-to-definition, into the extension's wirehook.d.ts. tsserver loads the project a
    // while after the file opens, with no event to await: ask until it answers, for at most 90 s.
    const deadline = Date.now() + 90_000;
    let hovers: string[] = [];
    let defs: string[] = [];
    for (;;) {
      const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', typed, param);
      hovers = h.flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value)));
      const d = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', typed, kfl);
      defs = d.map((x) => ('targetUri' in x ? x.targetUri : x.uri).fsPath);
      if ((hovers.some((t) => t.includes('(parameter) data: Item<ItemRequest, ItemResponse>')) && defs.length) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const ext = vscode.extensions.getExtension('wirehook.wirehook')!;
    assert.ok(hovers.some((t) => t.includes('(parameter) data: Item<ItemRequest, ItemResponse>')), `TypeScript's hover on data: ${JSON.stringify(hovers)}`);
    assert.deepEqual(defs.map((f) => fs.realpathSync(f)), [fs.realpathSync(path.join(ext.extensionPath, 'wirehook.d.ts'))]);
    assert.ok(!fs.existsSync(file('jsconfig.json').fsPath) && !fs.existsSync(file('.vscode/wirehook.d.ts').fsPath), 'nothing written into the workspace');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await vscode.workspace.fs.delete(typed);
  });

  it('Add Hook Typings: jsconfig.json lists a copy of wirehook.d.ts', async () => {
    await vscode.commands.executeCommand('wirehook.addTypes');
    const jsconfig = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(file('jsconfig.json'))));
    assert.ok(jsconfig.include.includes('.vscode/wirehook.d.ts'));
    const copied = await vscode.workspace.fs.readFile(file('.vscode/wirehook.d.ts'));
    const ext = vscode.extensions.getExtension('wirehook.wirehook')!;
    assert.deepEqual(Buffer.from(copied), fs.readFileSync(path.join(ext.extensionPath, 'wirehook.d.ts')));
    // The JS service's own answers for hook scripts come from the tsserver plugin (the test
    // before); this copy is for tsc checks and editors without the plugin.
  });

  it('closing a hook script\'s last tab stops it, reopening runs it, deleting it stops it', async function () {
    needsServer(this);
    const uri = file('closing.js');
    // It prints (its inline count is checked), and the console is cleared after, for the pictures.
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('function onItemCaptured(data) {\n  console.log("closing");\n}\n'));
    const loaded = async () => (await api.listScripts()).some((s) => s.uri === uri.toString());
    // No event says "the server's script list changed": ask, for at most 20 s.
    const until = async (want: boolean, what: string) => {
      for (const end = Date.now() + 20_000; (await loaded()) !== want; ) {
        assert.ok(Date.now() < end, what);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // The stored items' replay through it, once its count stops moving (no event says "replay done").
    const settledCount = async () => {
      let last = -1;
      for (let same = 0, end = Date.now() + 20_000; same < 4 && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 250));
        const n = api.inlineValue(uri, 2)?.count ?? 0;
        same = n === last ? same + 1 : 0;
        last = n;
      }
      return last;
    };
    await vscode.window.showTextDocument(uri, { preview: false });
    await until(true, 'opening the script loads it');
    const first = await settledCount();
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await until(false, 'closing its only tab stops it');
    await vscode.window.showTextDocument(uri, { preview: false });
    await until(true, 'reopening it runs it again');
    // A new run counts its own prints: the stored items once, not added to the first run's.
    const again = await settledCount();
    assert.ok(first > 0, 'opening it ran it over the stored items (an earlier test played traffic.pcap)');
    assert.ok(again > 0 && again <= first, `inline count after reopening: ${again}, first run: ${first}`);
    await vscode.workspace.fs.delete(uri);
    await until(false, 'deleting it stops it');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('wirehook.console.clear');
  });

  it('the getting-started walkthrough shows its steps', async () => {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'wirehook.wirehook#gettingStarted', false);
    const steps: string[] = await ui('walkthrough', { title: 'Get started with Wirehook' });
    for (const s of ['Open the demo capture', 'Write your first hook', 'Get completions', 'Filter items', 'Capture live traffic']) assert.ok(steps.includes(s), `step "${s}" among ${JSON.stringify(steps)}`);
    await screenshot('walkthrough-dark');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('5: completes data.request. in a hook script', async function () {
    needsServer(this);
    const labels = await completionsAt(file('completions.js'), 'data.request.', ['method', 'path', 'headers']);
    assert.ok(labels.includes('method') && labels.includes('path') && labels.includes('headers'), `completions: ${labels.slice(0, 30).join(', ')}`);
  });

  it('6: opens a .pcap in the custom editor; filter, select, detail in the browser', async function () {
    needsServer(this);
    await vscode.commands.executeCommand('vscode.openWith', file('traffic.pcap'), 'wirehook.pcap');
    const r = await ui('filterAndInspect', { mode: 'editor', query: 'http', invalidQuery: 'http && status_code == "x"' });
    assert.match(r.invalid.message, /^1:\d+: /);
    assert.ok(r.total > 0);
    assert.equal(r.firstRow.badge, 'HTTP');
    assert.deepEqual(r.detail.sections.slice(0, 3), ['overview', 'request', 'response']);
    assert.equal(r.detail.rawStartsWith, '{');
    // src and dst as ip:port; a name only when it says more than the address (the demo's
    // requests name their server by its IP literal: said once, not "127.0.0.1 127.0.0.1:8080").
    assert.equal(r.detail.endpoints.length, 2);
    for (const e of r.detail.endpoints) assert.match(e, /^(\S+ )?\d+\.\d+\.\d+\.\d+:\d+$/);
    for (const e of r.detail.endpoints) assert.ok(!/^(\S+) \1:/.test(e), `endpoint says its address twice: ${e}`);
    assert.ok(r.detail.cachedRows <= 2000);
    // "+" applies at once (no Enter): the list becomes the clause's matches.
    const plus = await ui('plusField', { mode: 'editor', path: 'request.method' });
    const m = /^http && method == "(GET|POST|PUT|DELETE|HEAD)"$/.exec(plus.query);
    assert.ok(m, `filter after "+": ${plus.query}`);
    assert.equal(plus.before.query, 'http');
    assert.ok(plus.total > 0 && plus.total <= plus.before.total);
    assert.ok(plus.summaries.length > 0 && plus.summaries.every((t: string) => t.startsWith(`${m[1]} `)), `rows after "+": ${plus.summaries.join(' | ')}`);
    assert.equal((await api.getItems(undefined, 0, 0)).total, plus.total, 'the server applied the same filter');
    await screenshot('pcap-editor-dark');
    await setTheme('Default Light Modern');
    await screenshot('pcap-editor-light');
    await setTheme('Default Dark Modern');
    const { items } = await api.getItems('http', 0, 1);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'wirehook-item', path: `/${items[0].id}.json` }));
    assert.equal(JSON.parse(doc.getText()).id, items[0].id);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('6b: rows are green/red from test.pass/fail (onItemQueried); the README pictures', async function () {
    needsServer(this);
    // The README's picture: a script with its inline output above the items panel.
    await vscode.window.showTextDocument(file('hooks.js'));
    await vscode.commands.executeCommand('wirehook.items.focus');
    await ui('panelState', { mode: 'panel' });
    // Rows green/red from test.pass/fail: a script with onItemQueried marks the shown matches.
    const marks = file('marks.js');
    assert.equal((await vscode.commands.executeCommand<{ ok: boolean }>('wirehook.runScript', marks.toString()))?.ok, true);
    const m2 = await ui('rowMarks', { mode: 'panel' });
    assert.ok(m2.failed.every((r: any) => /^5\d\d/.test(r.status)), `failed rows: ${JSON.stringify(m2.failed)}`);
    assert.ok(m2.passed.every((r: any) => /^2\d\d/.test(r.status)), `passed rows: ${JSON.stringify(m2.passed)}`);
    assert.ok(m2.plain.every((r: any) => !/^[25]\d\d/.test(r.status)), `unmarked rows: ${JSON.stringify(m2.plain)}`);
    assert.notEqual(m2.failed[0].border, m2.passed[0].border);
    await screenshot('items-panel-dark');
    await setTheme('Default Light Modern');
    await screenshot('items-panel-light');
    // High contrast: looked at, not committed (docs/extension.md).
    await setTheme('Default High Contrast');
    await ui('detailButton', {});
    await screenshot('items-panel-hc');
    await setTheme('Default Dark Modern');
    await vscode.commands.executeCommand('wirehook.stopScript', marks.toString());
  });

  it('export: HAR from the panel button, NDJSON and pcap from the command; tshark reads the pcap', async function () {
    needsServer(this);
    await vscode.commands.executeCommand('wirehook.items.focus');
    await ui('panelState', { mode: 'panel' });
    const query = 'http && method == "GET"';
    const expected = await api.getItems(query, 0, 10_000);
    assert.ok(expected.total > 0, 'test 6 left the GET filter active');
    assert.equal((await api.getItems(undefined, 0, 0)).total, expected.total, 'the active filter is the GET one');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wirehook-e2e-export-'));
    // HAR: the panel's Export button, the format QuickPick and the save dialog, in the browser.
    const har = path.join(dir, 'items.har');
    await ui('quickInputs', { fromPanel: true, steps: ['HAR', har] });
    const log = (await jsonFile(har).catch((e) => {
      const fallback = file('wirehook-items.har').fsPath;
      throw new Error(`${e.message}${fs.existsSync(fallback) ? ` (the dialog saved to its default ${fallback} instead)` : ''}`);
    })).log;
    assert.equal(log.version, '1.2');
    assert.equal(log.entries.length, expected.total);
    assert.ok(log.entries.every((e: any) => e.request.method === 'GET' && e.response.status > 0));
    // NDJSON and pcap: the command (as a keybinding would run it), answered in the browser.
    const exported = async (label: string, file: string) => {
      const result = vscode.commands.executeCommand<{ items: number; packets?: number; path: string }>('wirehook.exportItems');
      await ui('quickInputs', { steps: [label, file] });
      return result;
    };
    const nd = await exported('NDJSON', path.join(dir, 'items.ndjson'));
    const lines = fs.readFileSync(nd.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, expected.total);
    assert.deepEqual(lines.map((i) => i.id).sort(), expected.items.map((p) => p.id).sort());
    const pcap = await exported('pcap', path.join(dir, 'items.pcap'));
    assert.ok((pcap.packets ?? 0) > 0);
    const t = spawnSync('tshark', ['-r', pcap.path, '-T', 'fields', '-e', 'http.request.method', '-e', 'http.request.uri', '-Y', 'http.request'], { encoding: 'utf8' });
    assert.equal(t.status, 0, `tshark read the exported pcap: ${t.stderr}`);
    // The packets of each item's connection: other requests on a kept-alive connection come
    // along, so every exported GET must be there (as often as exported), and possibly more.
    const seen = t.stdout.trim().split('\n').map((l) => l.replace('\t', ' '));
    for (const p of expected.items) {
      const at = seen.indexOf(p.summary);
      assert.ok(at >= 0, `${p.summary} among the requests tshark reads: ${seen.join(' | ')}`);
      seen.splice(at, 1);
    }
    const count = spawnSync('capinfos', ['-c', '-M', pcap.path], { encoding: 'utf8' });
    if (count.status === 0) assert.match(count.stdout, new RegExp(`Number of packets:\\s+${pcap.packets}\\b`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('copy as cURL from the detail pane reaches the clipboard', async function () {
    needsServer(this);
    const t0 = Date.now();
    await vscode.env.clipboard.writeText('');
    const t1 = Date.now();
    await vscode.commands.executeCommand('wirehook.items.focus');
    // The export's "exported N items" toast sits over the panel's rows: a click would wait for it.
    await vscode.commands.executeCommand('notifications.clearAll');
    const { id } = await ui('detailButton', { button: 'Copy as cURL' });
    const t2 = Date.now();
    // The clipboard has no change event: read it until the copy landed (at most 10 s).
    let text = '';
    for (let i = 0; i < 50 && !text; i++) {
      text = await vscode.env.clipboard.readText();
      if (!text) await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`copy timings: clear ${t1 - t0} ms, click ${t2 - t1} ms, read ${Date.now() - t2} ms`);
    const { items } = await api.getItems(`id == "${id}"`, 0, 1);
    assert.equal(items.length, 1);
    // A GET (the active filter): `curl 'http://host/path' -H …`
    const url = /^curl '?(http:\/\/[^' ]+)'?( -H |$)/.exec(text)?.[1] ?? '';
    assert.ok(url, `clipboard: ${text.slice(0, 200)}`);
    assert.ok(items[0].summary.startsWith('GET ') && items[0].summary.includes(new URL(url).pathname), `cURL ${url} for ${items[0].summary}`);
  });

  it('live capture on lo (API startCapture with a BPF filter) sees traffic the test makes', async function () {
    needsServer(this);
    if (process.getuid?.() !== 0) this.skip(); // capture rights: root (CI) or setcap, see README
    const srv = http.createServer((req, res) => res.end(`live ${req.url}`));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const mark = `/e2e-live-${port}`;
    try {
      const started = await api.startCapture({ interface: 'lo', filter: `tcp port ${port}` });
      assert.ok(started.session > 0);
      await when(api.onDidChangeState as vscode.Event<unknown>, () => api.getState()?.running, 'the live capture to run');
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) => http.get(`http://127.0.0.1:${port}${mark}/${i}`, (res) => res.resume().on('end', () => resolve())).on('error', reject));
      }
      // Live capture hands packets over in kernel blocks (liveMode throughput): items come
      // within a second or two; no event says "item stored", so ask until they are there.
      const q = `http && path.startsWith("${mark}/")`;
      let got = { total: 0, items: [] as { summary: string; src: string; dst: string }[] };
      for (let i = 0; i < 100 && got.total < 5; i++) {
        await new Promise((r) => setTimeout(r, 200));
        got = await api.getItems(q, 0, 10);
      }
      assert.equal(got.total, 5, `items of ${q}`);
      assert.deepEqual(got.items.map((p) => p.summary).sort(), [0, 1, 2, 3, 4].map((i) => `GET ${mark}/${i}`));
      // src → dst shows process names: the server side is this extension host's process
      // (the client's socket is gone before the lookup, so it may show ip:port).
      const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
      assert.ok(got.items.every((p) => p.dst === comm), `dst ${got.items.map((p) => p.dst).join(', ')} is the server's process name ${comm}`);
      assert.match(api.getState()?.source ?? '', /lo/);
    } finally {
      await api.stopCapture();
      srv.close();
    }
  });

  it('a server that dies: said plainly, restarted, the views cleared, open scripts run again', async function () {
    needsServer(this);
    this.timeout(90_000);
    await vscode.window.showTextDocument(file('hooks.js'), { preview: false });
    await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    await when(api.onDidChangeState as vscode.Event<unknown>, () => api.getState()?.finished, 'the capture to finish');
    assert.ok((await api.getItems('', 0, 0)).total > 0);
    const [pid, ...more] = serverPids();
    assert.ok(pid && !more.length, `one server process: ${[pid, ...more]}`);
    const statuses: string[] = [];
    const sub = api.onDidChangeServerStatus((s) => statuses.push(s));
    try {
      process.kill(pid, 'SIGKILL');
      await when(api.onDidChangeServerStatus as vscode.Event<unknown>, () => statuses.includes('starting') && api.serverStatus === 'ready', 'a new server', 60_000);
    } finally {
      sub.dispose();
    }
    const [next] = serverPids();
    assert.ok(next && next !== pid, 'a new server process');
    assert.equal(api.getState()?.running ?? false, false, 'the capture shows as stopped');
    assert.equal((await api.getItems(undefined, 0, 0)).total, 0, 'the new server holds nothing, and the views were told');
    // The hook console says what happened and what was lost.
    const said = /language server stopped unexpectedly and was restarted\. The capture of file\/traffic\.pcap stopped and its \d+ stored items are gone/;
    await vscode.commands.executeCommand('wirehook.showConsole');
    const outputs = () => vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'output' && /Wirehook/i.test(d.uri.toString()));
    await when(vscode.workspace.onDidChangeTextDocument as vscode.Event<unknown>, () => outputs().find((d) => said.test(d.getText())), 'the crash in the hook console', 20_000).catch((e) => {
      // What the console did say: the message's wording, or no output document at all.
      for (const d of outputs()) console.log(`${d.uri.toString()} ends with:\n${d.getText().slice(-1500)}`);
      throw e;
    });
    // The open hook script was sent to the new server and runs on the next capture.
    const since = Date.now();
    await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    await waitLines('v2 ', since, 'hooks.js printing on the new server');
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('speed: 100k items with ~1k/s arriving: scrolling frames, filter re-render (figures, not asserted)', async function () {
    if (!process.env.WIREHOOK_E2E_PERF || !hasServer()) this.skip();
    this.timeout(300_000);
    const feed = path.join(vscode.extensions.getExtension('wirehook.wirehook')!.extensionPath, 'test/e2e/pcap-feed.mjs');
    // demo.pcap holds 69 items: 1450 copies ≈ 100k at once, then 15 copies/s ≈ 1k items/s.
    await api.startCapture({ command: [process.execPath, feed, file('traffic.pcap').fsPath, '1450', '15', '120'] });
    await vscode.commands.executeCommand('wirehook.items.focus');
    await when(api.onDidChangeState as vscode.Event<unknown>, () => api.getState()?.running, 'the feed to run');
    const deadline = Date.now() + 200_000;
    let total = 0;
    while ((total = (await api.getItems('', 0, 0)).total) < 99_000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000)); // a count to reach, no event for it: poll once a second
    }
    const floorArriving = await ui('measureFloor', { mode: 'panel', ms: 3000 });
    const r = await ui('measure', { mode: 'panel', ms: 5000, query: 'http && status_code >= 400' });
    const filtered = await ui('measure', { mode: 'panel', ms: 3000 });
    await screenshot('items-100k-filtered-dark');
    const unfiltered = await ui('measure', { mode: 'panel', ms: 3000, query: '' });
    // More samples of Enter → rows than one per condition: the 2-core machine's scheduling
    // varies the single figures by tens of ms.
    const filterArriving = await ui('filterRepeat', { mode: 'panel', query: 'http && status_code >= 400', times: 5 });
    await api.stopCapture();
    const rest = await ui('measure', { mode: 'panel', ms: 4000 });
    const filterAtRest = await ui('filterRepeat', { mode: 'panel', query: 'http && status_code >= 400', times: 3 });
    const floorAtRest = await ui('measureFloor', { mode: 'panel', ms: 3000 });
    const refilter = await ui('measure', { mode: 'panel', ms: 100, query: 'http && status_code >= 400' });
    console.log(`__figures__ ${JSON.stringify({ storedAtStart: total, arriving: r, filtered, unfiltered, atRest: rest, floorArriving, floorAtRest, refilterAtRest: refilter.filter, filterArriving, filterAtRest })}`);
    await screenshot('items-100k-dark');
  });
});

describe('restricted workspace', function () {
  before(async () => {
    api = await activate();
  });

  it('7: in Restricted Mode the extension runs, and no hook script runs', async function () {
    assert.equal(vscode.workspace.isTrusted, false, 'the workspace is not trusted (launched with workspace trust on)');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file('hooks.js')));
    if (!hasServer()) {
      await screenshot('restricted-no-server');
      return this.skip();
    }
    await api.startCapture({ pcap: file('traffic.pcap').fsPath });
    await when(api.onDidChangeState as vscode.Event<unknown>, () => api.getState()?.finished, 'the capture to finish');
    const total = (await api.getItems('', 0, 0)).total;
    assert.ok(total > 0, 'the capture itself works in Restricted Mode');
    assert.deepEqual(linesFrom('v1 ', 0), [], 'no line from hooks.js');
    await screenshot('restricted');
  });
});
