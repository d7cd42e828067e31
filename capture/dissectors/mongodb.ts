/**
 * MongoDB wire protocol over TCP: OP_MSG (every server since 3.6) and the legacy OP_QUERY /
 * OP_REPLY (still sent for the first handshake by drivers), plus OP_COMPRESSED with zlib (or
 * noop); snappy and zstd OP_COMPRESSED messages are paired and flagged as not decoded.
 * BSON is decoded with the `bson` package and shown as relaxed Extended JSON. A reply pairs with
 * its request by `responseTo` = the request's `requestID`; requests with moreToCome (w:0 writes)
 * get no reply; replies with moreToCome (exhaust cursors, streaming hello) each become an item
 * carrying the same request.
 *
 * Detection: the 16-byte header (little-endian length 16..64 MiB, an opcode MongoDB defines,
 * responseTo 0 from the client) and, for OP_MSG/OP_QUERY, a first BSON document whose length
 * fits the message and whose first element has a known type and a printable name.
 */
import { inflateSync } from 'node:zlib';
import type * as Bson from 'bson';
import type { Direction, Dissector, DissectorContext } from '../types';
import type { MongoRequest, MongoResponse } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { FRAME_KEEP, FramedStream, printable, type Exchange, type Frame } from './framed';

const MAX_MESSAGE = 64 * 1024 * 1024;
const OP_REPLY = 1, OP_QUERY = 2004, OP_COMPRESSED = 2012, OP_MSG = 2013;
const OPCODES: Record<number, string> = {
  1: 'OP_REPLY', 2001: 'OP_UPDATE', 2002: 'OP_INSERT', 2004: 'OP_QUERY', 2005: 'OP_GET_MORE',
  2006: 'OP_DELETE', 2007: 'OP_KILL_CURSORS', 2012: 'OP_COMPRESSED', 2013: 'OP_MSG',
};
const opName = (op: number) => OPCODES[op] ?? `OP_${op}`;
const MORE_TO_COME = 2;
/** OP_COMPRESSED compressor ids (the wire protocol's): only noop and zlib are decoded. */
const NOOP = 0, ZLIB = 2;
const COMPRESSORS = ['noop', 'snappy', 'zlib', 'zstd'];

type Doc = Record<string, any>;

const EMPTY_REQUEST = (): MongoRequest => ({ opCode: '', requestID: 0, command: '', database: '', collection: '', summary: '', flagBits: 0, document: {}, sequences: {}, fullCollectionName: '', numberToSkip: 0, numberToReturn: 0 });
const EMPTY_RESPONSE = (): MongoResponse => ({ opCode: '', requestID: 0, responseTo: 0, flagBits: 0, document: {}, documents: [], ok: 0, errmsg: '', code: 0, cursorID: '' });

class Short extends Error {}

/** The BSON document at b[p..]: its length (checked against the buffer). */
function docLength(b: Buffer, p: number, wire: number): number {
  if (p + 5 > b.length) throw new Short('document header past the end');
  const n = b.readInt32LE(p);
  if (n < 5 || p + n > wire) throw new Short('document length past the end');
  return n;
}

/** First key of the BSON document at b[p..] (cheap: no decoding), or ''. */
function firstKey(b: Buffer, p: number): string {
  const z = b.indexOf(0, p + 5);
  return b[p + 4] !== 0 && z > 0 ? b.toString('utf8', p + 5, z) : '';
}

/**
 * `bson` is loaded with the first document decoded, not with the bundle: its module set-up was
 * ~10 ms of every `wirehook items` start, HTTP/DNS-only captures included (docs/capture.md).
 */
let bson: typeof Bson | null = null;
const bsonLib = (): typeof Bson => (bson ??= require('bson') as typeof Bson);

/** Decodes one document as relaxed Extended JSON; documents past `cap` bytes are summarised. */
function decodeDoc(b: Buffer, p: number, n: number, cap: number): Doc {
  if (n > cap) return { $wirehook: `document of ${n} bytes not shown (over the body cap)` };
  if (p + n > b.length) return { $wirehook: `document of ${n} bytes not shown (past the first ${FRAME_KEEP} bytes kept of a large message)` };
  try {
    const { BSON, EJSON } = bsonLib();
    const doc = BSON.deserialize(b.subarray(p, p + n), { promoteValues: true, allowObjectSmallerThanBufferSize: false });
    return EJSON.serialize(doc, { relaxed: true }) as Doc;
  } catch (e) {
    throw new Short(`bad BSON: ${(e as Error).message}`);
  }
}

/** Reads a NUL-terminated string at b[p..]. */
function cstring(b: Buffer, p: number): [string, number] {
  const z = b.indexOf(0, p);
  if (z < 0) throw new Short('string past the end');
  return [b.toString('utf8', p, z), z + 1];
}

interface Parsed {
  op: number;
  requestID: number;
  responseTo: number;
  flags: number;
  req?: MongoRequest;
  res?: MongoResponse;
  problem: string | null;
}

/** Fills the command, database and collection from a command document. */
function commandOf(req: MongoRequest, doc: Doc, key: string): void {
  req.command = key;
  const v = doc[key];
  if (typeof v === 'string') req.collection = v;
  if (typeof doc.$db === 'string') req.database = doc.$db;
}

function summaryOf(req: MongoRequest): string {
  if (!req.collection) return req.command;
  return `${req.command} ${req.database ? `${req.database}.` : ''}${req.collection}`;
}

/** Parses one message (b: the whole frame, header included, possibly cut). */
/** `wire`: the message's length on the wire (b may hold only its first FRAME_KEEP bytes). */
function parse(b: Buffer, dir: Direction, cap: number, wire = b.length, depth = 0): Parsed {
  const out: Parsed = { op: 0, requestID: 0, responseTo: 0, flags: 0, problem: null };
  if (b.length < 16) { out.problem = 'message cut before its header ended'; return out; }
  out.requestID = b.readInt32LE(4);
  out.responseTo = b.readInt32LE(8);
  out.op = b.readInt32LE(12);
  const isReply = out.op === OP_REPLY || (out.op === OP_MSG && dir === 1) || (out.op === OP_COMPRESSED && dir === 1);
  const req = isReply ? undefined : EMPTY_REQUEST();
  const res = isReply ? EMPTY_RESPONSE() : undefined;
  if (req) { req.opCode = opName(out.op); req.requestID = out.requestID; out.req = req; }
  if (res) { res.opCode = opName(out.op); res.requestID = out.requestID; res.responseTo = out.responseTo; out.res = res; }
  try {
    let p = 16;
    switch (out.op) {
      case OP_MSG: {
        if (b.length < 20) throw new Short('flags past the end');
        out.flags = b.readUInt32LE(16);
        p = 20;
        const end = Math.min(b.length, out.flags & 1 ? wire - 4 : wire);
        let body: Doc | null = null;
        let key = '';
        const seqs: Record<string, Doc[]> = {};
        while (p < end) {
          const kind = b[p++];
          if (kind === 0) {
            const n = docLength(b, p, wire);
            key ||= firstKey(b, p);
            body ??= decodeDoc(b, p, n, cap);
            p += n;
          } else if (kind === 1) {
            if (p + 4 > b.length) throw new Short('section past the end');
            const size = b.readInt32LE(p);
            const sEnd = p + size;
            if (size < 5 || sEnd > wire) throw new Short('section past the end');
            const [id, q0] = cstring(b, p + 4);
            let q = q0;
            const docs: Doc[] = (seqs[id] = []);
            while (q < Math.min(sEnd, b.length)) {
              const n = docLength(b, q, wire);
              docs.push(decodeDoc(b, q, n, cap));
              q += n;
            }
            p = sEnd;
          } else {
            throw new Short(`unknown section kind ${kind}`);
          }
        }
        if (req) {
          req.flagBits = out.flags;
          req.document = body ?? {};
          req.sequences = seqs;
          commandOf(req, req.document, key);
        } else if (res) {
          res.flagBits = out.flags;
          res.document = body ?? {};
        }
        break;
      }
      case OP_QUERY: {
        if (!req) break;
        req.flagBits = b.readInt32LE(16);
        const [ns, q] = cstring(b, 20);
        req.fullCollectionName = ns;
        if (q + 8 > b.length) throw new Short('skip/limit past the end');
        req.numberToSkip = b.readInt32LE(q);
        req.numberToReturn = b.readInt32LE(q + 4);
        const n = docLength(b, q + 8, wire);
        let doc = decodeDoc(b, q + 8, n, cap);
        const dot = ns.indexOf('.');
        req.database = dot < 0 ? ns : ns.slice(0, dot);
        const coll = dot < 0 ? '' : ns.slice(dot + 1);
        if (coll === '$cmd') {
          // Commands may come wrapped: {$query: {cmd…}, $readPreference: …}.
          if (doc.$query && typeof doc.$query === 'object') doc = doc.$query;
          const key = Object.keys(doc)[0] ?? '';
          req.command = key;
          if (typeof doc[key] === 'string') req.collection = doc[key];
        } else {
          req.command = 'find';
          req.collection = coll;
        }
        req.document = doc;
        break;
      }
      case OP_REPLY: {
        if (!res) break;
        if (b.length < 36) throw new Short('reply header past the end');
        res.flagBits = b.readInt32LE(16);
        res.cursorID = b.readBigInt64LE(20).toString();
        const count = b.readInt32LE(32);
        p = 36;
        for (let i = 0; i < count && p < b.length; i++) {
          const n = docLength(b, p, wire);
          res.documents.push(decodeDoc(b, p, n, cap));
          p += n;
        }
        res.document = res.documents[0] ?? {};
        break;
      }
      case OP_COMPRESSED: {
        if (b.length < 25) throw new Short('compression header past the end');
        const original = b.readInt32LE(16);
        const size = b.readInt32LE(20);
        const compressor = b[24];
        const inside = `OP_COMPRESSED(${opName(original)})`;
        if (req) req.opCode = inside;
        if (res) res.opCode = inside;
        if (depth > 0) throw new Short('a compressed message inside a compressed message');
        if (compressor !== NOOP && compressor !== ZLIB) {
          // Snappy and zstd have no decoder in Node 20 (and no kept npm package is installed):
          // the header is read, the message is paired, and the item says it was not decoded.
          const name = COMPRESSORS[compressor] ?? `compressor ${compressor}`;
          out.problem = `${inside} compressed with ${name}: not decoded (Wirehook decodes zlib and noop only)`;
          if (req) req.summary = `${name}-compressed ${opName(original)}, not decoded`;
          return out;
        }
        if (size < 0 || size > MAX_MESSAGE) throw new Short('bad uncompressed size');
        const inner = compressor === NOOP ? b.subarray(25) : inflate(b.subarray(25), size);
        const whole = Buffer.alloc(16 + inner.length);
        b.copy(whole, 0, 0, 16);
        whole.writeInt32LE(16 + inner.length, 0);
        whole.writeInt32LE(original, 12);
        inner.copy(whole, 16);
        const again = parse(whole, dir, cap, whole.length, depth + 1);
        // again.op stays the original opcode: moreToCome (no reply) is read from the message inside.
        if (again.req) again.req.opCode = inside;
        if (again.res) again.res.opCode = inside;
        return again;
      }
      case 2001: case 2002: case 2005: case 2006: {
        if (!req) break;
        const [ns] = cstring(b, 20);
        req.fullCollectionName = ns;
        const dot = ns.indexOf('.');
        req.database = dot < 0 ? ns : ns.slice(0, dot);
        req.collection = dot < 0 ? '' : ns.slice(dot + 1);
        req.command = { 2001: 'update', 2002: 'insert', 2005: 'getMore', 2006: 'delete' }[out.op as 2001] ?? '';
        break;
      }
      default:
        if (req) req.command = '';
    }
  } catch (e) {
    if (!(e instanceof Short) && !(e instanceof RangeError)) throw e;
    out.problem = `malformed ${opName(out.op)}: ${(e as Error).message}`;
  }
  if (req) req.summary = summaryOf(req);
  if (res) {
    const d = res.document;
    res.ok = typeof d.ok === 'number' ? d.ok : typeof d.ok === 'boolean' ? Number(d.ok) : d.ok && typeof d.ok === 'object' ? Number(Object.values(d.ok)[0]) || 0 : 0;
    res.errmsg = typeof d.errmsg === 'string' ? d.errmsg : '';
    res.code = typeof d.code === 'number' ? d.code : 0;
  }
  return out;
}

class MongoStream extends FramedStream {
  private readonly waiting = new Map<number, Exchange>();
  /** Replies with moreToCome: their requestID → the request later replies answer. */
  private readonly streaming = new Map<number, MongoRequest>();

  constructor(ctx: DissectorContext) {
    super(ctx, 'mongodb');
  }

  protected frameLength(b: Buffer): number {
    if (b.length < 4) return -1;
    const n = b.readInt32LE(0);
    return n < 16 || n > MAX_MESSAGE ? -2 : n;
  }

  protected override plausible(b: Buffer, dir: Direction): boolean {
    return detectMongo(b, dir) !== false;
  }

  protected protocol(): typeof PROTOCOLS.mongodb {
    return PROTOCOLS.mongodb;
  }
  protected emptyRequest(): Record<string, unknown> { return EMPTY_REQUEST() as unknown as Record<string, unknown>; }
  protected emptyResponse(): Record<string, unknown> { return EMPTY_RESPONSE() as unknown as Record<string, unknown>; }

  protected frame(f: Frame): void {
    const m = parse(f.bytes, f.dir, this.ctx.bodyCap, f.cut ? f.bytes.length : f.wireLen);
    const problem = f.cut ?? m.problem;
    if (m.problem && !f.cut) this.ctx.warn('mongodb', m.problem);
    if (m.req) {
      const x = this.open({ request: m.req as unknown as Record<string, unknown>, requestSize: f.wireLen, requestTs: f.startTs });
      if (problem) x.error = { type: 'dissection', msg: problem };
      if ((m.op === OP_MSG && m.flags & MORE_TO_COME) || [2001, 2002, 2006, 2007].includes(m.op) || f.bytes.length < 16) {
        // No reply comes (moreToCome, fire-and-forget legacy writes), or none could be matched.
        x.response = EMPTY_RESPONSE() as unknown as Record<string, unknown>;
        x.done = true;
        return;
      }
      this.waiting.set(m.requestID, x);
      return;
    }
    const res = m.res ?? EMPTY_RESPONSE();
    const more = m.op === OP_MSG && (m.flags & MORE_TO_COME) !== 0;
    const x = this.waiting.get(m.responseTo);
    if (x) {
      this.waiting.delete(m.responseTo);
      x.response = res as unknown as Record<string, unknown>;
      x.responseSize = f.wireLen;
      x.responseTs = f.endTs;
      if (problem) x.error ??= { type: 'dissection', msg: problem };
      x.done = true;
      if (more) this.streaming.set(m.requestID, x.request as unknown as MongoRequest);
      return;
    }
    const streamed = this.streaming.get(m.responseTo);
    if (streamed) this.streaming.delete(m.responseTo);
    if (streamed && more) this.streaming.set(m.requestID, streamed);
    const y = this.open({
      request: (streamed as unknown as Record<string, unknown>) ?? null, requestSize: 0, requestTs: f.startTs,
      response: res as unknown as Record<string, unknown>, responseSize: f.wireLen, responseTs: f.endTs,
    });
    if (problem) y.error = { type: 'dissection', msg: problem };
    y.done = true;
  }
}

/**
 * zlib-inflates an OP_COMPRESSED body of at most `size` bytes. Every zlib failure (corrupt data,
 * a stream cut short, output over `size`, a stream that asks for a preset dictionary, which the
 * wire protocol never carries) is the message's fault: it becomes a Short, reported as malformed.
 */
function inflate(z: Buffer, size: number): Buffer {
  try {
    return inflateSync(z, { maxOutputLength: Math.max(size, 1) });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'Z_NEED_DICT') throw new Short('zlib: the message needs a preset dictionary (FDICT), which the wire protocol never carries');
    if (typeof code === 'string' && (code.startsWith('Z_') || code === 'ERR_BUFFER_TOO_LARGE')) throw new Short(`zlib: ${(e as Error).message}`);
    throw e;
  }
}

const KNOWN_OPS = new Set([1, 2001, 2002, 2004, 2005, 2006, 2007, 2012, 2013]);

/** See the file comment. */
export function detectMongo(first: Buffer, dir: Direction): boolean | 'maybe' {
  const n = first.length;
  if (n < 4) return 'maybe';
  const len = first.readInt32LE(0);
  if (len < 16 || len > MAX_MESSAGE) return false;
  if (n < 16) return 'maybe';
  const op = first.readInt32LE(12);
  if (!KNOWN_OPS.has(op)) return false;
  const responseTo = first.readInt32LE(8);
  if (dir === 0 ? responseTo !== 0 || op === OP_REPLY : op !== OP_REPLY && op !== OP_MSG && op !== OP_COMPRESSED) return false;
  let p: number;
  if (op === OP_MSG) {
    if (n < 21) return 'maybe';
    if ((first.readUInt32LE(16) & ~0x10003) !== 0 || first[20] !== 0) return false;
    p = 21;
  } else if (op === OP_QUERY) {
    const z = first.indexOf(0, 20);
    if (z < 0) return n >= 4096 ? false : 'maybe';
    if (!printable(first, 20, z) || first.indexOf(0x2e, 20) < 0) return false;
    p = z + 9;
  } else if (op === OP_REPLY) {
    p = 36;
  } else {
    // Compressed and legacy write opcodes: the header alone, on the client's side.
    return op === OP_COMPRESSED ? first.length >= 25 && first[24] <= 3 : true;
  }
  if (n < p + 6) return n >= 4096 ? false : 'maybe';
  const dlen = first.readInt32LE(p);
  if (dlen < 5 || p + dlen > len) return false;
  const type = first[p + 4];
  if (type === 0) return dlen === 5;
  if (!((type >= 1 && type <= 0x13) || type === 0x7f || type === 0xff)) return false;
  const z = first.indexOf(0, p + 5);
  if (z < 0) return n >= 4096 ? false : 'maybe';
  return z > p + 5 && printable(first, p + 5, z);
}

export const mongodb: Dissector = {
  name: 'mongodb',
  priority: PROTOCOLS.mongodb.priority,
  detect: (first, dir) => detectMongo(first, dir),
  tcp: (ctx) => new MongoStream(ctx),
};
