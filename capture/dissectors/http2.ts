/**
 * HTTP/2 over cleartext TCP (h2c), RFC 9113: with prior knowledge (the client starts with the
 * connection preface) or after an HTTP/1.1 `Upgrade: h2c` (registered with upgrades.ts below). One item per
 * stream: request headers (+ body, + trailers) and response headers (+ body, + trailers). gRPC
 * and GraphQL exchanges become items of their own protocol (http2-item.ts).
 *
 * Both directions have their own frame reader (http2-frames.ts) and HPACK decoder (hpack.ts).
 * Every header block is decoded, also on streams we no longer track, to keep the dynamic tables
 * in step. A capture gap outside a DATA body loses the framing of that direction: its open
 * streams are flagged and parsing stops there (HPACK state cannot be recovered).
 */
import type { Direction, Dissector, DissectorContext, L7Message, TcpStreamParser, Timestamp } from '../types';
import type { ItemError } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { BodyCollector, settleBorrowed } from './http-body';
import { HpackDecoder, HpackError, type HeaderField } from './hpack';
import {
  CONTINUATION, END_HEADERS, END_STREAM, FrameReader, GOAWAY, HEADERS, PADDED, PREFACE, PRIORITY_FLAG, PUSH_PROMISE,
  RST_STREAM, SETTINGS, type FrameSink,
} from './http2-frames';
import { buildH2Message, type H2Part, type H2Stream } from './http2-item';
import { registerUpgrade, type UpgradeExchange } from './upgrades';

/** RFC 9113 §7 error code names, for RST_STREAM / GOAWAY messages. */
const ERROR_CODES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];
const errorName = (c: number): string => ERROR_CODES[c] ?? `0x${c.toString(16)}`;

/** A header block spread over HEADERS/PUSH_PROMISE + CONTINUATION frames. */
interface Block {
  sid: number;
  /** PUSH_PROMISE: the stream it promises (0 otherwise). */
  promised: number;
  endStream: boolean;
  parts: Buffer[];
  wire: number;
  ts: Timestamp;
}

/** Streams tracked at once; beyond this the oldest is emitted unfinished (hostile traffic). */
const MAX_OPEN = 1000;
/** A header block larger than this (all its frames) is not decoded. */
const MAX_BLOCK = 1 << 20;

class Side implements FrameSink {
  readonly reader: FrameReader;
  readonly hpack = new HpackDecoder();
  block: Block | null = null;
  /** HPACK failed: header blocks can no longer be decoded on this side. */
  hpackLost = false;

  constructor(readonly dir: Direction, private readonly conn: H2Connection, client: boolean) {
    this.reader = new FrameReader(client, this);
  }

  frame(type: number, flags: number, sid: number, b: Buffer, s: number, e: number, ts: Timestamp): void {
    this.conn.onFrame(this, type, flags, sid, b, s, e, ts);
  }
  dataStart(sid: number, wire: number, ts: Timestamp): void { this.conn.onDataStart(this, sid, wire, ts); }
  data(sid: number, b: Buffer, s: number, e: number): void { this.conn.onData(this, b, s, e); }
  dataEnd(_sid: number, flags: number, ts: Timestamp): void { this.conn.onDataEnd(this, flags, ts); }
  broken(why: string): void { this.conn.onBroken(this, why); }
}

export class H2Connection implements TcpStreamParser {
  private readonly sides: [Side, Side];
  /** Streams by id, and in the order they began (items leave in that order). */
  private readonly streams = new Map<number, H2Stream>();
  private queue: H2Stream[] = [];
  private closed = false;
  private lastPending: Timestamp | null | undefined = undefined;

  /** gRPC messages that could not be decompressed are counted under `grpc` in --stats. */
  private readonly grpcWarn = (detail: string): void => this.ctx.warn('grpc', detail);

  constructor(private readonly ctx: DissectorContext) {
    this.sides = [new Side(0, this, true), new Side(1, this, false)];
  }

  /**
   * h2c Upgrade (RFC 7540 §3.2): the HTTP/1.1 request that asked for it is stream 1, already
   * complete; the server answers it in HTTP/2 on stream 1. Its item repeats the HTTP/1.1 request
   * (as Kubeshark does; kubeshark-compat §6.6) with requestSize 0: those bytes belong to the
   * 101 item before it. Its time is that of the first HTTP/2 bytes.
   */
  adoptUpgrade(ex: UpgradeExchange): void {
    const st = this.open(1, null);
    if (!st) return;
    if (ex.request) {
      st.h1Line = { method: ex.request.line.method, url: ex.request.line.url };
      st.req.headers = Object.entries(ex.request.headers).map(([name, value]) => ({ name, value }));
      // The client's SETTINGS travel in HTTP2-Settings (base64url): its header table size bounds the server's encoder.
      const hs = ex.request.headers['Http2-Settings'];
      if (hs) this.settings(1, Buffer.from(hs, 'base64url'));
    } else {
      st.noRequest = true;
    }
    st.req.done = true;
    st.upgraded = true;
    this.upgrade = st;
  }

  /** Stream 1 of an Upgrade until its time is known (the first HTTP/2 bytes). */
  private upgrade: H2Stream | null = null;

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.closed || bytes.length === 0) return;
    if (this.upgrade) {
      this.upgrade.req.startTs = this.upgrade.req.endTs = ts;
      this.upgrade = null;
    }
    try {
      this.sides[dir].reader.feed(bytes, ts);
    } catch (e) {
      // A parser bug must not take the capture down: stop parsing this direction.
      this.ctx.warn('http2', `internal error: ${(e as Error).message}`);
      this.sides[dir].reader.fail('internal error');
    } finally {
      settleBorrowed();
    }
    this.updatePending();
  }

  gap(dir: Direction, length: number, ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.closed) return;
    const side = this.sides[dir];
    const st = this.current[dir];
    if (side.reader.gap(length, ts)) {
      // Inside a DATA body: the body is short of these bytes.
      if (st) {
        const part = dir === 0 ? st.req : st.res;
        part.body.lost(length);
        part.problem ??= why === 'snaplen' ? "body bytes cut by the capture's snap length" : 'body bytes missing (capture gap)';
      }
    }
    this.updatePending();
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (this.closed) return;
    if (dir !== null) return; // a half-close ends no stream by itself (END_STREAM does)
    this.closed = true;
    for (const st of this.queue) {
      if (st.emitted) continue;
      if (!st.error && !(st.req.done && st.res.done)) {
        st.error = reason === 'timeout'
          ? { type: 'timeout', msg: 'stream unfinished when the connection timed out' }
          : { type: 'pair-not-found', msg: `stream unfinished when the connection ended (${reason})` };
      }
      this.emit(st);
    }
    this.queue = [];
    this.streams.clear();
    this.updatePending();
  }

  // ------------------------------------------------------------------ frames

  /** The stream of the DATA frame being read, per direction. */
  private current: [H2Stream | null, H2Stream | null] = [null, null];

  onDataStart(side: Side, sid: number, wire: number, ts: Timestamp): void {
    const st = sid === 0 ? undefined : this.streams.get(sid);
    this.current[side.dir] = st ?? null;
    if (!st) return;
    const part = side.dir === 0 ? st.req : st.res;
    part.wire += wire;
    part.startTs ??= ts;
  }

  onData(side: Side, b: Buffer, s: number, e: number): void {
    const st = this.current[side.dir];
    if (st) (side.dir === 0 ? st.req : st.res).body.add(b, s, e);
  }

  onDataEnd(side: Side, flags: number, ts: Timestamp): void {
    const st = this.current[side.dir];
    this.current[side.dir] = null;
    if (!st) return;
    const part = side.dir === 0 ? st.req : st.res;
    part.endTs = ts;
    if (flags & END_STREAM) this.finishPart(st, part);
  }

  onBroken(side: Side, why: string): void {
    this.ctx.warn('http2', why);
    // Streams still waiting for bytes from this side will never get them: a request side that
    // broke still lets responses complete their streams; a response side that broke ends them.
    for (const st of this.queue) {
      if (st.emitted || st.closed) continue;
      const part = side.dir === 0 ? st.req : st.res;
      if (part.done) continue;
      st.error ??= { type: 'dissection', msg: `${side.dir === 0 ? 'request' : 'response'} side: ${why}` };
      part.done = true;
      if (st.req.done && st.res.done) st.closed = true;
      if (st.closed && this.streams.get(st.id) === st) this.streams.delete(st.id);
    }
    this.current[side.dir] = null;
    this.flush();
  }

  onFrame(side: Side, type: number, flags: number, sid: number, b: Buffer, s: number, e: number, ts: Timestamp): void {
    const dir = side.dir;
    if (side.block && type !== CONTINUATION) {
      side.reader.fail('header block interrupted by another frame');
      return;
    }
    switch (type) {
      case HEADERS:
      case PUSH_PROMISE: {
        let p = s, end = e;
        if (flags & PADDED) {
          const pad = b[p++];
          end -= pad;
        }
        let promised = 0;
        if (type === HEADERS && flags & PRIORITY_FLAG) p += 5;
        if (type === PUSH_PROMISE) {
          if (end - p < 4) { side.reader.fail('PUSH_PROMISE too short'); return; }
          promised = b.readUInt32BE(p) & 0x7fffffff;
          p += 4;
        }
        if (p > end || sid === 0) { side.reader.fail(`bad ${type === HEADERS ? 'HEADERS' : 'PUSH_PROMISE'} frame`); return; }
        const blk: Block = { sid, promised, endStream: type === HEADERS && (flags & END_STREAM) !== 0, parts: [Buffer.from(b.subarray(p, end))], wire: 9 + e - s, ts };
        if (flags & END_HEADERS) this.headerBlock(side, blk, ts);
        else side.block = blk;
        return;
      }
      case CONTINUATION: {
        const blk = side.block;
        if (!blk || blk.sid !== sid) { side.reader.fail('CONTINUATION without a header block'); return; }
        blk.parts.push(Buffer.from(b.subarray(s, e)));
        blk.wire += 9 + e - s;
        if (blk.wire > MAX_BLOCK) { side.reader.fail('header block too large'); return; }
        if (flags & END_HEADERS) {
          side.block = null;
          this.headerBlock(side, blk, ts);
        }
        return;
      }
      case RST_STREAM: {
        const st = this.streams.get(sid);
        if (!st || e - s < 4) return;
        const code = b.readUInt32BE(s);
        st.error ??= { type: 'connection', msg: `stream reset by the ${dir === 0 ? 'client' : 'server'}: ${errorName(code)}` };
        (dir === 0 ? st.req : st.res).wire += 9 + e - s;
        this.close(st);
        return;
      }
      case SETTINGS: {
        if (flags & 0x1) return; // ACK
        this.settings(1 - dir as Direction, b.subarray(s, e));
        return;
      }
      case GOAWAY: {
        if (e - s < 8) return;
        const last = b.readUInt32BE(s) & 0x7fffffff;
        const code = b.readUInt32BE(s + 4);
        if (code !== 0) this.ctx.warn('http2', `GOAWAY ${errorName(code)} from the ${dir === 0 ? 'client' : 'server'}`);
        // Streams the receiver opened above `last` were not processed (client streams are odd, server pushes even).
        for (const st of this.queue) {
          if (st.emitted || st.id <= last || (st.id % 2 === 1) !== (dir === 1)) continue;
          st.error ??= { type: 'connection', msg: `not processed: GOAWAY ${errorName(code)} from the ${dir === 0 ? 'client' : 'server'}` };
          this.close(st);
        }
        return;
      }
      default:
        return; // PRIORITY, PING, WINDOW_UPDATE, unknown types: nothing for items
    }
  }

  /**
   * SETTINGS_HEADER_TABLE_SIZE from one side bounds the decoder table of its sender, i.e. the
   * header blocks travelling the other way (`dir`).
   */
  private settings(dir: Direction, b: Buffer): void {
    for (let p = 0; p + 6 <= b.length; p += 6) {
      if (b.readUInt16BE(p) === 1) this.sides[dir].hpack.setMaxAllowed(b.readUInt32BE(p + 2));
    }
  }

  /** A complete header block: decode it (always, for HPACK state) and give it to its stream. */
  private headerBlock(side: Side, blk: Block, ts: Timestamp): void {
    if (side.hpackLost) return;
    const raw = blk.parts.length === 1 ? blk.parts[0] : Buffer.concat(blk.parts);
    let fields: HeaderField[];
    try {
      fields = side.hpack.decode(raw, 0, raw.length);
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      side.hpackLost = true;
      side.reader.fail(`HPACK: ${e.message}`);
      return;
    }
    const dir = side.dir;
    if (blk.promised) {
      // Server push: the promised request, complete; its response comes on the promised stream.
      const st = this.open(blk.promised, blk.ts);
      if (!st) return;
      st.req.headers = fields;
      st.req.wire += blk.wire;
      st.req.endTs = ts;
      st.req.done = true;
      st.pushed = true;
      return;
    }
    let st: H2Stream | null = this.streams.get(blk.sid) ?? null;
    if (!st) {
      if (dir === 1 || blk.sid % 2 === 0) {
        // Response on a stream whose request we never saw (or already emitted): an item without request.
        st = this.open(blk.sid, blk.ts);
        if (!st) return;
        st.req.done = true;
        st.noRequest = true;
      } else {
        st = this.open(blk.sid, blk.ts);
        if (!st) return;
      }
    }
    const part = dir === 0 ? st.req : st.res;
    part.wire += blk.wire;
    part.startTs ??= blk.ts;
    part.endTs = ts;
    if (part.headers === null) {
      if (dir === 1 && isInterim(fields)) {
        st.interim += blk.wire; // 1xx: not the response; its bytes count into it
        return;
      }
      part.headers = fields;
    } else {
      part.trailers = part.trailers ? part.trailers.concat(fields) : fields;
    }
    if (blk.endStream) this.finishPart(st, part);
  }

  private open(id: number, ts: Timestamp | null): H2Stream | null {
    if (this.closed) return null;
    if (this.streams.has(id)) return this.streams.get(id)!;
    if (this.streams.size >= MAX_OPEN) {
      const oldest = this.queue.find((s) => !s.emitted);
      if (oldest) {
        oldest.error ??= { type: 'dissection', msg: `more than ${MAX_OPEN} concurrent streams` };
        this.close(oldest);
      }
    }
    const cap = this.ctx.lean ? 0 : this.ctx.bodyCap;
    const st: H2Stream = {
      id, req: newPart(cap, ts), res: newPart(cap, null), error: null, interim: 0,
      pushed: false, upgraded: false, h1Line: null, noRequest: false, emitted: false, closed: false,
    };
    this.streams.set(id, st);
    this.queue.push(st);
    return st;
  }

  private finishPart(st: H2Stream, part: H2Part): void {
    part.done = true;
    if (st.req.done && st.res.done) this.close(st);
  }

  /** The stream is over (both ends done, reset, or refused): forget it and emit what is ready. */
  private close(st: H2Stream): void {
    st.closed = true;
    if (this.streams.get(st.id) === st) this.streams.delete(st.id);
    if (this.current[0] === st) this.current[0] = null;
    if (this.current[1] === st) this.current[1] = null;
    this.flush();
  }

  /** Emits closed streams from the front of the queue (request order). */
  private flush(): void {
    let i = 0;
    const q = this.queue;
    while (i < q.length && q[i].closed) this.emit(q[i++]);
    if (i > 0) this.queue = q.slice(i);
  }

  private emit(st: H2Stream): void {
    if (st.emitted) return;
    st.emitted = true;
    if (!st.req.headers && !st.res.headers && !st.error) return; // nothing seen worth an item
    let error: ItemError | null = st.error;
    if (!error && st.noRequest) error = { type: 'pair-not-found', msg: 'response without a request (capture started mid-connection or the request was lost)' };
    if (!error && (st.req.problem || st.res.problem)) error = { type: 'dissection', msg: (st.req.problem ?? st.res.problem)! };
    const msg: L7Message = buildH2Message(st, this.ctx.lean === true, this.ctx.bodyCap, error, this.grpcWarn);
    st.req.body.release();
    st.res.body.release();
    this.ctx.emit(msg);
  }

  private updatePending(): void {
    let ts: Timestamp | null = null;
    for (const st of this.queue) {
      if (!st.emitted) { ts = st.req.startTs ?? st.res.startTs; break; }
    }
    const last = this.lastPending;
    if (last !== undefined && (last === ts || (last && ts && last.sec === ts.sec && last.nsec === ts.nsec))) return;
    this.lastPending = ts;
    this.ctx.pending(ts);
  }
}

function newPart(cap: number, ts: Timestamp | null): H2Part {
  return { headers: null, trailers: null, body: new BodyCollector(cap), wire: 0, startTs: ts, endTs: null, done: false, problem: null };
}

function isInterim(fields: HeaderField[]): boolean {
  for (const f of fields) if (f.name === ':status') return f.value.length === 3 && f.value[0] === '1' && f.value !== '101';
  return false;
}

/**
 * Detection: the client's connection preface (prior knowledge). A server speaking first with a
 * SETTINGS frame (some servers do not wait for the preface) keeps the stream undecided until the
 * client's bytes arrive. A stream that is not HTTP/2 is refused on its first byte.
 */
export function detectH2(first: Buffer, dir: Direction): boolean | 'maybe' {
  if (first.length === 0) return 'maybe';
  if (dir === 0) {
    if (first[0] !== 0x50) return false; // 'P'
    const k = Math.min(first.length, PREFACE.length);
    if (first.compare(PREFACE, 0, k, 0, k) !== 0) return false;
    return k === PREFACE.length ? true : 'maybe';
  }
  // Server first: a SETTINGS frame (type 4) on stream 0 whose length is a multiple of 6.
  if (first.length < 9) return first[0] === 0 ? 'maybe' : false;
  const len = (first[0] << 16) | (first[1] << 8) | first[2];
  return first[3] === SETTINGS && (first[4] & 0xfe) === 0 && first.readUInt32BE(5) === 0 && len % 6 === 0 ? 'maybe' : false;
}

export const http2: Dissector = {
  name: 'http2',
  priority: PROTOCOLS.http2.priority,
  detect: (first, dir) => detectH2(first, dir),
  tcp: (ctx) => new H2Connection(ctx),
};

// After `101 Switching Protocols` to `Upgrade: h2c`, the HTTP/1 parser hands the connection here.
registerUpgrade('h2c', (ctx, ex) => {
  const c = new H2Connection(ctx);
  c.adoptUpgrade(ex);
  return c;
});
