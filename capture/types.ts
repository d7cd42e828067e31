/**
 * Contracts between the capture stages: source → packets → streams → dissector → item.
 * Each stage lives in its own folder (sources/, decode/, stream/, dissectors/, item/) and only
 * talks to its neighbours through these types.
 */
import type { ItemError, Protocol } from './item/schema';

/** Capture time as whole seconds plus nanoseconds: one float64 of ns since 1970 would lose precision. */
export interface Timestamp {
  sec: number;
  nsec: number;
}

/** A link-layer frame as a source delivers it. `data` may be a view into a reused buffer: copy what you keep. */
export interface RawPacket {
  /** pcap LINKTYPE_* value (1 Ethernet, 113 Linux SLL, 276 SLL2, 101 raw IP, 0 BSD null, 228/229 raw v4/v6, 108 loop). */
  linkType: number;
  tsSec: number;
  tsNsec: number;
  /** Bytes captured (== data.length). */
  caplen: number;
  /** Bytes on the wire. */
  origLen: number;
  data: Buffer;
  /** pcapng interface index (0 for pcap and live). */
  interfaceId: number;
  /** Byte offset of the record in the file/stream, for error messages; -1 for live. */
  offset: number;
  /**
   * Optional: the buffer the frame lies in and its start there (the frame is
   * buf[off, off + caplen), the same bytes as `data`). Sources that read chunks set these and
   * make `data` a view created only when read, so the pipeline decodes in place (no Buffer
   * object per packet); consumers that need `data` just read it.
   */
  buf?: Buffer;
  off?: number;
}

/** Something that yields raw packets: a file, a pipe, stdin, or a live interface. */
export interface PacketSource {
  /** Human name for `worker`/stats, e.g. `"file/capture.pcap"`, `"local/lo"`. */
  readonly name: string;
  /** Yields packets until the source ends; throws CaptureError for unreadable/malformed input. */
  packets(): AsyncIterable<RawPacket[]>;
  /** Stop early (live capture, --count, --duration). */
  stop(): void;
  /** Drops the capture mechanism reported (kernel/libpcap), or null when it cannot know. */
  drops(): { kernel: number; ifdrop: number } | null;
  /**
   * Traffic arrives as it happens (an interface, a pipe, a command, a file replayed in real
   * time): the pipeline then hands each item out as soon as it completes, in request order
   * within its connection only, instead of holding it for request order across connections.
   */
  readonly live?: boolean;
  /** Regular files: how far reading has got, for a progress bar. */
  progress?(): { bytesRead: number; totalBytes: number };
}

/** A direction within a connection: 0 = client → server, 1 = server → client. */
export type Direction = 0 | 1;

/** The L4 endpoints of a flow, oriented client → server (the side that sent SYN, or the first datagram, is the client). */
export interface FlowAddr {
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** 'icmp' for ICMP/ICMPv6 conversations (ports 0). */
  transport: 'tcp' | 'udp' | 'icmp';
}

/**
 * What a dissector reports for one exchange. The pipeline turns it into an `Item` (ids, stream
 * name, endpoints, names, timestamps) so dissectors never deal with those.
 */
export interface L7Message {
  protocol: Protocol;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  requestSize: number;
  responseSize: number;
  /** Time of the first byte of the request. */
  requestTs: Timestamp;
  /** Time of the last byte of the response, or null when there was none. */
  responseTs: Timestamp | null;
  error?: ItemError | null;
  /**
   * The server's name as the request addressed it (HTTP `Host`, HTTP/2 `:authority`, port
   * dropped): `dst.name` when no other source (process, DNS answers) named the address
   * (kubeshark-compat §6.6).
   */
  dstName?: string;
}

/** Handed to a dissector for one connection (TCP) or flow (UDP). */
export interface DissectorContext {
  readonly flow: FlowAddr;
  /** Report a complete (or failed) exchange. Items of one stream must be emitted in request order. */
  emit(msg: L7Message): void;
  /**
   * Tell the pipeline the earliest request time this stream still owes an item for (or null when
   * none): items of other streams with later request times wait behind it, so output is in
   * request order across streams.
   */
  pending(ts: Timestamp | null): void;
  /** Preview size cap for decoded bodies (bytes). */
  readonly bodyCap: number;
  /**
   * Nothing will read the items' request/response (`items --quiet` without --query), as tshark
   * dissects without a protocol tree: still parse, frame and pair every message and emit every
   * exchange, with the same warnings, but `request`/`response` may be left empty.
   */
  readonly lean?: boolean;
  /** Count something odd but non-fatal (shown by --stats), e.g. `("http", "malformed request line")`. */
  warn(kind: string, detail: string): void;
}

/** Byte-stream parser for one TCP connection, fed reassembled in-order bytes per direction. */
export interface TcpStreamParser {
  data(dir: Direction, bytes: Buffer, ts: Timestamp): void;
  /**
   * `length` bytes are missing in `dir`; resync if possible, never hang. `why`: 'lost' (never
   * captured) or 'snaplen' (the capture kept only the start of the packet).
   */
  gap(dir: Direction, length: number, ts: Timestamp, why?: 'lost' | 'snaplen'): void;
  /** The direction ended (FIN), or the whole connection closed/reset/timed out (`dir` null). */
  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void;
}

/** Datagram parser for one UDP flow (client/server ports as first seen). */
export interface UdpFlowParser {
  datagram(dir: Direction, payload: Buffer, ts: Timestamp): void;
  /** Capture ended or the flow idled out: flush (e.g. emit unanswered queries with a timeout error). */
  end(ts: Timestamp, reason: 'timeout' | 'eof'): void;
}

/** One protocol. Each lives in its own file under capture/dissectors/ and is listed in registry.ts. */
export interface Dissector {
  readonly name: string;
  /** Lower is probed first. */
  readonly priority: number;
  /**
   * Decide by content whether this protocol speaks on the flow. `first` holds the first bytes
   * seen in direction `dir` (TCP: up to 4 KiB of the stream; UDP: one datagram). Return
   * 'maybe' to see more bytes (TCP only), true to claim, false to decline.
   */
  detect(first: Buffer, dir: Direction, flow: FlowAddr): boolean | 'maybe';
  tcp?(ctx: DissectorContext): TcpStreamParser;
  udp?(ctx: DissectorContext): UdpFlowParser;
}
