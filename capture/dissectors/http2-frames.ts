/**
 * HTTP/2 framing (RFC 9113 §4, §6) for one direction of a connection: splits the byte stream
 * into frames. DATA payloads are streamed to the sink as they arrive (never buffered whole, so a
 * large body costs only its preview); every other frame is handed over complete. Padding of
 * DATA frames is stripped here; HEADERS/PUSH_PROMISE padding is stripped by the sink.
 */
import type { Timestamp } from '../types';

export const DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;
export const END_STREAM = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;

/** `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`: what a client sends first (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Frames other than DATA above this size are not buffered: nothing legitimate sends a header
 * block or control frame this large, so the direction is taken as not HTTP/2 (any more).
 */
const MAX_CONTROL_FRAME = 1 << 20;

export interface FrameSink {
  /** A complete non-DATA frame: payload is b[s..e) (a view; copy what you keep). */
  frame(type: number, flags: number, sid: number, b: Buffer, s: number, e: number, ts: Timestamp): void;
  /** A DATA frame begins: `wire` is its full size (9-byte header + payload, padding included). */
  dataStart(sid: number, wire: number, ts: Timestamp): void;
  /** Body bytes of the current DATA frame, padding excluded (a view into the caller's bytes). */
  data(sid: number, b: Buffer, s: number, e: number): void;
  /** The DATA frame ended; `flags` carries END_STREAM. */
  dataEnd(sid: number, flags: number, ts: Timestamp): void;
  /** The byte stream is not (valid) HTTP/2 from here on. */
  broken(why: string): void;
}

type State = 'preface' | 'head' | 'frame' | 'data-pad' | 'data' | 'skip' | 'broken';

const NO_BYTES = Buffer.alloc(0);

export class FrameReader {
  private state: State;
  private buf: Buffer = NO_BYTES;
  private type = 0;
  private flags = 0;
  private sid = 0;
  private len = 0;
  /** DATA: body bytes left in the frame; skip: bytes left to drop. */
  private left = 0;
  private pad = 0;

  /** `client`: this direction starts with the connection preface. */
  constructor(client: boolean, private readonly sink: FrameSink) {
    this.state = client ? 'preface' : 'head';
  }

  get isBroken(): boolean {
    return this.state === 'broken';
  }

  /** The stream is inside a DATA frame body and `n` bytes of it are missing: can they be skipped? */
  gap(n: number, ts: Timestamp): boolean {
    if (this.state === 'data' && this.buf.length === 0 && n <= this.left) {
      this.left -= n;
      if (this.left === 0) this.endData(ts);
      return true;
    }
    if (this.state === 'skip' && this.buf.length === 0 && n <= this.left) {
      this.left -= n;
      if (this.left === 0) this.state = 'head';
      return true;
    }
    this.fail('capture gap: HTTP/2 framing lost');
    return false;
  }

  fail(why: string): void {
    if (this.state === 'broken') return;
    this.state = 'broken';
    this.buf = NO_BYTES;
    this.sink.broken(why);
  }

  feed(bytes: Buffer, ts: Timestamp): void {
    if (this.state === 'broken') return;
    const b = this.buf.length === 0 ? bytes : Buffer.concat([this.buf, bytes]);
    let p = 0;
    const n = b.length;
    while (p < n && (this.state as State) !== 'broken') {
      switch (this.state) {
        case 'preface': {
          const k = Math.min(PREFACE.length, n - p);
          if (b.compare(PREFACE, 0, k, p, p + k) !== 0) { this.fail('no HTTP/2 connection preface'); break; }
          if (k < PREFACE.length) { this.keep(b, p); return; }
          p += k;
          this.state = 'head';
          break;
        }
        case 'head': {
          if (n - p < 9) { this.keep(b, p); return; }
          this.len = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
          this.type = b[p + 3];
          this.flags = b[p + 4];
          this.sid = b.readUInt32BE(p + 5) & 0x7fffffff;
          p += 9;
          if (this.type === DATA) {
            this.sink.dataStart(this.sid, 9 + this.len, ts);
            if (this.flags & PADDED) {
              if (this.len === 0) { this.fail('DATA frame too short for its padding'); break; }
              this.state = 'data-pad';
            } else {
              this.pad = 0;
              this.left = this.len;
              this.state = 'data';
              if (this.left === 0) this.endData(ts);
            }
          } else if (this.len > MAX_CONTROL_FRAME) {
            this.fail(`frame of ${this.len} bytes (type ${this.type})`);
          } else {
            this.state = 'frame';
          }
          break;
        }
        case 'frame': {
          if (n - p < this.len) { this.keep(b, p); return; }
          const s = p;
          p += this.len;
          this.state = 'head';
          this.sink.frame(this.type, this.flags, this.sid, b, s, p, ts);
          break;
        }
        case 'data-pad': {
          this.pad = b[p++];
          if (this.pad > this.len - 1) { this.fail('DATA padding longer than the frame'); break; }
          this.left = this.len - 1 - this.pad;
          this.state = 'data';
          if (this.left === 0) this.endData(ts);
          break;
        }
        case 'data': {
          const k = Math.min(this.left, n - p);
          this.sink.data(this.sid, b, p, p + k);
          p += k;
          this.left -= k;
          if (this.left === 0) this.endData(ts);
          break;
        }
        case 'skip': {
          const k = Math.min(this.left, n - p);
          p += k;
          this.left -= k;
          if (this.left === 0) this.state = 'head';
          break;
        }
      }
    }
    this.buf = NO_BYTES;
  }

  private endData(ts: Timestamp): void {
    this.sink.dataEnd(this.sid, this.flags, ts);
    if (this.pad > 0) {
      this.left = this.pad;
      this.pad = 0;
      this.state = 'skip';
    } else {
      this.state = 'head';
    }
  }

  /** Keeps b[p..] for the next feed (copied: the caller may reuse its buffer). */
  private keep(b: Buffer, p: number): void {
    this.buf = Buffer.from(b.subarray(p));
  }
}
