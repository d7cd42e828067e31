/**
 * Kafka: the real `kafkajs` client (admin, producer, group consumer) against a minimal scripted
 * broker (test/helpers/kafka-responder.ts) — Debian ships no Kafka broker and none can be
 * downloaded. So that the responder is not judging itself, **tshark's Kafka dissector is the
 * judge of both directions**: every request's api key, version, correlation id and client id,
 * every response's correlation id, and the topics and partitions of each request must agree
 * exactly with Wirehook's items. Also: 30 pipelined Produce requests, Produce with acks 0 (no
 * response), and a connection cut mid-message (what was complete, plus an error item; nothing left waiting).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { captureLoopback } from '../helpers/capture';
import { startKafkaResponder, type KafkaResponder } from '../helpers/kafka-responder';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item, KafkaRequest, KafkaResponse } from '../../capture/item/schema';
import { kafka as kafkaDissector } from '../../capture/dissectors/kafka';
import { collector, recordRelay, type Recorded } from '../dissectors/harness';
import { compileQuery } from '../../server/kfl';


const rq = (i: Item) => i.request as unknown as KafkaRequest;
const rs = (i: Item) => i.response as unknown as KafkaResponse;
let broker: KafkaResponder;
let pcap = '';
let items: Item[] = [];
let recs: Recorded[] = [];

async function drive(port: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'wirehook-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }], waitForLeaders: false });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [{ key: 'k1', value: 'first', partition: 0 }, { key: 'k2', value: 'second', partition: 1, headers: { trace: 'abc' } }] });
  // Pipelined: 30 sends in flight at once on the one connection, paired by correlation id.
  await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic: 'orders', messages: [{ value: `burst-${i}`, partition: i % 2 }] })));
  await producer.send({ topic: 'audit', acks: 0, messages: [{ value: 'fire and forget', partition: 0 }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'billing', heartbeatInterval: 100, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  const t0 = Date.now();
  while (!(broker.seen.some((s) => s.apiKey === 12) && broker.seen.filter((s) => s.apiKey === 1).length >= 2) && Date.now() - t0 < 10_000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.commitOffsets([{ topic: 'orders', partition: 0, offset: '1' }]);
  await consumer.disconnect();
}

before(async () => {
  broker = await startKafkaResponder();
  try {
    pcap = await captureLoopback(`tcp port ${broker.port}`, () => drive(broker.port));
    recs = await recordRelay(broker.port, async (p) => {
      broker.advertised = p;
      const kafka = new Kafka({ clientId: 'relay', brokers: [`127.0.0.1:${p}`], logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: 'orders', messages: [{ key: 'a', value: 'b', partition: 1 }] });
      await producer.disconnect();
    });
  } finally {
    await broker.close();
  }
  await runPipeline(fileSource(pcap), { item: (i) => { items.push(i); } });
  items = items.filter((i) => i.protocol.name === 'kafka');
});

after(() => {});

function tshark(args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${broker.port},kafka`, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

test('kafkajs traffic gave the APIs the issue names (the responder saw them)', () => {
  const keys = new Set(broker.seen.map((s) => s.apiKey));
  for (const k of [0, 1, 3, 8, 10, 11, 12, 14, 18]) assert.ok(keys.has(k), `api key ${k} was used`);
});

test('the versions kafkajs spoke (what this real traffic proves; the flexible ones are in kafka-flexible.test.ts)', () => {
  const seen = [...new Set(broker.seen.map((s) => `${s.apiKey} v${s.version}`))].sort();
  // Produce v3, Fetch v4, ListOffsets v1, Metadata v1, OffsetCommit v2, OffsetFetch v1, ApiVersions v2; the rest v0.
  assert.deepEqual(seen, ['0 v3', '1 v4', '10 v0', '11 v0', '12 v0', '13 v0', '14 v0', '18 v2', '19 v0', '2 v1', '3 v1', '8 v2', '9 v1']);
});

test('requests: api key, version, correlation id and client id agree with tshark, per connection, in order', () => {
  // Request frames: those sent to the broker's port.
  const rows = tshark(['-Y', `kafka && tcp.dstport == ${broker.port}`, '-e', 'tcp.srcport', '-e', 'kafka.api_key', '-e', 'kafka.api_version', '-e', 'kafka.correlation_id', '-e', 'kafka.client_id']);
  const fromTshark = new Map<string, string[]>();
  for (const [port, keys, vers, corrs, clients] of rows) {
    const l = fromTshark.get(port) ?? [];
    fromTshark.set(port, l);
    const ks = keys.split('|'), vs = vers.split('|'), cs = corrs.split('|'), ids = clients.split('|');
    ks.forEach((k, i) => l.push(`${k} v${vs[i]} #${cs[i]} ${ids[i]}`));
  }
  const fromItems = new Map<string, string[]>();
  for (const i of items) {
    const r = rq(i);
    const l = fromItems.get(i.src.port) ?? [];
    fromItems.set(i.src.port, l);
    l.push(`${r.apiKey} v${r.apiVersion} #${r.correlationID} ${r.clientID}`);
  }
  assert.ok(fromTshark.size >= 3, 'admin, producer and consumer connections');
  assert.deepEqual(fromItems, fromTshark);
});

test('responses: every response tshark saw is paired with its request by correlation id', () => {
  const rows = tshark(['-Y', `kafka && tcp.srcport == ${broker.port}`, '-e', 'tcp.dstport', '-e', 'kafka.correlation_id', '-e', 'kafka.api_key']);
  const fromTshark: string[] = [];
  for (const [port, corrs, keys] of rows) {
    const ks = keys.split('|');
    corrs.split('|').forEach((c, i) => fromTshark.push(`${port} #${c} ${ks[i]}`));
  }
  const fromItems = items.filter((i) => i.responseSize > 0).map((i) => `${i.src.port} #${rs(i).correlationID} ${rq(i).apiKey}`);
  assert.deepEqual(fromItems.sort(), fromTshark.sort());
  for (const i of items.filter((i) => i.responseSize > 0)) assert.equal(rq(i).correlationID, rs(i).correlationID);
});

test('topics and partitions of each request agree with tshark and make the summary', () => {
  const rows = tshark(['-Y', `kafka && tcp.dstport == ${broker.port}`, '-e', 'tcp.srcport', '-e', 'kafka.correlation_id', '-e', 'kafka.topic_name', '-e', 'kafka.partition_id', '-e', 'kafka.api_key']);
  let compared = 0;
  for (const [port, corr, topics, partitions] of rows) {
    if (corr.includes('|')) continue; // several PDUs in one frame: tshark's fields cannot be told apart
    const item = items.find((i) => i.src.port === port && rq(i).correlationID === Number(corr))!;
    const r = rq(item);
    const want = [...new Set(topics.split('|').filter(Boolean))].sort();
    if (want.length === 0) {
      // No topics: the summary is the group / coordinator key, or the client id.
      assert.ok([r.clientID, r.payload.groupId, r.payload.key].includes(r.summary), `${r.apiKeyName} #${corr}: ${r.summary}`);
      compared++;
      continue;
    }
    const got = r.summary.split(', ').map((s) => s.replace(/\[.*$/, '')).sort();
    assert.deepEqual(got, want, `${r.apiKeyName} #${corr}: ${r.summary}`);
    if (partitions) {
      const parts = [...new Set(partitions.split('|').map(Number))].sort();
      const mine = [...new Set([...r.summary.matchAll(/\[([\d,]+)\]/g)].flatMap((m) => m[1].split(',').map(Number)))].sort();
      assert.deepEqual(mine, parts, `${r.apiKeyName} #${corr} partitions`);
    }
    compared++;
  }
  assert.ok(compared > 10, `${compared} requests compared`);
  const produce = items.find((i) => rq(i).apiKeyName === 'Produce' && rq(i).summary.startsWith('orders'))!;
  assert.equal(rq(produce).summary, 'orders[0,1]');
  const recs0 = rq(produce).payload.topicData[0].partitions.flatMap((p: any) => p.records.recordBatch.record);
  assert.deepEqual(recs0.map((r: any) => [r.key, r.value]), [['k1', 'first'], ['k2', 'second']]);
  assert.deepEqual(recs0[1].headers, [{ key: 'trace', value: 'abc' }]);
});

test('group APIs: JoinGroup, SyncGroup, Heartbeat, OffsetCommit, FindCoordinator carry the group in the summary', () => {
  const byName = (n: string) => items.filter((i) => rq(i).apiKeyName === n);
  for (const n of ['FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat']) {
    assert.ok(byName(n).length > 0, n);
    for (const i of byName(n)) {
      assert.equal(rq(i).summary, 'billing');
      assert.equal(rs(i).payload.errorCode, 0);
      assert.equal(i.error, null);
    }
  }
  const commit = byName('OffsetCommit')[0];
  assert.equal(rq(commit).summary, 'orders[0]');
  assert.equal(rq(commit).payload.groupId, 'billing');
});

test('Produce with acks 0 has no response and no error; nothing else lacks a response', () => {
  const fire = items.filter((i) => rq(i).summary === 'audit[0]');
  assert.equal(fire.length, 1);
  assert.equal(rq(fire[0]).payload.requiredAcks, 0);
  assert.equal(fire[0].responseSize, 0);
  assert.equal(fire[0].error, null);
  for (const i of items) if (i !== fire[0]) assert.equal(i.error, null, JSON.stringify(i.request).slice(0, 200));
});

test('a connection cut mid-message: complete exchanges, then one error item; nothing waits', () => {
  // The relay recorded a producer's connection: cut it inside its Produce request.
  const framesOf = (b: Buffer) => { const out: number[] = []; for (let off = 0; off + 6 <= b.length; off += 4 + b.readInt32BE(off)) out.push(off); return out; };
  const rec = recs.find((r) => { const all = Buffer.concat(r.chunks.filter((c) => c.dir === 0).map((c) => c.bytes)); return framesOf(all).some((o) => all.readInt16BE(o + 4) === 0); })!;
  assert.ok(rec, 'the relay saw a Produce');
  const all = Buffer.concat(rec.chunks.filter((c) => c.dir === 0).map((c) => c.bytes));
  const produceAt = framesOf(all).find((o) => all.readInt16BE(o + 4) === 0)!;
  const c2 = collector();
  const q = kafkaDissector.tcp!(c2.ctx);
  let sent = 0;
  for (const ch of rec.chunks) {
    if (ch.dir === 0) {
      const keep = Math.max(0, Math.min(ch.bytes.length, produceAt + 20 - sent));
      if (keep > 0) q.data(0, ch.bytes.subarray(0, keep), ch.ts);
      sent += ch.bytes.length;
      if (sent > produceAt + 20) break;
    } else q.data(1, ch.bytes, ch.ts);
  }
  q.end(null, { sec: 2e9, nsec: 0 }, 'rst');
  const last = c2.msgs[c2.msgs.length - 1];
  assert.equal((last.request as unknown as KafkaRequest).apiKeyName, 'Produce');
  assert.equal(last.error?.type, 'dissection');
  assert.match(last.error!.msg, /stream ended \(rst\) inside a message \(\d+ of \d+ bytes\)/);
  assert.ok(c2.msgs.length >= 3, 'the complete exchanges before it');
  for (const m of c2.msgs.slice(0, -1)) assert.equal(m.error, null);
  assert.equal(c2.pendings[c2.pendings.length - 1], null, 'nothing pending');
});

test('KFL2 variables and the legacy macro select Kafka items (kafka_api_key_name upper-case)', () => {
  const count = (q: string, lang: 'kfl' | 'kfl2') => { const c = compileQuery(q, lang); return items.filter((i) => c.match(i)).length; };
  const produces = items.filter((i) => rq(i).apiKey === 0).length;
  assert.ok(produces >= 2);
  assert.equal(count('kafka && kafka_api_key_name == "PRODUCE"', 'kfl2'), produces);
  assert.equal(count('kafka and request.apiKeyName == "Produce"', 'kfl'), produces);
  assert.equal(count('kafka_api_key_name == "API_VERSIONS" && kafka_api_key == 18', 'kfl2'), items.filter((i) => rq(i).apiKey === 18).length);
  assert.equal(count('kafka && kafka_request_summary.contains("orders") && kafka_api_key == 0', 'kfl2'), 31);
  assert.equal(count('kafka_client_id == "wirehook-test" && kafka_request && !kafka_response', 'kfl2'), 1, 'the acks-0 produce');
  assert.equal(count('kafka', 'kfl'), items.length);
  assert.equal(count('kafka && kafka_size > 0 && kafka_request_size > kafka_size', 'kfl2'), items.length, 'size is the frame size field; request_size the wire bytes');
});
