/** What the stream tables need from the pipeline: names, dissector contexts, counters. */
import type { Dissector, DissectorContext, FlowAddr, RawPacket } from '../types';

export interface StreamInfo {
  /** Global L4 stream sequence number. */
  id: number;
  /** `"000000000042.pcap"` / `"000000000042_udp.pcap"`. */
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
  readonly streamPacket?: (stream: string, pkt: RawPacket) => void;
}

/** 12-digit zero-padded stream names, as Kubeshark's. */
export function streamName(id: number, udp: boolean): string {
  return String(id).padStart(12, '0') + (udp ? '_udp.pcap' : '.pcap');
}
