// MongoDB OP_COMPRESSED whose zlib stream asks for a preset dictionary (FDICT): the wire protocol
// never carries one, so the message cannot be inflated. It must come out as a malformed item,
// paired with its reply, the rest of the connection decoded; it once made the dissector throw
// (zlib's Z_NEED_DICT was not among the errors it caught). The capture is
// test/hardening/corpus/pipeline/mongodb-zlib-preset-dictionary.pcap (also replayed by the
// pipeline fuzz suite), made by test/hardening/make-mongodb-corpus.ts from a real driver session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { runPipeline } from '../../capture/pipeline';
import type { Item } from '../../capture/item/schema';
import { DICT_REQUEST_ID, MONGO_DICT_PCAP, mongodbPresetDictionaryPackets } from '../hardening/make-mongodb-corpus';
import { memorySource, packetsOf } from '../hardening/fuzz-lib';
import { mongodb } from '../../capture/dissectors/mongodb';
import { collector } from './harness';

test('the corpus file is what make-mongodb-corpus.ts makes, and its insert really needs a dictionary', async () => {
  const made = mongodbPresetDictionaryPackets();
  const file = await packetsOf(readFileSync(MONGO_DICT_PCAP));
  assert.equal(file.length, made.length);
  file.forEach((p, i) => assert.ok(p.data.equals(made[i].data), `packet ${i}`));
  const insert = made.map((p) => p.data.subarray(54)).find((d) => d.length > 25 && d.readInt32LE(12) === 2012 && d.readInt32LE(4) === DICT_REQUEST_ID)!;
  assert.ok(insert[26] & 0x20, 'FDICT set in the zlib header');
  assert.throws(() => inflateSync(insert.subarray(25)), (e: Error & { code?: string }) => e.code === 'Z_NEED_DICT');
});

test('OP_COMPRESSED with a preset dictionary: a malformed item paired with its reply, no dissector fault, the rest decoded', async () => {
  const items: Item[] = [];
  const stats = await runPipeline(memorySource(await packetsOf(readFileSync(MONGO_DICT_PCAP))), { item: (i) => void items.push(i) });
  assert.deepEqual(Object.keys(stats.warnings).filter((w) => /dissector\.threw|internal error/.test(w)), []);
  const mongo = items.filter((i) => i.protocol.name === 'mongodb');
  const req = (i: Item) => i.request as { opCode?: string; command?: string; requestID?: number };
  assert.deepEqual(mongo.map((i) => req(i).opCode), ['OP_QUERY', 'OP_COMPRESSED(OP_MSG)', 'OP_COMPRESSED(OP_MSG)', 'OP_COMPRESSED(OP_MSG)', 'OP_COMPRESSED(OP_MSG)']);
  const bad = mongo[1];
  assert.match(JSON.stringify(bad.error ?? null), /malformed OP_COMPRESSED: zlib: the message needs a preset dictionary/);
  assert.ok(bad.response && Object.keys(bad.response).length > 0, 'paired with its (decodable) reply');
  assert.deepEqual(mongo.slice(2).map((i) => req(i).command), ['find', 'nope', 'endSessions']);
  assert.equal(mongo.filter((i) => i.error).length, 1, 'only the insert');
  assert.equal((mongo[3].response as { errmsg?: string }).errmsg?.includes('no such command'), true, "the server's refusal is read from its compressed reply");
  assert.equal(stats.warnings['mongodb: malformed OP_COMPRESSED: zlib: the message needs a preset dictionary (FDICT), which the wire protocol never carries'], 1, 'told in --stats');
});

test('the dictionary message split into 1..40-byte segments: still one malformed item, never a throw', () => {
  const segs = mongodbPresetDictionaryPackets().map((p) => ({ dir: p.data.readUInt16BE(34) === 27017 ? 1 : 0, bytes: p.data.subarray(54) })).filter((s) => s.bytes.length > 0);
  for (const step of [1, 7, 40]) {
    const c = collector();
    const p = mongodb.tcp!(c.ctx);
    for (const s of segs) for (let i = 0; i < s.bytes.length; i += step) p.data(s.dir as 0 | 1, s.bytes.subarray(i, i + step), { sec: 1_700_000_000, nsec: i });
    p.end(null, { sec: 1_700_000_001, nsec: 0 }, 'fin');
    assert.deepEqual(c.warnings, ['mongodb: malformed OP_COMPRESSED: zlib: the message needs a preset dictionary (FDICT), which the wire protocol never carries']);
    assert.equal(c.msgs.length, 5);
    assert.equal(c.msgs.filter((m) => /needs a preset dictionary/.test(m.error?.msg ?? '')).length, 1, `step ${step}`);
  }
});
