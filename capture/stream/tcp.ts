/**
 * TCP reassembly: per connection and direction, deliver each payload byte once and in order to
 * the claiming dissector's parser. Policies (docs/capture.md):
 * - sequence numbers compare in 32-bit modular arithmetic, so wrap is just arithmetic;
 * - retransmissions/overlaps: bytes before `next` are cut off (the first copy wins);
 * - out-of-order segments are copied and held; a hole is declared lost (parser.gap, then resync
 *   at the next held segment) ACK_GRACE packets after the peer ACKed past it (it got bytes we
 *   never saw), when the
 *   oldest held segment waited GAP_WAIT_S of capture time, or when a cap is hit;
 * - caps: OOO_DIR_CAP held bytes per direction, OOO_TOTAL_CAP over all connections;
 * - no SYN seen (capture started mid-connection): the lower port is the server (ties: the
 *   sender of the first packet is the client);
 * - idle connections end after TCP_IDLE_S of capture time; closed ones linger CLOSED_LINGER_S
 *   so their last ACKs do not open a new stream.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, formatIp, view, type Decoded } from '../decode/packet';
import type { Direction, FlowAddr, RawPacket, TcpStreamParser, Timestamp } from '../types';
import { TcpDetector } from './detect';
import type { StreamHost, StreamInfo } from './host';
import { FlowKeys } from './key';
import { connMessage, flowReport, FlowCounters } from './flowitem';

export const TCP_IDLE_S = 60;
export const GAP_WAIT_S = 2;
export const OOO_DIR_CAP = 1024 * 1024;
export const OOO_TOTAL_CAP = 64 * 1024 * 1024;
export const CLOSED_LINGER_S = 10;
export const ACK_GRACE = 8;
/**
 * Connections that have carried no payload yet (SYN floods, scans, refused connects) tracked at
 * most; past that the oldest of them is forgotten and counted (tcp.half-open-evicted). If it
 * later carries data it is picked up like a connection whose SYN was not captured. Measured:
 * 1M SYNs took 1.27 GB before this cap; see docs/capture.md.
 */
export const MAX_HALF_OPEN = 65536;

const DETECT = 0;
const CLAIMED = 1;
const IGNORED = 2;

interface Seg {
  seq: number;
  data: Buffer;
  ts: Timestamp;
  /** Bytes after `data` cut by the snap length. */
  cut: number;
}

class Half {
  next = 0;
  started = false;
  finSeen = false;
  finSeq = 0;
  ended = false;
  ooo: Seg[] = [];
  oooBytes = 0;
  /** Packet count of the connection when the peer first ACKed past the hole (0: not yet). */
  holeAckedAt = 0;
  /** The sequence number of this half's SYN, or -1: a SYN repeating it is a retransmission. */
  isn = -1;
}

class Conn {
  halves: [Half, Half] = [new Half(), new Half()];
  mode = DETECT;
  /** Made with the first payload byte (a connection that never carries any needs none). */
  detector: TcpDetector | null = null;
  parser: TcpStreamParser | null = null;
  /** No payload seen yet (counted in TcpTable.emptyCount). */
  empty = true;
  closed = false;
  lastSec = 0;
  lastNsec = 0;
  packets = 0;
  /** The dissector that claimed the connection (its --stats bucket), or null: a flow item. */
  owner: string | null = null;
  /** A SYN from the client / a SYN-ACK from the server were seen (a RST then means refused). */
  syn = false;
  synAck = false;
  /** The --stats bucket its packets went to, once closed (later packets follow). */
  bucket = '';
  readonly counters: FlowCounters;
  constructor(
    readonly info: StreamInfo,
    readonly clientIsA: boolean,
    readonly key: string,
    sec: number,
    nsec: number,
  ) {
    this.counters = new FlowCounters(sec, nsec);
  }
}

export class TcpTable {
  readonly conns = new Map<string, Conn>();
  /**
   * Connections without payload so far, oldest first (MAX_HALF_OPEN): a queue in which entries
   * whose `empty` went false are skipped (a Map's delete-then-iterate-from-start was measured
   * quadratic under a flood).
   */
  private emptyQ: Conn[] = [];
  private emptyHead = 0;
  private emptyCount = 0;
  private oooTotal = 0;
  private keys = new FlowKeys();
  /** The current packet's time, made into a Timestamp only when something needs one (pure ACKs don't). */
  private curSec = 0;
  private curNsec = 0;
  private curTs: Timestamp | null = null;

  constructor(private readonly host: StreamHost) {}

  packet(d: Decoded, pkt: RawPacket): void {
    const flags = d.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const ackf = (flags & TCP_ACK) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const len = d.payloadEnd - d.payloadStart;
    const sp = d.srcPort;
    const dp = d.dstPort;
    const key = this.keys.key(d);
    const senderIsA = this.keys.senderIsA;
    let c = this.conns.get(key);
    if (c && c.closed) {
      if (syn && !ackf) {
        this.forget(key, c);
        c = undefined;
      } else {
        this.host.account(c.bucket, 1);
        this.host.streamPacket?.(c.info.name, pkt);
        return;
      }
    }
    if (c && syn && !ackf) {
      // A new SYN (not a retransmitted one) on a live 4-tuple: the old connection is gone.
      // One that repeats the connection's own SYN is a retransmission even after data flowed
      // (a capture whose order is slightly off, several CPUs or interfaces).
      const h = c.halves[senderIsA === c.clientIsA ? 0 : 1];
      if (h.started && h.next !== ((d.seq + 1) >>> 0) && h.isn !== d.seq) {
        this.close(c, { sec: pkt.tsSec, nsec: pkt.tsNsec }, 'timeout');
        this.forget(key, c);
        c = undefined;
      }
    }
    if (!c) {
      // Pure ACKs/RSTs of connections we never saw open no stream.
      if (rst || (len === 0 && !syn && !fin)) {
        this.host.account('tcp/no-connection', 1);
        return;
      }
      const senderIsClient = syn ? !ackf : sp !== dp ? sp > dp : true;
      const flow = flowOf(d, senderIsClient);
      c = new Conn(this.host.open(flow), senderIsClient ? senderIsA : !senderIsA, key, pkt.tsSec, pkt.tsNsec);
      this.conns.set(key, c);
      this.emptyQ.push(c);
      if (++this.emptyCount > MAX_HALF_OPEN) this.evictEmpty();
      else this.compactEmpty();
    }
    const dir: Direction = senderIsA === c.clientIsA ? 0 : 1;
    c.lastSec = pkt.tsSec;
    c.lastNsec = pkt.tsNsec;
    c.packets++;
    c.counters.add(dir, d.payloadBuf, d.payloadStart, len);
    if (syn) {
      if (!ackf && dir === 0) c.syn = true;
      else if (ackf && dir === 1) c.synAck = true;
    }
    this.host.streamPacket?.(c.info.name, pkt);
    this.curSec = pkt.tsSec;
    this.curNsec = pkt.tsNsec;
    this.curTs = null;
    if (rst) {
      this.close(c, this.now(), 'rst');
      return;
    }
    const h = c.halves[dir];
    let seq = d.seq;
    if (syn) {
      if (h.isn < 0) h.isn = seq;
      seq = (seq + 1) >>> 0;
      if (!h.started) {
        h.started = true;
        h.next = seq;
      }
    } else if (!h.started) {
      h.started = true;
      h.next = seq;
    }
    const cut = d.cut;
    if (c.empty && (len > 0 || cut > 0)) {
      c.empty = false;
      this.emptyCount--;
    }
    if ((len > 0 || cut > 0) && c.mode !== IGNORED) this.segment(c, dir, h, seq, d.payloadBuf, d.payloadStart, d.payloadEnd, this.now(), cut);
    if (fin && !h.finSeen) {
      h.finSeen = true;
      h.finSeq = (seq + len + cut) >>> 0;
    }
    if (ackf && !c.closed) {
      const o = c.halves[dir ^ 1];
      // The peer acknowledged bytes past a hole: they were received, just not captured. The
      // capture order may still be slightly off (several CPUs/interfaces), so the hole gets
      // ACK_GRACE more packets of this connection before it is declared lost.
      if (o.ooo.length && !o.holeAckedAt && ((d.ack - o.ooo[0].seq) | 0) >= 0) o.holeAckedAt = c.packets;
    }
    const h0 = c.halves[0];
    const h1 = c.halves[1];
    if (h0.holeAckedAt && !c.closed && c.packets - h0.holeAckedAt >= ACK_GRACE) this.fillGap(c, 0, this.now());
    if (h1.holeAckedAt && !c.closed && c.packets - h1.holeAckedAt >= ACK_GRACE) this.fillGap(c, 1, this.now());
    if (!c.closed && h.ooo.length && pkt.tsSec - h.ooo[0].ts.sec >= GAP_WAIT_S) this.fillGap(c, dir, this.now());
    // (maybeEnd returns at once unless this half saw a FIN and has not ended.)
    if (!c.closed && h.finSeen && !h.ended) this.maybeEnd(c, dir, this.now());
  }

  /** The current packet's Timestamp, one object per packet, made on first use. */
  private now(): Timestamp {
    let t = this.curTs;
    if (t === null) t = this.curTs = { sec: this.curSec, nsec: this.curNsec };
    return t;
  }

  private segment(c: Conn, dir: Direction, h: Half, seq: number, buf: Buffer, start: number, end: number, ts: Timestamp, cut: number): void {
    const len = end - start;
    const rel = (seq - h.next) | 0;
    if (rel > 0) {
      this.hold(c, dir, h, seq, view(buf, start, end), ts, cut);
      return;
    }
    const skip = -rel;
    if (skip >= len && cut === 0) return; // retransmission of bytes already delivered
    if (skip < len) {
      h.next = (h.next + len - skip) >>> 0;
      h.holeAckedAt = 0; // the hole moved: a later ACK must pass the new one
      this.deliver(c, dir, view(buf, start + skip, end), ts);
    }
    if (cut > 0) this.cutShort(c, dir, h, (seq + len + cut) >>> 0, ts);
    if (h.ooo.length) this.drain(c, dir, h);
  }

  /**
   * The packet's payload was cut by the snap length: the missing bytes up to `wireEnd` are a
   * known hole, told to the parser at once (waiting for them, as for lost segments, is useless).
   */
  private cutShort(c: Conn, dir: Direction, h: Half, wireEnd: number, ts: Timestamp): void {
    const n = (wireEnd - h.next) | 0;
    if (n <= 0 || c.closed) return;
    h.next = wireEnd;
    h.holeAckedAt = 0;
    if (c.mode === CLAIMED && c.parser) {
      try {
        c.parser.gap(dir, n, ts, 'snaplen');
      } catch (e) {
        this.parserFailed(c, e);
      }
    } else if (c.mode === DETECT) c.detector?.reset();
  }

  private hold(c: Conn, dir: Direction, h: Half, seq: number, data: Buffer, ts: Timestamp, cut: number): void {
    const rel = (seq - h.next) | 0;
    let i = h.ooo.length;
    while (i > 0 && ((h.ooo[i - 1].seq - h.next) | 0) > rel) i--;
    const prev = h.ooo[i - 1];
    if (prev && prev.seq === seq && prev.data.length >= data.length) return; // duplicate
    h.ooo.splice(i, 0, { seq, data: Buffer.from(data), ts, cut });
    h.oooBytes += data.length;
    this.oooTotal += data.length;
    if (h.oooBytes > OOO_DIR_CAP) {
      this.host.warn('tcp.out-of-order-cap');
      this.fillGap(c, dir, ts);
    }
    if (this.oooTotal > OOO_TOTAL_CAP) {
      this.host.warn('tcp.out-of-order-total-cap');
      for (const other of this.conns.values()) {
        if (this.oooTotal <= OOO_TOTAL_CAP / 2) break;
        for (const d of [0, 1] as Direction[]) if (other.halves[d].ooo.length) this.fillGap(other, d, ts);
      }
    }
  }

  private drain(c: Conn, dir: Direction, h: Half): void {
    while (h.ooo.length && !c.closed) {
      const s = h.ooo[0];
      const rel = (s.seq - h.next) | 0;
      if (rel > 0) return;
      h.ooo.shift();
      h.oooBytes -= s.data.length;
      this.oooTotal -= s.data.length;
      const skip = -rel;
      if (skip < s.data.length) {
        h.next = (h.next + s.data.length - skip) >>> 0;
        h.holeAckedAt = 0;
        this.deliver(c, dir, skip ? s.data.subarray(skip) : s.data, s.ts);
      }
      if (s.cut > 0) this.cutShort(c, dir, h, (s.seq + s.data.length + s.cut) >>> 0, s.ts);
    }
  }

  /** Declares the hole before the first held segment lost, and resyncs there. */
  private fillGap(c: Conn, dir: Direction, ts: Timestamp): void {
    const h = c.halves[dir];
    if (!h.ooo.length) return;
    const n = (h.ooo[0].seq - h.next) >>> 0;
    this.host.gap();
    if (c.mode === CLAIMED && c.parser) {
      try {
        c.parser.gap(dir, n, ts);
      } catch (e) {
        this.parserFailed(c, e);
      }
    } else if (c.mode === DETECT) c.detector?.reset();
    h.next = h.ooo[0].seq;
    h.holeAckedAt = 0;
    this.drain(c, dir, h);
    this.maybeEnd(c, dir, ts);
  }

  private deliver(c: Conn, dir: Direction, data: Buffer, ts: Timestamp): void {
    if (c.mode === CLAIMED) {
      try {
        c.parser!.data(dir, data, ts);
      } catch (e) {
        this.parserFailed(c, e);
      }
      return;
    }
    if (c.mode !== DETECT) return;
    const r = (c.detector ??= new TcpDetector(this.host.dissectors)).feed(dir, data, ts, c.info.flow);
    if (r === null) return;
    const chunks = c.detector!.chunks;
    c.detector = null;
    if (r === 'ignore') {
      c.mode = IGNORED;
      for (const h of c.halves) this.dropHeld(h);
      return;
    }
    c.owner = r.name;
    try {
      c.parser = r.tcp!(this.host.context(c.info));
      c.mode = CLAIMED;
      for (const k of chunks) c.parser.data(k.dir, k.data, k.ts);
    } catch (e) {
      this.parserFailed(c, e);
    }
  }

  private parserFailed(c: Conn, e: unknown): void {
    this.host.warn(`dissector.threw: ${(e as Error)?.message ?? e}`.slice(0, 120));
    c.mode = IGNORED;
    c.parser = null;
  }

  private maybeEnd(c: Conn, dir: Direction, ts: Timestamp): void {
    const h = c.halves[dir];
    if (!h.finSeen || h.ended) return;
    if (c.mode !== IGNORED && h.next !== h.finSeq) return;
    h.ended = true;
    if (c.mode === CLAIMED && c.parser) {
      try {
        c.parser.end(dir, ts, 'fin');
      } catch (e) {
        this.parserFailed(c, e);
      }
    }
    if (c.halves[dir ^ 1].ended) this.close(c, ts, 'fin');
  }

  private dropHeld(h: Half): void {
    this.oooTotal -= h.oooBytes;
    h.oooBytes = 0;
    h.ooo = [];
  }

  private close(c: Conn, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (c.closed) return;
    if (reason !== 'rst') for (const d of [0, 1] as Direction[]) while (c.halves[d].ooo.length && c.mode !== IGNORED) this.fillGap(c, d, ts);
    if (c.closed) return;
    c.closed = true;
    for (const h of c.halves) this.dropHeld(h);
    if (c.mode === CLAIMED && c.parser) {
      try {
        c.parser.end(null, ts, reason);
      } catch (e) {
        this.parserFailed(c, e);
      }
    }
    c.parser = null;
    c.detector = null;
    this.account(c, ts, reason);
    this.host.closed(c.info);
  }

  /** Its packets go to the owner's --stats bucket; an unclaimed connection becomes a `tcp-conn` item. */
  private account(c: Conn, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof' | 'evicted'): void {
    c.bucket = reason === 'evicted' ? 'tcp/half-open-evicted' : c.owner !== null ? `tcp/${c.owner}` : 'tcp/flow';
    this.host.account(c.bucket, c.packets);
    if (c.owner !== null || reason === 'evicted') return;
    const k = c.counters;
    const state = reason === 'fin' ? 'closed' : reason === 'rst' ? (c.syn && !c.synAck && k.bytes[0] + k.bytes[1] === 0 ? 'refused' : 'reset') : 'open';
    const last = ts.sec === c.lastSec && ts.nsec === c.lastNsec ? ts : { sec: c.lastSec, nsec: c.lastNsec };
    this.host.context(c.info).emit(connMessage('tcp', k, last, state, reason === 'fin' || reason === 'rst' ? reason : reason === 'timeout' ? 'idle' : 'capture-end'));
  }

  /** The oldest connection without payload goes: it owes no items, so nothing is lost but its stream number. */
  private evictEmpty(): void {
    const q = this.emptyQ;
    while (this.emptyHead < q.length) {
      const c = q[this.emptyHead++];
      if (!c.empty) continue;
      this.forget(c.key, c);
      if (!c.closed) {
        c.closed = true;
        this.account(c, { sec: c.lastSec, nsec: c.lastNsec }, 'evicted');
        this.host.closed(c.info);
      }
      this.host.warn('tcp.half-open-evicted');
      break;
    }
    this.compactEmpty();
  }

  /** Drops the queue's consumed head and stale entries once they are most of it. */
  private compactEmpty(): void {
    const q = this.emptyQ;
    if (q.length < 1024 || (q.length - this.emptyHead < 2 * this.emptyCount && this.emptyHead < q.length / 2)) return;
    this.emptyQ = q.filter((c, i) => i >= this.emptyHead && c.empty);
    this.emptyHead = 0;
  }

  /** Capture-time housekeeping: idle timeouts, stale holes, lingering closed connections. */
  sweep(nowSec: number): void {
    for (const [k, c] of this.conns) {
      // Activity "later" than now: the clock stepped back (SweepClock). Count idleness from now.
      if (c.lastSec > nowSec) c.lastSec = nowSec;
      if (c.closed) {
        if (nowSec - c.lastSec > CLOSED_LINGER_S) this.forget(k, c);
        continue;
      }
      const ts = { sec: c.lastSec, nsec: c.lastNsec };
      if (nowSec - c.lastSec > TCP_IDLE_S) {
        this.close(c, ts, 'timeout');
        this.forget(k, c);
        continue;
      }
      for (const d of [0, 1] as Direction[]) {
        const h = c.halves[d];
        if (h.ooo.length && nowSec - h.ooo[0].ts.sec >= GAP_WAIT_S) this.fillGap(c, d, ts);
      }
      // A long unclaimed connection reports itself periodically (`tcp-flow`).
      if (c.owner === null && (c.mode === IGNORED || c.empty) && nowSec - c.counters.repSec >= this.host.flowReportS && c.lastSec > c.counters.repSec) {
        this.host.context(c.info).emit(flowReport('tcp', c.counters, ts));
      }
    }
  }

  /** End of input: every open connection ends with 'eof'. */
  endAll(): void {
    for (const c of this.conns.values()) this.close(c, { sec: c.lastSec, nsec: c.lastNsec }, 'eof');
    this.conns.clear();
    this.emptyQ = [];
    this.emptyHead = 0;
    this.emptyCount = 0;
  }

  private forget(k: string, c: Conn): void {
    this.conns.delete(k);
    if (c.empty) {
      c.empty = false;
      this.emptyCount--;
    }
  }
}

/** Endpoint strings oriented client → server. */
export function flowOf(d: Decoded, senderIsClient: boolean): FlowAddr {
  const src = formatIp(d.addrBuf, d.srcOff, d.ipVersion);
  const dst = formatIp(d.addrBuf, d.dstOff, d.ipVersion);
  const transport = d.proto === 6 ? 'tcp' : 'udp';
  return senderIsClient
    ? { srcIp: src, srcPort: d.srcPort, dstIp: dst, dstPort: d.dstPort, transport }
    : { srcIp: dst, srcPort: d.dstPort, dstIp: src, dstPort: d.srcPort, transport };
}
