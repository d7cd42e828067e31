/** One direction of an HTTP/1 connection: its parse state and buffered bytes. */
import type { Direction, Timestamp } from '../types';
import type { Pending } from './http-exchanges';
import type { Message } from './http-item';
import { httpWork } from './http-limits';
import { CR, HeadMemo, LF } from './http-wire';

const NO_BYTES = Buffer.alloc(0);

export type State =
  | 'resync'      // looking for a start line at a line boundary
  | 'head'        // collecting a head
  | 'body-len'    // `remaining` body bytes to go
  | 'chunk-size'  // expecting a chunk-size line
  | 'chunk-data'  // `remaining` chunk bytes to go
  | 'chunk-crlf'  // expecting the CRLF after chunk data
  | 'trailers'    // trailer lines until an empty line
  | 'body-close'  // body runs until the connection closes
  | 'hold'        // client sent Upgrade/CONNECT: wait for the server's verdict
  | 'tunnel';     // not HTTP any more (101, CONNECT 2xx): handed off or ignored

/** Bytes received while holding, with their arrival time (replayed, or handed to an upgrade). */
export interface HeldChunk { bytes: Buffer; ts: Timestamp }

export class Side {
  state: State = 'resync';
  buf: Buffer = Buffer.alloc(0);
  /** buf[0] is at a line start (false after we dropped a partial line). */
  atLineStart = true;
  remaining = 0;
  msg: Message | null = null;
  held: HeldChunk[] = [];
  heldBytes = 0;
  /** Message start time while a head is being collected (for `pending`). */
  headTs: Timestamp | null = null;
  headBytes = 0;
  /** The last header block on this side and its parse (most heads repeat it). */
  readonly memo = new HeadMemo();
  /** The exchange the current message belongs to. */
  pend: Pending | null = null;
  /** Trailer bytes of the current message (MAX_TRAILERS). */
  trailerBytes = 0;
  /**
   * A head found incomplete waits for more bytes: `scanned` bytes from its start are known not
   * to hold its end, and `lineStart` is where the last incomplete line starts (both relative to
   * the head's start, which stays at buf[0]). Each segment is then scanned once, and the head
   * parsed once when complete (a 63 KB head in 1-byte segments was re-parsed on each: 12 s).
   */
  headWaits = false;
  scanned = 0;
  lineStart = 0;
  /**
   * Owned storage that `buf` is a view of when it holds bytes kept between segments; grown by
   * doubling, so appending to a pending head costs the new bytes only (it was a copy of the
   * whole pending head per segment).
   */
  private store: Buffer | null = null;
  constructor(readonly dir: Direction) {}

  /** buf (non-empty) + bytes, in owned storage. */
  append(bytes: Buffer): Buffer {
    const n = this.buf.length;
    const need = n + bytes.length;
    const st = this.store;
    const at = st !== null && this.buf.buffer === st.buffer ? this.buf.byteOffset - st.byteOffset : -1;
    if (at >= 0 && at + need <= st!.length) {
      bytes.copy(st!, at + n);
      httpWork.bytesBuffered += bytes.length;
      this.buf = st!.subarray(at, at + need);
    } else {
      // Its own ArrayBuffer (not the shared pool), so `buffer ===` tells ours from the caller's.
      const ns = Buffer.allocUnsafeSlow(Math.max(need * 2, 1024));
      this.buf.copy(ns, 0);
      bytes.copy(ns, n);
      httpWork.bytesBuffered += need;
      this.store = ns;
      this.buf = ns.subarray(0, need);
    }
    return this.buf;
  }

  /** Keeps `tail` (a view of what run() parsed) as buf: as is when it is in our storage, else copied (the caller may reuse its buffer). */
  keep(tail: Buffer): void {
    if (tail.length === 0) { this.clear(); return; }
    const st = this.store;
    if (st !== null && tail.buffer === st.buffer) { this.buf = tail; return; }
    const ns = st !== null && st.length >= tail.length && this.buf.buffer !== st.buffer ? st : Buffer.allocUnsafeSlow(Math.max(tail.length * 2, 1024));
    tail.copy(ns, 0);
    httpWork.bytesBuffered += tail.length;
    this.store = ns;
    this.buf = ns.subarray(0, tail.length);
  }

  /** Drops the pending bytes and their storage. */
  clear(): void {
    this.buf = NO_BYTES;
    this.store = null;
    this.headWaits = false;
  }
}

/**
 * Whether the head starting at b[pos] is complete (its blank line is in b), resuming the scan of
 * an earlier call (side.scanned / side.lineStart): the same test as headEnd(b, pos) >= 0.
 */
export function headComplete(side: Side, b: Buffer, pos: number): boolean {
  let ls = pos + side.lineStart;
  let p = pos + side.scanned;
  for (;;) {
    const nl = b.indexOf(LF, p);
    if (nl < 0) {
      side.scanned = b.length - pos;
      side.lineStart = ls - pos;
      return false;
    }
    if (nl === ls || (nl === ls + 1 && b[ls] === CR)) return true;
    ls = nl + 1;
    p = nl + 1;
  }
}

/** Offset after the blank line (CRLF or bare LF) that ends the head starting at b[pos], or -1. */
export function headEnd(b: Buffer, pos: number): number {
  let p = pos;
  for (;;) {
    const nl = b.indexOf(LF, p);
    if (nl < 0) return -1;
    if (nl === p || (nl === p + 1 && b[p] === CR)) return nl + 1;
    p = nl + 1;
  }
}
