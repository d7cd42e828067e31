/**
 * Flow items for L4 traffic no dissector claims (docs/items.md "TCP and UDP flows"): per
 * connection/flow counters kept by the stream tables, and the `tcp-conn`/`udp-conn` item (the
 * flow ended, idled out, or the capture ended) and the periodic `tcp-flow`/`udp-flow` item
 * (a long flow's report every PipelineOptions.flowReportS of capture time) built from them.
 * Names follow Kubeshark's dissector list and KFL2's `conn`/`flow` variables (kubeshark-compat
 * §6.11, §9). Counting is a few increments per packet; the first payload bytes are copied once
 * per direction.
 */
import type { ConnEnd, ConnState, FlowSide } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import type { Direction, L7Message, Timestamp } from '../types';

/** First payload bytes kept per direction (base64 in the item). */
export const FIRST_BYTES = 64;
/** Default period of `tcp-flow`/`udp-flow` reports for a long unclaimed flow, seconds of capture time. */
export const FLOW_REPORT_S = 60;

export class FlowCounters {
  packets: [number, number] = [0, 0];
  /** Payload bytes (TCP: segment payloads as captured, retransmissions included). */
  bytes: [number, number] = [0, 0];
  first: [Buffer | null, Buffer | null] = [null, null];
  startSec = 0;
  startNsec = 0;
  /** Counters at the last periodic report (or the start). */
  repPackets: [number, number] = [0, 0];
  repBytes: [number, number] = [0, 0];
  repSec = 0;
  repNsec = 0;

  constructor(sec: number, nsec: number) {
    this.startSec = this.repSec = sec;
    this.startNsec = this.repNsec = nsec;
  }

  /** One packet in `dir` with `len` payload bytes at buf[start, start+len). */
  add(dir: Direction, buf: Buffer, start: number, len: number): void {
    this.packets[dir]++;
    if (len > 0) {
      this.bytes[dir] += len;
      if (this.first[dir] === null) this.first[dir] = Buffer.from(buf.subarray(start, start + Math.min(len, FIRST_BYTES)));
    }
  }
}

/** Rates over `seconds`, at least one second (a 50 µs refused connect is not 40k packets/s). */
function side(c: FlowCounters, dir: Direction, packets: number, bytes: number, seconds: number): FlowSide {
  const f = c.first[dir];
  const per = Math.max(1, seconds);
  return {
    packets,
    bytes,
    payload: f ? f.toString('base64') : '',
    pps: Math.round(packets / per),
    bps: Math.round((bytes * 8) / per),
  };
}

const secs = (a: Timestamp, b: Timestamp) => Math.max(0, b.sec - a.sec + (b.nsec - a.nsec) / 1e9);

/** The final item of an unclaimed flow: from its first to its last packet. */
export function connMessage(transport: 'tcp' | 'udp', c: FlowCounters, last: Timestamp, state: ConnState, end: ConnEnd): L7Message {
  const start = { sec: c.startSec, nsec: c.startNsec };
  const s = secs(start, last);
  const req = side(c, 0, c.packets[0], c.bytes[0], s);
  const res = side(c, 1, c.packets[1], c.bytes[1], s);
  return {
    protocol: transport === 'tcp' ? PROTOCOLS.tcpConn : PROTOCOLS.udpConn,
    request: { ...req, state, end, duration: Math.round(s * 1e6) },
    response: res as unknown as Record<string, unknown>,
    requestSize: c.bytes[0],
    responseSize: c.bytes[1],
    requestTs: start,
    responseTs: last,
  };
}

/** A periodic report of a flow still open: the counts since the previous report (or the start). */
export function flowReport(transport: 'tcp' | 'udp', c: FlowCounters, now: Timestamp): L7Message {
  const from = { sec: c.repSec, nsec: c.repNsec };
  const s = secs(from, now);
  const dp0 = c.packets[0] - c.repPackets[0], dp1 = c.packets[1] - c.repPackets[1];
  const db0 = c.bytes[0] - c.repBytes[0], db1 = c.bytes[1] - c.repBytes[1];
  c.repPackets = [c.packets[0], c.packets[1]];
  c.repBytes = [c.bytes[0], c.bytes[1]];
  c.repSec = now.sec;
  c.repNsec = now.nsec;
  const start = { sec: c.startSec, nsec: c.startNsec };
  return {
    protocol: transport === 'tcp' ? PROTOCOLS.tcpFlow : PROTOCOLS.udpFlow,
    request: { ...side(c, 0, dp0, db0, s), state: 'open', end: 'report', duration: Math.round(secs(start, now) * 1e6), totalPackets: c.packets[0], totalBytes: c.bytes[0] },
    response: { ...side(c, 1, dp1, db1, s), totalPackets: c.packets[1], totalBytes: c.bytes[1] },
    requestSize: db0,
    responseSize: db1,
    requestTs: from,
    responseTs: now,
  };
}
