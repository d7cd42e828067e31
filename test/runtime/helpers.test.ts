/**
 * Helpers: console formatting, env, kfl, jobs (real cron, bounded waits), hub.action →
 * onHubAction, wrapper, prometheus (+ /metrics over HTTP), file.* confinement and tar (read
 * back with tar), network helpers (recorded by default, real requests to a local server when
 * allowed), unknown helpers, setTimeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { loadEnv, parseEnvText } from '../../server/runtime/env';
import { HTTP_SAMPLE, tmpName } from './fixture';
import { harness, until } from './harness';

const item = () => structuredClone(HTTP_SAMPLE);

test('console: args joined by a space, strings as-is, others as JSON; error to the error stream; clear', async () => {
  const h = await harness();
  h.rt.load('c.js', `console.log("a", 1, 1.5, true, null, undefined, {x: [1, "y"]}, [1], NaN);
console.error("bad", {code: 2});
console.log(new Error("e1"));
var cyc = {}; cyc.self = cyc; console.log(cyc);
console.clear();
console.log();`);
  const ev = h.events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? `${e.stream}:${e.text}` : ''));
  assert.deepEqual(ev, ['log:a 1 1.5 true null undefined {"x":[1,"y"]} [1] NaN', 'error:bad {"code":2}', 'log:Error: e1', 'log:[object Object]', 'clear:', 'log:']);
  h.rt.close();
});

test('env: from JSON, YAML (Kubeshark config), KEY=VALUE files and KEY=VALUE args', async () => {
  assert.deepEqual(parseEnvText('{"A": 1, "B": "x"}', 'e.json'), { A: 1, B: 'x' });
  assert.deepEqual(parseEnvText('scripting:\n  env:\n    WEBHOOK_URL: http://x\n    N: 10\n', 'kubeshark.yaml'), { WEBHOOK_URL: 'http://x', N: 10 });
  assert.deepEqual(parseEnvText('# c\nA=1\nexport B="two words"\n', '.env'), { A: '1', B: 'two words' });
  const f = tmpName('env.yaml');
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, 'X: 1\nY: [a, b]\n');
  assert.deepEqual(loadEnv([f, 'Z=3', 'X=over']), { X: 'over', Y: ['a', 'b'], Z: '3' });
  assert.throws(() => loadEnv(['nope']), /not a file and not KEY=VALUE/);
  assert.throws(() => parseEnvText('{bad', 'e.json'), /env e\.json/);
  const h = await harness({ env: { KINESIS_MIN_BATCH_SIZE: 10, NAME: 'x' } });
  h.rt.load('e.js', 'console.log(JSON.stringify(env), 5 < env.KINESIS_MIN_BATCH_SIZE)');
  assert.deepEqual(h.logs(), ['{"KINESIS_MIN_BATCH_SIZE":10,"NAME":"x"} true']);
  h.rt.close();
});

test('kfl.match sees the whole item; invalid queries throw LINE:COL text; validate', async () => {
  const h = await harness();
  h.rt.load('k.js', `
try { kfl.match("http and ?", {}); } catch (e) { console.log("err", e.message); }
console.log(kfl.validate("http and response.status == 200"));
try { kfl.validate("(("); } catch (e) { console.log("verr", /^\\d+:\\d+: /.test(e.message)); }
function onItemCaptured(data) {
  // Only response.status is projected, but the query reads request headers: the host has the whole item.
  console.log(data.response.status, kfl.match('request.headers["User-Agent"] == "Go-http-client/1.1"', data), kfl.match('dns', data), kfl.match('request.method == "POST"', {protocol: data.protocol}));
}`);
  h.rt.captured([item()]);
  const logs = h.logs();
  assert.match(logs[0], /^err 1:\d+: /);
  assert.deepEqual(logs.slice(1), ['true', 'verr true', '200 true false false']);
  h.rt.close();
});

test('jobs: 6-field cron fires with extra args and limit; onJobPassed/Failed; list/remove; scheduler stop/start', async () => {
  const h = await harness();
  h.rt.load('j.js', `var runs = 0;
jobs.schedule('every', '* * * * * *', function (a, b) { runs++; console.log('every', a, b); }, 2, 'x', 7);
jobs.schedule('boom', '* * * * * *', function () { throw new Error('nope'); }, 1);
jobs.schedule('gone', '*/5 * * * * *', function () {});
console.log(jobs.list().join(), jobs.scheduler.isRunning());
jobs.remove('gone');
console.log(jobs.list().join());
try { jobs.schedule('bad', '61 * * * * *', function () {}); } catch (e) { console.log('bad cron:', e.message); }
function onJobPassed(tag, cron, limit) { console.log('passed', tag, cron, limit); }
function onJobFailed(tag, cron, limit, err) { console.log('failed', tag, limit, err); }
jobs.run('every');`);
  // Wait for what is asserted below: the manual run plus two scheduled runs of 'every' (the
  // list lines also start with "every", so they must not count), its onJobPassed, and boom's failure.
  const ready = () => {
    const l = h.logs();
    return l.filter((x) => x === 'every x 7').length >= 3 && l.includes('passed every * * * * * * 2') && l.some((x) => x.startsWith('failed'));
  };
  assert.equal(await until(ready, 6000), true, h.logs().join('\n'));
  const logs = h.logs();
  assert.equal(logs[0], 'every,boom,gone true');
  assert.equal(logs[1], 'every,boom');
  assert.match(logs[2], /^bad cron: jobs\.schedule: invalid cron "61 \* \* \* \* \*"/);
  assert.equal(logs[3], 'every x 7');
  assert.ok(logs.includes('passed every * * * * * * 2'));
  assert.ok(logs.includes('failed boom 1 nope'));
  // limit 2: after two scheduled runs the job is gone.
  await until(() => h.rt.jobs.size === 0, 3000);
  assert.equal(h.rt.jobs.size, 0);
  h.rt.load('s.js', `jobs.scheduler.stop(); var a = jobs.scheduler.isRunning(); jobs.scheduler.start(); console.log(a, jobs.scheduler.isRunning());`);
  assert.deepEqual(h.logs('s.js'), ['false true']);
  h.rt.close();
});

test('hub.action reaches onHubAction in the hub context; utils.nodeName; joinMaps; json2Yaml', async () => {
  const h = await harness({ nodeName: 'worker-1' });
  h.rt.load('hub.js', `var id = 'dns-top5';
console.log('role', utils.nodeName());
function onItemCaptured(d) { hub.action(id, { 'a.b': 1, c: 2 }); }
var total = {};
function onHubAction(action, obj) {
  if (action !== id) return;
  total = wrapper.joinMaps(total, obj);
  console.log(utils.nodeName(), JSON.stringify(total));
}
console.log(utils.json2Yaml(JSON.stringify({ a: { b: [1, 2] } })).trim().split('\\n').join('|'));`);
  h.rt.captured([item(), item()]);
  const ev = h.events.flatMap((e) => (e.type === 'log' ? [`${e.role}:${e.text}`] : []));
  assert.deepEqual(ev, [
    'worker:role worker-1', 'worker:a:|  b:|    - 1|    - 2',
    'hub:role hub', 'hub:a:|  b:|    - 1|    - 2',
    'hub:hub {"a.b":1,"c":2}', 'hub:hub {"a.b":2,"c":4}',
  ]);
  h.rt.close();
});

test('wrapper.buildHAR gives HAR 1.2 with the HTTP items only', async () => {
  const h = await harness();
  h.rt.load('har.js', `var items = [];
function onItemCaptured(d) { items.push(d); }
jobs.schedule('h', '0 0 0 1 1 *', function () { var har = JSON.parse(wrapper.buildHAR(items)); console.log(har.log.version, har.log.entries.length, har.log.entries[0].request.method, har.log.entries[0].request.url, har.log.entries[0].response.status); });`);
  const dns = { ...item(), protocol: { ...item().protocol, name: 'dns' } };
  h.rt.captured([item(), dns as never]);
  h.rt.runJob('har.js', 'h');
  assert.deepEqual(h.logs(), ['1.2 1 POST http://192.168.4.120:8897/license 200']);
  h.rt.close();
});

test('prometheus: counters add, gauges set, text format on a local /metrics endpoint; bad input throws', async () => {
  const h = await harness();
  h.rt.load('m.js', `
prometheus.metric('wh_items_total', 'Items seen', 1, 2);
prometheus.metric('wh_items_total', 'Items seen', 1, 3);
console.log(prometheus.vector('wh_latency', 'Latency "ms"', 2, 10, { s_path: '/a', s_pod: 'x"y' }));
prometheus.vector('wh_latency', 'Latency "ms"', 2, 12, { s_path: '/a', s_pod: 'x"y' });
try { prometheus.metric('bad name', '', 1, 1); } catch (e) { console.log(e.message); }
try { prometheus.metric('wh_items_total', '', 2, 1); } catch (e) { console.log(e.message); }`);
  assert.deepEqual(h.logs(), ['ok', 'prometheus: invalid metric name "bad name"', 'prometheus: wh_items_total is already a counter']);
  const srv = await h.rt.metrics.serve(0);
  const body = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
  assert.equal(body, [
    '# HELP wh_items_total Items seen', '# TYPE wh_items_total counter', 'wh_items_total 5',
    '# HELP wh_latency Latency "ms"', '# TYPE wh_latency gauge', 'wh_latency{s_path="/a",s_pod="x\\"y"} 12', '',
  ].join('\n'));
  await srv.close();
  h.rt.close();
});

test('file.*: confined folder, write/append/read/copy/move/delete/mkdir/temp/mkdirTemp/tar', async () => {
  const h = await harness();
  const outside = tmpName('outside');
  fs.mkdirSync(outside, { recursive: true });
  fs.mkdirSync(h.filesDir, { recursive: true });
  fs.symlinkSync(outside, path.join(h.filesDir, 'link'));
  h.rt.load('f.js', `
function t(name, f) { try { console.log(name, f()); } catch (e) { console.log(name, 'ERR', e.message.replace(/ is outside.*/, ' outside')); } }
t('mkdir', function () { return file.mkdir('d/e'); });
t('write', function () { return file.write('d/a.txt', 'one'); });
t('append', function () { return file.append('d/a.txt', '+two'); });
t('read', function () { return file.read('d/a.txt'); });
t('copy', function () { return file.copy('d/a.txt', 'd/e'); });
t('move', function () { return file.move('d/a.txt', 'd/b.txt'); });
t('readcopy', function () { return file.read('d/e/a.txt'); });
t('temp', function () { return /\\/d\\/rep[0-9a-f]+\\.json$/.test(file.temp('rep', 'd', 'json')); });
t('mkdirTemp', function () { return /\\/d\\/run[^/]+$/.test(file.mkdirTemp('run', 'd')); });
t('tar', function () { return /kubeshark_\\d+\\.tar\\.gz$/.test(tarPath = file.tar('d')); });
t('abs-outside', function () { return file.write('/tmp/wirehook-escape.txt', 'x'); });
t('dotdot', function () { return file.write('d/../../x.txt', 'x'); });
t('symlink-out', function () { return file.write('link/x.txt', 'x'); });
t('delete-root', function () { return file.delete('.'); });
t('delete', function () { return file.delete('d/e'); });
t('unknown', function () { return file.chmod('x'); });
var tarPath;
console.log('TAR', tarPath);`);
  const logs = h.logs();
  const tarPath = logs.pop()!.slice(4);
  assert.deepEqual(logs, [
    'mkdir undefined', 'write undefined', 'append undefined', 'read one+two', 'copy undefined', 'move undefined',
    'readcopy one+two', 'temp true', 'mkdirTemp true', 'tar true',
    'abs-outside ERR file: "/tmp/wirehook-escape.txt" outside', 'dotdot ERR file: "d/../../x.txt" outside',
    'symlink-out ERR file: "link/x.txt" outside', 'delete-root ERR file.delete: refusing to delete the files folder itself',
    'delete undefined', 'unknown ERR file.chmod is not a Wirehook helper',
  ]);
  assert.equal(fs.existsSync(path.join(outside, 'x.txt')), false);
  assert.equal(fs.existsSync(path.join(h.filesDir, 'd', 'e')), false);
  const listing = execFileSync('tar', ['tzf', tarPath], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(listing.filter((l) => !/^(rep|run)/.test(l)), ['b.txt', 'e/', 'e/a.txt']);
  assert.equal(execFileSync('tar', ['xzOf', tarPath, 'e/a.txt'], { encoding: 'utf8' }), 'one+two');
  h.rt.close();
});

/**
 * An echo server in a child process: the runtime blocks its thread while a request is in
 * flight (as it does in the worker), so the server must not share that thread.
 */
async function localServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
setTimeout(() => process.exit(0), 60000).unref();
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => { child.once('exit', () => r()); child.stdin!.end(); }),
  };
}

const NET_SCRIPT = (url: string) => `
function t(name, f) { try { console.log(name, f()); } catch (e) { console.log(name, 'ERR', e.message); } }
t('webhook', function () { return vendor.webhook('POST', '${url}/hook', { a: 1 }, { 'X-Token': 't' }); });
t('form', function () { return vendor.webhookForm('POST', '${url}/form', { fileName: 'x.har', fileContents: '{}' }); });
t('slack', function () { return vendor.slack('${url}/slack', 'pre', 'text', '#ff0000'); });
t('influx', function () { return vendor.influxdb('${url}', 'tok', 'org', 'bkt', 'latency', { ms: 5 }, { path: '/a b' }); });
t('s3', function () { return vendor.s3.put('us-east-1', 'KEY', 'SECRET', 'bucket', '/tmp/x'); });
t('chatgpt', function () { return chatgpt.prompt('key', 'hello'); });
t('sentiment', function () { var s = chatgpt.sentiment('great, thanks'); return s.compound > 0 && s.pos > 0; });
t('unknown', function () { return vendor.foo(1); });
t('unknown2', function () { return vendor.s3.get(1); });
`;

test('network helpers are recorded, not sent, by default', async () => {
  const srv = await localServer();
  const h = await harness();
  h.rt.load('n.js', NET_SCRIPT(srv.url));
  assert.deepEqual(h.logs(), [
    'webhook ', 'form ', 'slack ', 'influx ', 's3 ', 'chatgpt ', 'sentiment true',
    'unknown ERR vendor.foo is not a Wirehook helper', 'unknown2 ERR vendor.s3.get is not a Wirehook helper',
  ]);
  const net = h.events.filter((e) => e.type === 'network');
  assert.deepEqual(net.map((e) => e.type === 'network' && [e.helper, e.sent]), [
    ['vendor.webhook', false], ['vendor.webhookForm', false], ['vendor.slack', false], ['vendor.influxdb', false], ['vendor.s3.put', false], ['chatgpt.prompt', false],
  ]);
  assert.match((net[0] as { summary: string }).summary, new RegExp(`^POST ${srv.url}/hook \\(7 bytes: \\{"a":1\\}\\)$`));
  assert.match((net[4] as { summary: string }).summary, /^upload \/tmp\/x to s3:\/\/bucket \(us-east-1\)$/);
  assert.ok(h.events.some((e) => e.type === 'notice' && /legacy argument order/.test(e.text)));
  h.rt.close();
  await srv.close();
});

test('network helpers really send when allowed; cloud SDK ones say so; timeouts are errors', async () => {
  const srv = await localServer();
  const h = await harness({ allowNetwork: true, networkTimeoutMs: 1000, limits: { timeoutMs: 100 } });
  h.rt.load('n.js', NET_SCRIPT(srv.url) + `t('slow', function () { return vendor.webhook('GET', '${srv.url}/slow', ''); });
t('refused', function () { return vendor.webhook('GET', 'http://127.0.0.1:1/', ''); });`);
  const logs = h.logs();
  const echo = (i: number) => JSON.parse(logs[i].slice(logs[i].indexOf(' ') + 1)) as { method: string; url: string; headers: Record<string, string>; body: string };
  const hook = echo(0);
  assert.deepEqual([hook.method, hook.url, hook.body, hook.headers['x-token']], ['POST', '/hook', '{"a":1}', 't']);
  const form = echo(1);
  assert.match(form.headers['content-type'], /^multipart\/form-data; boundary=/);
  assert.match(form.body, /name="fileName"\r\n\r\nx\.har/);
  assert.deepEqual(JSON.parse(echo(2).body), { attachments: [{ pretext: 'pre', text: 'text', color: '#ff0000' }] });
  const influx = echo(3);
  assert.equal(influx.url, '/api/v2/write?org=org&bucket=bkt&precision=ns');
  assert.equal(influx.headers.authorization, 'Token tok');
  assert.match(influx.body, /^latency,path=\/a\\ b ms=5 \d+$/);
  assert.match(logs[4], /^s3 ERR vendor\.s3\.put is not supported locally yet/);
  assert.match(logs[5], /^chatgpt ERR chatgpt\.prompt is not supported locally yet/);
  assert.match(logs[9], /^slow ERR request to .*\/slow timed out after 1000 ms$/);
  assert.match(logs[10], /^refused ERR request to http:\/\/127\.0\.0\.1:1\/ failed: /);
  // The budget does not count time blocked in a request: no timeout fault was reported.
  assert.deepEqual(h.errors(), []);
  assert.deepEqual(h.events.filter((e) => e.type === 'network' && e.sent).length, 4);
  h.rt.close();
  await srv.close();
});

test('setTimeout runs on the runtime clock; clearTimeout cancels; reload cancels pending timers', async () => {
  const h = await harness();
  h.rt.load('t.js', `setTimeout(function (a) { console.log('fired', a); }, 20, 'x');
var c = setTimeout(function () { console.log('cancelled'); }, 10); clearTimeout(c);`);
  h.rt.load('u.js', `setTimeout(function () { console.log('old version'); }, 50);`);
  h.rt.load('u.js', `// v2`);
  assert.equal(await until(() => h.logs().length > 0, 2000), true);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(h.logs(), ['fired x']);
  h.rt.close();
});

test('onItemQueried: returned object replaces the item, test.pass/fail mark it, the query is the 2nd argument', async () => {
  const h = await harness();
  h.rt.load('q.js', `function onItemQueried(data, query) {
  if (data.response.status >= 500) return test.fail(data);
  if (data.request.path === '/redact') { delete data.request.headers; data.note = query; return data; }
  test.pass(data);
}`);
  const a = item();
  const b = item();
  b.request = { ...(b.request as object), path: '/redact' } as never;
  const c = item();
  (c.response as { status: number }).status = 503;
  const res = h.rt.queried([a, b, c], 'http');
  assert.deepEqual(res.map((r) => [r.passed, r.failed, r.replaced === null]), [[true, false, true], [false, false, false], [false, true, false]]);
  const rb = res[1].replaced as Record<string, any>;
  assert.equal(rb.note, 'http');
  assert.equal(rb.request.headers, undefined);
  assert.equal(rb.request.method, 'POST');
  assert.equal((res[2].replaced as { failed: boolean }).failed, true);
  h.rt.close();
});

test('pcap.nameResolutionHistory maps answered IPs to names from the DNS items seen', async () => {
  const { file } = await (await import('./fixture')).scenarioPcap();
  const items = (await import('./fixture')).itemsOf(file);
  const h = await harness();
  h.rt.load('n.js', `jobs.schedule('n', '0 0 0 1 1 *', function () { var hist = pcap.nameResolutionHistory(), out = {};
  Object.keys(hist).forEach(function (ts) { Object.keys(hist[ts]).forEach(function (ip) { out[ip] = hist[ts][ip].FullAddress; }); });
  console.log(JSON.stringify(out)); });`);
  h.rt.captured(items);
  h.rt.runJob('n.js', 'n');
  const expected: Record<string, string> = {};
  for (const it of items) {
    if (it.protocol.name !== 'dns') continue;
    for (const a of (it.response as { answers: { ip: string; name: string }[] }).answers) if (a.ip && a.ip !== '<nil>' && a.name) expected[a.ip] = a.name;
  }
  assert.ok(Object.keys(expected).length > 0);
  assert.deepEqual(JSON.parse(h.logs()[0]), expected);
  h.rt.close();
});
