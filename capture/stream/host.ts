/** What the stream tables need from the pipeline: names, dissector contexts, counters. */
import type { Dissector, DissectorContext, FlowAddr, RawPacket } from '../types';

export interface StreamInfo {
  /** Global L4 stream sequence number. */
  id: number;
  /** `"000000000042.pcap"` / `"000000000042_udp.pcap"` / `"000000000042_icmp.pcap"`. */
  name: string;
  flow: FlowAddr;
}

export interface StreamHost {
  readonly dissectors: readonly Dissector[];
  open(flow: FlowAddr): StreamInfo;
  context(info: StreamInfo): DissectorContext;
  /** The stream is gone: it owes no items any more. */
  closed(info: StreamInfo): void;
  warn(kind: string): void;
  gap(): void;
  /** `n` packets end in --stats bucket `bucket` (each packet in exactly one: CaptureStats.packetsBy). */
  account(bucket: string, n: number): void;
  /** Period of the `tcp-flow`/`udp-flow` reports of long unclaimed flows, seconds of capture time. */
  readonly flowReportS: number;
  readonly streamPacket?: (stream: string, pkt: RawPacket) => void;
}

/** 12-digit zero-padded stream names, as Kubeshark's. */
export function streamName(id: number, transport: 'tcp' | 'udp' | 'icmp'): string {
  return String(id).padStart(12, '0') + (transport === 'udp' ? '_udp.pcap' : transport === 'icmp' ? '_icmp.pcap' : '.pcap');
}
