/**
 * wirehook.d.ts: regenerated from the schema + API text, and it type-checks real scripts with
 * tsc (the examples, and a // @ts-check probe), while catching a wrong field or helper call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpName } from './fixture';

const TSC = path.resolve('node_modules/typescript/bin/tsc');

function check(files: Record<string, string>): { ok: boolean; out: string } {
  const dir = tmpName(`dts-${Object.keys(files).join('-').replace(/\W/g, '')}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [n, src] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), src);
  const cfg = {
    compilerOptions: { allowJs: true, checkJs: true, noEmit: true, strict: false, lib: ['ES2020'], types: [] },
    files: [path.resolve('wirehook.d.ts'), ...Object.keys(files).map((n) => path.join(dir, n))],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(cfg));
  const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

test('gen-dts regenerates wirehook.d.ts from the schema and the API text', () => {
  execFileSync(process.execPath, ['scripts/gen-dts.mjs']);
  const d = fs.readFileSync('wirehook.d.ts', 'utf8');
  assert.match(d, /^interface Item<Req = ItemRequest, Res = ItemResponse> \{$/m);
  assert.match(d, /^declare function onItemCaptured\(data: Item\): void;$/m);
  assert.match(d, /^declare const vendor: \{$/m);
  assert.doesNotMatch(d, /^export /m);
});

test('examples and an annotated probe type-check; mistakes are caught', () => {
  // Each script is its own global scope at run time, so each is checked as its own program.
  for (const f of fs.readdirSync('examples/hooks').filter((x) => x.endsWith('.js'))) {
    const r = check({ [f]: fs.readFileSync(path.join('examples/hooks', f), 'utf8') });
    assert.equal(r.ok, true, `${f}: ${r.out}`);
  }
  const good = check({
    'probe.js': `// @ts-check
/** @param {HttpItem} data */
function onItemCaptured(data) {
  var status = data.response.status + 1;
  var ua = data.request.headers['User-Agent'].toLowerCase();
  if (kfl.match('http', data)) console.log(status, ua, data.src.ip, data.elapsedTime.toFixed(1));
  vendor.webhook('POST', env.URL, { a: 1 });
  prometheus.vector('x', 'y', 2, status, { s_path: data.request.path });
}
/** @param {PacketInfo} info */
function onPacketCaptured(info) { var t = info.timestamp.slice(0, 4); return info.length + t.length; }
/** @param {DnsItem} data @param {string} q */
function onItemQueried(data, q) { return data.response.answers.length > 0 ? test.pass(data) : test.fail(data); }
jobs.schedule('t', '* * * * * *', function (a) { console.log(a, utils.nodeName(), file.temp('x', '.', 'json')); }, 0, 1);
setTimeout(function () { console.error(pcap.snapshot([], 'dir')); }, 10);
`,
  });
  assert.equal(good.ok, true, good.out);
  const bad = check({
    'bad.js': `// @ts-check
/** @param {HttpItem} data */
function onItemCaptured(data) {
  console.log(data.request.nope);
  kfl.match(data);
  prometheus.metric('x', 'y', 7, 1);
}
`,
  });
  assert.equal(bad.ok, false);
  assert.match(bad.out, /Property 'nope' does not exist on type 'HttpRequest'/);
  assert.match(bad.out, /Expected 2 arguments, but got 1/);
  assert.match(bad.out, /Argument of type '7' is not assignable to parameter of type '[123] \| [123] \| [123]'/);
});
