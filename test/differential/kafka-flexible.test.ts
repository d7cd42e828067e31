/**
 * Kafka's flexible versions (compact strings and arrays, tagged fields, request header v2,
 * response header v1). kafkajs — the real client of kafka.test.ts — has no flexible version of
 * any API; what it proves on real traffic there: Produce v3, Fetch v4, ListOffsets v1,
 * Metadata v1, ApiVersions v2, OffsetCommit v2, OffsetFetch v1, FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup and CreateTopics v0. No real client or broker for the
 * flexible versions can run here, so the requests are built by test/helpers/kafka-flex.ts and
 * answered by its scripted responder, over real loopback connections captured with tcpdump.
 * **tshark's Kafka dissector is the judge of both directions** for the versions it knows (4.0:
 * ApiVersions v3, Metadata v9, FindCoordinator v3, JoinGroup v7, SyncGroup v5, Heartbeat v4,
 * OffsetCommit v8 — all flexible — and Produce v8, Fetch v11, the newest before theirs turn
 * flexible): it must read every frame without a malformed or unsupported-version mark and
 * agree exactly with Wirehook's items on api keys, versions, correlation ids, client ids,
 * topics, partitions, group ids, record values and error codes. The flexible versions past
 * tshark 4.0 (Produce v9, Fetch v12, Metadata v12, FindCoordinator v4, JoinGroup v9) are
 * checked against the values the helper encoded — a weaker judge, said here plainly.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { captureLoopback } from '../helpers/capture';
import { BEYOND, JUDGED, LARGE_FETCH, LARGE_RECORDS, request, startFlexResponder, REBALANCE_IN_PROGRESS, OFFSET_METADATA_TOO_LARGE } from '../helpers/kafka-flex';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item, KafkaRequest, KafkaResponse } from '../../capture/item/schema';
import { kafka as kafkaDissector } from '../../capture/dissectors/kafka';
import { collector } from '../dissectors/harness';
import { compileQuery } from '../../server/kfl';

const rq = (i: Item) => i.request as unknown as KafkaRequest;
const rs = (i: Item) => i.response as unknown as KafkaResponse;
let port = 0;
let pcap = '';
let items: Item[] = [];
/** Items of the connection speaking the versions past tshark 4.0. */
let beyond: Item[] = [];
let beyondPort = '';
/** The pipelined connection's bytes, for the cut test: [request frames, response bytes]. */
let pipelined: { sent: Buffer; got: Buffer } = { sent: Buffer.alloc(0), got: Buffer.alloc(0) };
const PIPELINED = 60;

/** Sends `frames` (all at once when `together`, else one round trip each) and reads `n` responses. */
function converse(frames: Buffer[], together: boolean): Promise<Buffer> {
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let answered = 0;
    let next = 0;
    const send = () => { if (next < frames.length) s.write(frames[next++]); };
    s.on('connect', () => { if (together) s.write(Buffer.concat(frames)); else send(); });
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      let off = 0, count = 0;
      while (off + 4 <= got.length && off + 4 + got.readInt32BE(off) <= got.length) { off += 4 + got.readInt32BE(off); count++; }
      while (answered < count) { answered++; if (!together) send(); }
      if (answered === frames.length) { s.end(); res(got); }
    });
    s.on('error', rej);
  });
}

before(async () => {
  const responder = await startFlexResponder();
  port = responder.port;
  try {
    pcap = await captureLoopback(`tcp port ${port}`, async () => {
      // One round trip per request, as a client starts up.
      let corr = 1;
      await converse(JUDGED.map(([k, v]) => request(k, v, corr++, 'wirehook-flex')), false);
      // Pipelined: the whole set, many times over, written at once on one connection.
      const frames: Buffer[] = [];
      for (let i = 0; i < PIPELINED; i++) for (const [k, v] of JUDGED) frames.push(request(k, v, 1000 + frames.length, 'pipeliner'));
      const sent = Buffer.concat(frames);
      pipelined = { sent, got: await converse(frames, true) };
      // A large result: one Fetch answered with LARGE_RECORDS records (~0.5 MB).
      await converse([request(1, 11, 4000, LARGE_FETCH)], false);
      await converse(BEYOND.map(([k, v]) => request(k, v, 5000 + corr++, 'beyond-tshark')), false);
    });
  } finally {
    await responder.close();
  }
  await runPipeline(fileSource(pcap), { item: (i) => { items.push(i); } });
  items = items.filter((i) => i.protocol.name === 'kafka');
  beyond = items.filter((i) => rq(i).clientID === 'beyond-tshark');
  beyondPort = beyond[0]?.src.port ?? '';
  items = items.filter((i) => i.src.port !== beyondPort);
});

/** tshark's fields for the frames of the connections it can judge (the `beyond` one left out). */
function tshark(args: string[]): string[][] {
  const [y, filter, ...rest] = args;
  assert.equal(y, '-Y');
  const out = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${port},kafka`, '-Y', `(${filter}) && !(tcp.port == ${beyondPort})`, ...rest, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

/** Values of `key` anywhere in a decoded payload, in field order (= wire order). */
function collect(x: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(x)) for (const v of x) collect(v, key, out);
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) { if (k === key) out.push(v); else collect(v, key, out); }
  return out;
}

test('tshark reads every flexible frame cleanly: no malformed, unsupported-version or bad-length mark', () => {
  const rows = tshark(['-Y', 'kafka', '-e', 'frame.number', '-e', '_ws.expert.message', '-e', '_ws.malformed']);
  assert.ok(rows.length > 10);
  assert.ok(beyondPort, 'the connection past tshark 4.0 was captured');
  for (const [n, expert, malformed] of rows) {
    assert.ok(!malformed, `frame ${n} malformed`);
    // An ApiVersions response advertising versions past tshark's own gets a note per API
    // ("Unsupported Produce version. Supports v0-8."): about the advertisement, not the frame.
    const notes = (expert ?? '').split('|').filter((m) => m && !/^Unsupported \w+ version\. Supports v\d+-\d+\.$/.test(m));
    assert.ok(!notes.some((m) => /unsupported|bad|malformed|mismatch|missing/i.test(m)), `frame ${n}: ${notes.join('; ')}`);
  }
});

test('every request: api key, flexible version, correlation id and client id agree with tshark, in order', () => {
  const rows = tshark(['-Y', `kafka && tcp.dstport == ${port}`, '-e', 'tcp.srcport', '-e', 'kafka.api_key', '-e', 'kafka.api_version', '-e', 'kafka.correlation_id', '-e', 'kafka.client_id']);
  const theirs: string[] = [];
  for (const [sp, keys, vers, corrs, ids] of rows) {
    const ks = keys.split('|'), vs = vers.split('|'), cs = corrs.split('|'), cl = ids.split('|');
    ks.forEach((k, i) => theirs.push(`${sp} ${k} v${vs[i]} #${cs[i]} ${cl[i]}`));
  }
  const ours = items.map((i) => `${i.src.port} ${rq(i).apiKey} v${rq(i).apiVersion} #${rq(i).correlationID} ${rq(i).clientID}`);
  assert.equal(ours.length, 9 * (PIPELINED + 1) + 1);
  assert.deepEqual(ours, theirs);
  const versions = new Set(items.map((i) => `${rq(i).apiKeyName} v${rq(i).apiVersion}`));
  for (const v of ['ApiVersions v3', 'Metadata v9', 'FindCoordinator v3', 'JoinGroup v7', 'SyncGroup v5', 'Heartbeat v4', 'Produce v8', 'Fetch v11', 'OffsetCommit v8']) assert.ok(versions.has(v), v);
});

test('every response pairs by correlation id, as tshark pairs it; none is missing, none has an error', () => {
  // (tshark names a response's api key from the request it paired it with, as Wirehook does.)
  const rows = tshark(['-Y', `kafka && tcp.srcport == ${port}`, '-e', 'tcp.dstport', '-e', 'kafka.correlation_id', '-e', 'kafka.api_key']);
  const theirs: string[] = [];
  for (const [dp, corrs, keys] of rows) {
    const ks = keys.split('|');
    corrs.split('|').forEach((c, i) => theirs.push(`${dp} #${c} ${ks[i]}`));
  }
  const ours = items.map((i) => `${i.src.port} #${rs(i).correlationID} ${rq(i).apiKey}`);
  assert.deepEqual(ours, theirs);
  assert.ok(theirs.some((t) => t.endsWith('#4000 1')), 'the large Fetch response');
  for (const i of items) assert.equal(i.error, null, `${rq(i).apiKeyName}: ${i.error?.msg}`);
});

test('topics, partitions, group ids and error codes of each frame agree with tshark', () => {
  const rows = tshark(['-Y', 'kafka', '-e', 'tcp.srcport', '-e', 'kafka.correlation_id', '-e', 'kafka.topic_name', '-e', 'kafka.partition_id', '-e', 'kafka.consumer_group', '-e', 'kafka.coordinator_key', '-e', 'kafka.error']);
  let compared = 0;
  for (const [sp, corr, topics, parts, groups, keys, errors] of rows) {
    if (corr.includes('|')) continue; // several PDUs in one frame: their fields cannot be told apart
    const toServer = sp !== String(port);
    const item = items.find((i) => rq(i).correlationID === Number(corr) && (toServer ? i.src.port === sp : true))!;
    assert.ok(item, `#${corr}`);
    const body = toServer ? rq(item).payload : rs(item).payload;
    const names = [...collect(body, 'topic'), ...collect(body, 'name')].filter((t) => typeof t === 'string' && ['orders', 'audit'].includes(t as string));
    assert.deepEqual([...new Set(names)].sort(), [...new Set(topics ? topics.split('|') : [])].sort(), `#${corr} topics`);
    const ourParts = [...collect(body, 'index'), ...collect(body, 'partition'), ...collect(body, 'partitionIndex')].map(String);
    assert.deepEqual(ourParts.sort(), (parts ? parts.split('|') : []).sort(), `#${corr} partitions`);
    const ourGroups = [...collect(body, 'groupId')].map(String);
    assert.deepEqual(ourGroups, groups ? groups.split('|') : [], `#${corr} group`);
    const ourKeys = [...collect(body, 'coordinatorKeys').flat(), ...collect(body, 'key').filter((k) => k === 'billing')].map(String);
    assert.deepEqual(ourKeys, keys ? keys.split('|') : [], `#${corr} coordinator keys`);
    if (!toServer) assert.deepEqual(collect(body, 'errorCode').map(String), errors ? errors.split('|') : [], `#${corr} error codes`);
    compared++;
  }
  assert.ok(compared >= 18, `${compared} frames compared`);
  const first = (n: string) => items.find((i) => rq(i).apiKeyName === n)!;
  assert.equal(rq(first('Produce')).summary, 'orders[0,1]');
  assert.equal(rq(first('OffsetCommit')).summary, 'orders[0,1]');
  for (const n of ['JoinGroup', 'SyncGroup', 'Heartbeat', 'FindCoordinator']) assert.equal(rq(first(n)).summary, 'billing', n);
  assert.equal(rs(first('Heartbeat')).payload.errorCode, REBALANCE_IN_PROGRESS);
  assert.deepEqual(rs(first('OffsetCommit')).payload.topics[0].partitions.map((p: any) => p.errorCode), [0, OFFSET_METADATA_TOO_LARGE]);
  const recs = rs(first('Fetch')).payload.responses[0].partitions[0].records.recordBatch.record;
  assert.deepEqual(recs.map((r: any) => [r.key, r.value]), [['a', 'one'], [null, 'two'], ['c', 'three']]);
  const sent = rq(first('Produce')).payload.topicData[0].partitions[1].records.recordBatch.record[0];
  assert.deepEqual([sent.key, sent.value, sent.headers], ['k1', 'flex-1', [{ key: 'trace', value: 't1' }]]);
  assert.equal(rs(first('ApiVersions')).payload.apiKeys.length, 9);
});

test('record keys and values of the flexible Produce and Fetch agree with tshark', () => {
  const rows = tshark(['-Y', 'kafka', '-e', 'kafka.correlation_id', '-e', 'kafka.message_key', '-e', 'kafka.message_value']);
  const theirs: string[] = [];
  for (const [corr, keys, values] of rows) {
    if (corr.includes('|') || !values) continue;
    const ks = keys.split('|'), vs = values.split('|');
    // tshark prints bytes as hex, and an absent (null) key not at all.
    vs.forEach((v, i) => theirs.push(`#${corr} ${Buffer.from(v, 'hex').toString()}`));
    void ks;
  }
  const ours: string[] = [];
  for (const i of items) {
    for (const [side, body] of [['>', rq(i).payload], ['<', rs(i).payload]] as const) {
      void side;
      for (const r of collect(body, 'record').flat() as any[]) ours.push(`#${rq(i).correlationID} ${r.value}`);
    }
  }
  const single = new Set(theirs.map((t) => t.split(' ')[0]));
  assert.deepEqual(ours.filter((o) => single.has(o.split(' ')[0])).sort(), theirs.sort());
  assert.ok(theirs.length >= 5);
});

test('a large Fetch (5,000 records, ~0.5 MB over many segments) is one item with every record', () => {
  const big = items.find((i) => rq(i).clientID === LARGE_FETCH)!;
  assert.equal(big.error, null);
  assert.ok(big.responseSize > LARGE_RECORDS * 90, `${big.responseSize} bytes`);
  const batch = rs(big).payload.responses[0].partitions[0].records.recordBatch;
  assert.equal(batch.recordCount, LARGE_RECORDS);
  assert.equal(batch.record.length, LARGE_RECORDS);
  assert.equal(batch.record[LARGE_RECORDS - 1].key, `key-${LARGE_RECORDS - 1}`);
});

test('pipelined flexible requests cut mid-Produce: what was complete, then the Produce with an error; nothing waits', () => {
  const frames: number[] = [];
  for (let off = 0; off < pipelined.sent.length; off += 4 + pipelined.sent.readInt32BE(off)) frames.push(off);
  // The 5th Produce (api key 0) of the pipeline: cut 30 bytes into it.
  const produces = frames.filter((o) => pipelined.sent.readInt16BE(o + 4) === 0);
  const cutAt = produces[4] + 30;
  const c = collector();
  const p = kafkaDissector.tcp!(c.ctx);
  const ts = { sec: 1_700_000_000, nsec: 0 };
  p.data(0, pipelined.sent.subarray(0, cutAt), ts);
  // The responses to everything before the cut.
  let off = 0, n = 0;
  const before = frames.filter((o) => o < produces[4]).length;
  while (n < before) { off += 4 + pipelined.got.readInt32BE(off); n++; }
  p.data(1, pipelined.got.subarray(0, off), ts);
  p.end(null, ts, 'rst');
  assert.equal(c.msgs.length, before + 1);
  for (const m of c.msgs.slice(0, -1)) assert.equal(m.error, null);
  const last = c.msgs[c.msgs.length - 1];
  assert.equal((last.request as unknown as KafkaRequest).apiKeyName, 'Produce');
  assert.equal(last.error?.type, 'dissection');
  assert.match(last.error!.msg, /stream ended \(rst\) inside a message/);
  assert.equal(c.pendings[c.pendings.length - 1], null, 'nothing pending');
});

test('versions past tshark 4.0 (Produce v9, Fetch v12, Metadata v12, FindCoordinator v4, JoinGroup v9) decode to what was encoded', () => {
  const by = (n: string) => beyond.find((i) => rq(i).apiKeyName === n)!;
  assert.deepEqual(beyond.map((i) => `${rq(i).apiKeyName} v${rq(i).apiVersion}`), ['Produce v9', 'Fetch v12', 'Metadata v12', 'FindCoordinator v4', 'JoinGroup v9']);
  for (const i of beyond) {
    assert.equal(i.error, null, `${rq(i).apiKeyName}: ${i.error?.msg}`);
    assert.equal(rs(i).correlationID, rq(i).correlationID);
  }
  const produced = rq(by('Produce')).payload.topicData[0].partitions.map((p: any) => [p.index, p.records.recordBatch.record[0].value, p.records.recordBatch.record[0].headers]);
  assert.deepEqual(produced, [[0, 'flex-0', [{ key: 'trace', value: 't0' }]], [1, 'flex-1', [{ key: 'trace', value: 't1' }]]]);
  assert.deepEqual(rs(by('Produce')).payload.responses[0].partitionResponses.map((p: any) => [p.index, p.errorCode, p.baseOffset, p.recordErrors, p.errorMessage]), [[0, 0, 0, [], null], [1, 0, 10, [], null]]);
  assert.equal(rq(by('Produce')).summary, 'orders[0,1]');
  const fetched = rs(by('Fetch')).payload.responses[0].partitions[0].records.recordBatch.record;
  assert.deepEqual(fetched.map((r: any) => [r.key, r.value]), [['a', 'one'], [null, 'two'], ['c', 'three']]);
  assert.deepEqual(rq(by('Fetch')).payload.topics[0].partitions.map((p: any) => [p.partition, p.lastFetchedEpoch]), [[0, -1], [1, -1]]);
  assert.equal(rq(by('Metadata')).summary, 'orders, audit');
  const md = rs(by('Metadata')).payload;
  assert.deepEqual([md.clusterId, md.topics.map((t: any) => [t.name, t.topicId, t.partitions.length])], ['wirehook-cluster', [['orders', '6b1f6c0e9d2a4c3b8e5f0a1b2c3d4e5f', 2], ['audit', '6b1f6c0e9d2a4c3b8e5f0a1b2c3d4e5f', 2]]]);
  assert.equal(md.clusterAuthorizedOperations, undefined, 'not in v11+');
  assert.deepEqual(rq(by('FindCoordinator')).payload.coordinatorKeys, ['billing']);
  assert.deepEqual(rs(by('FindCoordinator')).payload.coordinators.map((c: any) => [c.key, c.host, c.errorCode]), [['billing', '127.0.0.1', 0]]);
  assert.equal(rq(by('JoinGroup')).payload.reason, 'joining');
  assert.deepEqual([rs(by('JoinGroup')).payload.skipAssignment, rs(by('JoinGroup')).payload.leader], [false, 'member-1']);
});

test('KFL2 selects flexible-version items like the others (kafka_api_key_name upper-case)', () => {
  const count = (q: string) => { const c = compileQuery(q, 'kfl2'); return items.filter((i) => c.match(i)).length; };
  assert.equal(count('kafka_api_key_name == "OFFSET_COMMIT" && kafka_api_key == 8'), PIPELINED + 1);
  assert.equal(count('kafka_api_key_name == "FIND_COORDINATOR" && kafka_request_summary == "billing"'), PIPELINED + 1);
});
