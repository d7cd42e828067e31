/**
 * Writes corpus/pipeline/mongodb-zlib-preset-dictionary.pcap: the real mongodb driver session of
 * corpus/streams/mongodb.json (hello, insert, find, an unknown command, endSessions), its
 * messages re-wrapped as OP_COMPRESSED: the insert deflated with a preset dictionary (zlib's
 * FDICT flag: the stream cannot be inflated without that dictionary, which the wire protocol never
 * carries), the find and every reply plain zlib. It once made the dissector throw (`Z_NEED_DICT`
 * was not among the zlib errors it caught). Deterministic; run once:
 * `node --import tsx test/hardening/make-mongodb-corpus.ts`. Also used by
 * test/dissectors/mongodb-malformed.test.ts to check the file is what this script makes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { RawPacket } from '../../capture/types';
import { tcpConversation, writePcap } from '../capture/lib';

export const MONGO_DICT_PCAP = resolve('test', 'hardening', 'corpus', 'pipeline', 'mongodb-zlib-preset-dictionary.pcap');
/** requestID of the insert sent with a preset dictionary. */
export const DICT_REQUEST_ID = 3;

function messages(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 16 <= bytes.length; ) {
    const len = bytes.readInt32LE(off);
    out.push(bytes.subarray(off, off + len));
    off += len;
  }
  return out;
}

/** The same message as OP_COMPRESSED (zlib), optionally deflated with a preset dictionary. */
function compressed(m: Buffer, dictionary?: Buffer): Buffer {
  const data = deflateSync(m.subarray(16), dictionary ? { dictionary } : {});
  const h = Buffer.alloc(25);
  m.copy(h, 0, 0, 12);
  h.writeInt32LE(25 + data.length, 0);
  h.writeInt32LE(2012, 12);
  h.writeInt32LE(m.readInt32LE(12), 16);
  h.writeInt32LE(m.length - 16, 20);
  h[24] = 2; // zlib
  return Buffer.concat([h, data]);
}

export function mongodbPresetDictionaryPackets(): RawPacket[] {
  const conns = JSON.parse(readFileSync(resolve('test', 'hardening', 'corpus', 'streams', 'mongodb.json'), 'utf8')) as [0 | 1, string][][];
  const conn = conns.find((c) => c.length > 2)!; // the session with insert/find (the first is the monitor's hello)
  const side = (d: 0 | 1) => messages(Buffer.concat(conn.filter(([dir]) => dir === d).map(([, hex]) => Buffer.from(hex, 'hex'))));
  const reqs = side(0);
  const replies = side(1);
  const segs: [0 | 1, Buffer][] = [];
  for (const q of reqs) {
    const id = q.readInt32LE(4);
    const first = q.readInt32LE(12) === 2004; // the OP_QUERY hello stays uncompressed, as drivers send it
    segs.push([0, first ? q : compressed(q, id === DICT_REQUEST_ID ? Buffer.from('insert people ordered lsid txnNumber $db shop') : undefined)]);
    for (const r of replies.filter((r) => r.readInt32LE(8) === id)) segs.push([1, first ? r : compressed(r)]);
  }
  const pkts = tcpConversation(segs, { stepNs: 1_000_000, port: 41000 });
  // tcpConversation's server port is 80: make it MongoDB's.
  for (const p of pkts) {
    if (p.data.readUInt16BE(34) === 80) p.data.writeUInt16BE(27017, 34);
    if (p.data.readUInt16BE(36) === 80) p.data.writeUInt16BE(27017, 36);
  }
  return pkts;
}

if (process.argv[1]?.endsWith('make-mongodb-corpus.ts')) {
  writePcap(MONGO_DICT_PCAP, mongodbPresetDictionaryPackets());
  console.log(MONGO_DICT_PCAP);
}
