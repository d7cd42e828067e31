/**
 * DNS over UDP and TCP (RFC 7766 length-prefixed messages). Queries and responses pair by
 * transaction id within the flow; items carry both, so elapsedTime is real (Kubeshark's 2023
 * worker built items from the response alone).
 */
import type { Direction, Dissector, DissectorContext, L7Message, TcpStreamParser, Timestamp, UdpFlowParser } from '../types';
import type { DnsRequest, DnsResponse, ItemError, Protocol } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { decodeMessage, decodeMessageLean, DnsWireError, looksLikeDns, opcodeName, rcodeName, type DnsMessage } from './dns-wire';

const DNS_PORTS = new Set([53, 5353]);

/** An unanswered query is given up after this long (Kubeshark's L4 stream timeout). */
const QUERY_TIMEOUT_S = 10;

/** DnsMatcher.open: id buckets (4 KiB per flow), allocated past OPEN_AFTER queued entries. */
const OPEN_MASK = 1023;
const OPEN_AFTER = 16;

interface Entry {
  id: number;
  /**
   * The messages, for the item. In lean runs q and r are only "seen" marks (they hold
   * decodeMessageLean's shared object): pairing reads qName/qType, copied here.
   */
  q: DnsMessage | null;
  /** The query's first question (DnsMessage.qName/qType), what sameQuestion compares. */
  qName: string | null;
  qType: number;
  qSize: number;
  qTs: Timestamp;
  r: DnsMessage | null;
  rSize: number;
  rTs: Timestamp | null;
  done: boolean;
  error: ItemError | null;
}

/** First questions equal (names case-insensitively), or one message without a question. */
const sameQuestion = (a: Entry, b: DnsMessage): boolean => {
  const x = a.qName, y = b.qName;
  if (x === null || y === null) return true;
  // Type numbers: typeName is one-to-one, so this is the comparison of the type names it replaced.
  if (a.qType !== b.qType) return false;
  // The same string (interned by dns-wire's name cache) needs no lower-casing.
  return x === y || x.toLowerCase() === y.toLowerCase();
};

/**
 * Pairs queries with responses and emits items in query order. Shared by UDP and TCP.
 * `entries` is a queue read from `head` (emitted slots are dropped in bulk, not shifted one at a
 * time): with ~50 queries in flight on one flow, shift() per emitted item and the closures of
 * some()/find() were most of this class's time (flush 59 ms of a 1 s profile).
 */
class DnsMatcher {
  private entries: Entry[] = [];
  private head = 0;
  private lastPending: Timestamp | null | undefined = undefined;
  /** A lower bound of the entries' qTs.sec: expire() skips its scan while nothing can be due. */
  private oldestSec = Infinity;
  /**
   * Open queries (q set, no r) in the queue, counted by id bucket, once the queue has been long:
   * a bucket at 0 skips the scans for a retransmission or a query to answer. With ~50 queries
   * in flight the retransmission scan (over all of them, for each new query) was ~10% of DNS time.
   */
  private open: Int32Array | null = null;

  constructor(private readonly ctx: DissectorContext, private readonly protocol: Protocol) {}

  message(raw: Buffer, ts: Timestamp): void {
    let m: DnsMessage;
    try {
      // Lean runs: same checks and errors, but no records or names beyond the first question.
      m = this.ctx.lean ? decodeMessageLean(raw) : decodeMessage(raw);
    } catch (e) {
      if (!(e instanceof DnsWireError)) throw e;
      this.ctx.warn('dns', `malformed message: ${e.message}`);
      return;
    }
    this.expire(ts);
    const id = m.id;
    const entries = this.entries;
    const n = entries.length;
    const open = this.open;
    const scan = open === null || open[id & OPEN_MASK] !== 0;
    if (!m.qr) {
      let retransmit = false;
      if (scan) for (let i = this.head; i < n; i++) {
        const e = entries[i];
        if (e.id === id && e.q && !e.r && sameQuestion(e, m)) {
          retransmit = true;
          break;
        }
      }
      if (retransmit) {
        this.ctx.warn('dns', 'retransmitted query');
      } else {
        entries.push({ id, q: m, qName: m.qName, qType: m.qType, qSize: raw.length, qTs: ts, r: null, rSize: 0, rTs: null, done: false, error: null });
        if (ts.sec < this.oldestSec) this.oldestSec = ts.sec;
        if (open !== null) open[id & OPEN_MASK]++;
        else if (n + 1 - this.head > OPEN_AFTER) this.countOpen();
      }
    } else {
      let e: Entry | null = null;
      if (scan) for (let i = this.head; i < n; i++) {
        const x = entries[i];
        if (x.id === id && x.q && !x.r && !x.done && sameQuestion(x, m)) {
          e = x;
          break;
        }
      }
      if (e) {
        e.r = m; e.rSize = raw.length; e.rTs = ts; e.done = true;
        if (open !== null) open[id & OPEN_MASK]--;
      } else {
        // No query seen (capture began after it, or it was lost): the item is built from the response.
        entries.push({ id, q: null, qName: null, qType: 0, qSize: 0, qTs: ts, r: m, rSize: raw.length, rTs: ts, done: true, error: null });
        if (ts.sec < this.oldestSec) this.oldestSec = ts.sec;
      }
    }
    this.flush();
  }

  private countOpen(): void {
    const open = (this.open = new Int32Array(OPEN_MASK + 1));
    const entries = this.entries;
    for (let i = this.head; i < entries.length; i++) {
      const e = entries[i];
      if (e.q && !e.r) open[e.id & OPEN_MASK]++;
    }
  }

  /** Gives up on queries older than the timeout (relative to capture time `now`). */
  expire(now: Timestamp): void {
    // Many queries in flight on one flow made this scan per message show in profiles.
    if (now.sec - this.oldestSec > QUERY_TIMEOUT_S) {
      let oldest = Infinity;
      const entries = this.entries;
      for (let i = this.head; i < entries.length; i++) {
        const e = entries[i];
        if (!e.done && now.sec - e.qTs.sec > QUERY_TIMEOUT_S) {
          e.done = true;
          e.error = { type: 'timeout', msg: `no response within ${QUERY_TIMEOUT_S} s` };
        }
        if (e.qTs.sec < oldest) oldest = e.qTs.sec;
      }
      this.oldestSec = oldest;
    }
    this.flush();
  }

  end(reason: string): void {
    const entries = this.entries;
    for (let i = this.head; i < entries.length; i++) {
      const e = entries[i];
      if (!e.done) {
        e.done = true;
        e.error = reason === 'timeout'
          ? { type: 'timeout', msg: 'no response before the flow timed out' }
          : { type: 'pair-not-found', msg: `no response before the ${reason === 'eof' ? 'capture' : 'connection'} ended` };
      }
    }
    this.flush();
  }

  private flush(): void {
    const entries = this.entries;
    let head = this.head;
    const open = this.open;
    while (head < entries.length && entries[head].done) {
      const e = entries[head++];
      if (open !== null && e.q && !e.r) open[e.id & OPEN_MASK]--;
      this.emit(e);
    }
    if (head === entries.length) {
      if (head) entries.length = 0;
      head = 0;
    } else if (head >= 256) {
      entries.splice(0, head);
      head = 0;
    }
    this.head = head;
    const ts = head < entries.length ? entries[head].qTs : null;
    const last = this.lastPending;
    if (last !== undefined && (last === ts || (last && ts && last.sec === ts.sec && last.nsec === ts.nsec))) return;
    this.lastPending = ts;
    this.ctx.pending(ts);
  }

  private emit(e: Entry): void {
    if (this.ctx.lean) {
      // Nothing will read the fields (DissectorContext.lean): the exchange only counts.
      this.ctx.emit({ protocol: this.protocol, request: LEAN, response: LEAN, requestSize: e.qSize, responseSize: e.rSize, requestTs: e.qTs, responseTs: e.rTs, error: e.error });
      return;
    }
    const src = e.q ?? e.r!;
    const request: DnsRequest = { opCode: opcodeName(src.opcode), questions: src.questions };
    const response: DnsResponse = e.r
      ? { code: rcodeName(e.r.rcode), answers: e.r.answers, authorities: e.r.authorities, additionals: e.r.additionals }
      : { code: '', answers: [], authorities: [], additionals: [] };
    const msg: L7Message = {
      protocol: this.protocol,
      request: request as unknown as Record<string, unknown>,
      response: response as unknown as Record<string, unknown>,
      requestSize: e.qSize,
      responseSize: e.rSize,
      requestTs: e.qTs,
      responseTs: e.rTs,
      error: e.error,
    };
    this.ctx.emit(msg);
  }
}

const LEAN: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

class DnsUdpFlow implements UdpFlowParser {
  private m: DnsMatcher;
  constructor(ctx: DissectorContext) { this.m = new DnsMatcher(ctx, PROTOCOLS.dns); }
  datagram(_dir: Direction, payload: Buffer, ts: Timestamp): void {
    // QR, not direction, says query or response: the first datagram seen may be a response.
    this.m.message(payload, ts);
  }
  end(_ts: Timestamp, reason: 'timeout' | 'eof'): void { this.m.end(reason); }
}

class DnsTcpStream implements TcpStreamParser {
  private m: DnsMatcher;
  private buf: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private dead: [boolean, boolean] = [false, false];
  constructor(private readonly ctx: DissectorContext) { this.m = new DnsMatcher(ctx, PROTOCOLS.dnsTcp); }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.dead[dir]) return;
    const b = this.buf[dir].length ? Buffer.concat([this.buf[dir], bytes]) : bytes;
    let pos = 0;
    while (b.length - pos >= 2) {
      const len = b.readUInt16BE(pos);
      if (len < 12) {
        this.ctx.warn('dns', `TCP message of ${len} bytes is too short; giving up on this direction`);
        this.dead[dir] = true;
        this.buf[dir] = Buffer.alloc(0);
        return;
      }
      if (b.length - pos - 2 < len) break;
      this.m.message(b.subarray(pos + 2, pos + 2 + len), ts);
      pos += 2 + len;
    }
    // Keep the partial tail (copied: the caller may reuse its buffer).
    this.buf[dir] = pos >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(pos));
  }

  gap(dir: Direction, length: number): void {
    // Length prefixes cannot be found again after a hole: stop reading this direction.
    this.ctx.warn('dns', `gap of ${length} bytes; giving up on this direction`);
    this.dead[dir] = true;
    this.buf[dir] = Buffer.alloc(0);
  }

  end(dir: Direction | null, _ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (dir !== null) return; // a half-close still lets answers arrive
    this.m.end(reason);
  }
}

/** UDP: one datagram that decodes cleanly. TCP: a length prefix followed by a plausible message. */
export function detectDns(first: Buffer, transport: 'tcp' | 'udp', wellKnownPort = false): boolean | 'maybe' {
  if (transport === 'udp') return looksLikeDns(first, 'whole');
  if (first.length < 2) return 'maybe';
  const len = first.readUInt16BE(0);
  if (len < 12) return false;
  const body = first.subarray(2, 2 + len);
  if (body.length === len) return looksLikeDns(body, 'whole');
  if (body.length < 12) return 'maybe';
  if (!looksLikeDns(body, 'header')) return false;
  if (!(body[2] & 0x80) && len > 4096) return false; // queries (QR clear) are small
  // On 53/5353 a plausible header is enough; elsewhere wait for the questions to parse.
  if (wellKnownPort) return true;
  return first.length >= 4096 ? looksLikeDns(body, 'questions') : 'maybe';
}

export const dns: Dissector = {
  name: 'dns',
  priority: PROTOCOLS.dns.priority,
  detect: (first, _dir, flow) => detectDns(first, flow.transport === 'udp' ? 'udp' : 'tcp', DNS_PORTS.has(flow.dstPort) || DNS_PORTS.has(flow.srcPort)),
  tcp: (ctx) => new DnsTcpStream(ctx),
  udp: (ctx) => new DnsUdpFlow(ctx),
};
