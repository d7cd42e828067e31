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

/**
 * Entries looked at while pairing (retransmission checks and answer lookups), all flows: what
 * the regression test counts. Before the per-id index, every message scanned every queued entry:
 * quadratic when many queries go unanswered (a flood with drops, a dead resolver).
 */
export const dnsPairingWork = { entries: 0 };

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
  /** Handed to ctx.emit (done entries go out at once, not in query order: see DnsMatcher). */
  emitted: boolean;
  error: ItemError | null;
  /** In DnsMatcher's open index, and the next entry of its bucket there (queue order). */
  indexed: boolean;
  nextOpen: Entry | null;
}

/** Buckets of the open-query index at first; doubled while there are more open queries, up to one per id. */
const OPEN_BUCKETS = 16;
const MAX_BUCKETS = 65536;

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
 * Pairs queries with responses and emits each exchange as it completes (answered, timed out,
 * or a response without its query). Shared by UDP and TCP. Not in query order: one UDP flow
 * carries unrelated transactions, and a query whose answer was lost (a kernel drop in a flood)
 * held every later item of its flow for the 10 s query timeout. The flow's pending mark is its
 * oldest exchange not yet emitted, so a file still comes out in request order (the pipeline's
 * reorder buffer holds later items behind it); live captures deliver at once.
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
   * Queued queries without a response (q set, no r), indexed by transaction id: bucket
   * `id & (size - 1)`, chained through Entry.nextOpen in queue order, with at least as many
   * buckets as open queries (to one per id). A new query or a response looks only at its bucket,
   * so pairing is linear in the messages however many queries are outstanding (they were all
   * scanned before: quadratic). Hand-rolled rather than a Map of per-id arrays: that allocated
   * an array and a Map entry per query and showed as GC and Map time in the HTTP+DNS bench
   * (docs/capture.md).
   */
  private buckets: (Entry | null)[] = new Array<Entry | null>(OPEN_BUCKETS).fill(null);
  private openCount = 0;
  /** Entries done since the last flush, in the order they completed. */
  private readonly ready: Entry[] = [];

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
    const first = this.buckets[id & (this.buckets.length - 1)];
    if (!m.qr) {
      let retransmit = false;
      for (let x = first; x !== null; x = x.nextOpen) {
        dnsPairingWork.entries++;
        if (x.id === id && sameQuestion(x, m)) {
          retransmit = true;
          break;
        }
      }
      if (retransmit) {
        this.ctx.warn('dns', 'retransmitted query');
      } else {
        const e: Entry = { id, q: m, qName: m.qName, qType: m.qType, qSize: raw.length, qTs: ts, r: null, rSize: 0, rTs: null, done: false, emitted: false, error: null, indexed: false, nextOpen: null };
        entries.push(e);
        if (ts.sec < this.oldestSec) this.oldestSec = ts.sec;
        this.index(e);
      }
    } else {
      let e: Entry | null = null;
      for (let x = first; x !== null; x = x.nextOpen) {
        dnsPairingWork.entries++;
        if (x.id === id && !x.done && sameQuestion(x, m)) {
          e = x;
          break;
        }
      }
      if (e) {
        e.r = m; e.rSize = raw.length; e.rTs = ts; e.done = true;
        this.ready.push(e);
        this.unindex(e);
      } else {
        // No query seen (capture began after it, or it was lost): the item is built from the response.
        const e: Entry = { id, q: null, qName: null, qType: 0, qSize: 0, qTs: ts, r: m, rSize: raw.length, rTs: ts, done: true, emitted: false, error: null, indexed: false, nextOpen: null };
        entries.push(e);
        this.ready.push(e);
        if (ts.sec < this.oldestSec) this.oldestSec = ts.sec;
      }
    }
    this.flush();
  }

  /** Appends an open query to its bucket (queue order kept), doubling the buckets when they are outnumbered. */
  private index(e: Entry): void {
    if (this.openCount >= this.buckets.length && this.buckets.length < MAX_BUCKETS) this.rebucket(this.buckets.length * 2);
    this.link(e);
    this.openCount++;
  }

  private link(e: Entry): void {
    const b = this.buckets;
    const k = e.id & (b.length - 1);
    e.indexed = true;
    e.nextOpen = null;
    let x = b[k];
    if (x === null) {
      b[k] = e;
      return;
    }
    while (x.nextOpen !== null) x = x.nextOpen;
    x.nextOpen = e;
  }

  private rebucket(size: number): void {
    const old = this.buckets;
    this.buckets = new Array<Entry | null>(size).fill(null);
    // Each old chain splits in order over the new buckets: queue order within a bucket holds.
    for (let i = 0; i < old.length; i++) {
      for (let x = old[i]; x !== null; ) {
        const next = x.nextOpen;
        this.link(x);
        x = next;
      }
    }
  }

  /** A query answered, or emitted unanswered: it is no longer open (nor a retransmission's original). */
  private unindex(e: Entry): void {
    if (!e.indexed) return;
    const b = this.buckets;
    const k = e.id & (b.length - 1);
    let prev: Entry | null = null;
    for (let x = b[k]; x !== null; prev = x, x = x.nextOpen) {
      if (x !== e) continue;
      if (prev === null) b[k] = e.nextOpen;
      else prev.nextOpen = e.nextOpen;
      break;
    }
    e.indexed = false;
    e.nextOpen = null;
    this.openCount--;
  }

  /** Gives up on queries older than the timeout (relative to capture time `now`). */
  expire(now: Timestamp): void {
    // Many queries in flight on one flow made this scan per message show in profiles.
    if (now.sec - this.oldestSec > QUERY_TIMEOUT_S) {
      let oldest = Infinity;
      const entries = this.entries;
      for (let i = this.head; i < entries.length; i++) {
        const e = entries[i];
        if (e.done) continue;
        if (now.sec - e.qTs.sec > QUERY_TIMEOUT_S) {
          e.done = true;
          e.error = { type: 'timeout', msg: `no response within ${QUERY_TIMEOUT_S} s` };
          this.ready.push(e);
        } else if (e.qTs.sec < oldest) oldest = e.qTs.sec;
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
        this.ready.push(e);
        e.error = reason === 'timeout'
          ? { type: 'timeout', msg: 'no response before the flow timed out' }
          : { type: 'pair-not-found', msg: `no response before the ${reason === 'eof' ? 'capture' : 'connection'} ended` };
      }
    }
    this.flush();
  }

  private flush(): void {
    const entries = this.entries;
    const ready = this.ready;
    if (ready.length) {
      // Reused, not replaced: an array per message was garbage the bench's GC showed.
      for (let i = 0; i < ready.length; i++) {
        const e = ready[i];
        if (e.emitted) continue;
        e.emitted = true;
        if (e.q && !e.r) this.unindex(e);
        this.emit(e);
      }
      ready.length = 0;
    }
    let head = this.head;
    while (head < entries.length && entries[head].emitted) head++;
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
