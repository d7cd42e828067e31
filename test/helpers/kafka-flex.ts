/**
 * Kafka's flexible (compact, tagged-field) versions, for the test that kafkajs cannot drive:
 * kafkajs 2 has no flexible version of any API (its newest: Produce v7, Fetch v11, Metadata v6,
 * ApiVersions v2, FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3, OffsetCommit v5),
 * and Debian ships no broker. So this file builds the requests a modern client sends (header v2)
 * and a responder that answers them the way a broker does (header v1, the ApiVersions exception
 * included), from the protocol guide (https://kafka.apache.org/protocol), independently of
 * capture/dissectors/kafka-wire.ts. tshark's Kafka dissector judges both directions of the
 * bytes on the wire, for the versions it knows (JUDGED below).
 */
import { startFrameServer } from './frame-server';

/** Big-endian writer with the compact (flexible) encodings. */
export class FW {
  parts: Buffer[] = [];
  private put(n: number, f: (b: Buffer) => void): this { const b = Buffer.alloc(n); f(b); this.parts.push(b); return this; }
  i8(v: number) { return this.put(1, (b) => b.writeInt8(v)); }
  i16(v: number) { return this.put(2, (b) => b.writeInt16BE(v)); }
  i32(v: number) { return this.put(4, (b) => b.writeInt32BE(v)); }
  u32(v: number) { return this.put(4, (b) => b.writeUInt32BE(v >>> 0)); }
  i64(v: bigint) { return this.put(8, (b) => b.writeBigInt64BE(v)); }
  bool(v: boolean) { return this.i8(v ? 1 : 0); }
  uuid(hex: string) { this.parts.push(Buffer.from(hex, 'hex')); return this; }
  raw(b: Buffer) { this.parts.push(b); return this; }
  uvarint(v: number) {
    const out: number[] = [];
    do { let x = v & 0x7f; v = Math.floor(v / 128); if (v) x |= 0x80; out.push(x); } while (v);
    return this.raw(Buffer.from(out));
  }
  varint(v: number) { return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1); }
  /** STRING / NULLABLE_STRING (the request header's client id stays non-compact). */
  str(s: string | null) { if (s === null) return this.i16(-1); const b = Buffer.from(s); return this.i16(b.length).raw(b); }
  /** COMPACT_(NULLABLE_)STRING. */
  cstr(s: string | null) { if (s === null) return this.uvarint(0); const b = Buffer.from(s); return this.uvarint(b.length + 1).raw(b); }
  cbytes(b: Buffer | null) { if (b === null) return this.uvarint(0); return this.uvarint(b.length + 1).raw(b); }
  /** COMPACT_ARRAY of structs: each ends with its (empty) tagged fields unless `plain`. */
  carr<T>(xs: T[] | null, f: (x: T) => void, plain = false) {
    if (xs === null) return this.uvarint(0);
    this.uvarint(xs.length + 1);
    for (const x of xs) { f(x); if (!plain) this.tags(); }
    return this;
  }
  /** A tagged-field section: none, or the given (tag, bytes) pairs. */
  tags(fields: [number, Buffer][] = []) {
    this.uvarint(fields.length);
    for (const [t, b] of fields) this.uvarint(t).uvarint(b.length).raw(b);
    return this;
  }
  buf() { return Buffer.concat(this.parts); }
}

const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) { let c = i; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; t[i] = c >>> 0; }
  return t;
})();
function crc32c(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC32C[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A record batch (magic 2, uncompressed) of key/value records with optional headers. */
export function recordBatch(records: { key: string | null; value: string; headers?: [string, string][] }[], ts = 1_700_000_000_000n): Buffer {
  const recs = records.map((r, i) => {
    const body = new FW().i8(0).varint(0).varint(i);
    if (r.key === null) body.varint(-1); else body.varint(Buffer.byteLength(r.key)).raw(Buffer.from(r.key));
    body.varint(Buffer.byteLength(r.value)).raw(Buffer.from(r.value));
    body.varint(r.headers?.length ?? 0);
    for (const [k, v] of r.headers ?? []) body.varint(Buffer.byteLength(k)).raw(Buffer.from(k)).varint(Buffer.byteLength(v)).raw(Buffer.from(v));
    const b = body.buf();
    return new FW().varint(b.length).raw(b).buf();
  });
  const afterCrc = new FW().i16(0).i32(records.length - 1).i64(ts).i64(ts).i64(-1n).i16(-1).i32(-1).i32(records.length).raw(Buffer.concat(recs)).buf();
  const afterLen = new FW().i32(0).i8(2).u32(crc32c(afterCrc)).raw(afterCrc).buf();
  return new FW().i64(0n).i32(afterLen.length).raw(afterLen).buf();
}

/** A whole request frame: size, header v2 when flexible (v1 otherwise: no tags), body. */
export function request(apiKey: number, version: number, corr: number, clientId: string): Buffer {
  const body = requestBody(apiKey, version);
  const h = new FW().i16(apiKey).i16(version).i32(corr).str(clientId);
  if (isFlex(apiKey, version)) h.tags();
  const hb = h.buf();
  return new FW().i32(hb.length + body.length).raw(hb).raw(body).buf();
}

const TOPIC_ID = '6b1f6c0e9d2a4c3b8e5f0a1b2c3d4e5f';

/** A writer for one message version: compact encodings and tagged fields only when flexible. */
class VW extends FW {
  constructor(readonly flex: boolean) { super(); }
  s(x: string | null) { return this.flex ? this.cstr(x) : this.str(x); }
  b(x: Buffer | null) { return this.flex ? this.cbytes(x) : x === null ? this.i32(-1) : this.i32(x.length).raw(x); }
  /** An array of structs (tagged fields after each when flexible) or, with `plain`, of primitives. */
  a<T>(xs: T[] | null, f: (x: T) => void, plain = false) {
    if (this.flex) return this.carr(xs, f, plain);
    if (xs === null) return this.i32(-1);
    this.i32(xs.length);
    for (const x of xs) f(x);
    return this;
  }
  t() { return this.flex ? this.tags() : this; }
}

/**
 * The conversation: [api key, version] pairs. `judged` are the newest versions tshark 4.0 (the
 * judge on these machines) dissects — flexible for all but Produce (≤ v8) and Fetch (≤ v11),
 * whose flexible versions it does not know. `beyond` are flexible versions past tshark 4.0:
 * Produce v9, Fetch v12, Metadata v12, FindCoordinator v4, JoinGroup v9.
 */
export const JUDGED: [number, number][] = [[18, 3], [3, 9], [10, 3], [11, 7], [14, 5], [12, 4], [0, 8], [1, 11], [8, 8]];
export const BEYOND: [number, number][] = [[0, 9], [1, 12], [3, 12], [10, 4], [11, 9]];

/** First flexible version per api key (from the protocol guide). */
const FLEX: Record<number, number> = { 0: 9, 1: 12, 3: 9, 8: 8, 10: 3, 11: 6, 12: 4, 14: 4, 18: 3 };
export const isFlex = (key: number, v: number) => v >= FLEX[key];

/** The request body of (api key, version). */
export function requestBody(key: number, v: number): Buffer {
  const w = new VW(isFlex(key, v));
  switch (key) {
    case 18: return w.cstr('wirehook-flex').cstr('1.0.0').tags().buf(); // ApiVersions v3
    case 3: // Metadata
      w.a(['orders', 'audit'], (t) => { if (v >= 10) w.uuid('00000000000000000000000000000000'); w.s(t); });
      w.bool(false);
      if (v <= 10) w.bool(false);
      return w.bool(false).t().buf();
    case 10: // FindCoordinator
      if (v <= 3) return w.s('billing').i8(0).t().buf();
      return w.i8(0).a(['billing'], (k) => { w.s(k); }, true).t().buf();
    case 11: // JoinGroup
      w.s('billing').i32(30000).i32(60000).s('').s(null).s('consumer');
      w.a([['range', Buffer.from([0, 1, 2])]] as [string, Buffer][], ([n, m]) => { w.s(n).b(m); });
      if (v >= 8) w.s('joining');
      return w.t().buf();
    case 14: // SyncGroup v5
      w.s('billing').i32(1).s('member-1').s(null).s('consumer').s('range');
      return w.a(['member-1'], (m) => { w.s(m).b(Buffer.from([0, 1])); }).t().buf();
    case 12: // Heartbeat v4
      return w.s('billing').i32(1).s('member-1').s(null).t().buf();
    case 0: // Produce (v8, v9): acks -1, two partitions of "orders", one record batch each
      w.s(null).i16(-1).i32(30000);
      w.a(['orders'], (t) => {
        w.s(t);
        w.a([0, 1], (p) => { w.i32(p).b(recordBatch([{ key: `k${p}`, value: `flex-${p}`, headers: [['trace', `t${p}`]] }])); });
      });
      return w.t().buf();
    case 1: // Fetch (v11, v12): "orders" partitions 0 and 1 from offset 0
      w.i32(-1).i32(500).i32(1).i32(52428800).i8(0).i32(0).i32(-1);
      w.a(['orders'], (t) => {
        w.s(t);
        w.a([0, 1], (p) => { w.i32(p).i32(-1).i64(0n); if (v >= 12) w.i32(-1); w.i64(-1n).i32(1048576); });
      });
      w.a([] as string[], () => {});
      return w.s('').t().buf();
    case 8: // OffsetCommit v8
      w.s('billing').i32(1).s('member-1').s(null);
      w.a(['orders'], (t) => { w.s(t); w.a([0, 1], (p) => { w.i32(p).i64(BigInt(p + 5)).i32(-1).s(null); }); });
      return w.t().buf();
    default:
      throw new Error(`no request for api key ${key}`);
  }
}

/** Error codes the responder puts in its answers (so that they can be compared). */
export const REBALANCE_IN_PROGRESS = 27;
export const OFFSET_METADATA_TOO_LARGE = 12;

/** Records of the large Fetch answer (to a client id of LARGE_FETCH). */
export const LARGE_FETCH = 'large-fetch';
export const LARGE_RECORDS = 5000;

/** The response body a broker sends to (api key, version); `large`: a Fetch gets LARGE_RECORDS records. */
function answer(key: number, v: number, port: number, large = false): Buffer {
  const w = new VW(isFlex(key, v));
  switch (key) {
    case 18: // ApiVersions v3 (its header stays v0; the body is flexible)
      w.i16(0);
      w.carr([[0, 0, 9], [1, 0, 12], [3, 0, 12], [8, 0, 8], [10, 0, 4], [11, 0, 9], [12, 0, 4], [14, 0, 5], [18, 0, 3]], ([k, lo, hi]) => { w.i16(k).i16(lo).i16(hi); });
      return w.i32(0).tags().buf();
    case 3: // Metadata
      w.i32(0);
      w.a([0], (n) => { w.i32(n).s('127.0.0.1').i32(port).s(null); });
      w.s('wirehook-cluster').i32(0);
      w.a(['orders', 'audit'], (t) => {
        w.i16(0).s(t);
        if (v >= 10) w.uuid(TOPIC_ID);
        w.bool(false);
        w.a([0, 1], (p) => { w.i16(0).i32(p).i32(0).i32(0); w.a([0], (r) => { w.i32(r); }, true); w.a([0], (r) => { w.i32(r); }, true); w.a([], () => {}, true); });
        w.i32(-2147483648);
      });
      if (v <= 10) w.i32(-2147483648);
      return w.t().buf();
    case 10: // FindCoordinator
      w.i32(0);
      if (v <= 3) return w.i16(0).s(null).i32(0).s('127.0.0.1').i32(port).t().buf();
      w.a(['billing'], (k) => { w.s(k).i32(0).s('127.0.0.1').i32(port).i16(0).s(null); });
      return w.t().buf();
    case 11: // JoinGroup: the only member leads
      w.i32(0).i16(0).i32(1).s('consumer').s('range').s('member-1');
      if (v >= 9) w.bool(false);
      w.s('member-1');
      w.a(['member-1'], (m) => { w.s(m).s(null).b(Buffer.from([0, 1, 2])); });
      return w.t().buf();
    case 14: // SyncGroup v5
      return w.i32(0).i16(0).s('consumer').s('range').b(Buffer.from([0, 1])).t().buf();
    case 12: // Heartbeat v4: a rebalance began
      return w.i32(0).i16(REBALANCE_IN_PROGRESS).t().buf();
    case 0: // Produce
      w.a(['orders'], (t) => {
        w.s(t);
        w.a([0, 1], (p) => { w.i32(p).i16(0).i64(BigInt(p * 10)).i64(-1n).i64(0n); w.a([], () => {}); w.s(null); });
      });
      return w.i32(0).t().buf();
    case 1: // Fetch: partition 0 returns a batch of 3 records, partition 1 none
      w.i32(0).i16(0).i32(0);
      w.a(['orders'], (t) => {
        w.s(t);
        w.a([0, 1], (p) => {
          w.i32(p).i16(0).i64(3n).i64(3n).i64(0n);
          w.a([], () => {});
          w.i32(-1);
          const three = [{ key: 'a', value: 'one' }, { key: null, value: 'two' }, { key: 'c', value: 'three' }];
          const many = Array.from({ length: LARGE_RECORDS }, (_, i) => ({ key: `key-${i}`, value: `value-${i}-${'v'.repeat(80)}` }));
          w.b(p === 0 ? recordBatch(large ? many : three) : Buffer.alloc(0));
        });
      });
      return w.t().buf();
    case 8: // OffsetCommit v8: partition 1's metadata refused
      w.i32(0);
      w.a(['orders'], (t) => { w.s(t); w.a([0, 1], (p) => { w.i32(p).i16(p === 1 ? OFFSET_METADATA_TOO_LARGE : 0); }); });
      return w.t().buf();
    default:
      return w.i16(35).buf();
  }
}

export interface FlexResponder {
  port: number;
  close(): Promise<void>;
}

/** A TCP server answering requestBody()'s requests (pipelined or not) in order, header v1 (v0 for ApiVersions). */
export async function startFlexResponder(): Promise<FlexResponder> {
  let port = 0;
  const server = await startFrameServer((b) => 4 + b.readInt32BE(0), (frames, sock) => {
    const out: Buffer[] = [];
    for (const whole of frames) {
      const frame = whole.subarray(4);
      const apiKey = frame.readInt16BE(0);
      const version = frame.readInt16BE(2);
      const corr = frame.readInt32BE(4);
      const large = frame.readInt16BE(8) === LARGE_FETCH.length && frame.toString('utf8', 10, 10 + LARGE_FETCH.length) === LARGE_FETCH;
      const head = new FW().i32(corr);
      if (apiKey !== 18 && isFlex(apiKey, version)) head.tags(); // response header v1
      const body = Buffer.concat([head.buf(), answer(apiKey, version, port, large)]);
      out.push(new FW().i32(body.length).buf(), body);
    }
    if (!sock.destroyed) sock.write(Buffer.concat(out));
  });
  port = server.port;
  return server;
}
