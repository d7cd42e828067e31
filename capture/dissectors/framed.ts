/**
 * Shared machinery for binary, length-prefixed TCP protocols (Kafka, AMQP 0-9-1, MongoDB):
 * cutting each direction's byte stream into frames, surviving gaps and cuts, and handing out
 * exchanges in the order they started.
 *
 * - A frame's bytes are gathered in a list and joined once, when complete (no concat per
 *   segment: a 50 MB Kafka fetch response would otherwise cost quadratic copying). Frames past
 *   FRAME_KEEP bytes keep only their first FRAME_KEEP bytes; the rest is counted and skipped.
 * - A gap inside a frame of known length is skipped exactly (framing stays aligned); the frame
 *   is handed over as `cut`. A gap elsewhere, or a frame header that makes no sense, drops the
 *   direction into resync: bytes are discarded until a chunk starts with a plausible header
 *   (segments usually start at message boundaries).
 * - A stream that ends inside a frame hands the partial frame over as `cut` too, so the
 *   protocol can emit what it has with a clear error; pending requests then get
 *   `pair-not-found` (or `timeout`). Nothing waits forever.
 */
import type { Direction, DissectorContext, L7Message, TcpStreamParser, Timestamp } from '../types';
import type { ItemError, Protocol } from '../item/schema';

/** Bytes of one frame kept for decoding; the rest of a bigger frame is counted, not kept. */
export const FRAME_KEEP = 4 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** One request/response exchange, emitted in creation order once `done`. */
export interface Exchange {
  request: Record<string, unknown> | null;
  response: Record<string, unknown> | null;
  requestSize: number;
  responseSize: number;
  requestTs: Timestamp;
  responseTs: Timestamp | null;
  /** Ready to leave (complete, or one-way). */
  done: boolean;
  error: ItemError | null;
}

/** A frame as handed to the protocol. */
export interface Frame {
  dir: Direction;
  /** The frame's bytes (its first FRAME_KEEP, or what arrived before a cut). */
  bytes: Buffer;
  /** Its length on the wire. */
  wireLen: number;
  /** Time of its first and last byte. */
  startTs: Timestamp;
  endTs: Timestamp;
  /** Why the frame is incomplete (capture gap, end of stream), or null. */
  cut: string | null;
}

class Side {
  parts: Buffer[] = [];
  have = 0;
  /** Length of the frame being gathered, or -1 while its header is incomplete. */
  need = -1;
  /** Bytes of the current frame still to skip (past FRAME_KEEP, or lost in a gap). */
  skip = 0;
  /** Bytes of the current frame seen (kept or skipped). */
  seen = 0;
  startTs: Timestamp | null = null;
  cut: string | null = null;
  resync = false;
}

export abstract class FramedStream implements TcpStreamParser {
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  private readonly queue: Exchange[] = [];
  private lastPending: Timestamp | null | undefined = undefined;
  protected closed = false;

  constructor(protected readonly ctx: DissectorContext, protected readonly kind: string) {}

  /**
   * Length of the frame starting at b[0] (header included), -1 when more bytes are needed to
   * tell, -2 when b cannot start a frame.
   */
  protected abstract frameLength(b: Buffer, dir: Direction): number;
  /** A frame (complete, or `cut`). */
  protected abstract frame(f: Frame): void;
  /** The protocol for an item (may depend on the exchange). */
  protected abstract protocol(x: Exchange): Protocol;
  /** Empty request/response for a side that was never seen (every field present). */
  protected abstract emptyRequest(): Record<string, unknown>;
  protected abstract emptyResponse(): Record<string, unknown>;
  /** The connection is closing: finish what only the protocol knows is open (e.g. a message body). */
  protected beforeClose(_reason: string): void {}
  /** Whether b plausibly starts a frame, to resync after a gap (defaults to frameLength >= 0). */
  protected plausible(b: Buffer, dir: Direction): boolean {
    return this.frameLength(b, dir) !== -2;
  }

  // ------------------------------------------------------------------ exchanges

  /** Starts an exchange (in stream order). */
  protected open(x: Omit<Exchange, 'done' | 'error' | 'response' | 'responseSize' | 'responseTs'> & Partial<Exchange>): Exchange {
    const e: Exchange = { response: null, responseSize: 0, responseTs: null, done: false, error: null, ...x };
    this.queue.push(e);
    return e;
  }

  /** Exchanges not yet emitted, oldest first. */
  protected get openExchanges(): readonly Exchange[] {
    return this.queue;
  }

  // ------------------------------------------------------------------ TcpStreamParser

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.closed || bytes.length === 0) return;
    try {
      this.feed(this.sides[dir], dir, bytes, ts);
    } catch (e) {
      // A parser bug must not take the capture down: drop this direction's state and resync.
      this.ctx.warn(this.kind, `internal error: ${(e as Error).message}`);
      this.reset(this.sides[dir], true);
    }
    this.flush();
  }

  gap(dir: Direction, length: number, ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.closed) return;
    const s = this.sides[dir];
    const cause = why === 'snaplen' ? "the capture's snap length" : 'a capture gap';
    try {
      if (s.need >= 0 && s.seen + length <= s.need) {
        // The hole lies inside a frame of known length: count it, keep framing aligned.
        s.cut ??= `message cut by ${cause}`;
        s.seen += length;
        s.skip = Math.max(0, s.need - s.seen);
        if (s.seen >= s.need) this.finish(s, dir, ts);
      } else {
        if (s.need !== -1 || s.have > 0) {
          s.cut ??= `message cut by ${cause}`;
          this.finish(s, dir, ts);
        }
        this.ctx.warn(this.kind, `gap of ${length} bytes; resyncing`);
        this.reset(s, true);
      }
    } catch (e) {
      this.ctx.warn(this.kind, `internal error: ${(e as Error).message}`);
      this.reset(s, true);
    }
    this.flush();
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (this.closed) return;
    for (const d of dir === null ? ([0, 1] as Direction[]) : [dir]) {
      const s = this.sides[d];
      if (s.need !== -1 || s.have > 0) {
        const of = s.need >= 0 ? ` (${s.seen} of ${s.need} bytes)` : '';
        s.cut ??= `stream ended (${reason}) inside a message${of}`;
        try {
          this.finish(s, d, ts);
        } catch (e) {
          this.ctx.warn(this.kind, `internal error: ${(e as Error).message}`);
        }
      }
      this.reset(s, false);
    }
    if (dir === null) {
      try {
        this.beforeClose(reason);
      } catch (e) {
        this.ctx.warn(this.kind, `internal error: ${(e as Error).message}`);
      }
      this.closed = true;
      for (const x of this.queue) {
        if (x.done) continue;
        x.done = true;
        if (x.request && !x.response) {
          x.error ??= reason === 'timeout'
            ? { type: 'timeout', msg: 'no response before the connection timed out' }
            : { type: 'pair-not-found', msg: `no response before the connection ended (${reason})` };
        }
      }
    }
    this.flush();
  }

  // ------------------------------------------------------------------ framing

  private feed(s: Side, dir: Direction, bytes: Buffer, ts: Timestamp): void {
    let b = bytes;
    if (s.resync) {
      if (!this.plausible(b, dir)) return;
      s.resync = false;
    }
    while (b.length > 0) {
      if (s.skip > 0) {
        const n = Math.min(s.skip, b.length);
        s.skip -= n;
        s.seen += n;
        b = b.subarray(n);
        if (s.seen >= s.need) {
          this.finish(s, dir, ts);
          if (s.resync) return;
        }
        continue;
      }
      if (s.need < 0) {
        // Header still incomplete: small joins only.
        const head = s.have ? Buffer.concat([...s.parts, b]) : b;
        const n = this.frameLength(head, dir);
        if (n === -1) {
          s.startTs ??= ts;
          s.parts = [Buffer.from(head)];
          s.have = head.length;
          return;
        }
        if (n < 0) {
          this.ctx.warn(this.kind, 'malformed frame header; resyncing');
          s.cut = 'malformed frame header';
          if (s.have) this.finish(s, dir, ts);
          this.reset(s, true);
          return;
        }
        s.startTs ??= ts;
        s.need = n;
        s.parts = [];
        s.have = 0;
        s.seen = 0;
        // Re-gather from the joined head (it holds the earlier parts and this chunk).
        b = head;
      }
      const want = Math.min(s.need, FRAME_KEEP) - s.have;
      if (want > 0) {
        const n = Math.min(want, b.length);
        s.parts.push(n === b.length ? b : b.subarray(0, n));
        s.have += n;
        s.seen += n;
        b = b.subarray(n);
        if (s.have < Math.min(s.need, FRAME_KEEP)) {
          // The caller may reuse its buffer: keep copies of what waits.
          s.parts[s.parts.length - 1] = Buffer.from(s.parts[s.parts.length - 1]);
          return;
        }
      }
      if (s.seen < s.need) {
        s.skip = s.need - s.seen;
        continue;
      }
      this.finish(s, dir, ts);
      // The protocol found the frame broken (lose()): what follows is not aligned.
      if (s.resync) return;
    }
  }

  /** The frame just handed over was broken (e.g. a bad frame-end octet): resync this direction. */
  protected lose(dir: Direction, why: string): void {
    this.ctx.warn(this.kind, `${why}; resyncing`);
    this.reset(this.sides[dir], true);
  }

  /** Hands the current frame over (complete or cut) and starts a new one. */
  private finish(s: Side, dir: Direction, ts: Timestamp): void {
    const bytes = s.parts.length === 0 ? EMPTY : s.parts.length === 1 ? s.parts[0] : Buffer.concat(s.parts);
    const f: Frame = { dir, bytes, wireLen: s.need >= 0 ? s.need : s.have, startTs: s.startTs ?? ts, endTs: ts, cut: s.cut };
    s.parts = [];
    s.have = 0;
    s.need = -1;
    s.skip = 0;
    s.seen = 0;
    s.startTs = null;
    s.cut = null;
    this.frame(f);
  }

  private reset(s: Side, resync: boolean): void {
    s.parts = [];
    s.have = 0;
    s.need = -1;
    s.skip = 0;
    s.seen = 0;
    s.startTs = null;
    s.cut = null;
    s.resync = resync;
  }

  // ------------------------------------------------------------------ emitting

  private flush(): void {
    const q = this.queue;
    let i = 0;
    while (i < q.length && q[i].done) {
      this.emit(q[i]);
      i++;
    }
    if (i > 0) q.splice(0, i);
    this.updatePending();
  }

  private emit(x: Exchange): void {
    let error = x.error;
    if (!error && !x.request) error = { type: 'pair-not-found', msg: 'response without a request (capture started mid-stream or the request was lost)' };
    const msg: L7Message = {
      protocol: this.protocol(x),
      request: x.request ?? this.emptyRequest(),
      response: x.response ?? this.emptyResponse(),
      requestSize: x.request ? x.requestSize : 0,
      responseSize: x.responseSize,
      requestTs: x.requestTs,
      responseTs: x.responseTs,
      error,
    };
    this.ctx.emit(msg);
  }

  private updatePending(): void {
    let ts: Timestamp | null = this.queue.length ? this.queue[0].requestTs : this.sides[0].startTs;
    if (ts === undefined) ts = null;
    const last = this.lastPending;
    if (last !== undefined && (last === ts || (last && ts && last.sec === ts.sec && last.nsec === ts.nsec))) return;
    this.lastPending = ts;
    this.ctx.pending(ts);
  }
}

/** Printable ASCII (space..~) over b[s..e). */
export function printable(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i] < 0x20 || b[i] > 0x7e) return false;
  return true;
}

/** Bytes as base64, at most `cap` of them (the item's preview cap). */
export function base64Capped(b: Buffer, cap: number): string {
  return (b.length > cap ? b.subarray(0, cap) : b).toString('base64');
}
