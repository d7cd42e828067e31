/**
 * MongoDB: the real `mongodb` driver against a minimal scripted server
 * (test/helpers/mongo-responder.ts) — Debian ships no MongoDB server and none can be
 * downloaded. So that the responder is not judging itself, **tshark's MongoDB dissector is the
 * judge of both directions**: every message's opcode, request id and responseTo, each command
 * name and collection must agree exactly with Wirehook's items. Also: BSON decoded to JSON, a
 * large insert and a large result set (~6 MB each),
 * a failing command's errmsg/code, an unacknowledged (w:0, moreToCome) insert, and a connection
 * cut mid-message.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { captureLoopback } from '../helpers/capture';
import { startMongoResponder, type MongoResponder } from '../helpers/mongo-responder';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item, MongoRequest, MongoResponse } from '../../capture/item/schema';
import { mongodb as mongoDissector } from '../../capture/dissectors/mongodb';
import { collector, recordRelay, type Recorded } from '../dissectors/harness';
import { compileQuery } from '../../server/kfl';


const rq = (i: Item) => i.request as unknown as MongoRequest;
const rs = (i: Item) => i.response as unknown as MongoResponse;
let server: MongoResponder;
let pcap = '';
let items: Item[] = [];
let relayed: Recorded[] = [];

const uri = (port: number) => `mongodb://127.0.0.1:${port}/?directConnection=true&serverMonitoringMode=poll&heartbeatFrequencyMS=60000`;

async function drive(port: number): Promise<void> {
  const client = new MongoClient(uri(port), { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db('shop');
  await db.collection('people').insertOne({ name: 'Ada', born: 1815, tags: ['math', 'engines'] });
  await db.collection('people').insertMany([{ name: 'Grace' }, { name: 'Edsger' }]);
  const found = await db.collection('people').find({ born: { $gt: 1800 } }).toArray();
  assert.equal(found.length, 3);
  // A large insert and a large result set (each ~6 MB: past the 4 MiB a frame keeps).
  await db.collection('bulk').insertMany(Array.from({ length: 1500 }, (_, i) => ({ i, pad: 'p'.repeat(4000) })));
  assert.equal((await db.collection('bulk').find({}).toArray()).length, 1500);
  await db.collection('audit').insertOne({ event: 'unacked' }, { writeConcern: { w: 0 } });
  await db.command({ ping: 1 });
  await db.command({ frobnicate: 1 }).then(() => assert.fail('unknown command succeeded'), () => {});
  await client.close();
}

before(async () => {
  server = await startMongoResponder();
  try {
    pcap = await captureLoopback(`tcp port ${server.port}`, () => drive(server.port));
    relayed = await recordRelay(server.port, async (p) => {
      const client = new MongoClient(uri(p), { serverSelectionTimeoutMS: 5000 });
      await client.connect();
      await client.db('shop').collection('big').insertOne({ blob: 'z'.repeat(50_000) });
      await client.close();
    });
  } finally {
    await server.close();
  }
  await runPipeline(fileSource(pcap), { item: (i) => { items.push(i); } });
  items = items.filter((i) => i.protocol.name === 'mongodb');
});

function tshark(args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${server.port},mongo`, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

const OPS: Record<string, string> = { '1': 'OP_REPLY', '2004': 'OP_QUERY', '2013': 'OP_MSG' };

test('every message: opcode, request id and responseTo agree with tshark in both directions', () => {
  const rows = tshark(['-Y', 'mongo', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'mongo.opcode', '-e', 'mongo.request_id', '-e', 'mongo.response_to']);
  const fromTshark: string[] = [];
  for (const [sport, dport, ops, ids, tos] of rows) {
    const toServer = dport === String(server.port);
    const client = toServer ? sport : dport;
    const is = ids.split('|'), ts = tos.split('|');
    // tshark prints the ids in hex.
    ops.split('|').forEach((o, k) => fromTshark.push(`${client} ${toServer ? '>' : '<'} ${OPS[o] ?? o} #${Number(is[k])} re ${Number(ts[k])}`));
  }
  const fromItems: string[] = [];
  for (const i of items) {
    const q = rq(i), r = rs(i);
    if (i.requestSize) fromItems.push(`${i.src.port} > ${q.opCode} #${q.requestID} re 0`);
    if (i.responseSize) fromItems.push(`${i.src.port} < ${r.opCode} #${r.requestID} re ${r.responseTo}`);
  }
  assert.ok(fromTshark.length >= 12, `${fromTshark.length} messages`);
  assert.deepEqual(fromItems.sort(), fromTshark.sort());
});

test('command names and collections agree with tshark (first element of the command document)', () => {
  const rows = tshark(['-Y', `mongo && tcp.dstport == ${server.port}`, '-e', 'mongo.request_id', '-e', 'mongo.opcode', '-e', 'mongo.element.name', '-e', 'mongo.element.value.string', '-e', 'mongo.element.type', '-e', 'mongo.full_collection_name']);
  let compared = 0;
  for (const [id, op, names, strings, types, ns] of rows) {
    if (id.includes('|')) continue; // several messages in one frame
    const item = items.find((i) => i.requestSize > 0 && rq(i).requestID === Number(id))!;
    const q = rq(item);
    const first = names.split('|')[0];
    if (op === '2004') {
      assert.equal(q.fullCollectionName, ns);
      // A wrapped legacy command ({$query: {isMaster: 1}}) names the command inside.
      const cmd = first === '$query' ? names.split('|')[1] : first;
      assert.equal(q.command, cmd);
    } else {
      assert.equal(q.command, first);
      const firstIsString = Number(types.split('|')[0]) === 2; // BSON type 2: string (tshark prints hex)
      assert.equal(q.collection, firstIsString ? strings.split('|')[0] : '');
    }
    compared++;
  }
  assert.ok(compared >= 8, `${compared} commands compared`);
  // The driver's first handshake is the legacy OP_QUERY on admin.$cmd, answered by OP_REPLY.
  const legacy = items.filter((i) => rq(i).opCode === 'OP_QUERY');
  assert.ok(legacy.length >= 1, 'an OP_QUERY handshake');
  for (const i of legacy) {
    assert.deepEqual([rq(i).fullCollectionName, rs(i).opCode, rs(i).ok, i.error], ['admin.$cmd', 'OP_REPLY', 1, null]);
    assert.match(rq(i).command, /^(hello|isMaster|ismaster)$/);
    assert.equal(rs(i).documents.length, 1);
  }
  const cmds = items.map((i) => rq(i).summary);
  for (const s of ['insert shop.people', 'find shop.people', 'insert shop.audit', 'ping', 'frobnicate']) assert.ok(cmds.includes(s), `${s} in ${cmds.join(', ')}`);
});

test('BSON is decoded to JSON; replies carry ok/errmsg/code; the w:0 insert has no reply and no error', () => {
  const insert = items.find((i) => rq(i).summary === 'insert shop.people')!;
  const q = rq(insert);
  assert.equal(q.opCode, 'OP_MSG');
  // The driver sends the documents in the command body or as a kind-1 document sequence.
  const docs = (q.sequences.documents ?? q.document.documents) as Record<string, any>[];
  assert.deepEqual(docs.map((d) => [d.name, d.born, d.tags]), [['Ada', 1815, ['math', 'engines']]]);
  assert.ok(docs[0]._id.$oid, 'ObjectId as Extended JSON');
  assert.equal(rs(insert).ok, 1);
  assert.equal(rs(insert).document.n, 1);
  const find = items.find((i) => rq(i).command === 'find')!;
  assert.deepEqual(rq(find).document.filter, { born: { $gt: 1800 } });
  assert.equal(rs(find).document.cursor.firstBatch.length, 3);
  const bad = items.find((i) => rq(i).command === 'frobnicate')!;
  const r = rs(bad);
  assert.deepEqual([r.ok, r.code, r.errmsg], [0, 59, "no such command: 'frobnicate'"]);
  const big = items.find((i) => rq(i).summary === 'find shop.bulk')!;
  assert.ok(big.responseSize > 6_000_000);
  assert.match(String(rs(big).document.$wirehook), /document of \d+ bytes not shown/);
  assert.equal(rs(big).ok, 0, 'ok is inside the document not shown');
  const bulk = items.find((i) => rq(i).summary === 'insert shop.bulk')!;
  const shown = (rq(bulk).sequences.documents ?? []) as Record<string, any>[];
  assert.ok(shown.length > 100 && shown[0].pad.length === 4000, `${shown.length} documents of the large insert shown`);
  const unacked = items.find((i) => rq(i).summary === 'insert shop.audit')!;
  assert.equal(unacked.responseSize, 0);
  assert.equal(unacked.error, null);
  for (const i of items) assert.equal(i.error, null, `${rq(i).summary}: ${i.error?.msg}`);
});

test('a connection cut mid-message: complete exchanges, then an error item; nothing waits', () => {
  const rec = relayed.find((r) => Buffer.concat(r.chunks.filter((k) => k.dir === 0).map((k) => k.bytes)).includes(Buffer.from('zzzzzzzz')))!;
  assert.ok(rec, 'the relay saw the big insert');
  const client = Buffer.concat(rec.chunks.filter((k) => k.dir === 0).map((k) => k.bytes));
  const cutAt = client.indexOf(Buffer.from('zzzzzzzz')) + 100;
  const c = collector();
  const p = mongoDissector.tcp!(c.ctx);
  let sent = 0;
  for (const k of rec.chunks) {
    if (k.dir === 1) { p.data(1, k.bytes, k.ts); continue; }
    const keep = Math.min(k.bytes.length, cutAt - sent);
    if (keep > 0) p.data(0, k.bytes.subarray(0, keep), k.ts);
    sent += k.bytes.length;
    if (sent >= cutAt) break;
  }
  p.end(null, { sec: 2e9, nsec: 0 }, 'fin');
  const last = c.msgs[c.msgs.length - 1];
  assert.equal((last.request as unknown as MongoRequest).opCode, 'OP_MSG');
  assert.equal(last.error?.type, 'dissection');
  assert.match(last.error!.msg, /stream ended \(fin\) inside a message \(\d+ of \d+ bytes\)/);
  assert.ok(c.msgs.length >= 2);
  for (const m of c.msgs.slice(0, -1)) assert.equal(m.error, null);
  assert.equal(c.pendings[c.pendings.length - 1], null);
});

test('KFL2 variables and the legacy macro select MongoDB items', () => {
  const count = (q: string, lang: 'kfl' | 'kfl2') => { const c = compileQuery(q, lang); return items.filter((i) => c.match(i)).length; };
  assert.equal(count('mongodb && mongodb_command == "insert" && mongodb_collection == "people"', 'kfl2'), 2);
  assert.equal(count('mongodb and request.command == "find"', 'kfl'), 2);
  assert.equal(count('mongodb && !mongodb_ok && mongodb_response && mongodb_error_message != ""', 'kfl2'), 1);
  assert.equal(count('mongodb_error_code == 59 && mongodb_error_message.contains("frobnicate")', 'kfl2'), 1);
  assert.equal(count('mongodb_summary == "insert shop.audit" && mongodb_request && !mongodb_response', 'kfl2'), 1);
  assert.equal(count('mongodb', 'kfl'), items.length);
});
