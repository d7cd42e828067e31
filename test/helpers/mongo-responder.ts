/**
 * A minimal scripted MongoDB server for tests: Debian ships no MongoDB server and nothing can be
 * downloaded here, so the real `mongodb` driver talks to this responder instead. It answers the
 * handshake (legacy OP_QUERY isMaster with OP_REPLY, or OP_MSG hello), insert, find (from what
 * was inserted), ping/endSessions, and fails every other command with CommandNotFound, all with
 * BSON from the `bson` package. A driver that offers zlib compression gets it (OP_COMPRESSED
 * both ways, with node:zlib). tshark's MongoDB dissector judges both directions.
 */
import type net from 'node:net';
import { startFrameServer } from './frame-server';
import { deflateSync, inflateSync } from 'node:zlib';
import { BSON, Long } from 'bson';

export interface MongoResponder {
  port: number;
  /** Commands seen, in order. */
  seen: string[];
  close(): Promise<void>;
}

const HELLO = () => ({
  helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, localTime: new Date(),
  logicalSessionTimeoutMinutes: 30, connectionId: 1, minWireVersion: 0, maxWireVersion: 21, readOnly: false, ok: 1,
});

export async function startMongoResponder(): Promise<MongoResponder> {
  const seen: string[] = [];
  const store = new Map<string, Record<string, unknown>[]>();
  let nextId = 1000;

  function reply(cmd: Record<string, any>): Record<string, unknown> {
    const name = Object.keys(cmd)[0] ?? '';
    seen.push(name);
    const db = typeof cmd.$db === 'string' ? cmd.$db : 'test';
    switch (name.toLowerCase()) {
      // A driver offering zlib gets it: it then sends OP_COMPRESSED (and the answers mirror it).
      case 'hello': case 'ismaster': return Array.isArray(cmd.compression) && cmd.compression.includes('zlib') ? { ...HELLO(), compression: ['zlib'] } : HELLO();
      case 'ping': case 'endsessions': return { ok: 1 };
      case 'insert': {
        const docs = (cmd.documents ?? []) as Record<string, unknown>[];
        const l = store.get(`${db}.${cmd.insert}`) ?? [];
        l.push(...docs);
        store.set(`${db}.${cmd.insert}`, l);
        return { n: docs.length, ok: 1 };
      }
      case 'find':
        return { cursor: { firstBatch: store.get(`${db}.${cmd.find}`) ?? [], id: Long.fromNumber(0), ns: `${db}.${cmd.find}` }, ok: 1 };
      default:
        return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
    }
  }

  function header(len: number, id: number, to: number, op: number): Buffer {
    const h = Buffer.alloc(16);
    h.writeInt32LE(len, 0); h.writeInt32LE(id, 4); h.writeInt32LE(to, 8); h.writeInt32LE(op, 12);
    return h;
  }

  /** Sends a message, zlib-compressed in an OP_COMPRESSED when its request came compressed. */
  function send(sock: net.Socket, msg: Buffer, zlib: boolean): void {
    if (!zlib) { sock.write(msg); return; }
    const body = deflateSync(msg.subarray(16));
    const fixed = Buffer.alloc(9);
    fixed.writeInt32LE(msg.readInt32LE(12), 0); fixed.writeInt32LE(msg.length - 16, 4); fixed[8] = 2;
    sock.write(Buffer.concat([header(16 + 9 + body.length, msg.readInt32LE(4), msg.readInt32LE(8), 2012), fixed, body]));
  }

  function handle(msg: Buffer, sock: net.Socket, zlib = false): void {
    const id = msg.readInt32LE(4);
    const op = msg.readInt32LE(12);
    if (op === 2012) {
      // OP_COMPRESSED: original opcode, uncompressed size, compressor id (2: zlib), data.
      const inner = msg[24] === 2 ? inflateSync(msg.subarray(25)) : msg.subarray(25);
      handle(Buffer.concat([header(16 + inner.length, id, msg.readInt32LE(8), msg.readInt32LE(16)), inner]), sock, msg[24] === 2);
      return;
    }
    if (op === 2013) {
      const flags = msg.readUInt32LE(16);
      let p = 20;
      let body: Record<string, any> = {};
      const end = flags & 1 ? msg.length - 4 : msg.length;
      while (p < end) {
        const kind = msg[p++];
        if (kind === 0) {
          const n = msg.readInt32LE(p);
          body = { ...BSON.deserialize(msg.subarray(p, p + n)), ...body };
          p += n;
        } else {
          const size = msg.readInt32LE(p);
          const z = msg.indexOf(0, p + 4);
          const ident = msg.toString('utf8', p + 4, z);
          const docs: unknown[] = [];
          for (let q = z + 1; q < p + size;) { const n = msg.readInt32LE(q); docs.push(BSON.deserialize(msg.subarray(q, q + n))); q += n; }
          body[ident] = docs;
          p += size;
        }
      }
      const out = BSON.serialize(reply(body));
      if (flags & 2) return; // moreToCome: no reply
      const tail = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), out]);
      send(sock, Buffer.concat([header(16 + tail.length, nextId++, id, 2013), tail]), zlib);
    } else if (op === 2004) {
      const z = msg.indexOf(0, 20);
      const q = z + 9;
      const n = msg.readInt32LE(q);
      const query = BSON.deserialize(msg.subarray(q, q + n));
      const out = BSON.serialize(reply(query.$query ?? query));
      const fixed = Buffer.alloc(20);
      fixed.writeInt32LE(1, 16);
      send(sock, Buffer.concat([header(16 + 20 + out.length, nextId++, id, 1), fixed, out]), zlib);
    }
  }

  const server = await startFrameServer((b) => b.readInt32LE(0), (frames, sock) => { for (const f of frames) handle(f, sock); });
  return { port: server.port, seen, close: server.close };
}
