/**
 * A capture session: one source at a time (file, live interface, or a command's pcap stream)
 * run through the capture pipeline into the item store and the hook runtime. Started, stopped
 * and switched without restarting the process. The language server owns one; the callbacks
 * tell it what happened, and it decides what reaches the editor (rates, queries).
 */
import * as fs from 'node:fs';
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import { WarmUp } from './warmup';
import type { Item } from '../../capture/item/schema';
import { openSourceSpec } from '../../capture/sources/open';
import type { PacketSource, RawPacket } from '../../capture/types';
import type { CaptureSource, CaptureState, PlaySpeed, StartCaptureResult } from '../protocol';
import type { RuntimeClient } from '../runtime/client';
import type { PacketKeeper } from './packets';
import type { ItemStore } from './store';

export interface SessionHooks {
  /** The runtime items go to, or null when no script runs. */
  runtime(): RuntimeClient | null;
  /** Some loaded script has onPacketCaptured. */
  wantsPackets(): boolean;
  /** After an item is stored and handed to the runtime. */
  item(item: Item): void;
  /** After each pipeline batch (the server runs onItemQueried, flushes previews). May be awaited. */
  batch(): void | Promise<void>;
  state(s: CaptureState): void;
  /** The capture ended (file played, stopped, failed) with the pipeline's final stats. */
  ended(stats: CaptureStats | null): void;
  /** The capture's first packet was handed over (the latency trace's zero: a realtime replay hands packet i over at this moment + its offset). */
  firstPacket?(sec: number, nsec: number): void;
}

/** Live counters; the pipeline's own stats arrive only when it ends. */
export interface LiveCounters {
  packets: number;
  bytes: number;
  itemsByProtocol: Record<string, number>;
  items: number;
}

/**
 * The capture shares the server's thread with LSP requests: it yields to the event loop after
 * this much work (runPipeline's sliceMs), so a completion never waits behind a whole chunk of
 * packets. Measured: docs/protocol.md, "Threads".
 */
const SLICE_MS = Number(process.env.WIREHOOK_SLICE_MS ?? 8);

/** Stream numbers never repeat in one process, so item ids never do (docs/protocol.md). */
const streamCounter = (() => {
  let n = 0;
  return { next: () => ++n };
})();

export class CaptureSession {
  private seq = 0;
  private current: { source: PacketSource; abort: AbortController; done: Promise<void> } | null = null;
  private st: CaptureState = { session: 0, source: null, running: false, speed: 'asap', finished: false };
  counters: LiveCounters = { packets: 0, bytes: 0, itemsByProtocol: {}, items: 0 };
  lastStats: CaptureStats | null = null;

  constructor(
    private readonly store: ItemStore,
    private readonly packetKeeper: PacketKeeper | null,
    private readonly hooks: SessionHooks,
  ) {}

  /** The idle-time warm-up of the capture path (warmup.ts); start() cancels it first. */
  readonly warm = new WarmUp();

  get state(): CaptureState {
    const s = this.current?.source as (PacketSource & { progress?(): { bytesRead: number; totalBytes: number } }) | undefined;
    const progress = this.st.running ? s?.progress?.() : undefined;
    return progress ? { ...this.st, progress } : { ...this.st };
  }

  /** The source's kernel drop counters, while it runs. */
  drops(): { kernel: number; ifdrop: number } | null {
    return this.current?.source.drops() ?? this.lastStats?.drops ?? null;
  }

  /** Stops what runs, clears the store, opens the new source and starts playing it. Throws CaptureError. */
  async start(src: CaptureSource, speed: PlaySpeed = 'asap', mode: 'latency' | 'throughput' = 'throughput'): Promise<StartCaptureResult> {
    validate(src);
    await this.warm.cancel();
    await this.stop();
    const session = ++this.seq;
    this.st = { session, source: describe(src), running: false, speed, finished: false };
    let source: PacketSource;
    try {
      // `latency`: each live packet is handed over at once (docs/protocol.md, "Live mode").
      source = await openSourceSpec({ ...src, ...(src.pcap !== undefined ? { speed } : {}), immediate: mode === 'latency' });
    } catch (e) {
      this.st.error = (e as Error).message;
      this.hooks.state(this.state);
      throw e;
    }
    // Stream names start again with each capture: what is kept of the last one goes.
    this.store.clear();
    this.packetKeeper?.clear();
    this.counters = { packets: 0, bytes: 0, itemsByProtocol: {}, items: 0 };
    this.lastStats = null;
    this.st = { session, source: source.name, running: true, speed, finished: false };
    const abort = new AbortController();
    const done = this.play(source, abort, session);
    this.current = { source, abort, done };
    this.hooks.state(this.state);
    return { session, source: source.name };
  }

  private async play(source: PacketSource, abort: AbortController, session: number): Promise<void> {
    const c = this.counters;
    const keeper = this.packetKeeper;
    let stats: CaptureStats | null = null;
    let error: string | undefined;
    try {
      stats = await runPipeline(
        source,
        {
          item: (item) => {
            this.store.add(item);
            c.items++;
            const p = item.protocol.name;
            c.itemsByProtocol[p] = (c.itemsByProtocol[p] ?? 0) + 1;
            this.hooks.runtime()?.captured(item);
            this.hooks.item(item);
          },
          packet: (sec, nsec, caplen, len, tr, fr) => {
            if (c.packets++ === 0) this.hooks.firstPacket?.(sec, nsec);
            c.bytes += len;
            if (this.hooks.wantsPackets()) this.hooks.runtime()?.packet(sec, nsec, caplen, len, tr, fr);
          },
          streamPacket: keeper ? (stream: string, pkt: RawPacket) => keeper.add(stream, pkt) : undefined,
          // Synchronous unless something must be waited for (see runPipeline's flush).
          flush: () => {
            const b = this.hooks.batch();
            if (b) return b.then(() => this.hooks.runtime()?.flush());
            return this.hooks.runtime()?.flush();
          },
        },
        { signal: abort.signal, streams: streamCounter, sliceMs: SLICE_MS },
      );
    } catch (e) {
      error = (e as Error).message;
      stats = (e as { stats?: CaptureStats }).stats ?? null;
    }
    if (session !== this.st.session) return;
    this.lastStats = stats;
    this.st = { ...this.st, running: false, finished: !error && !abort.signal.aborted, ...(error ? { error } : {}) };
    try {
      await this.hooks.batch();
    } finally {
      this.hooks.ended(stats);
      this.hooks.state(this.state);
    }
  }

  /** Stops the running capture (what is complete stays stored); resolves when it has ended. */
  async stop(): Promise<CaptureState> {
    const cur = this.current;
    if (cur) {
      cur.abort.abort();
      await cur.done;
      this.current = null;
    }
    return this.state;
  }
}

function validate(src: CaptureSource): void {
  const n = (src.pcap !== undefined ? 1 : 0) + (src.interface !== undefined ? 1 : 0) + (src.command !== undefined ? 1 : 0);
  if (n !== 1) throw Object.assign(new Error('give exactly one of source.pcap, source.interface or source.command'), { name: 'CaptureError' });
  if (src.command !== undefined && (!Array.isArray(src.command) || !src.command.length || src.command.some((a) => typeof a !== 'string')))
    throw Object.assign(new Error('source.command must be a non-empty array of strings (argv, no shell)'), { name: 'CaptureError' });
  // The server's stdin is its LSP channel: a pcap stream comes from a command instead.
  if (src.pcap === '-') throw Object.assign(new Error("source.pcap '-' (stdin) is not available here: give a command whose stdout is the pcap stream, e.g. {command: ['cat', 'file.pcap']}"), { name: 'CaptureError' });
  if (src.pcap !== undefined && !fs.existsSync(src.pcap))
    throw Object.assign(new Error(`no such capture file: ${src.pcap}`), { name: 'CaptureError' });
}

function describe(src: CaptureSource): string {
  if (src.pcap !== undefined) return `file/${src.pcap}`;
  if (src.interface !== undefined) return `local/${src.interface}`;
  return `command/${src.command?.[0] ?? ''}`;
}
