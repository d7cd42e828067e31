/**
 * Redis from real traffic: Debian's redis-server on a port of its own, driven by `redis-cli`
 * (RESP2, and RESP3 with -3) and `ioredis` (6, RESP3 by default, pinned to RESP2 here so that
 * tshark can judge its replies: a 300-command pipeline, a 5,000-element reply, pub/sub in
 * RESP2's subscribed mode), a raw RESP3 socket (pub/sub pushes, client-tracking invalidation), and raw sockets cutting a command and a reply mid-message;
 * captured with tcpdump on lo. The items are checked against what the clients sent and got, and against tshark's
 * RESP dissector (commands and error replies, per connection, in order).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import Redis from 'ioredis';
import { captureLoopback } from '../helpers/capture';
import { startRedis, type DbServer } from '../helpers/db-servers';
import { cliItems, itemsOf, tsharkRows, split, sleep, leaveMidMessage } from './db-lib';
import type { Item, RedisMessage } from '../../capture/item/schema';

let srv: DbServer;
let file = '';
let items: Item[] = [];
const cliPorts: string[] = [];
let resp3Port = '';
/** Connections that spoke RESP3 (HELLO 3): tshark 4.0's RESP dissector reads RESP2 only. */
let resp3Ports = new Set<string>();

const cli = (port: number, args: string[], input: string) =>
  execFileSync('redis-cli', ['-p', String(port), ...args], { input, stdio: ['pipe', 'pipe', 'ignore'] }).toString();

const enc = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/** One RESP3 connection, each step waiting for the text that ends its answer. */
async function resp3Session(port: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((res) => s.once('connect', () => res()));
  let seen = '';
  s.on('data', (d) => { seen += d.toString('latin1'); });
  const step = async (out: string, until: string, also: () => void = () => {}) => {
    const from = seen.length;
    if (out) s.write(out);
    also();
    while (!seen.slice(from).includes(until)) await sleep(10);
  };
  await step(enc('HELLO', '3'), 'proto');
  await step(enc('SUBSCRIBE', 'r3news', 'r3sport'), 'r3sport');
  await step('', 'again3', () => cli(port, [], 'PUBLISH r3news hello3\nPUBLISH r3news again3\n'));
  await step(enc('PING'), 'PONG');
  await step(enc('UNSUBSCRIBE'), ':0');
  await step(enc('CLIENT', 'TRACKING', 'on'), 'OK');
  await step(enc('GET', 'tk'), '_');
  await step('', 'invalidate', () => cli(port, [], 'SET tk changed\n'));
  await step(enc('GET', 'tk'), 'changed');
  s.end();
}

before(async () => {
  srv = await startRedis();
  const port = srv.port;
  file = await captureLoopback(`tcp port ${port}`, async () => {
    // redis-cli, RESP2: commands from stdin over one connection.
    cli(port, [], ['SET k v1', 'GET k', 'GET missing', 'INCR counter', 'RPUSH list a b c', 'LRANGE list 0 -1', 'HSET h f1 v1 f2 v2', 'HGETALL h', 'NOSUCHCMD x', 'DEL k'].join('\n') + '\n');
    // redis-cli -3: RESP3 maps, sets, nulls, doubles.
    cli(port, ['-3'], ['HGETALL h', 'SADD s x', 'SMEMBERS s', 'GET missing', 'ZADD z 1.5 m', 'ZSCORE z m'].join('\n') + '\n');
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, protocol: 2 }); // RESP2 (RESP3: redis-cli -3, resp3Session)
    await r.connect();
    const p = r.pipeline();
    for (let i = 0; i < 150; i++) p.set(`p${i}`, `v${i}`).get(`p${i}`);
    await p.exec();
    await r.rpush('big', ...Array.from({ length: 5000 }, (_, i) => `element-${i}-${'x'.repeat(20)}`));
    const big = await r.lrange('big', 0, -1);
    assert.equal(big.length, 5000);
    // Pub/sub: a subscriber (RESP2 subscribed mode) and a publisher.
    // (ioredis 6 speaks RESP3 unless told otherwise; this subscriber stays on RESP2's subscribed mode.)
    const sub = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, protocol: 2 });
    const got: string[] = [];
    sub.on('message', (_ch: string, m: string) => got.push(m));
    await sub.subscribe('news', 'sport');
    for (const m of ['m1', 'm2', 'm3']) await r.publish('news', m);
    while (got.length < 3) await sleep(20);
    await sub.unsubscribe();
    sub.disconnect();
    r.disconnect();
    // RESP3 on a raw socket: pub/sub pushes, a command answered while subscribed, and a client
    // tracking invalidation pushed between a command and the next.
    await resp3Session(port);
    // A command cut mid-message (the client goes away), and a reply cut mid-message (reset).
    const cut = net.connect(port, '127.0.0.1');
    await new Promise<void>((res) => cut.once('connect', () => res()));
    await leaveMidMessage(cut, '*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$100\r\npartial');
    await new Promise<void>((res) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('*4\r\n$6\r\nLRANGE\r\n$3\r\nbig\r\n$1\r\n0\r\n$2\r\n-1\r\n'));
      s.on('error', () => {});
      s.once('data', () => { s.once('close', () => res()); s.resetAndDestroy(); });
    });
  });
  ({ items } = await itemsOf(file));
  for (const i of items) if (!cliPorts.includes(i.src.port)) cliPorts.push(i.src.port);
  resp3Port = cliPorts[1];
  resp3Ports = new Set(items.filter((i) => req(i).command === 'HELLO' && res(i).type === 'Map').map((i) => i.src.port));
});

after(async () => { await srv?.stop(); });

const req = (i: Item) => i.request as RedisMessage;
const res = (i: Item) => i.response as RedisMessage;
const conn = (port: string) => items.filter((i) => i.src.port === port);

test('redis-cli (RESP2): one item per command with its reply, Kubeshark\'s shape', () => {
  const c = conn(cliPorts[0]).filter((i) => req(i).command !== 'COMMAND');
  assert.deepEqual(c.map((i) => `${req(i).command} ${req(i).key}`), ['SET k', 'GET k', 'GET missing', 'INCR counter', 'RPUSH list', 'LRANGE list', 'HSET h', 'HGETALL h', 'NOSUCHCMD x', 'DEL k']);
  for (const i of c) {
    assert.equal(i.protocol.name, 'redis');
    assert.equal(i.protocol.abbr, 'REDIS');
    assert.equal(i.error, null);
    assert.equal(req(i).type, 'Array');
    assert.ok(i.requestSize > 0 && i.responseSize > 0);
  }
  assert.deepEqual(res(c[0]), { type: 'Simple String', command: '', key: '', value: 'OK', keyword: 'OK' });
  assert.equal(req(c[0]).value, 'v1');
  assert.deepEqual([res(c[1]).type, res(c[1]).value], ['Bulk String', 'v1']);
  assert.equal(res(c[2]).value, '<nil>');
  assert.deepEqual([res(c[3]).type, res(c[3]).value], ['Integer', '1']);
  assert.equal(req(c[4]).value, '[a, b, c]');
  assert.deepEqual([res(c[5]).type, res(c[5]).value], ['Array', '[a, b, c]']);
  assert.equal(res(c[8]).type, 'Error');
  assert.match(res(c[8]).value, /^ERR unknown command/);
});

test('redis-cli -3 (RESP3): HELLO 3, maps, sets, nulls and doubles', () => {
  const c = conn(resp3Port);
  const byCmd = (cmd: string) => c.filter((i) => req(i).command === cmd);
  assert.equal(byCmd('HELLO')[0].response && res(byCmd('HELLO')[0]).type, 'Map');
  assert.deepEqual([res(byCmd('HGETALL')[0]).type, res(byCmd('HGETALL')[0]).value], ['Map', '{f1: v1, f2: v2}']);
  assert.deepEqual([res(byCmd('SMEMBERS')[0]).type, res(byCmd('SMEMBERS')[0]).value], ['Set', '[x]']);
  assert.deepEqual([res(byCmd('GET')[0]).type, res(byCmd('GET')[0]).value], ['Null', '<nil>']);
  assert.deepEqual([res(byCmd('ZSCORE')[0]).type, res(byCmd('ZSCORE')[0]).value], ['Double', '1.5']);
  for (const i of c) assert.equal(i.error, null);
});

test('ioredis: a 300-command pipeline pairs every reply in order; a 5,000-element reply is one item', () => {
  const sets = items.filter((i) => req(i).command === 'SET' && req(i).key.startsWith('p'));
  const gets = items.filter((i) => req(i).command === 'GET' && req(i).key.startsWith('p'));
  assert.equal(sets.length, 150);
  assert.equal(gets.length, 150);
  gets.forEach((g, k) => { assert.equal(g.error, null); assert.equal(res(g).value, `v${k}`); });
  const big = items.filter((i) => req(i).command === 'LRANGE' && req(i).key === 'big');
  const whole = big.find((i) => i.error === null)!;
  assert.equal(res(whole).type, 'Array');
  assert.match(res(whole).value, /^\[element-0-x+, element-1-/);
  assert.match(res(whole).value, /… \(4936 more\)\]$|…$/);
  assert.ok(whole.responseSize > 5000 * 30, `responseSize ${whole.responseSize}`);
});

test('pub/sub: SUBSCRIBE takes one confirmation per channel; each published message is an item of its own', () => {
  const subItem = items.find((i) => req(i).command === 'SUBSCRIBE')!;
  assert.equal(subItem.error, null);
  assert.equal(res(subItem).value, '[[subscribe, news, 1], [subscribe, sport, 2]]');
  const msgs = items.filter((i) => req(i).command === 'MESSAGE' && req(i).type === 'Array'); // RESP2 arrays (RESP3 pushes: below)
  assert.deepEqual(msgs.map((i) => [req(i).key, req(i).value, res(i).type]), [['news', 'm1', 'N/A'], ['news', 'm2', 'N/A'], ['news', 'm3', 'N/A']]);
  const unsub = items.find((i) => req(i).command === 'UNSUBSCRIBE')!;
  assert.equal(unsub.error, null);
  assert.equal((res(unsub).value.match(/unsubscribe/g) ?? []).length, 2);
  assert.equal(items.filter((i) => req(i).command === 'PUBLISH' && req(i).key === 'news').length, 3);
});

test('RESP3 pub/sub: confirmations and messages as pushes, a reply while subscribed, an invalidation between replies', () => {
  const port = items.find((i) => req(i).command === 'SUBSCRIBE' && req(i).key === 'r3news')!.src.port;
  assert.ok(resp3Ports.has(port));
  const c = conn(port);
  const show = (i: Item) => `${req(i).type} ${req(i).command} ${req(i).key} ${req(i).value} -> ${res(i).type} ${res(i).value}`;
  assert.deepEqual(c.map(show), [
    'Array HELLO 3  -> Map ' + res(c[0]).value,
    'Array SUBSCRIBE r3news r3sport -> Push [[subscribe, r3news, 1], [subscribe, r3sport, 2]]',
    'Push MESSAGE r3news hello3 -> N/A ',
    'Push MESSAGE r3news again3 -> N/A ',
    'Array PING   -> Simple String PONG',
    'Array UNSUBSCRIBE   -> Push ' + res(c[5]).value,
    'Array CLIENT TRACKING on -> Simple String OK',
    'Array GET tk  -> Null <nil>',
    'Push INVALIDATE [tk]  -> N/A ',
    'Array GET tk  -> Bulk String changed',
  ]);
  assert.match(res(c[0]).value, /proto: 3/);
  // Without channels, UNSUBSCRIBE confirms each subscribed one (in the server's order) down to 0.
  assert.match(res(c[5]).value, /^\[\[unsubscribe, r3(news|sport), 1\], \[unsubscribe, r3(news|sport), 0\]\]$/);
  for (const i of c) assert.equal(i.error, null);
});

test('a connection cut mid-command and one reset mid-reply each end in a clear error item', () => {
  const cut = items.find((i) => req(i).command === 'SET' && req(i).key === 'cut')!;
  assert.ok(cut, 'the cut command is an item');
  assert.equal(cut.error?.type, 'dissection');
  assert.match(cut.error!.msg, /command cut/);
  const reset = items.filter((i) => req(i).command === 'LRANGE' && req(i).key === 'big' && i.error);
  assert.equal(reset.length, 1);
  assert.equal(reset[0].error!.type, 'dissection');
  assert.match(reset[0].error!.msg, /reply cut/);
});

test('tshark agrees: the commands of every connection (RESP2 and RESP3), in order, and every error reply', () => {
  // The built CLI prints the same items the pipeline gave in-process (ids aside).
  const strip = (l: Item[]) => l.map((i) => JSON.stringify({ ...i, id: '', worker: '' }));
  assert.deepEqual(strip(cliItems(file)), strip(JSON.parse(JSON.stringify(items))));
  const port = String(srv.port);
  const rows = tsharkRows(file, ['-d', `tcp.port==${port},resp`, '-Y', 'resp'], ['tcp.srcport', 'tcp.dstport', 'resp.array.length', 'resp.bulk_string.value', 'resp.error', 'resp.reassembled_in_next_frame']);
  const cmds = new Map<string, string[]>();
  const errors: string[] = [];
  for (const [sp, dp, lens, bulks, errs, partial] of rows) {
    if (dp === port) {
      // Client frames: each command an array of bulk strings; tshark lists them flat, in order.
      // A frame's last array may be partial (tshark shows it again, whole, in a later frame).
      const list = cmds.get(sp) ?? [];
      cmds.set(sp, list);
      const values = split(bulks).map((h) => Buffer.from(h.replace(/:/g, ''), 'hex').toString());
      const arrays = split(lens).map(Number);
      if (partial) arrays.pop();
      let k = 0;
      for (const n of arrays) { list.push(values[k].toUpperCase()); k += n; }
    } else if (!partial) errors.push(...split(errs));
  }
  for (const [p, list] of cmds) {
    // Commands are RESP2 arrays on RESP3 connections too: all are compared.
    const ours = conn(p).filter((i) => req(i).type === 'Array' && !['MESSAGE'].includes(req(i).command) && !(i.error && /cut/.test(i.error.msg) && req(i).key === 'cut'));
    assert.deepEqual(ours.map((i) => req(i).command), list, `connection ${p}`);
  }
  assert.ok(cmds.size >= 4);
  // Error replies are `-…` lines in RESP3 too: tshark 4.0 (RESP2 only) still reads them.
  assert.equal(resp3Ports.size, 2, 'redis-cli -3 and the raw RESP3 session');
  const ourErrors = items.filter((i) => res(i).type === 'Error').map((i) => res(i).value);
  assert.deepEqual(ourErrors, errors);
  assert.ok(errors.length >= 1);
});

test('tshark agrees: the simple-string and integer replies of each RESP2 connection (same values, same counts)', () => {
  const port = String(srv.port);
  const rows = tsharkRows(file, ['-d', `tcp.port==${port},resp`, '-Y', `resp && tcp.srcport == ${port}`], ['tcp.dstport', 'resp.string', 'resp.integer', 'resp.reassembled_in_next_frame']);
  const theirs = new Map<string, string[]>();
  for (const [dp, simple, ints, partial] of rows) {
    if (partial) continue;
    const l = theirs.get(dp) ?? [];
    theirs.set(dp, l);
    // tshark lists a frame's simple strings and integers field by field; replies here are
    // scalars (no arrays of them), so each frame's are compared as one sorted group.
    l.push([...split(simple).map((x) => `+${x}`), ...split(ints).map((x) => `:${x}`)].sort().join(' '));
  }
  let compared = 0;
  for (const [p, frames] of theirs) {
    const ours = conn(p).filter((i) => res(i).type === 'Simple String' || res(i).type === 'Integer').map((i) => (res(i).type === 'Integer' ? `:${res(i).value}` : `+${res(i).value}`));
    const theirsFlat = frames.join(' ').split(' ').filter(Boolean);
    // Left out: replies that nest simple strings or integers in arrays (COMMAND DOCS, subscribe
    // confirmations), which tshark lists with the scalars.
    if (conn(p).some((i) => ['SUBSCRIBE', 'COMMAND', 'HELLO'].includes(req(i).command))) continue;
    assert.deepEqual(ours.slice().sort(), theirsFlat.slice().sort(), `connection ${p}`);
    compared += ours.length;
  }
  assert.ok(compared >= 150, `${compared} replies compared`);
});

test('KFL2 variables and the legacy macro select Redis items by command, key and type', async () => {
  const { compileQuery } = await import('../../server/kfl');
  const n = (q: string, lang: 'kfl' | 'kfl2') => items.filter((i) => compileQuery(q, lang).match(i)).length;
  const gets = items.filter((i) => req(i).command === 'GET').length;
  assert.ok(gets > 150);
  assert.equal(n('redis && redis_command == "GET"', 'kfl2'), gets);
  assert.equal(n('redis and request.command == "GET"', 'kfl'), gets);
  assert.equal(n('redis_key == "big" && redis_type == "Array"', 'kfl2'), items.filter((i) => req(i).key === 'big').length);
  assert.equal(n('redis && redis_response_size > 100000', 'kfl2'), items.filter((i) => i.responseSize > 100000).length);
  assert.equal(n('redis', 'kfl'), items.length);
  assert.equal(n('http || dns || postgresql || mysql', 'kfl2'), 0);
});
