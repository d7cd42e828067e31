/**
 * The capture pipeline: source → decode → TCP/UDP streams → dissectors → items, released in
 * request order. One entry point (runPipeline) used by the CLI, the hook runtime and the
 * extension backend. Semantics (docs/capture.md):
 * - `count`: stop after N items (not packets: tcpdump's -c counts packets, but items are what
 *   this tool prints); the remaining open streams are not flushed.
 * - `durationS`: live sources stop after S seconds of wall clock; files stop at the first
 *   packet more than S seconds of capture time after the first packet.
 */
import { PacketDecoder, Status } from './decode/packet';
import { buildItem, localNode, type EndpointNames } from './item/build';
import type { Item, NodeInfo, Protocol } from './item/schema';
import { DnsNames } from './names/dns';
import { ProcessNames } from './names/process';
import { streamName, type StreamHost, type StreamInfo } from './stream/host';
import { ReorderBuffer } from './stream/order';
import { SweepClock } from './stream/clock';
import { TcpTable } from './stream/tcp';
import { UdpTable } from './stream/udp';
import { IcmpTable } from './stream/icmp';
import { FLOW_REPORT_S } from './stream/flowitem';
import type { Dissector, DissectorContext, FlowAddr, PacketSource, RawPacket } from './types';
import { DISSECTORS } from './dissectors/registry';
import { openSourceSpec, type SourceSpec } from './sources/open';

export interface PipelineSinks {
  item?(item: Item): void;
  /** Every packet, cheap: called with scalars, no object allocated. */
  packet?(tsSec: number, tsNsec: number, captureLength: number, length: number, truncated: boolean, fragmented: boolean): void;
  /** Every TCP/UDP packet that belongs to an L4 stream, with that stream's name (as item.stream), for pcap.path()/pcap.snapshot(). pkt.data may be a reused view: copy what you keep. */
  streamPacket?(stream: string, pkt: RawPacket): void;
  /** Called after each batch; a returned promise is awaited (output backpressure). */
  flush?(): void | Promise<void>;
}

export interface PipelineOptions {
  count?: number;
  durationS?: number;
  bodyCap?: number;
  signal?: AbortSignal;
  /** Only items passing this count and reach `sinks.item` (the CLI's --query). */
  filter?: (item: Item) => boolean;
  /** Dissectors to use instead of the registry (tests). */
  dissectors?: readonly Dissector[];
  /**
   * Nothing reads the items (`items --quiet` without --query): dissectors may skip building
   * request/response (DissectorContext.lean), no Item objects are built and, without `count`,
   * exchanges are counted as they complete instead of being put in request order. Stats are
   * the same as without it (tested).
   */
  lean?: boolean;
  /**
   * Stream-number counter (ids are `<worker>/<stream>-<index>`). Default: a fresh counter from 1
   * per run, so the CLI's output is reproducible. A long-lived caller (the server) passes one
   * counter for its whole life (`streamCounter()`), so ids never repeat across restarts of a
   * capture or two files with the same base name.
   */
  streams?: { next(): number };
  /**
   * Yield to the event loop (setImmediate) once this many ms have gone without a turn, also
   * inside a batch. A source's chunk (1 MiB, ~1,400 packets) is handed over without any I/O
   * turn in between (an async generator yielding buffered data resolves in microtasks), so
   * without it a server sharing the thread answers nothing for tens of ms per chunk (the
   * language server passes 8: docs/protocol.md, "Threads"). Default: never (the CLI).
   */
  sliceMs?: number;
  /** Period of the `tcp-flow`/`udp-flow` reports of long unclaimed flows, seconds of capture time (default 60). */
  flowReportS?: number;
}

/** A stream-number counter from 1, for PipelineOptions.streams. */
export function streamCounter(): { next(): number } {
  let n = 0;
  return { next: () => ++n };
}

export interface CaptureStats {
  packets: number;
  /**
   * Every packet in exactly one bucket (they sum to `packets`): `tcp/<dissector>` and
   * `udp/<dissector>` for streams a dissector claimed, `tcp/flow`/`udp/flow` for unclaimed ones
   * (reported as flow items), `icmp`/`icmp6`, `tcp/no-connection` (ACKs/RSTs of connections
   * never seen open), `tcp/half-open-evicted`, `ip-fragment` (held for reassembly; the one
   * completing a datagram counts with it), `malformed`, `not-ip`, `ip-other` (other IP
   * protocols), `in-flight` (streams still open when --count stopped the capture).
   */
  packetsBy: Record<string, number>;
  bytes: number;
  itemsByProtocol: Record<string, number>;
  drops: { kernel: number; ifdrop: number } | null;
  gaps: number;
  skipped: number;
  warnings: Record<string, number>;
  elapsedMs: number;
  /** Messages for the user that are not errors (truncated input, unknown drop counts). */
  notices: string[];
}

/** Sources may add warnings for the user (e.g. a truncated last record). */
interface NoticeSource {
  notices?(): string[];
}

const DEFAULT_BODY_CAP = 64 * 1024;
const MAX_WARNING_KINDS = 200;

interface PStream extends StreamInfo {
  nextIndex: number;
  names: [EndpointNames | null, EndpointNames | null] | null;
}

export async function runPipeline(source: PacketSource, sinks: PipelineSinks, opts: PipelineOptions = {}): Promise<CaptureStats> {
  const t0 = performance.now();
  const stats: CaptureStats = { packets: 0, packetsBy: {}, bytes: 0, itemsByProtocol: {}, drops: null, gaps: 0, skipped: 0, warnings: {}, elapsedMs: 0, notices: [] };
  const warn = (kind: string) => {
    const w = stats.warnings;
    if (w[kind] !== undefined) w[kind]++;
    else if (Object.keys(w).length < MAX_WARNING_KINDS) w[kind] = 1;
    else w['(other warnings)'] = (w['(other warnings)'] ?? 0) + 1;
  };
  const local = source.name.startsWith('local/');
  const procNames = local && process.platform === 'linux' ? new ProcessNames() : null;
  // --duration is wall clock for captures that run as long as they are let to.
  const wallClock = local || source.name.startsWith('command/');
  // Live delivery (PacketSource.live): each item goes out when it completes; its connection's
  // dissector already emits in request order, and no other connection can hold it back.
  const immediate = source.live === true;
  const dnsNames = new DnsNames();
  // Looked up with the first item (networkInterfaces() measured ~15 ms; lean runs need none).
  let node: NodeInfo | null = null;
  const worker = source.name;
  const bodyCap = opts.bodyCap ?? DEFAULT_BODY_CAP;
  const filter = opts.filter;
  const limit = opts.count && opts.count > 0 ? opts.count : Infinity;
  const lean = opts.lean === true && !filter && !sinks.item;
  // Lean with no --count: order cannot matter, so exchanges are only counted.
  const countOnly = lean && limit === Infinity;
  let itemsOut = 0;
  let stopped = false;
  let countReached = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    source.stop();
  };

  const deliver = (item: Item): boolean | void => {
    if (itemsOut >= limit) return false;
    if (filter && !filter(item)) return;
    itemsOut++;
    const p = item.protocol.name;
    stats.itemsByProtocol[p] = (stats.itemsByProtocol[p] ?? 0) + 1;
    sinks.item?.(item);
    if (itemsOut >= limit) {
      countReached = true;
      stop();
      return false;
    }
  };
  const reorder = new ReorderBuffer<Item>(deliver);

  const streams = opts.streams ?? streamCounter();
  const nameOf = (ip: string, proc: EndpointNames | null): EndpointNames | null => {
    if (proc) return proc;
    const n = dnsNames.lookup(ip);
    return n ? { name: n, processName: '', processId: 0 } : null;
  };
  const host: StreamHost = {
    dissectors: [...(opts.dissectors ?? DISSECTORS)].sort((a, b) => a.priority - b.priority),
    open(flow: FlowAddr): StreamInfo {
      const id = streams.next();
      const s: PStream = { id, name: streamName(id, flow.transport), flow, nextIndex: 0, names: null };
      if (procNames && flow.transport !== 'icmp') s.names = procNames.resolve(flow.transport, flow.srcIp, flow.srcPort, flow.dstIp, flow.dstPort);
      return s;
    },
    context(info: StreamInfo): DissectorContext {
      const s = info as PStream;
      return {
        flow: s.flow,
        bodyCap,
        lean,
        emit(msg) {
          if (lean) {
            const p = msg.protocol;
            if (countOnly) {
              itemsOut++;
              stats.itemsByProtocol[p.name] = (stats.itemsByProtocol[p.name] ?? 0) + 1;
            } else if (immediate) deliver(leanItem(p));
            else reorder.push(leanItem(p), msg.requestTs.sec, msg.requestTs.nsec);
            return;
          }
          const proc = s.names;
          const item = buildItem(msg, s.flow, s.name, s.nextIndex++, worker, (node ??= localNode()), nameOf(s.flow.srcIp, proc?.[0] ?? null), nameOf(s.flow.dstIp, proc?.[1] ?? null));
          dnsNames.learn(item);
          if (immediate) deliver(item);
          // Size estimate for the held-bytes cap: body previews (base64, ≤ bodyCap each) dominate.
          else reorder.push(item, msg.requestTs.sec, msg.requestTs.nsec, 1024 + 1.5 * (Math.min(msg.requestSize, bodyCap) + Math.min(msg.responseSize, bodyCap)));
        },
        pending(ts) {
          if (countOnly || immediate) return;
          if (ts) reorder.setPending(s.id, ts.sec, ts.nsec);
          else reorder.setPending(s.id, null);
        },
        warn(kind, detail) {
          warn(detail ? `${kind}: ${detail}` : kind);
        },
      };
    },
    closed(info) {
      if (!immediate) reorder.setPending(info.id, null);
    },
    warn,
    gap() {
      stats.gaps++;
    },
    account(bucket, n) {
      const b = stats.packetsBy;
      b[bucket] = (b[bucket] ?? 0) + n;
    },
    flowReportS: opts.flowReportS ?? FLOW_REPORT_S,
    streamPacket: sinks.streamPacket ? (name, pkt) => sinks.streamPacket!(name, pkt) : undefined,
  };

  const decoder = new PacketDecoder(warn);
  const d = decoder.d;
  const tcp = new TcpTable(host);
  const udp = new UdpTable(host);
  const icmp = new IcmpTable(host, tcp, udp);
  const packetSink = sinks.packet;

  const onAbort = () => stop();
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) stop();
  let timer: NodeJS.Timeout | undefined;
  if (opts.durationS !== undefined && wallClock) timer = setTimeout(stop, opts.durationS * 1000);
  let fileEnd = Infinity;

  let lastSec = 0;
  const clock = new SweepClock();
  // Packets the capture cut short (snap length): said in a notice and counted in warnings.
  let cutPackets = 0;
  let minCut = Infinity;
  let failure: unknown = null;
  const sliceMs = opts.sliceMs ?? Infinity;
  let turn = performance.now();
  try {
    outer: for await (const batch of source.packets()) {
      for (let i = 0; i < batch.length; i++) {
        if ((i & 63) === 63 && sliceMs !== Infinity && performance.now() - turn > sliceMs) {
          // Between two packets every table is consistent; the batch's frames stay valid (the
          // source hands out the next chunk only when asked).
          await new Promise<void>((r) => setImmediate(r));
          turn = performance.now();
          if (stopped) break outer;
        }
        const p = batch[i];
        if (opts.durationS !== undefined && !wallClock) {
          if (fileEnd === Infinity) fileEnd = p.tsSec + p.tsNsec / 1e9 + opts.durationS;
          else if (p.tsSec + p.tsNsec / 1e9 > fileEnd) {
            stop();
            break outer;
          }
        }
        stats.packets++;
        stats.bytes += p.origLen;
        if (p.caplen < p.origLen) {
          cutPackets++;
          if (p.caplen < minCut) minCut = p.caplen;
        }
        // Housekeeping before the packet, so a connection idle past its timeout ends before it.
        if (p.tsSec !== lastSec) {
          lastSec = p.tsSec;
          if (clock.see(lastSec)) {
            tcp.sweep(clock.now);
            udp.sweep(clock.now);
            icmp.sweep(clock.now);
            decoder.frags.sweep(clock.now);
          }
        }
        // Sources that read chunks give the frame's place in them: decoded in place, no view.
        const fb = p.buf;
        const st = fb !== undefined ? decoder.decodeAt(p.linkType, fb, p.off!, p.off! + p.caplen, p.tsSec) : decoder.decode(p.linkType, p.data, p.tsSec);
        if (packetSink) packetSink(p.tsSec, p.tsNsec, p.caplen, p.origLen, p.caplen < p.origLen, d.fragmented);
        if (st === Status.L4) {
          if (d.proto === 6) tcp.packet(d, p);
          else udp.packet(d, p);
        } else if (st === Status.Icmp) icmp.packet(d, p);
        else if (st === Status.Malformed) {
          stats.skipped++;
          host.account('malformed', 1);
        } else host.account(st === Status.FragmentHeld ? 'ip-fragment' : d.proto === -1 ? 'not-ip' : 'ip-other', 1);
        if (stopped && countReached) break outer;
      }
      reorder.release(clock.now);
      if (countReached) break;
      if (sinks.flush) {
        // Only a returned promise is awaited: live sources in immediate mode give a batch per
        // packet, and an await per batch (microtask turns) is time the capture thread lacks.
        const f = sinks.flush();
        if (f) {
          await f;
          turn = performance.now();
        }
      }
      if (sliceMs !== Infinity && performance.now() - turn > sliceMs) {
        await new Promise<void>((r) => setImmediate(r));
        turn = performance.now();
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // Unless --count was satisfied, what is in flight still becomes items (also after an input
  // error: everything complete before the bad byte is kept).
  if (!countReached) {
    tcp.endAll();
    udp.endAll();
    icmp.endAll();
    reorder.flush();
    if (sinks.flush) await sinks.flush();
  }
  let accounted = 0;
  for (const k in stats.packetsBy) accounted += stats.packetsBy[k];
  if (accounted < stats.packets) stats.packetsBy['in-flight'] = stats.packets - accounted;
  if (reorder.bytesCapReleases) stats.warnings['order.held-bytes-cap'] = reorder.bytesCapReleases;
  if (cutPackets) {
    stats.warnings['capture.snaplen-cut'] = cutPackets;
    stats.notices.push(`${cutPackets} of ${stats.packets} packets were cut short by the capture's snap length (as little as ${minCut} bytes kept): what lay beyond is missing, so messages may be incomplete (items say which); capture with a larger snap length (tcpdump -s 0)`);
  }
  stats.drops = source.drops();
  const ns = (source as PacketSource & NoticeSource).notices?.();
  if (ns) stats.notices.push(...ns);
  stats.elapsedMs = Math.round(performance.now() - t0);
  if (failure) {
    (failure as { stats?: CaptureStats }).stats = stats;
    throw failure;
  }
  return stats;
}

const leanItems = new Map<Protocol, Item>();

/** What a lean exchange puts in the reorder buffer: only its protocol is ever read. */
function leanItem(p: Protocol): Item {
  let it = leanItems.get(p);
  if (!it) leanItems.set(p, (it = { protocol: p } as Item));
  return it;
}

/** Opens `--pcap FILE|-`, `--interface IF [--filter BPF]` or a command. Throws CaptureError/UsageError. */
export async function openSource(spec: SourceSpec): Promise<PacketSource> {
  return openSourceSpec(spec);
}
