/**
 * MongoDB OP_COMPRESSED. zlib: the real `mongodb` driver with `compressors: ['zlib']` against the
 * scripted responder (test/helpers/mongo-responder.ts; Debian ships no MongoDB server), which
 * then compresses its answers too — decoded with node:zlib. Snappy and zstd: Node 20 has no
 * decoder for either and no kept npm package for them is installed, so Wirehook pairs such
 * messages and flags them as not decoded; they are built here by hand (valid streams: snappy
 * literals, a zstd raw block) and exchanged over a real loopback connection. **tshark's MongoDB
 * dissector is the judge**: opcode, original opcode, compressor, request id and responseTo of
 * every message, and, for zlib, the command inside.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { BSON } from 'bson';
import { MongoClient } from 'mongodb';
import { captureLoopback } from '../helpers/capture';
import { startMongoResponder } from '../helpers/mongo-responder';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item, MongoRequest, MongoResponse } from '../../capture/item/schema';
import { compileQuery } from '../../server/kfl';

const rq = (i: Item) => i.request as unknown as MongoRequest;
const rs = (i: Item) => i.response as unknown as MongoResponse;
let pcap = '';
let ports: number[] = [];
let items: Item[] = [];
const CONCURRENT = 100;

/** A snappy block of literals only (valid snappy; what a compressor emits for incompressible data). */
function snappy(b: Buffer): Buffer {
  const out: number[] = [];
  for (let n = b.length; ; n >>>= 7) { if (n < 0x80) { out.push(n); break; } out.push((n & 0x7f) | 0x80); }
  const parts: Buffer[] = [Buffer.from(out)];
  for (let p = 0; p < b.length; p += 60) {
    const chunk = b.subarray(p, p + 60);
    parts.push(Buffer.from([(chunk.length - 1) << 2]), chunk);
  }
  return Buffer.concat(parts);
}

/** A zstd frame holding one raw (stored) block (valid zstd). */
function zstd(b: Buffer): Buffer {
  assert.ok(b.length >= 256 && b.length < 65536 + 256);
  const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60, 0, 0]); // single segment, 2-byte content size
  head.writeUInt16LE(b.length - 256, 5);
  const block = Buffer.alloc(3);
  block.writeUIntLE((b.length << 3) | 1, 0, 3); // last block, raw
  return Buffer.concat([head, block, b]);
}

/** An OP_MSG (header included) with one body document. */
function opMsg(id: number, to: number, doc: Record<string, unknown>): Buffer {
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), BSON.serialize(doc)]);
  const h = Buffer.alloc(16);
  h.writeInt32LE(16 + body.length, 0); h.writeInt32LE(id, 4); h.writeInt32LE(to, 8); h.writeInt32LE(2013, 12);
  return Buffer.concat([h, body]);
}

/** `msg` wrapped in an OP_COMPRESSED with compressor id `c` (1 snappy, 3 zstd). */
function compressed(msg: Buffer, c: number): Buffer {
  const inner = msg.subarray(16);
  const data = c === 1 ? snappy(inner) : zstd(inner);
  const h = Buffer.alloc(25);
  h.writeInt32LE(25 + data.length, 0); h.writeInt32LE(msg.readInt32LE(4), 4); h.writeInt32LE(msg.readInt32LE(8), 8); h.writeInt32LE(2012, 12);
  h.writeInt32LE(msg.readInt32LE(12), 16); h.writeInt32LE(inner.length, 20); h[24] = c;
  return Buffer.concat([h, data]);
}

const PAD = 'x'.repeat(300); // zstd's 2-byte size field wants ≥ 256 bytes

/** A server that answers each snappy/zstd request with {ok: 1} compressed the same way. */
async function hand(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const m = buf.subarray(0, buf.readInt32LE(0));
        buf = buf.subarray(m.length);
        s.write(compressed(opMsg(9000 + m.readInt32LE(4), m.readInt32LE(4), { ok: 1, pad: PAD }), m[24]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

before(async () => {
  const server = await startMongoResponder();
  const other = await hand();
  ports = [server.port, other.port];
  try {
    pcap = await captureLoopback(`tcp port ${server.port} or tcp port ${other.port}`, async () => {
      const client = new MongoClient(`mongodb://127.0.0.1:${server.port}/?directConnection=true&serverMonitoringMode=poll&heartbeatFrequencyMS=60000`, { compressors: ['zlib'], serverSelectionTimeoutMS: 5000 });
      await client.connect();
      const people = client.db('shop').collection('people');
      await people.insertOne({ name: 'Ada', born: 1815 });
      await people.insertMany(Array.from({ length: 2000 }, (_, i) => ({ name: `n${i}`, pad: 'q'.repeat(200) })));
      assert.equal((await people.find({}).toArray()).length, 2001);
      // Many commands at once over the pool.
      await Promise.all(Array.from({ length: CONCURRENT }, () => client.db('shop').command({ ping: 1 })));
      await client.db('shop').command({ frobnicate: 1 }).then(() => assert.fail('unknown command succeeded'), () => {});
      await client.close();
      // Snappy, then zstd: one request and its reply each, on one connection.
      await new Promise<void>((res, rej) => {
        const s = net.connect(other.port, '127.0.0.1');
        let got = 0;
        s.on('connect', () => s.write(compressed(opMsg(1, 0, { find: 'people', $db: 'shop', pad: PAD }), 1)));
        s.on('data', () => {
          if (++got === 1) s.write(compressed(opMsg(2, 0, { insert: 'people', $db: 'shop', pad: PAD }), 3));
          else { s.end(); res(); }
        });
        s.on('error', rej);
      });
    });
  } finally {
    await server.close();
    await other.close();
  }
  await runPipeline(fileSource(pcap), { item: (i) => { items.push(i); } });
  items = items.filter((i) => i.protocol.name === 'mongodb');
});

function tshark(fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${ports[0]},mongo`, '-d', `tcp.port==${ports[1]},mongo`, '-Y', 'mongo', '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

const OPS: Record<string, string> = { '1': 'OP_REPLY', '2004': 'OP_QUERY', '2013': 'OP_MSG' };
const COMPRESSOR: Record<string, string> = { '1': 'snappy', '2': 'zlib', '3': 'zstd' };

test('every message: opcode (with the original inside OP_COMPRESSED), request id and responseTo agree with tshark', () => {
  const rows = tshark(['tcp.srcport', 'tcp.dstport', 'mongo.opcode', 'mongo.compression.original_opcode', 'mongo.request_id', 'mongo.response_to']);
  const theirs: string[] = [];
  for (const [sp, dp, ops, originals, ids, tos] of rows) {
    const toServer = ports.includes(Number(dp));
    const client = toServer ? sp : dp;
    const orig = originals ? originals.split('|') : [];
    const is = ids.split('|'), ts = tos.split('|');
    let k = 0;
    ops.split('|').forEach((o, j) => {
      const name = o === '2012' ? `OP_COMPRESSED(${OPS[orig[k++]]})` : OPS[o] ?? o;
      theirs.push(`${client} ${toServer ? '>' : '<'} ${name} #${Number(is[j])} re ${Number(ts[j])}`);
    });
  }
  const ours: string[] = [];
  for (const i of items) {
    if (i.requestSize) ours.push(`${i.src.port} > ${rq(i).opCode} #${rq(i).requestID} re 0`);
    if (i.responseSize) ours.push(`${i.src.port} < ${rs(i).opCode} #${rs(i).requestID} re ${rs(i).responseTo}`);
  }
  assert.deepEqual(ours.sort(), theirs.sort());
  const compressedCount = ours.filter((o) => o.includes('OP_COMPRESSED(OP_MSG)')).length;
  assert.ok(compressedCount >= 2 * (CONCURRENT + 4), `${compressedCount} compressed messages`);
});

test('zlib: each command inside OP_COMPRESSED agrees with tshark, and the items read like uncompressed ones', () => {
  const rows = tshark(['tcp.dstport', 'mongo.request_id', 'mongo.compression.compressor', 'mongo.element.name']);
  let compared = 0;
  for (const [dp, id, comps, names] of rows) {
    if (!ports.includes(Number(dp)) || id.includes('|') || comps !== '2') continue;
    const item = items.find((i) => i.requestSize > 0 && rq(i).requestID === Number(id))!;
    assert.equal(rq(item).command, names.split('|')[0], `#${id}`);
    compared++;
  }
  assert.ok(compared >= CONCURRENT, `${compared} zlib requests compared`);
  const zl = items.filter((i) => rq(i).opCode === 'OP_COMPRESSED(OP_MSG)' && rq(i).command);
  for (const i of zl) assert.equal(i.error, null, `${rq(i).summary} #${rq(i).requestID} ${JSON.stringify(rq(i).document).slice(0, 300)}: ${i.error?.msg}`);
  const by = (s: string) => zl.filter((i) => rq(i).summary === s);
  assert.equal(by('insert shop.people').length, 2);
  assert.equal(by('ping').length, CONCURRENT);
  const find = by('find shop.people')[0];
  assert.equal(rs(find).opCode, 'OP_COMPRESSED(OP_MSG)');
  assert.ok(find.responseSize < 2001 * 200, `compressed on the wire: ${find.responseSize} bytes`);
  assert.match(String(rs(find).document.$wirehook), /document of \d+ bytes not shown \(over the body cap\)/, 'inflated: its real size is known');
  assert.deepEqual(by('insert shop.people').map((i) => [rs(i).ok, rs(i).document.n]), [[1, 1], [1, 2000]]);
  const endSessions = zl.find((i) => rq(i).command === 'endSessions');
  if (endSessions) assert.ok(endSessions.responseSize > 0 || (rq(endSessions).flagBits & 2) !== 0, 'moreToCome read inside the compressed message');
  const bad = zl.find((i) => rq(i).command === 'frobnicate')!;
  assert.deepEqual([rs(bad).ok, rs(bad).code], [0, 59]);
});

test('snappy and zstd: paired with their replies, flagged as not decoded, compressor as tshark names it', () => {
  const rows = tshark(['tcp.dstport', 'mongo.request_id', 'mongo.compression.compressor']);
  const theirs = rows.filter(([dp]) => Number(dp) === ports[1]).map(([, id, c]) => `#${Number(id)} ${COMPRESSOR[c]}`);
  assert.deepEqual(theirs, ['#1 snappy', '#2 zstd']);
  const mine = items.filter((i) => i.dst.port === String(ports[1]));
  assert.equal(mine.length, 2);
  for (const [i, name] of [[mine[0], 'snappy'], [mine[1], 'zstd']] as const) {
    assert.equal(rq(i).opCode, 'OP_COMPRESSED(OP_MSG)');
    assert.equal(rs(i).opCode, 'OP_COMPRESSED(OP_MSG)');
    assert.equal(rs(i).responseTo, rq(i).requestID);
    assert.equal(rq(i).command, '');
    assert.equal(rq(i).summary, `${name}-compressed OP_MSG, not decoded`);
    assert.equal(i.error?.type, 'dissection');
    assert.equal(i.error?.msg, `OP_COMPRESSED(OP_MSG) compressed with ${name}: not decoded (Wirehook decodes zlib and noop only)`);
  }
});

test('KFL2 finds compressed traffic and what was not decoded', () => {
  const count = (q: string) => { const c = compileQuery(q, 'kfl2'); return items.filter((i) => c.match(i)).length; };
  assert.equal(count('mongodb_op_code == "OP_COMPRESSED(OP_MSG)" && mongodb_command == "ping"'), CONCURRENT);
  assert.equal(count('mongodb && mongodb_summary.contains("not decoded")'), 2);
});
