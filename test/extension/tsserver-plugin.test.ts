/**
 * The TypeScript server plugin (extension/tsserver-plugin) in the real tsserver, started the
 * way VS Code's TypeScript extension starts it: `--globalPlugins wirehook-tsserver-plugin
 * --pluginProbeLocations <dir>`, tsserver resolving `<dir>/node_modules/wirehook-tsserver-plugin`
 * (here a temp folder linking to the plugin's package, as the .vsix holds it). Hook scripts get
 * wirehook.d.ts's globals and typed hook parameters; a plain script does not. Runs with the
 * repository's TypeScript and, when the e2e cache has it, with code-server's bundled one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const PLUGIN = join(ROOT, 'extension/tsserver-plugin');
const CACHE = process.env.WIREHOOK_E2E_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wirehook');
const SERVERS: [string, string][] = [['repository', join(ROOT, 'node_modules/typescript/lib/tsserver.js')]];
const bundled = join(CACHE, 'code-server-4.100.3/node_modules/code-server/lib/vscode/extensions/node_modules/typescript/lib/tsserver.js');
if (existsSync(bundled)) SERVERS.push(['code-server 4.100.3', bundled]);

type Msg = { type: string; request_seq?: number; success?: boolean; message?: string; body?: any };

/** tsserver over stdio: requests as JSON lines, answers framed with Content-Length. */
function tsserver(path: string, probe: string) {
  const p = spawn(process.execPath, [path, '--disableAutomaticTypingAcquisition', '--useInferredProjectPerProjectRoot', '--globalPlugins', 'wirehook-tsserver-plugin', '--pluginProbeLocations', probe], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = Buffer.alloc(0);
  let seq = 0;
  const waiting = new Map<number, (m: Msg) => void>();
  p.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const head = /Content-Length: (\d+)\r\n\r\n/.exec(buf.toString('latin1', 0, Math.min(buf.length, 64)));
      if (!head) return;
      const start = head.index + head[0].length;
      if (buf.length < start + Number(head[1])) return;
      const msg = JSON.parse(buf.subarray(start, start + Number(head[1])).toString('utf8')) as Msg;
      buf = buf.subarray(start + Number(head[1]));
      if (msg.type === 'response') waiting.get(msg.request_seq!)?.(msg);
    }
  });
  return {
    async req(command: string, args: object): Promise<any> {
      const s = ++seq;
      p.stdin.write(JSON.stringify({ seq: s, type: 'request', command, arguments: args }) + '\n');
      const m = await new Promise<Msg>((r) => waiting.set(s, r));
      assert.ok(m.success, `${command}: ${m.message}`);
      return m.body;
    },
    /** A request that may fail as an answer (e.g. "No content available."): its error message, or ''. */
    async error(command: string, args: object): Promise<string> {
      const s = ++seq;
      p.stdin.write(JSON.stringify({ seq: s, type: 'request', command, arguments: args }) + '\n');
      const m = await new Promise<Msg>((r) => waiting.set(s, r));
      return m.success ? '' : (m.message ?? '?');
    },
    close: () => p.kill(),
  };
}

/** Line/offset (1-based) just after `needle` (its n-th occurrence). */
function at(text: string, needle: string, n = 1): { line: number; offset: number } {
  let i = -1;
  for (let k = 0; k < n; k++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  const before = text.slice(0, i + needle.length).split('\n');
  return { line: before.length, offset: before[before.length - 1].length + 1 };
}

const HOOK = `// A hook script: no JSDoc, no jsconfig, no reference.
function onItemCaptured(data) {
  console.log(data.request.);
  if (kfl.) test.;
}

/** Marks what the filter shows. */
function onItemQueried(item, query) {
  return query.;
}
`;

for (const [name, server] of SERVERS) {
  test(`tsserver plugin (${name} TypeScript): hook scripts typed in the JS service, plain scripts untouched`, async (t) => {
    assert.ok(existsSync(join(PLUGIN, 'dist/index.js')), 'run npm run build (it builds extension/tsserver-plugin/dist/index.js)');
    const dir = mkdtempSync(join(tmpdir(), 'wirehook-tsplugin-'));
    const probe = join(dir, 'ext');
    mkdirSync(join(probe, 'node_modules'), { recursive: true });
    symlinkSync(PLUGIN, join(probe, 'node_modules/wirehook-tsserver-plugin'));
    const ws = join(dir, 'ws');
    const plain = join(dir, 'other');
    mkdirSync(ws);
    mkdirSync(plain);
    const file = join(ws, 'hook.js');
    const other = join(plain, 'app.js');
    writeFileSync(file, HOOK);
    writeFileSync(other, 'const x = 1;\nkfl.\n');
    const ts = tsserver(server, probe);
    t.after(() => {
      ts.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await ts.req('open', { file, fileContent: HOOK, scriptKindName: 'JS', projectRootPath: ws });
    const names = async (f: string, pos: { line: number; offset: number }) => ((await ts.req('completionInfo', { file: f, ...pos })).entries as { name: string; kind: string }[]).filter((e) => e.kind !== 'warning').map((e) => e.name);

    // The parameter is typed from `declare function onItemCaptured(data: Item)` in wirehook.d.ts.
    const data = await ts.req('quickinfo', { file, ...at(HOOK, '(data') });
    assert.equal(data.displayString, '(parameter) data: Item<ItemRequest, ItemResponse>');
    const req = await names(file, at(HOOK, 'data.request.'));
    for (const n of ['method', 'path', 'headers', 'questions']) assert.ok(req.includes(n), `data.request. has ${n}: ${req.slice(0, 20)}`);
    assert.deepEqual((await names(file, at(HOOK, 'kfl.'))).sort(), ['match', 'validate']);
    assert.deepEqual((await names(file, at(HOOK, 'test.'))).sort(), ['fail', 'pass']);
    // Any parameter names, by position, also under a JSDoc block of the user's that types nothing.
    const query = await names(file, at(HOOK, 'query.'));
    assert.ok(query.includes('toUpperCase'), 'query is a string');
    assert.equal((await ts.req('quickinfo', { file, ...at(HOOK, '(item') })).displayString, '(parameter) item: Item<ItemRequest, ItemResponse>');

    // Every position, for the requests that walk the tree by position (the added nodes must not
    // trip them: a node under a real position with none of its own failed "Node must have a
    // real position" in the workbench's code-action requests), and an edit at each position
    // undone (the incremental parser moves, adjusts and reuses the added nodes).
    const bad: string[] = [];
    const lines = HOOK.split('\n');
    for (let line = 1; line <= lines.length; line++) {
      for (let offset = 1; offset <= lines[line - 1].length + 1; offset++) {
        const pos = { file, line, offset };
        for (const [cmd, args] of [
          ['getApplicableRefactors', pos],
          ['quickinfo', pos],
          ['definition', pos],
          ['references', pos],
          ['documentHighlights', { ...pos, filesToSearch: [file] }],
          ['signatureHelp', pos],
          ['completionInfo', pos],
        ] as const) {
          const e = await ts.error(cmd, args);
          if (e && !/^No content available|^No references/.test(e)) bad.push(`${cmd} ${line}:${offset}: ${e.split('\n')[0]}`);
        }
        await ts.req('change', { ...pos, endLine: line, endOffset: offset, insertString: 'x' });
        const e = await ts.error('quickinfo', { file, ...at(HOOK, '(data') });
        if (e) bad.push(`quickinfo after an edit at ${line}:${offset}: ${e.split('\n')[0]}`);
        await ts.req('change', { ...pos, endLine: line, endOffset: offset + 1, insertString: '' });
      }
    }
    for (const cmd of ['navtree', 'getOutliningSpans', 'encodedSyntacticClassifications-full', 'encodedSemanticClassifications-full', 'format', 'semanticDiagnosticsSync', 'suggestionDiagnosticsSync']) {
      const e = await ts.error(cmd, { file, line: 1, offset: 1, endLine: lines.length, endOffset: 1, start: 0, length: HOOK.length, format: '2020' });
      if (e) bad.push(`${cmd}: ${e.split('\n')[0]}`);
    }
    assert.deepEqual(bad, []);
    assert.ok((await names(file, at(HOOK, 'data.request.'))).includes('method'), 'still typed after the edits');

    // An edit before the hook (incremental re-parse reusing the annotated nodes) keeps the type.
    await ts.req('change', { file, line: 1, offset: 1, endLine: 1, endOffset: 1, insertString: '// edited\n' });
    const edited = '// edited\n' + HOOK;
    assert.ok((await names(file, at(edited, 'data.request.'))).includes('method'));
    // … and so does a change inside it (the declaration parsed anew).
    const inside = at(edited, 'console.log(');
    await ts.req('change', { file, ...inside, endLine: inside.line, endOffset: inside.offset, insertString: '"x", ' });
    const edited2 = edited.replace('console.log(', 'console.log("x", ');
    assert.ok((await names(file, at(edited2, 'data.request.'))).includes('method'));

    // Checked JS: the hook's parameter is typed and the added type raises no error of its own.
    const checked = '// @ts-check\nfunction onItemCaptured(data) {\n  if (kfl.match("http", data)) console.log(data.src.ip, data.elapsedTime.toFixed(1));\n}\nfunction onPacketCaptured(info) {\n  info.nope;\n}\n';
    await ts.req('change', { file, line: 1, offset: 1, endLine: 100, endOffset: 1, insertString: checked });
    const diags = (await ts.req('semanticDiagnosticsSync', { file })) as { text: string; start: { line: number } }[];
    assert.deepEqual(diags.map((d) => `${d.start.line}: ${d.text}`), ["6: Property 'nope' does not exist on type 'PacketInfo'."]);

    // The user's own JSDoc wins.
    const own = '/** @param {string} data */\nfunction onItemCaptured(data) {}\n';
    await ts.req('change', { file, line: 1, offset: 1, endLine: 100, endOffset: 1, insertString: own });
    assert.equal((await ts.req('quickinfo', { file, ...at(own, '(data') })).displayString, '(parameter) data: string');

    // A script that declares no hook, in its own project: no Wirehook globals.
    await ts.req('open', { file: other, fileContent: 'const x = 1;\nkfl.\n', scriptKindName: 'JS', projectRootPath: plain });
    const otherText = 'const x = 1;\nkfl.\n';
    assert.ok(!(await names(other, at(otherText, 'kfl.'))).includes('match'));

    // `wirehook.scripts` globs, as the extension sends them (configurePlugin, extension/tsPlugin.ts):
    // the file they name is a hook script, with no declaration; a glob naming nothing changes nothing.
    await ts.req('configurePlugin', { pluginName: 'wirehook-tsserver-plugin', configuration: { roots: [plain], scripts: ['lib/**/*.js'] } });
    assert.ok(!(await names(other, at(otherText, 'kfl.'))).includes('match'), 'a glob that names another file');
    await ts.req('configurePlugin', { pluginName: 'wirehook-tsserver-plugin', configuration: { roots: [dir], scripts: ['app.js'] } });
    assert.ok(!(await names(other, at(otherText, 'kfl.'))).includes('match'), 'globs are relative to a workspace folder');
    await ts.req('configurePlugin', { pluginName: 'wirehook-tsserver-plugin', configuration: { roots: [ws, plain], scripts: ['*.js'] } });
    assert.deepEqual((await names(other, at(otherText, 'kfl.'))).sort(), ['match', 'validate']);
    await ts.req('configurePlugin', { pluginName: 'wirehook-tsserver-plugin', configuration: { roots: [ws, plain], scripts: [] } });
    assert.ok(!(await names(other, at(otherText, 'kfl.'))).includes('match'), 'the glob removed');
  });
}
