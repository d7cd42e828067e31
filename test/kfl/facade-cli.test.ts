// `wirehook items --query` in both languages over a real capture (the built dist/cli.js: run
// `npm run build` first), checked against what the traffic generators say they sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { scenarioCapture } from '../helpers/capture';

const CLI = resolve('dist', 'cli.js');
const items = (file: string, query: string) => {
  const r = spawnSync(process.execPath, [CLI, 'items', '--pcap', file, '--query', query], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status, stderr: r.stderr, items: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
};

const recorded = () => scenarioCapture();

test('--query filters the same items in legacy KFL and KFL2', async () => {
  const { file, http, dns } = await recorded();
  const pairs: [string, string, number][] = [
    ['http and response.status == 500', 'http && status_code == 500', http.filter((x) => x.status === 500).length],
    ['http and response.status >= 400', 'http && status_code >= 400', http.filter((x) => x.status >= 400).length],
    ['dns and request.questions[0].name == "a.wirehook.test"', 'dns && "a.wirehook.test" in dns_questions', dns.filter((x) => x.name === 'a.wirehook.test').length],
    ['dns and response.code == "Non-Existent Domain"', 'dns && dns_response && status_code == 3', dns.filter((x) => x.rcode === 'NXDOMAIN').length],
    ['http', 'http', http.length],
  ];
  for (const [legacy, kfl2, want] of pairs) {
    assert.ok(want > 0, `the scenario has items for ${kfl2}`);
    const a = items(file, legacy), b = items(file, kfl2);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.items.length, want, kfl2);
    assert.deepEqual(a.items.map((i) => i.id), b.items.map((i) => i.id), `${legacy} vs ${kfl2}`);
  }
});

test('an invalid query exits 2 with "wirehook: query LINE:COL: message"', async () => {
  const { file } = await recorded();
  const r = items(file, 'http && nope == 1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wirehook: query 1:9: undeclared reference to 'nope'/m);
  assert.deepEqual(r.items, []);
  const s = items(file, 'http && status_code == "500"');
  assert.equal(s.code, 2);
  assert.match(s.stderr, /^wirehook: query 1:21: found no matching overload/m);
});
