/**
 * UDP flows keyed by the 4-tuple. The sender of the first datagram is the client, unless it sends
 * from a well-known port (< 1024) to an ephemeral one: then the capture started between a query
 * and its answer (a DNS response seen first), and the receiver is the client. Detection runs
 * on the first datagram (a 'maybe' gets up to DETECT_DATAGRAMS tries); unclaimed flows are
 * ignored cheaply. Flows end after UDP_IDLE_S of capture time without a datagram.
 */
import { view, type Decoded } from '../decode/packet';
import type { Dissector, RawPacket, UdpFlowParser } from '../types';
import type { StreamHost, StreamInfo } from './host';
import { FlowKeys } from './key';
import { flowOf } from './tcp';
import { connMessage, flowReport, FlowCounters } from './flowitem';

export const UDP_IDLE_S = 30;
const DETECT_DATAGRAMS = 4;

class Flow {
  parser: UdpFlowParser | null = null;
  ignored = false;
  tries = 0;
  lastSec = 0;
  lastNsec = 0;
  packets = 0;
  /** The dissector that claimed the flow (its --stats bucket), or null: a flow item. */
  owner: string | null = null;
  /** An ICMP error said the server's port (or host) is unreachable. */
  refused = false;
  readonly counters: FlowCounters;
  constructor(
    readonly info: StreamInfo,
    readonly clientIsA: boolean,
    sec: number,
    nsec: number,
  ) {
    this.counters = new FlowCounters(sec, nsec);
  }
}

export class UdpTable {
  readonly flows = new Map<string, Flow>();
  private candidates: Dissector[];
  private keys = new FlowKeys();

  constructor(private readonly host: StreamHost) {
    this.candidates = host.dissectors.filter((d) => typeof d.udp === 'function');
  }

  packet(d: Decoded, pkt: RawPacket): void {
    const key = this.keys.key(d);
    const senderIsA = this.keys.senderIsA;
    let f = this.flows.get(key);
    if (!f) {
      const senderIsClient = !(d.srcPort < 1024 && d.dstPort >= 1024);
      f = new Flow(this.host.open(flowOf(d, senderIsClient)), senderIsClient ? senderIsA : !senderIsA, pkt.tsSec, pkt.tsNsec);
      this.flows.set(key, f);
    }
    f.lastSec = pkt.tsSec;
    f.lastNsec = pkt.tsNsec;
    f.packets++;
    const dir = senderIsA === f.clientIsA ? 0 : 1;
    f.counters.add(dir, d.payloadBuf, d.payloadStart, d.payloadEnd - d.payloadStart);
    this.host.streamPacket?.(f.info.name, pkt);
    if (f.ignored) return;
    const payload = view(d.payloadBuf, d.payloadStart, d.payloadEnd);
    const ts = { sec: pkt.tsSec, nsec: pkt.tsNsec };
    if (!f.parser) {
      let maybe = false;
      for (const c of this.candidates) {
        let r: boolean | 'maybe';
        try {
          r = c.detect(payload, dir, f.info.flow);
        } catch {
          r = false;
        }
        if (r === true) {
          f.owner = c.name;
          try {
            f.parser = c.udp!(this.host.context(f.info));
          } catch (e) {
            this.failed(f, e);
            return;
          }
          break;
        }
        if (r === 'maybe') maybe = true;
      }
      if (!f.parser) {
        if (!maybe || ++f.tries >= DETECT_DATAGRAMS) f.ignored = true;
        return;
      }
    }
    try {
      f.parser.datagram(dir, payload, ts);
    } catch (e) {
      this.failed(f, e);
    }
  }

  private failed(f: Flow, e: unknown): void {
    this.host.warn(`dissector.threw: ${(e as Error)?.message ?? e}`.slice(0, 120));
    f.parser = null;
    f.ignored = true;
  }

  private end(f: Flow, reason: 'timeout' | 'eof'): void {
    if (f.parser) {
      try {
        f.parser.end({ sec: f.lastSec, nsec: f.lastNsec }, reason);
      } catch (e) {
        this.failed(f, e);
      }
    }
    f.parser = null;
    this.host.account(f.owner !== null ? `udp/${f.owner}` : 'udp/flow', f.packets);
    if (f.owner === null) {
      const state = f.refused ? 'refused' : reason === 'timeout' ? 'closed' : 'open';
      this.host.context(f.info).emit(connMessage('udp', f.counters, { sec: f.lastSec, nsec: f.lastNsec }, state, reason === 'timeout' ? 'idle' : 'capture-end'));
    }
    this.host.closed(f.info);
  }

  /** The flow an ICMP error quotes (key from FlowKeys over the quoted header), if tracked. */
  find(key: string): Flow | undefined {
    return this.flows.get(key);
  }

  sweep(nowSec: number): void {
    for (const [k, f] of this.flows) {
      if (f.lastSec > nowSec) f.lastSec = nowSec; // the clock stepped back (SweepClock)
      if (nowSec - f.lastSec > UDP_IDLE_S) {
        this.end(f, 'timeout');
        this.flows.delete(k);
      } else if (f.owner === null && f.ignored && nowSec - f.counters.repSec >= this.host.flowReportS && f.lastSec > f.counters.repSec) {
        this.host.context(f.info).emit(flowReport('udp', f.counters, { sec: f.lastSec, nsec: f.lastNsec }));
      }
    }
  }

  endAll(): void {
    for (const f of this.flows.values()) this.end(f, 'eof');
    this.flows.clear();
  }
}
