// Shared helpers for the unit tests of capture/stream/: build `Decoded` TCP/UDP/ICMP packets
// directly (no pcap file, no decoder) and a StreamHost that records everything the stream
// tables tell it. Fast enough to be the command of a mutation run.
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Decoded } from '../../capture/decode/packet';
import type { StreamHost, StreamInfo } from '../../capture/stream/host';
import { streamName } from '../../capture/stream/host';
import type { Direction, Dissector, DissectorContext, FlowAddr, L7Message, RawPacket, Timestamp } from '../../capture/types';

export { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN };
export const SYN = TCP_SYN;
export const ACK = TCP_ACK;
export const FIN = TCP_FIN;
export const RST = TCP_RST;

/** Address bytes: dotted IPv4 or full/compressed IPv6. */
export function addrBytes(a: string): number[] {
  if (!a.includes(':')) return a.split('.').map(Number);
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

export interface PktSpec {
  src: string;
  dst: string;
  sp: number;
  dp: number;
  seq?: number;
  ack?: number;
  flags?: number;
  payload?: Buffer | string;
  cut?: number;
}

/** Pads before the addresses and the payload, so offsets other than 0 are exercised. */
const PAD = 3;

function decoded(proto: number, s: PktSpec): Decoded {
  const sa = addrBytes(s.src);
  const da = addrBytes(s.dst);
  const v: 4 | 6 = sa.length === 4 ? 4 : 6;
  const addrBuf = Buffer.from([0xee, 0xee, 0xee, ...sa, ...da, 0xee]);
  const payload = typeof s.payload === 'string' ? Buffer.from(s.payload) : (s.payload ?? Buffer.alloc(0));
  const payloadBuf = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), payload, Buffer.from([0xdd, 0xdd])]);
  return {
    ipVersion: v,
    addrBuf,
    srcOff: PAD,
    dstOff: PAD + sa.length,
    proto,
    srcPort: s.sp,
    dstPort: s.dp,
    seq: (s.seq ?? 0) >>> 0,
    ack: (s.ack ?? 0) >>> 0,
    flags: s.flags ?? 0,
    payloadBuf,
    payloadStart: PAD,
    payloadEnd: PAD + payload.length,
    fragmented: false,
    cut: s.cut ?? 0,
  };
}

export const tcpD = (s: PktSpec): Decoded => decoded(6, s);
export const udpD = (s: PktSpec): Decoded => decoded(17, s);

/** An ICMP message (raw bytes from its type byte on) between two addresses. */
export function icmpD(src: string, dst: string, msg: Buffer): Decoded {
  const d = decoded(addrBytes(src).length === 4 ? 1 : 58, { src, dst, sp: 0, dp: 0, payload: msg });
  return d;
}

export function raw(sec: number, nsec = 0): RawPacket {
  return { linkType: 1, tsSec: sec, tsNsec: nsec, caplen: 0, origLen: 0, data: Buffer.alloc(0), interfaceId: 0, offset: -1 } as RawPacket;
}

export interface Emitted {
  stream: string;
  msg: L7Message;
}

/** A StreamHost that records every call. */
export class FakeHost implements StreamHost {
  readonly opened: StreamInfo[] = [];
  readonly closedNames: string[] = [];
  readonly warnings: string[] = [];
  gaps = 0;
  readonly buckets = new Map<string, number>();
  readonly emitted: Emitted[] = [];
  readonly pendings: [string, Timestamp | null][] = [];
  readonly streamed: [string, number][] = [];
  readonly streamPacket: (stream: string, pkt: RawPacket) => void;
  private ctxs = new Map<number, DissectorContext>();
  private nextId = 0;

  constructor(
    readonly dissectors: readonly Dissector[] = [],
    readonly flowReportS = 60,
    opts: { noStreamPacket?: boolean } = {},
  ) {
    this.streamPacket = (stream, pkt) => void this.streamed.push([stream, pkt.tsSec]);
    if (opts.noStreamPacket) (this as { streamPacket?: unknown }).streamPacket = undefined;
  }

  open(flow: FlowAddr): StreamInfo {
    const id = this.nextId++;
    const info = { id, name: streamName(id, flow.transport), flow };
    this.opened.push(info);
    return info;
  }

  context(info: StreamInfo): DissectorContext {
    let c = this.ctxs.get(info.id);
    if (!c) {
      c = {
        flow: info.flow,
        emit: (msg: L7Message) => void this.emitted.push({ stream: info.name, msg }),
        pending: (ts: Timestamp | null) => void this.pendings.push([info.name, ts]),
        bodyCap: 1024,
      } as unknown as DissectorContext;
      this.ctxs.set(info.id, c);
    }
    return c;
  }

  closed(info: StreamInfo): void {
    this.closedNames.push(info.name);
  }
  warn(kind: string): void {
    this.warnings.push(kind);
  }
  gap(): void {
    this.gaps++;
  }
  account(bucket: string, n: number): void {
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + n);
  }
  /** Packets per bucket as a plain object, for deepEqual. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.buckets);
  }
}

export interface StreamRec {
  flow: FlowAddr;
  /** Events in order: `d0:abc@sec` data (`d0:4096B@sec` over 32 bytes), `g1:5:lost` gaps, `e0:fin` / `e-:rst` ends (data as latin1). */
  ev: string[];
  bytes: [string, string];
}

/**
 * A TCP+UDP dissector that records what it is handed. `detect` decides (default: claim), and may
 * be a function of the bytes so far; `throwOn` makes the parser throw on that call.
 */
export function recorder(opts: { name?: string; detect?: (first: Buffer, dir: Direction, flow: FlowAddr) => boolean | 'maybe'; throwOn?: 'data' | 'gap' | 'end' | 'make' | 'datagram' } = {}): { d: Dissector; streams: StreamRec[]; seen: Buffer[] } {
  const streams: StreamRec[] = [];
  const seen: Buffer[] = [];
  const t = (what: string) => {
    if (opts.throwOn === what) throw new Error(`boom in ${what}`);
  };
  const mk = (ctx: DissectorContext): StreamRec => {
    t('make');
    const r: StreamRec = { flow: ctx.flow, ev: [], bytes: ['', ''] };
    streams.push(r);
    return r;
  };
  const d: Dissector = {
    name: opts.name ?? 'rec',
    priority: 0,
    detect: (first, dir, flow) => {
      seen.push(Buffer.from(first));
      return opts.detect ? opts.detect(first, dir, flow) : true;
    },
    tcp(ctx) {
      const r = mk(ctx);
      return {
        data: (dir, b, ts) => {
          r.ev.push(`d${dir}:${b.length > 32 ? `${b.length}B` : b.toString('latin1')}@${ts.sec}`);
          r.bytes[dir] += b.toString('latin1');
          t('data');
        },
        gap: (dir, n, _ts, why) => {
          r.ev.push(`g${dir}:${n}:${why ?? 'lost'}`);
          t('gap');
        },
        end: (dir, _ts, why) => {
          r.ev.push(`e${dir ?? '-'}:${why}`);
          t('end');
        },
      };
    },
    udp(ctx) {
      const r = mk(ctx);
      return {
        datagram: (dir, b, ts) => {
          r.ev.push(`d${dir}:${b.toString('latin1')}@${ts.sec}`);
          t('datagram');
        },
        end: (ts, why) => {
          r.ev.push(`e:${why}@${ts.sec}`);
          t('end');
        },
      };
    },
  };
  return { d, streams, seen };
}
