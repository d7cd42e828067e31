/**
 * ICMP/ICMPv6 items. Echo requests pair with their replies by (addresses, identifier, sequence)
 * into one item with the round-trip time; a request unanswered for ECHO_TIMEOUT_S of capture
 * time (or at the end) becomes an item with a timeout / pair-not-found error, a reply whose
 * request was not captured one with an empty request. Error messages (unreachable, time
 * exceeded, …) are items of their own that name the flow they quote (`original`, with that
 * flow's stream when it is tracked; a port unreachable marks a UDP flow `refused`). Every other
 * message (neighbour discovery, router adverts, …) is an item with an empty response.
 *
 * Each conversation (two addresses and an echo identifier, or two addresses for the rest) is
 * a stream of its own (`…_icmp.pcap`), so pcap.path() finds its packets.
 */
import { formatIp, type Decoded } from '../decode/packet';
import { ECHO_REPLY, ECHO_REQUEST, emptyIcmp, parseIcmp } from '../dissectors/icmp';
import type { IcmpMessage } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import type { DissectorContext, RawPacket, Timestamp } from '../types';
import type { StreamHost, StreamInfo } from './host';
import { FlowKeys } from './key';
import type { TcpTable } from './tcp';
import type { UdpTable } from './udp';

export const ECHO_TIMEOUT_S = 10;
const IDLE_S = 60;

interface Echo {
  msg: IcmpMessage;
  ts: Timestamp;
  /** When its ECHO_TIMEOUT_S starts: `ts.sec`, pulled back if the clock steps back. */
  since: number;
}

interface Conv {
  info: StreamInfo;
  ctx: DissectorContext;
  /** Outstanding echo requests by sequence number, oldest first. */
  echoes: Map<number, Echo>;
  lastSec: number;
}

/** What FlowKeys reads, pointed at a quoted header. */
interface KeyView {
  ipVersion: 4 | 6;
  addrBuf: Buffer;
  srcOff: number;
  dstOff: number;
  srcPort: number;
  dstPort: number;
}

export class IcmpTable {
  private convs = new Map<string, Conv>();
  private keys = new FlowKeys();

  constructor(
    private readonly host: StreamHost,
    private readonly tcp: TcpTable,
    private readonly udp: UdpTable,
  ) {}

  packet(d: Decoded, pkt: RawPacket): void {
    const v = d.ipVersion;
    const b = d.payloadBuf;
    const msg = parseIcmp(v, b, d.payloadStart, d.payloadEnd);
    const ts = { sec: pkt.tsSec, nsec: pkt.tsNsec };
    const src = formatIp(d.addrBuf, d.srcOff, v);
    const dst = formatIp(d.addrBuf, d.dstOff, v);
    const isReq = msg.type === ECHO_REQUEST[v];
    const isRep = msg.type === ECHO_REPLY[v];
    const echo = isReq || isRep;
    // Echo conversations are keyed by the identifier; the rest share one per address pair.
    const [lo, hi] = src < dst ? [src, dst] : [dst, src];
    const key = `${v}|${lo}|${hi}|${echo ? msg.id : 'x'}`;
    let c = this.convs.get(key);
    if (!c) {
      // Client: the echo requester, or the sender of anything else.
      const client = isRep ? dst : src;
      const server = isRep ? src : dst;
      const info = this.host.open({ srcIp: client, srcPort: 0, dstIp: server, dstPort: 0, transport: 'icmp' });
      c = { info, ctx: this.host.context(info), echoes: new Map(), lastSec: pkt.tsSec };
      this.convs.set(key, c);
    }
    c.lastSec = pkt.tsSec;
    this.host.streamPacket?.(c.info.name, pkt);
    this.host.account(v === 4 ? 'icmp' : 'icmp6', 1);
    if (isReq) {
      if (c.echoes.has(msg.seq)) this.host.warn('icmp.duplicate-echo-request');
      else c.echoes.set(msg.seq, { msg, ts, since: pkt.tsSec });
      this.pending(c);
      return;
    }
    if (isRep) {
      const q = c.echoes.get(msg.seq);
      if (q) {
        c.echoes.delete(msg.seq);
        this.emit(c, q.msg, msg, q.ts, ts, null);
        this.pending(c);
      } else {
        this.emit(c, emptyIcmp(v), msg, ts, ts, { type: 'pair-not-found', msg: 'echo reply without a captured request' });
      }
      return;
    }
    if (msg.original) this.tie(msg, v, b, d.payloadStart + 8, d.payloadEnd);
    this.emit(c, msg, emptyIcmp(v), ts, null, null);
  }

  /** Names the quoted flow's stream, and marks a UDP flow refused on a port unreachable. */
  private tie(msg: IcmpMessage, v: 4 | 6, b: Buffer, p: number, end: number): void {
    const o = msg.original!;
    if (o.transport !== 'tcp' && o.transport !== 'udp') return;
    const l4 = v === 4 ? p + (b[p] & 0x0f) * 4 : p + 40;
    if (l4 + 4 > end) return;
    const kv: KeyView = { ipVersion: v, addrBuf: b, srcOff: v === 4 ? p + 12 : p + 8, dstOff: v === 4 ? p + 16 : p + 24, srcPort: o.srcPort, dstPort: o.dstPort };
    const key = this.keys.key(kv as Decoded);
    if (o.transport === 'udp') {
      const f = this.udp.find(key);
      if (!f) return;
      o.stream = f.info.name;
      if ((v === 4 && msg.type === 3 && msg.code === 3) || (v === 6 && msg.type === 1 && msg.code === 4)) f.refused = true;
    } else {
      const c = this.tcp.conns.get(key);
      if (c) o.stream = c.info.name;
    }
  }

  private emit(c: Conv, req: IcmpMessage, res: IcmpMessage, reqTs: Timestamp, resTs: Timestamp | null, error: { type: 'pair-not-found' | 'timeout'; msg: string } | null): void {
    const rtt = resTs && req.type >= 0 ? Math.max(0, (resTs.sec - reqTs.sec) * 1e6 + (resTs.nsec - reqTs.nsec) / 1e3) : 0;
    c.ctx.emit({
      protocol: req.version === 4 || res.version === 4 ? PROTOCOLS.icmp : PROTOCOLS.icmp6,
      request: req as unknown as Record<string, unknown>,
      response: { ...res, rtt: Math.round(rtt * 1000) / 1000 },
      requestSize: req.length,
      responseSize: res.length,
      requestTs: reqTs,
      responseTs: resTs,
      error,
    });
  }

  private pending(c: Conv): void {
    const first = c.echoes.values().next();
    c.ctx.pending(first.done ? null : first.value.ts);
  }

  private expire(c: Conv, nowSec: number | null): void {
    for (const [seq, e] of c.echoes) {
      if (nowSec !== null) {
        // A clock stepped back (NTP, a merged capture): the request's wait restarts at the new
        // time rather than lasting until the clock passes its old one (as TCP/UDP activity is).
        if (e.since > nowSec) e.since = nowSec;
        if (nowSec - e.since < ECHO_TIMEOUT_S) break;
      }
      c.echoes.delete(seq);
      const err = nowSec === null ? { type: 'pair-not-found' as const, msg: 'no echo reply before the capture ended' } : { type: 'timeout' as const, msg: `no echo reply within ${ECHO_TIMEOUT_S} s` };
      this.emit(c, e.msg, emptyIcmp(e.msg.version as 4 | 6), e.ts, null, err);
    }
    this.pending(c);
  }

  sweep(nowSec: number): void {
    for (const [k, c] of this.convs) {
      if (c.echoes.size) this.expire(c, nowSec);
      if (c.lastSec > nowSec) c.lastSec = nowSec;
      if (!c.echoes.size && nowSec - c.lastSec > IDLE_S) {
        this.convs.delete(k);
        this.host.closed(c.info);
      }
    }
  }

  endAll(): void {
    for (const c of this.convs.values()) {
      this.expire(c, null);
      this.host.closed(c.info);
    }
    this.convs.clear();
  }
}
