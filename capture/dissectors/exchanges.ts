/**
 * The request-ordered exchange queue the database dissectors (Redis, PostgreSQL, MySQL) share:
 * entries are queued when their request starts, filled in as the response arrives, and leave
 * (ctx.emit) strictly in queue order once done; the oldest unfinished entry's request time is
 * reported with ctx.pending. `drop` entries leave silently (e.g. a PostgreSQL Parse/Sync batch
 * that executed nothing and failed nothing).
 */
import type { DissectorContext, L7Message, Timestamp } from '../types';
import type { ItemError, Protocol } from '../item/schema';

export interface Exchange<Req, Res> {
  request: Req;
  response: Res;
  requestSize: number;
  responseSize: number;
  requestTs: Timestamp;
  responseTs: Timestamp | null;
  error: ItemError | null;
  done: boolean;
  drop: boolean;
  /** Some of the response arrived (decides between "no response" and "cut mid-response" at the end). */
  answered: boolean;
}

export class ExchangeQueue<Req extends object, Res extends object> {
  private q: Exchange<Req, Res>[] = [];
  private head = 0;
  private lastPending: Timestamp | null | undefined = undefined;

  constructor(private readonly ctx: DissectorContext, private readonly protocol: Protocol) {}

  add(request: Req, response: Res, ts: Timestamp, size = 0): Exchange<Req, Res> {
    const e: Exchange<Req, Res> = { request, response, requestSize: size, responseSize: 0, requestTs: ts, responseTs: null, error: null, done: false, drop: false, answered: false };
    this.q.push(e);
    return e;
  }

  /** A request the stream ended inside of: an entry of what arrived, done, with the error `msg`. */
  addCut(request: Req, response: Res, ts: Timestamp, size: number, msg: string): Exchange<Req, Res> {
    const e = this.add(request, response, ts, size);
    e.error = { type: 'dissection', msg };
    e.done = true;
    return e;
  }

  /** Unfinished entries, oldest first. */
  *open(): IterableIterator<Exchange<Req, Res>> {
    for (let i = this.head; i < this.q.length; i++) if (!this.q[i].done) yield this.q[i];
  }

  /**
   * Ends every unfinished entry: those with part of a response get `cut` (a dissection error),
   * the others "no response" (pair-not-found, or timeout when the stream timed out).
   */
  endAll(reason: string, cut: string | null): void {
    for (const e of this.open()) {
      e.done = true;
      if (e.error) continue;
      if (e.answered) e.error = { type: 'dissection', msg: cut ?? `response cut: the ${reason === 'eof' ? 'capture' : 'connection'} ended mid-response (${reason})` };
      else if (reason === 'timeout') e.error = { type: 'timeout', msg: 'no response before the stream timed out' };
      else e.error = { type: 'pair-not-found', msg: `no response before the ${reason === 'eof' ? 'capture' : 'connection'} ended (${reason})` };
    }
    this.flush();
  }

  /**
   * The stream cannot be read any further (bytes that are not the protocol, a capture gap with
   * no markers to resync on): every unfinished entry ends with `why`.
   */
  failAll(why: string): void {
    for (const e of this.open()) if (!e.error) e.error = { type: 'dissection', msg: why };
    this.endAll('fin', why);
  }

  /** Emits the done entries at the head, then reports the oldest open request time. */
  flush(): void {
    const q = this.q;
    let h = this.head;
    while (h < q.length && q[h].done) {
      const e = q[h++];
      if (e.drop) continue;
      const msg: L7Message = {
        protocol: this.protocol,
        request: e.request as Record<string, unknown>,
        response: e.response as Record<string, unknown>,
        requestSize: e.requestSize,
        responseSize: e.responseSize,
        requestTs: e.requestTs,
        responseTs: e.responseTs,
        error: e.error,
      };
      this.ctx.emit(msg);
    }
    if (h === q.length) {
      q.length = 0;
      h = 0;
    } else if (h >= 256) {
      q.splice(0, h);
      h = 0;
    }
    this.head = h;
    const ts = h < q.length ? q[h].requestTs : null;
    const last = this.lastPending;
    if (last !== undefined && (last === ts || (last && ts && last.sec === ts.sec && last.nsec === ts.nsec))) return;
    this.lastPending = ts;
    this.ctx.pending(ts);
  }
}

/**
 * Length-framed byte reader for one direction: bytes are appended as they arrive and a frame is
 * made contiguous only once all of it is there. The first chunk of a data() call is only viewed
 * (most messages lie inside one segment); later chunks are copied once as they queue, and
 * settle() copies the unread rest of a viewed chunk, so every byte is copied at most twice.
 */
export class ByteQueue {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private borrowed = false;
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Bytes of an oversized message still to skip as they arrive (counted, never kept). */
  private owed = 0;

  get length(): number {
    return this.buf.length - this.pos + this.partsLen;
  }

  /** Bytes of a message begun and not finished: those queued plus those still owed. */
  get unfinished(): number {
    return this.length + this.owed;
  }

  /** Skips n bytes: those at hand now, the rest as they arrive (see payOwed). */
  drop(n: number): void {
    const now = Math.min(n, this.length);
    this.skip(now);
    this.owed += n - now;
  }

  /** Skips what is owed from the bytes at hand; true once nothing is owed. */
  payOwed(): boolean {
    if (this.owed === 0) return true;
    const n = Math.min(this.owed, this.length);
    this.skip(n);
    this.owed -= n;
    return this.owed === 0;
  }

  push(b: Buffer): void {
    if (b.length === 0) return;
    if (this.buf.length - this.pos === 0 && this.partsLen === 0) {
      this.buf = b;
      this.pos = 0;
      this.borrowed = true;
    } else {
      this.parts.push(Buffer.from(b));
      this.partsLen += b.length;
    }
  }

  /** Makes the first n bytes contiguous (n <= length) and returns [buffer, offset]. */
  peek(n: number): [Buffer, number] {
    if (this.buf.length - this.pos < n) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.parts]);
      this.pos = 0;
      this.borrowed = false;
      this.parts = [];
      this.partsLen = 0;
    }
    return [this.buf, this.pos];
  }

  skip(n: number): void {
    let left = n;
    const inBuf = this.buf.length - this.pos;
    if (left <= inBuf) {
      this.pos += left;
      return;
    }
    left -= inBuf;
    this.buf = EMPTY;
    this.pos = 0;
    this.borrowed = false;
    while (left > 0 && this.parts.length) {
      const p = this.parts.shift()!;
      this.partsLen -= p.length;
      if (p.length > left) {
        this.buf = p;
        this.pos = left;
        left = 0;
      } else left -= p.length;
    }
  }

  /** Call before data() returns: the caller may reuse the buffer it passed. */
  settle(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    this.buf = this.buf.length - this.pos === 0 ? EMPTY : Buffer.from(this.buf.subarray(this.pos));
    this.pos = 0;
  }

  clear(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.borrowed = false;
    this.parts = [];
    this.partsLen = 0;
    this.owed = 0;
  }
}

export const EMPTY = Buffer.alloc(0);

/** At most this many bytes of one message are kept (the rest is counted and skipped). */
export const MAX_KEEP = 1 << 20;

/** Text for items: UTF-8, cut to `cap` characters with an ellipsis. */
export function clip(s: string, cap: number): string {
  return s.length > cap ? s.slice(0, cap) + '…' : s;
}
