/**
 * The HTTP/1 state machine for one connection: start lines, heads, body framing (length,
 * chunked, until close), gaps, and the Upgrade/CONNECT hold. Complete messages go to the
 * pairing queue (http-exchanges.ts); a switch of protocols is reported in `switched` for
 * http.ts to hand the connection off (upgrades.ts). Bounds: http-limits.ts.
 */
import type { Direction, DissectorContext, Timestamp } from '../types';
import { BodyCollector, settleBorrowed } from './http-body';
import { Exchanges } from './http-exchanges';
import type { Message } from './http-item';
import { MAX_CHUNK_LINE, MAX_HEAD, MAX_HELD, MAX_START_LINE } from './http-limits';
import { Side, headEnd, type State } from './http-side';
import { CR, LF, addHeaderLines, readHead, parseChunkSize, parseLength, parseRequestLine, parseStatusLine, type Head, type ReqLine, type StatusLine } from './http-wire';

/**
 * The body of every message without one (most requests): shared, frozen so that a stray add()
 * would throw (caught as an internal error) instead of corrupting it. One allocation fewer per
 * message.
 */
const NO_BODY: BodyCollector = new BodyCollector(0);
Object.freeze(NO_BODY);
/** Shared empty tail (zero length, so nothing can write to it): one fewer Buffer per segment. */
const NO_BYTES = Buffer.alloc(0);

/** The exchange that switched the connection to another protocol (101, or 2xx to CONNECT). */
export interface Switch {
  req: Message | null;
  res: Message;
  method: string;
}

/** Connection bytes not parsed as HTTP at the switch, in the order they were captured. */
export interface TunnelBytes { dir: Direction; bytes: Buffer; ts: Timestamp }

export class HttpParser {
  readonly sides: [Side, Side] = [new Side(0), new Side(1)];
  readonly exchanges: Exchanges;
  /** Set when the server switched protocols; http.ts takes it (and the tunnel bytes) and clears it. */
  switched: Switch | null = null;
  private closed = false;

  constructor(private readonly ctx: DissectorContext) {
    this.exchanges = new Exchanges(ctx);
  }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.closed || bytes.length === 0) return;
    const side = this.sides[dir];
    if (side.state === 'tunnel') return;
    if (side.state === 'hold') { this.hold(side, bytes, ts); return; }
    side.buf = side.buf.length === 0 ? bytes : Buffer.concat([side.buf, bytes]);
    try {
      this.run(side, ts);
    } catch (e) {
      // A parser bug must not take the capture down: drop this stream's state and resync.
      this.ctx.warn('http', `internal error: ${(e as Error).message}`);
      side.state = 'resync';
      side.buf = Buffer.alloc(0);
      side.msg = null;
    } finally {
      // No body may keep a view of `bytes` past this call.
      settleBorrowed();
    }
    this.updatePending();
  }

  gap(dir: Direction, length: number, ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.closed) return;
    const side = this.sides[dir];
    const st = side.state;
    if (st === 'tunnel') return;
    if ((st === 'body-len' || st === 'chunk-data') && side.buf.length === 0 && length <= side.remaining && side.msg) {
      // The hole is inside a body of known length: count it and carry on.
      side.msg.body.lost(length);
      side.msg.wireBytes += length;
      side.msg.problem ??= why === 'snaplen' ? 'body bytes cut by the capture\'s snap length' : 'body bytes missing (capture gap)';
      side.remaining -= length;
      if (side.remaining === 0) {
        if (st === 'body-len') this.finishMessage(side, ts);
        else side.state = 'chunk-crlf';
      }
    } else if (st === 'body-close' && side.msg) {
      side.msg.body.lost(length);
      side.msg.wireBytes += length;
      side.msg.problem ??= why === 'snaplen' ? 'body bytes cut by the capture\'s snap length' : 'body bytes missing (capture gap)';
    } else {
      // One warning kind for snap-length cuts: a truncated capture has one per packet.
      if (why === 'snaplen') this.ctx.warn('http', `${st === 'head' ? 'head' : 'message'} cut by the capture's snap length`);
      else this.ctx.warn('http', `gap of ${length} bytes in ${dir === 0 ? 'requests' : 'responses'}`);
      const cause = why === 'snaplen' ? "the capture's snap length" : 'a capture gap';
      // (Responses only for snap-length cuts: a lost segment keeps the behaviour tests pin down.)
      if (st === 'head' && (dir === 0 || why === 'snaplen')) this.partialHead(side, ts, cause);
      if (side.msg) this.abandon(side, `message cut by ${cause}`);
      side.state = 'resync';
      side.buf = Buffer.alloc(0);
      // Lost segments usually end at message boundaries, so try the first line after the hole.
      side.atLineStart = true;
      side.headTs = null;
    }
    this.updatePending();
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (this.closed) return;
    const sides = dir === null ? this.sides : [this.sides[dir]];
    for (const side of sides) {
      if (side.state === 'body-close' && side.msg) {
        this.finishMessage(side, ts);
      } else if (side.msg) {
        this.abandon(side, `stream ended (${reason}) inside a message`);
      }
      if (side.state !== 'tunnel') side.state = 'resync';
      side.buf = Buffer.alloc(0);
      side.headTs = null;
    }
    if (dir === null) {
      this.closed = true;
      this.exchanges.close(reason);
    }
    this.updatePending();
  }

  /**
   * After a switch: the bytes not parsed as HTTP, in capture order (the client's held bytes, any
   * unparsed client tail, then the server's bytes after the switching head). Clears them.
   */
  takeTunnelBytes(ts: Timestamp): TunnelBytes[] {
    const [c, s] = this.sides;
    const out: TunnelBytes[] = [];
    for (const h of c.held) out.push({ dir: 0, bytes: h.bytes, ts: h.ts });
    if (c.buf.length) out.push({ dir: 0, bytes: c.buf, ts });
    if (s.buf.length) out.push({ dir: 1, bytes: s.buf, ts });
    for (const side of this.sides) {
      side.held = [];
      side.heldBytes = 0;
      side.buf = NO_BYTES;
    }
    return out;
  }

  // ------------------------------------------------------------------ parsing

  private run(side: Side, ts: Timestamp): void {
    const b = side.buf;
    let pos = 0;
    for (;;) {
      if (pos >= b.length) break;
      const st = side.state;
      if (st === 'resync') {
        const found = this.resync(side, b, pos);
        if (found < 0) { pos = -1 - found; break; }
        pos = found;
        side.state = 'head';
        side.headTs = ts;
        continue;
      }
      if (st === 'head') {
        if (side.headTs === null) side.headTs = ts;
        const r = this.parseHead(side, b, pos, ts);
        if (r < 0) break; // need more bytes
        pos = r;
        continue;
      }
      if (st === 'body-len' || st === 'chunk-data') {
        const msg = side.msg!;
        const n = Math.min(side.remaining, b.length - pos);
        msg.body.add(b, pos, pos + n);
        msg.wireBytes += n;
        side.remaining -= n;
        pos += n;
        if (side.remaining === 0) {
          if (st === 'body-len') this.finishMessage(side, ts);
          else side.state = 'chunk-crlf';
        }
        continue;
      }
      if (st === 'body-close') {
        side.msg!.body.add(b, pos, b.length);
        side.msg!.wireBytes += b.length - pos;
        pos = b.length;
        break;
      }
      if (st === 'chunk-crlf') {
        const msg = side.msg!;
        if (b[pos] === CR) {
          if (pos + 1 >= b.length) break;
          if (b[pos + 1] !== LF) { this.malformed(side, 'bad chunk terminator'); continue; }
          pos += 2; msg.wireBytes += 2;
        } else if (b[pos] === LF) {
          pos += 1; msg.wireBytes += 1;
        } else { this.malformed(side, 'bad chunk terminator'); continue; }
        side.state = 'chunk-size';
        continue;
      }
      if (st === 'chunk-size' || st === 'trailers') {
        const nl = b.indexOf(LF, pos);
        if (nl < 0) {
          if (b.length - pos > MAX_CHUNK_LINE) this.malformed(side, 'chunk line too long');
          break;
        }
        const lineEnd = nl > pos && b[nl - 1] === CR ? nl - 1 : nl;
        const msg = side.msg!;
        msg.wireBytes += nl + 1 - pos;
        if (st === 'chunk-size') {
          const size = parseChunkSize(b, pos, lineEnd);
          pos = nl + 1;
          if (size < 0) { this.malformed(side, 'bad chunk size'); continue; }
          if (size === 0) side.state = 'trailers';
          else { side.remaining = size; side.state = 'chunk-data'; }
        } else {
          if (lineEnd === pos) {
            pos = nl + 1;
            this.finishMessage(side, ts);
          } else {
            addHeaderLines(msg.head, b.toString('latin1', pos, lineEnd));
            pos = nl + 1;
          }
        }
        continue;
      }
      if (st === 'hold') {
        // The client is waiting for an Upgrade/CONNECT verdict: keep the rest for later.
        this.hold(side, b.subarray(pos), ts);
        pos = b.length;
        break;
      }
      // 'tunnel': the rest is not HTTP; it stays in side.buf for the hand-off (http.ts).
      break;
    }
    // Keep the unconsumed tail (copied: the caller may reuse its buffer).
    side.buf = pos >= b.length ? NO_BYTES : Buffer.from(b.subarray(pos));
  }

  /** Finds the next start line at a line boundary: its offset, or `-1 - keepFrom` when none yet. */
  private resync(side: Side, b: Buffer, pos: number): number {
    let p = pos;
    if (!side.atLineStart) {
      const nl = b.indexOf(LF, p);
      if (nl < 0) return -1 - b.length;
      p = nl + 1;
      side.atLineStart = true;
    }
    for (;;) {
      if (p >= b.length) return -1 - b.length;
      const nl = b.indexOf(LF, p);
      if (nl < 0) {
        // An incomplete line: keep it only while it could still become a start line.
        if (b.length - p > MAX_START_LINE) { side.atLineStart = false; return -1 - b.length; }
        return -1 - p;
      }
      const e = nl > p && b[nl - 1] === CR ? nl - 1 : nl;
      if (side.dir === 0 ? parseRequestLine(b, p, e) : parseStatusLine(b, p, e)) return p;
      p = nl + 1;
    }
  }

  /** Parses a complete head at b[pos..]; returns the offset after it, or -1 when incomplete. */
  private parseHead(side: Side, b: Buffer, pos: number, ts: Timestamp): number {
    // Start line first, then the header lines in one pass that also finds the blank line ending
    // the head (measured: ~2x faster than an indexOf per line + one toString per head). An
    // incomplete head is parsed again when more bytes come; its partial Head is dropped.
    let nl0 = pos;
    const n = b.length;
    while (nl0 < n && b[nl0] !== LF) nl0++;
    const line = nl0 >= n ? null
      : side.dir === 0 ? parseRequestLine(b, pos, nl0 > pos && b[nl0 - 1] === CR ? nl0 - 1 : nl0)
        : parseStatusLine(b, pos, nl0 > pos && b[nl0 - 1] === CR ? nl0 - 1 : nl0);
    let end = -1;
    let head: Head | null = null;
    if (line) {
      head = readHead(line, b, nl0 + 1, side.memo);
      if (head) end = side.memo.end;
    } else {
      end = headEnd(b, pos);
    }
    if (end < 0) {
      if (b.length - pos > MAX_HEAD) { this.malformed(side, 'head too large'); return b.length; }
      return -1;
    }
    if (!head) {
      this.malformed(side, side.dir === 0 ? 'malformed request line' : 'malformed status line');
      side.atLineStart = true; // the next line may be the next message
      return nl0 + 1;
    }
    const msg: Message = { head, startTs: side.headTs ?? ts, endTs: null, wireBytes: end - pos, body: NO_BODY, problem: null };
    side.msg = msg;
    side.headTs = null;
    if (side.dir === 0) this.startRequest(side, msg);
    else this.startResponse(side, msg, ts);
    return end;
  }

  /**
   * A gap cut a head short: keep the start line and complete header lines as an item (flagged).
   * A request stays queued so the response that follows still pairs with it; a response
   * answers the oldest unanswered request.
   */
  private partialHead(side: Side, ts: Timestamp, cause: string): void {
    const b = side.buf;
    const nl0 = b.indexOf(LF);
    if (nl0 < 0) return;
    const e = nl0 > 0 && b[nl0 - 1] === CR ? nl0 - 1 : nl0;
    const line = side.dir === 0 ? parseRequestLine(b, 0, e) : parseStatusLine(b, 0, e);
    if (!line) return;
    const head: Head = { line, headers: {}, setCookies: [] };
    const lastNl = b.lastIndexOf(LF);
    if (lastNl > nl0) addHeaderLines(head, b.toString('latin1', nl0 + 1, lastNl + 1));
    const msg: Message = { head, startTs: side.headTs ?? ts, endTs: ts, wireBytes: b.length, body: NO_BODY, problem: `${side.dir === 0 ? 'request' : 'response'} head cut by ${cause}` };
    if (side.dir === 0) {
      this.exchanges.push({ req: msg, res: null, reqDone: true, resDone: false, interimBytes: 0 });
      return;
    }
    const st = (line as StatusLine).status;
    if (st >= 100 && st < 200) return; // an interim response is not the answer
    const p = this.exchanges.unanswered() ?? this.exchanges.push({ req: null, res: null, reqDone: true, resDone: false, interimBytes: 0 });
    p.res = msg;
    p.resDone = true;
    this.exchanges.flush();
  }

  private startRequest(side: Side, msg: Message): void {
    this.exchanges.push({ req: msg, res: null, reqDone: false, resDone: false, interimBytes: 0 });
    if (!this.frameBody(side, msg, 'head')) return;
    if (side.state === 'head') this.finishMessage(side, msg.startTs);
  }

  /** Body state from the framing headers; `otherwise` when there are none. False when malformed. */
  private frameBody(side: Side, msg: Message, otherwise: State): boolean {
    const te = msg.head.headers['Transfer-Encoding'];
    const cl = msg.head.headers['Content-Length'];
    if (te !== undefined && /chunked\s*$/i.test(te)) side.state = 'chunk-size';
    else if (cl !== undefined) {
      const n = parseLength(cl);
      if (n < 0) { this.malformed(side, 'bad Content-Length'); return false; }
      side.remaining = n;
      side.state = n > 0 ? 'body-len' : 'head';
    } else side.state = otherwise;
    // Every body state is entered here: only then does the message get its own collector.
    // Lean runs (DissectorContext.lean) count bodies but keep no preview.
    if (side.state !== 'head') msg.body = new BodyCollector(this.ctx.lean ? 0 : this.ctx.bodyCap);
    return true;
  }

  private startResponse(side: Side, msg: Message, ts: Timestamp): void {
    const st = (msg.head.line as StatusLine).status;
    let p = this.exchanges.unanswered();
    const answersLast = p !== undefined && p === this.exchanges.last;
    if (st >= 100 && st < 200 && st !== 101) {
      // Interim (100 Continue, 103 Early Hints): not the answer; count its bytes, keep going.
      if (p) p.interimBytes += msg.wireBytes;
      side.msg = null;
      side.state = 'head';
      return;
    }
    if (!p) {
      // A response with no request seen (capture started mid-stream, or lost request).
      p = this.exchanges.push({ req: null, res: null, reqDone: true, resDone: false, interimBytes: 0 });
    }
    p.res = msg;
    const method = p.req ? (p.req.head.line as ReqLine).method : '';
    if (st === 101 || (method === 'CONNECT' && st >= 200 && st < 300)) {
      this.finishMessage(side, ts);
      this.switched = { req: p.req, res: msg, method };
      this.tunnel();
      return;
    }
    if (method === 'HEAD' || st === 204 || st === 304) side.state = 'head';
    else if (!this.frameBody(side, msg, 'body-close')) return;
    if (side.state === 'head') this.finishMessage(side, ts);
    // A client that asked to upgrade waits for this verdict; no upgrade happened.
    const client = this.sides[0];
    if (client.state === 'hold' && answersLast) this.release(client, ts);
  }

  /** The current message on `side` is complete. */
  private finishMessage(side: Side, ts: Timestamp): void {
    const msg = side.msg;
    side.msg = null;
    side.state = 'head';
    side.remaining = 0;
    if (!msg) return;
    msg.endTs = ts;
    if (side.dir === 0) {
      const h = msg.head.headers;
      const upgrade = h['Upgrade'] !== undefined && /upgrade/i.test(h['Connection'] ?? '');
      if ((msg.head.line as ReqLine).method === 'CONNECT' || upgrade) side.state = 'hold';
    }
    this.exchanges.done(msg);
  }

  /** The message on `side` cannot complete: keep what we have and mark it. */
  private abandon(side: Side, why: string): void {
    const msg = side.msg;
    side.msg = null;
    if (!msg) return;
    msg.problem ??= why;
    this.exchanges.done(msg);
  }

  private malformed(side: Side, why: string): void {
    this.ctx.warn('http', why);
    if (side.msg) this.abandon(side, why);
    side.state = 'resync';
    side.atLineStart = false;
    side.headTs = null;
  }

  private hold(side: Side, bytes: Buffer, ts: Timestamp): void {
    if (side.heldBytes + bytes.length > MAX_HELD) return; // a tunnel is likely; drop the excess
    side.held.push({ bytes: Buffer.from(bytes), ts });
    side.heldBytes += bytes.length;
  }

  private release(side: Side, ts: Timestamp): void {
    const held = Buffer.concat(side.held.map((h) => h.bytes));
    side.held = [];
    side.heldBytes = 0;
    side.state = 'head';
    if (held.length) {
      side.buf = side.buf.length ? Buffer.concat([side.buf, held]) : held;
      this.run(side, ts);
    }
  }

  /** Both sides stop parsing HTTP; held and buffered bytes stay for takeTunnelBytes(). */
  private tunnel(): void {
    for (const s of this.sides) {
      s.state = 'tunnel';
      s.msg = null;
    }
  }

  private updatePending(): void {
    this.exchanges.updatePending(this.sides[0].headTs);
  }
}
