/**
 * A minimal scripted Kafka broker for tests: Debian ships no Kafka broker and nothing can be
 * downloaded here, so the real `kafkajs` client talks to this responder instead. It advertises
 * old, simple versions of the APIs a producer, an admin and a group consumer need, answers with
 * well-formed responses built here (independently of capture/dissectors/kafka-wire.ts), and
 * keeps one topic/partition layout. tshark's Kafka dissector judges both directions of what it
 * exchanges with the client.
 */
import type net from 'node:net';
import { startFrameServer } from './frame-server';

/** API key → [min, max] version advertised. */
export const KAFKA_VERSIONS: Record<number, [number, number]> = {
  0: [0, 3], // Produce (v3: record batches)
  1: [0, 4], // Fetch
  2: [0, 1], // ListOffsets
  3: [0, 1], // Metadata
  8: [0, 2], // OffsetCommit
  9: [1, 1], // OffsetFetch
  10: [0, 0], // FindCoordinator
  11: [0, 0], // JoinGroup
  12: [0, 0], // Heartbeat
  13: [0, 0], // LeaveGroup
  14: [0, 0], // SyncGroup
  18: [0, 2], // ApiVersions
  19: [0, 0], // CreateTopics
};

class W {
  parts: Buffer[] = [];
  i8(v: number) { const b = Buffer.alloc(1); b.writeInt8(v); this.parts.push(b); return this; }
  i16(v: number) { const b = Buffer.alloc(2); b.writeInt16BE(v); this.parts.push(b); return this; }
  i32(v: number) { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  i64(v: bigint) { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  str(s: string | null) {
    if (s === null) return this.i16(-1);
    const b = Buffer.from(s);
    this.i16(b.length); this.parts.push(b); return this;
  }
  bytes(b: Buffer | null) {
    if (b === null) return this.i32(-1);
    this.i32(b.length); this.parts.push(b); return this;
  }
  arr<T>(xs: T[], f: (x: T) => void) { this.i32(xs.length); for (const x of xs) f(x); return this; }
  buf() { return Buffer.concat(this.parts); }
}

class R {
  constructor(public b: Buffer, public p = 0) {}
  i8() { return this.b.readInt8(this.p++); }
  i16() { const v = this.b.readInt16BE(this.p); this.p += 2; return v; }
  i32() { const v = this.b.readInt32BE(this.p); this.p += 4; return v; }
  i64() { const v = this.b.readBigInt64BE(this.p); this.p += 8; return v; }
  str() { const n = this.i16(); if (n < 0) return null; const s = this.b.toString('utf8', this.p, this.p + n); this.p += n; return s; }
  bytes() { const n = this.i32(); if (n < 0) return null; const s = this.b.subarray(this.p, this.p + n); this.p += n; return s; }
  arr<T>(f: () => T): T[] { const n = this.i32(); const out: T[] = []; for (let i = 0; i < n; i++) out.push(f()); return out; }
}

export interface KafkaResponder {
  port: number;
  /** Requests seen, as "ApiKey vN" (api key number and version). */
  seen: { apiKey: number; version: number }[];
  /** The port Metadata and FindCoordinator advertise (a relay in front of the responder sets its own). */
  advertised: number;
  close(): Promise<void>;
}

const PARTITIONS = 2;

export async function startKafkaResponder(): Promise<KafkaResponder> {
  const seen: KafkaResponder['seen'] = [];
  let port = 0;
  const self = { advertised: 0 };
  let generation = 0;
  const assignments = new Map<string, Buffer>();
  const onFrames = (frames: Buffer[], sock: net.Socket) => {
    for (const whole of frames) {
      const r = new R(whole.subarray(4));
      const apiKey = r.i16(), version = r.i16(), corr = r.i32();
      r.str(); // client id
      seen.push({ apiKey, version });
      const body = answer(apiKey, version, r);
      if (body === null) continue;
      const out = Buffer.concat([new W().i32(corr).buf(), body]);
      const send = () => { if (!sock.destroyed) sock.write(Buffer.concat([new W().i32(out.length).buf(), out])); };
      // Fetch: wait a little (as a broker waits for data) so the consumer does not spin.
      if (apiKey === 1) setTimeout(send, 50); else send();
    }
  };

  function answer(apiKey: number, v: number, r: R): Buffer | null {
    const w = new W();
    switch (apiKey) {
      case 18: { // ApiVersions
        w.i16(0).arr(Object.entries(KAFKA_VERSIONS), ([k, [lo, hi]]) => w.i16(Number(k)).i16(lo).i16(hi));
        if (v >= 1) w.i32(0);
        return w.buf();
      }
      case 3: { // Metadata
        const asked = r.arr(() => r.str() ?? '');
        const topics = asked.length ? asked : ['orders'];
        w.arr([0], () => { w.i32(0).str('127.0.0.1').i32(self.advertised || port); if (v >= 1) w.str(null); });
        if (v >= 1) w.i32(0);
        w.arr(topics, (t) => {
          w.i16(0).str(t);
          if (v >= 1) w.i8(0);
          w.arr([...Array(PARTITIONS).keys()], (p) => { w.i16(0).i32(p).i32(0).arr([0], (n) => w.i32(n)).arr([0], (n) => w.i32(n)); });
        });
        return w.buf();
      }
      case 0: { // Produce
        if (v >= 3) r.str();
        const acks = r.i16();
        r.i32();
        const topics = r.arr(() => ({ name: r.str() ?? '', parts: r.arr(() => { const p = r.i32(); r.bytes(); return p; }) }));
        if (acks === 0) return null;
        w.arr(topics, (t) => {
          w.str(t.name).arr(t.parts, (p) => { w.i32(p).i16(0).i64(0n); if (v >= 2) w.i64(-1n); });
        });
        if (v >= 1) w.i32(0);
        return w.buf();
      }
      case 1: { // Fetch: no new records
        r.i32(); r.i32(); r.i32();
        if (v >= 3) r.i32();
        if (v >= 4) r.i8();
        const topics = r.arr(() => ({ name: r.str() ?? '', parts: r.arr(() => { const p = r.i32(); r.i64(); r.i32(); return p; }) }));
        if (v >= 1) w.i32(0);
        w.arr(topics, (t) => {
          w.str(t.name).arr(t.parts, (p) => {
            w.i32(p).i16(0).i64(0n);
            if (v >= 4) { w.i64(0n); w.i32(-1); }
            w.bytes(Buffer.alloc(0));
          });
        });
        return w.buf();
      }
      case 2: { // ListOffsets
        r.i32();
        const topics = r.arr(() => ({ name: r.str() ?? '', parts: r.arr(() => { const p = r.i32(); r.i64(); if (v === 0) r.i32(); return p; }) }));
        w.arr(topics, (t) => {
          w.str(t.name).arr(t.parts, (p) => { w.i32(p).i16(0); if (v === 0) w.arr([0n], (o) => w.i64(o)); else w.i64(-1n).i64(0n); });
        });
        return w.buf();
      }
      case 8: { // OffsetCommit
        r.str();
        if (v >= 1) { r.i32(); r.str(); }
        if (v >= 2) r.i64();
        const topics = r.arr(() => ({ name: r.str() ?? '', parts: r.arr(() => { const p = r.i32(); r.i64(); if (v === 1) r.i64(); r.str(); return p; }) }));
        w.arr(topics, (t) => w.str(t.name).arr(t.parts, (p) => w.i32(p).i16(0)));
        return w.buf();
      }
      case 9: { // OffsetFetch v1
        r.str();
        const topics = r.arr(() => ({ name: r.str() ?? '', parts: r.arr(() => r.i32()) }));
        w.arr(topics, (t) => w.str(t.name).arr(t.parts, (p) => w.i32(p).i64(-1n).str('').i16(0)));
        return w.buf();
      }
      case 10: // FindCoordinator v0
        return w.i16(0).i32(0).str('127.0.0.1').i32(self.advertised || port).buf();
      case 11: { // JoinGroup v0: the only member leads
        r.str(); r.i32();
        let member = r.str() || '';
        r.str();
        const protocols = r.arr(() => ({ name: r.str() ?? '', meta: r.bytes() ?? Buffer.alloc(0) }));
        if (!member) member = `member-${++generation}`;
        w.i16(0).i32(generation).str(protocols[0]?.name ?? '').str(member).str(member)
          .arr([member], (m) => w.str(m).bytes(protocols[0]?.meta ?? Buffer.alloc(0)));
        return w.buf();
      }
      case 14: { // SyncGroup v0: the leader's own assignment back
        r.str(); r.i32();
        const member = r.str() ?? '';
        for (const a of r.arr(() => ({ m: r.str() ?? '', a: r.bytes() ?? Buffer.alloc(0) }))) assignments.set(a.m, Buffer.from(a.a));
        return w.i16(0).bytes(assignments.get(member) ?? Buffer.alloc(0)).buf();
      }
      case 12: case 13: // Heartbeat, LeaveGroup
        return w.i16(0).buf();
      case 19: { // CreateTopics v0
        const topics = r.arr(() => {
          const name = r.str() ?? '';
          r.i32(); r.i16();
          r.arr(() => { r.i32(); r.arr(() => r.i32()); });
          r.arr(() => { r.str(); r.str(); });
          return name;
        });
        w.arr(topics, (t) => w.str(t).i16(0));
        return w.buf();
      }
      default:
        return w.i16(35).buf(); // UNSUPPORTED_VERSION
    }
  }

  const server = await startFrameServer((b) => 4 + b.readInt32BE(0), onFrames);
  port = server.port;
  return Object.assign(self, { port, seen, close: server.close });
}
