/**
 * AMQP 0-9-1 from real traffic: Debian's RabbitMQ (started once for this file, on random ports
 * in a temporary directory) driven by `amqplib` — connection handshake, declares and binds,
 * publishes with properties, a body spanning several frames, a consumer with deliveries and
 * acks, basic.get, publisher confirms, and a passive declare the server refuses by closing the
 * channel, and a burst of 300 publishes consumed back. tshark's AMQP dissector is the judge: every
 * method (class and method ids) on every connection, channels, the exchange, routing key and
 * body size of each publish/deliver, and every close's reply code and text must agree exactly.
 * Also: a connection cut mid-message.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import amqplib from 'amqplib';
import { captureLoopback } from '../helpers/capture';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { AmqpMethod, Item } from '../../capture/item/schema';
import { amqp as amqpDissector } from '../../capture/dissectors/amqp';
import { collector, recordRelay, type Recorded } from '../dissectors/harness';
import { compileQuery } from '../../server/kfl';

let rabbit: RabbitMq;
let pcap = '';
let items: Item[] = [];
let relayed: Recorded[] = [];
const BIG = Buffer.alloc(300_000, 'x');
const BURST = 300;

async function drive(port: number): Promise<void> {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ch = await conn.createChannel();
  await ch.assertExchange('logs', 'topic', { durable: false });
  await ch.assertQueue('tasks', { durable: false });
  await ch.bindQueue('tasks', 'logs', 'app.*');
  ch.publish('logs', 'app.info', Buffer.from('hello'), { contentType: 'text/plain', headers: { attempt: 1, origin: 'test' }, messageId: 'm-1', deliveryMode: 2, timestamp: 1_700_000_000 });
  ch.sendToQueue('tasks', BIG, { contentType: 'application/octet-stream' });
  await ch.prefetch(10);
  let got = 0;
  const done = new Promise<void>((res) => {
    void ch.consume('tasks', (m) => { if (m) { ch.ack(m); if (++got === 2) res(); } }, { consumerTag: 'ctag-1' });
  });
  await done;
  await ch.cancel('ctag-1');
  ch.sendToQueue('tasks', Buffer.from('for get'));
  let msg: amqplib.GetMessage | false = false;
  for (let i = 0; i < 20 && !msg; i++) msg = await ch.get('tasks', { noAck: true });
  assert.ok(msg, 'basic.get returned the message');
  const cc = await conn.createConfirmChannel();
  await new Promise<void>((res, rej) => cc.publish('logs', 'app.confirm', Buffer.from('confirmed'), {}, (err) => (err ? rej(err) : res())));
  await cc.close();
  // A burst: BURST publishes written back to back, then consumed on another channel.
  const burst = await conn.createChannel();
  await burst.assertQueue('burst', { durable: false });
  for (let i = 0; i < BURST; i++) burst.publish('', 'burst', Buffer.from(`b${i}`));
  let n = 0;
  await new Promise<void>((res) => { void burst.consume('burst', () => { if (++n === BURST) res(); }, { noAck: true }); });
  await burst.close();
  const bad = await conn.createChannel();
  bad.on('error', () => {});
  await bad.checkQueue('no-such-queue').then(() => assert.fail('passive declare of a missing queue succeeded'), () => {});
  await ch.close();
  await conn.close();
}

before(async () => {
  rabbit = await startRabbitMq();
  pcap = await captureLoopback(`tcp port ${rabbit.port}`, () => drive(rabbit.port));
  relayed = await recordRelay(rabbit.port, async (p) => {
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${p}`);
    const ch = await conn.createChannel();
    ch.publish('amq.topic', 'cut.me', Buffer.alloc(20_000, 'y'));
    await ch.close();
    await conn.close();
  });
  await runPipeline(fileSource(pcap), { item: (i) => { items.push(i); } });
  items = items.filter((i) => i.protocol.name === 'amqp');
});

after(async () => {
  await rabbit?.stop();
});

function tshark(args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${rabbit.port},amqp`, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

// Class and method ids of AMQP 0-9-1, written out here so the test does not reuse the dissector's table.
const IDS: Record<string, string> = {
  'connection start': '10.10', 'connection start-ok': '10.11', 'connection tune': '10.30', 'connection tune-ok': '10.31',
  'connection open': '10.40', 'connection open-ok': '10.41', 'connection close': '10.50', 'connection close-ok': '10.51',
  'channel open': '20.10', 'channel open-ok': '20.11', 'channel close': '20.40', 'channel close-ok': '20.41',
  'exchange declare': '40.10', 'exchange declare-ok': '40.11', 'queue declare': '50.10', 'queue declare-ok': '50.11',
  'queue bind': '50.20', 'queue bind-ok': '50.21', 'basic qos': '60.10', 'basic qos-ok': '60.11',
  'basic consume': '60.20', 'basic consume-ok': '60.21', 'basic cancel': '60.30', 'basic cancel-ok': '60.31',
  'basic publish': '60.40', 'basic deliver': '60.60', 'basic get': '60.70', 'basic get-ok': '60.71', 'basic get-empty': '60.72',
  'basic ack': '60.80', 'confirm select': '85.10', 'confirm select-ok': '85.11',
};

/** Per client port: every method (request and reply) as "class.method@channel", sorted. */
function methodsFromItems(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of items) {
    const l = out.get(i.src.port) ?? [];
    out.set(i.src.port, l);
    for (const m of [i.request as AmqpMethod, i.response as AmqpMethod]) {
      if (!m.method || m.method === 'empty') continue;
      l.push(`${IDS[m.method] ?? m.method}@${m.channel}`);
    }
  }
  for (const l of out.values()) l.sort();
  return out;
}

test('every method on every connection agrees with tshark (class, method, channel)', () => {
  const rows = tshark(['-Y', 'amqp', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'amqp.type', '-e', 'amqp.channel', '-e', 'amqp.method.class', '-e', 'amqp.method.method']);
  const fromTshark = new Map<string, string[]>();
  for (const [sport, dport, types, channels, classes, methods] of rows) {
    const client = sport === String(rabbit.port) ? dport : sport;
    const l = fromTshark.get(client) ?? [];
    fromTshark.set(client, l);
    const ts = types.split('|'), chs = channels.split('|'), cs = classes.split('|'), ms = methods.split('|');
    let k = 0;
    ts.forEach((t, i) => { if (t === '1') { l.push(`${cs[k]}.${ms[k]}@${chs[i]}`); k++; } });
  }
  for (const l of fromTshark.values()) l.sort();
  const mine = methodsFromItems();
  assert.ok([...fromTshark.values()].flat().length > 30, 'a real conversation');
  assert.deepEqual(mine, fromTshark);
});

test('replies pair with their requests: each item is a method and its -ok (or get-empty) from the other side', () => {
  for (const i of items) {
    const q = i.request as AmqpMethod, r = i.response as AmqpMethod;
    assert.ok(q.method, `every item has a request method (${JSON.stringify(r).slice(0, 80)})`);
    if (r.method === 'empty') continue;
    if (!r.method) { assert.ok(i.error, `${q.method} without a reply says why`); continue; }
    assert.ok(r.method === `${q.method}-ok` || (q.method === 'basic get' && /^basic get-(ok|empty)$/.test(r.method)), `${q.method} → ${r.method}`);
    assert.equal(r.channel, q.channel);
  }
  const methods = items.map((i) => (i.request as AmqpMethod).method);
  for (const m of ['connection start', 'connection tune', 'connection open', 'channel open', 'exchange declare', 'queue declare', 'queue bind', 'basic qos', 'basic consume', 'basic publish', 'basic deliver', 'basic ack', 'basic get', 'confirm select', 'basic cancel', 'channel close', 'connection close']) {
    assert.ok(methods.includes(m), `${m} is an item`);
  }
});

test('publish and deliver: exchange, routing key and body size agree with tshark; properties and body attached', () => {
  const rows = tshark(['-Y', 'amqp', '-e', 'amqp.method.method', '-e', 'amqp.method.class', '-e', 'amqp.method.arguments.exchange', '-e', 'amqp.method.arguments.routing_key', '-e', 'amqp.header.body-size']);
  // Method frames carrying exchange+routing key for publish (60.40) / deliver (60.60) / get-ok (60.71), then body sizes in order.
  const fromTshark: string[] = [];
  const sizes: string[] = [];
  for (const [methods, classes, exchanges, keys, bodySizes] of rows) {
    const ms = methods.split('|'), cs = classes.split('|');
    const ex = exchanges.split('|'), rk = keys.split('|');
    let e = 0;
    ms.forEach((m, k) => {
      if (cs[k] === '60' && ['40', '60', '71'].includes(m)) { fromTshark.push(`${m} ${ex[e]} ${rk[e]}`); }
      if (cs[k] === '60' && ['40', '60', '71', '50'].includes(m)) e++;
      else if (cs[k] === '40' && m === '10') e++;
      else if (cs[k] === '50' && m === '20') e++;
    });
    if (bodySizes) sizes.push(...bodySizes.split('|'));
  }
  const code: Record<string, string> = { 'basic publish': '40', 'basic deliver': '60', 'basic get-ok': '71' };
  const carried = items.flatMap((i) => [i.request as AmqpMethod, i.response as AmqpMethod]).filter((m) => m.method in code);
  const fromItems = carried.map((m) => `${code[m.method]} ${m.exchange} ${m.routingKey}`);
  assert.deepEqual(fromItems.sort(), fromTshark.sort());
  assert.deepEqual(carried.map((m) => String(m.bodySize)).sort(), sizes.sort());
  const hello = carried.find((m) => m.method === 'basic publish' && m.routingKey === 'app.info')!;
  assert.equal(Buffer.from(hello.body!, 'base64').toString(), 'hello');
  assert.equal(hello.properties!.contentType, 'text/plain');
  assert.equal(hello.properties!.messageId, 'm-1');
  assert.equal(hello.properties!.deliveryMode, 2);
  assert.equal(hello.properties!.timestamp, '2023-11-14T22:13:20Z');
  assert.deepEqual(hello.properties!.headers, { attempt: 1, origin: 'test' });
  const big = carried.find((m) => m.method === 'basic deliver' && m.bodySize === BIG.length)!;
  assert.ok(big, 'the 300 kB body spanning several frames was reassembled');
  assert.ok(Buffer.from(big.body!, 'base64').length <= 64 * 1024, 'body kept up to the cap');
});

test('a burst of publishes: every one an item with its body, every delivery too, in order', () => {
  const m = (i: Item) => i.request as AmqpMethod;
  const pubs = items.filter((i) => m(i).method === 'basic publish' && m(i).routingKey === 'burst');
  const dels = items.filter((i) => m(i).method === 'basic deliver' && m(i).routingKey === 'burst');
  const bodies = (l: Item[]) => l.map((i) => Buffer.from(m(i).body!, 'base64').toString());
  const want = Array.from({ length: BURST }, (_, i) => `b${i}`);
  assert.deepEqual(bodies(pubs), want);
  assert.deepEqual(bodies(dels), want);
  for (const i of [...pubs, ...dels]) assert.equal(i.error, null);
});

test('reply codes and texts of every close agree with tshark', () => {
  const rows = tshark(['-Y', 'amqp.method.arguments.reply_code', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'amqp.method.arguments.reply_code', '-e', 'amqp.method.arguments.reply_text']);
  const theirs: string[] = [];
  for (const [sp, dp, codes, texts] of rows) {
    const client = sp === String(rabbit.port) ? dp : sp;
    const t = texts.split('|');
    codes.split('|').forEach((c, k) => theirs.push(`${client} ${c} ${t[k]}`));
  }
  const ours: string[] = [];
  for (const i of items) {
    for (const x of [i.request as AmqpMethod, i.response as AmqpMethod]) {
      const code = x.replyCode ?? x.relyCode; // connection close keeps Kubeshark's spelling
      if (code !== undefined && /close$/.test(x.method)) ours.push(`${i.src.port} ${code} ${x.replyText}`);
    }
  }
  assert.deepEqual(ours.sort(), theirs.sort());
  assert.ok(ours.some((o) => / 404 NOT_FOUND/.test(o)), 'the refused declare\'s 404');
});

test('the refused passive declare: the server closes the channel with 404; the declare says so', () => {
  const declare = items.find((i) => (i.request as AmqpMethod).method === 'queue declare' && (i.request as AmqpMethod).queue === 'no-such-queue')!;
  assert.equal(declare.error?.type, 'connection');
  assert.match(declare.error!.msg, /channel closed by the server: 404 NOT_FOUND/);
  const close = items.find((i) => (i.request as AmqpMethod).method === 'channel close' && (i.request as AmqpMethod).replyCode === 404)!;
  assert.equal((close.response as AmqpMethod).method, 'channel close-ok');
  for (const i of items) if (i !== declare) assert.equal(i.error, null, `${(i.request as AmqpMethod).method}: ${i.error?.msg}`);
});

test('a connection cut inside a message body: complete methods, then the publish with an error; nothing waits', () => {
  const rec = relayed[0];
  const c = collector();
  const p = amqpDissector.tcp!(c.ctx);
  const client = Buffer.concat(rec.chunks.filter((k) => k.dir === 0).map((k) => k.bytes));
  const cutAt = client.indexOf(Buffer.alloc(64, 'y')) + 1000; // inside the 20 kB body
  let sent = 0;
  for (const k of rec.chunks) {
    if (k.dir === 1) { p.data(1, k.bytes, k.ts); continue; }
    const keep = Math.min(k.bytes.length, cutAt - sent);
    if (keep > 0) p.data(0, k.bytes.subarray(0, keep), k.ts);
    sent += k.bytes.length;
    if (sent >= cutAt) break;
  }
  p.end(null, { sec: 2e9, nsec: 0 }, 'rst');
  const last = c.msgs[c.msgs.length - 1];
  assert.equal((last.request as AmqpMethod).method, 'basic publish');
  assert.equal(last.error?.type, 'dissection');
  assert.match(last.error!.msg, /stream ended \(rst\)/);
  assert.ok(c.msgs.length >= 4);
  assert.equal(c.pendings[c.pendings.length - 1], null);
});

test('KFL2 variables (amqp_method dotted) and legacy KFL (Kubeshark\'s own examples) select AMQP items', () => {
  const count = (q: string, lang: 'kfl' | 'kfl2') => { const c = compileQuery(q, lang); return items.filter((i) => c.match(i)).length; };
  const publishes = items.filter((i) => (i.request as AmqpMethod).method === 'basic publish').length;
  assert.ok(publishes >= 3);
  assert.equal(count('amqp && amqp_method == "basic.publish"', 'kfl2'), publishes);
  assert.equal(count('amqp and request.method == "basic publish"', 'kfl'), publishes);
  assert.equal(count('amqp and request.queue.startsWith("tasks")', 'kfl'), items.filter((i) => (i.request as AmqpMethod).queue === 'tasks').length);
  assert.equal(count('amqp_method == "queue.bind" && amqp_summary == "tasks"', 'kfl2'), 1);
  assert.equal(count('amqp && amqp_request && amqp_total_size > 300000', 'kfl2'), 2, 'the big body: its publish and its deliver');
  assert.equal(count('request.versionMajor == 0 and request.versionMinor == 9', 'kfl'), 1);
});
