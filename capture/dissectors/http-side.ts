/** One direction of an HTTP/1 connection: its parse state and buffered bytes. */
import type { Direction, Timestamp } from '../types';
import type { Message } from './http-item';
import { CR, HeadMemo, LF } from './http-wire';

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
  constructor(readonly dir: Direction) {}
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
