/** pcap/pcapng from a file, stdin, or any Readable (a tcpdump/ssh/kubectl pipe). */
import { statSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { CaptureError } from '../errors';
import type { PacketSource, RawPacket } from '../types';
import { PcapReader } from './pcap-reader';

/** Streamed in 1 MiB chunks: a capture of any size is never loaded whole. */
export const CHUNK_BYTES = 1024 * 1024;

/** A Readable (stdin, a pipe, tests) or a plain chunk sequence (regular files, readAhead). */
type ChunkInput = Readable | AsyncIterable<Buffer>;

export interface ReadableOptions {
  /** Items go out as they complete (PacketSource.live): pipes and stdin; realtime replays. */
  live?: boolean;
  /** 'realtime': packets are handed out paced by their capture timestamps (see pace()). */
  speed?: Speed;
  /** Size of a regular file: enables progress(). */
  totalBytes?: number;
}

/** How fast a file is replayed: as fast as it can be read, or paced like the recording. */
export type Speed = 'asap' | 'realtime';

export class ReadableSource implements PacketSource {
  readonly live: boolean;
  private stopped = false;
  private reader: PcapReader;
  private input: ChunkInput | null = null;
  private bytesRead = 0;
  /** Wakes a realtime wait early (stop()). */
  private wake: (() => void) | null = null;

  constructor(
    readonly name: string,
    private readonly label: string,
    private readonly open: () => ChunkInput,
    private readonly opts: ReadableOptions = {},
  ) {
    this.reader = new PcapReader(label);
    this.live = opts.live === true || opts.speed === 'realtime';
    if (opts.totalBytes !== undefined) this.progress = () => ({ bytesRead: this.bytesRead, totalBytes: opts.totalBytes! });
  }

  progress?: () => { bytesRead: number; totalBytes: number };

  async *packets(): AsyncGenerator<RawPacket[]> {
    const raw = (this.input = this.open());
    const input = this.progress ? this.counted(raw) : raw;
    const realtime = this.opts.speed === 'realtime';
    try {
      for await (const batch of this.reader.read(input)) {
        if (this.stopped) return;
        if (realtime) yield* this.pace(batch);
        else yield batch;
        if (this.stopped) return;
      }
    } catch (e) {
      if (this.stopped && (e as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw ioError(e, this.label);
    } finally {
      if (raw !== process.stdin && 'destroy' in raw) raw.destroy();
    }
  }

  private async *counted(input: ChunkInput): AsyncGenerator<Buffer> {
    for await (const c of input as AsyncIterable<Buffer>) {
      this.bytesRead += c.length;
      yield c;
    }
  }

  /** Realtime replay: wall time since the first packet follows capture time since it. */
  private anchorWall = -1;
  private anchorTs = 0;
  private lastTs = 0;

  /**
   * Splits a batch where a packet is not due yet and waits for it, so each packet is handed to
   * the pipeline at (wall clock at the first packet) + (its capture time − the first's). A
   * timestamp earlier than the one before (a clock stepped back) re-anchors there rather than
   * releasing everything after it at once; a jump ahead is waited out (stop() ends the wait).
   */
  private async *pace(batch: RawPacket[]): AsyncGenerator<RawPacket[]> {
    let from = 0;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const ts = p.tsSec * 1000 + p.tsNsec / 1e6;
      const now = performance.now();
      if (this.anchorWall < 0 || ts < this.lastTs) {
        this.anchorWall = now;
        this.anchorTs = ts;
      }
      this.lastTs = ts;
      const wait = this.anchorWall + (ts - this.anchorTs) - now;
      if (wait < 1) continue;
      if (i > from) yield batch.slice(from, i);
      from = i;
      await new Promise<void>((res) => {
        const t = setTimeout(res, wait);
        this.wake = () => (clearTimeout(t), res());
      });
      this.wake = null;
      if (this.stopped) return;
    }
    yield from === 0 ? batch : batch.slice(from);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    // A pipe with no traffic would keep the read pending forever: end it now.
    const input = this.input;
    if (input && this.live && 'destroy' in input) input.destroy();
  }

  drops(): null {
    return null;
  }

  notices(): string[] {
    return this.reader.truncated ? [this.reader.truncated] : [];
  }
}

/** Turns fs errors into one-line CaptureErrors; CaptureErrors pass through. */
export function ioError(e: unknown, label: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'CaptureError') return err;
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  if (err?.code && why[err.code]) return new CaptureError(`cannot read ${label}: ${why[err.code]}`);
  if (err?.code) return new CaptureError(`cannot read ${label}: ${err.message}`);
  return err instanceof Error ? err : new Error(String(e));
}

/**
 * `-` is stdin (live: a pipe delivers as traffic happens); anything else a regular file, read
 * as fast as possible or, with speed 'realtime', paced like the recording (and then live).
 */
export function fileSource(path: string, speed: Speed = 'asap'): PacketSource {
  if (path === '-') return new ReadableSource('file/stdin', 'stdin', () => process.stdin, { live: true, speed });
  let totalBytes: number | undefined;
  try {
    totalBytes = statSync(path).size;
  } catch {
    // Reported by the read, with the usual one-line message.
  }
  return new ReadableSource(`file/${basename(path)}`, path, () => readAhead(path), { speed, totalBytes });
}

/** Bytes per read(2): several CHUNK_BYTES chunks, handed out one by one. */
const READ_BYTES = 4 * CHUNK_BYTES;

/**
 * A regular file in CHUNK_BYTES chunks, the next read already in flight while the pipeline works
 * on the current chunk. createReadStream (used before) started its next read only once the
 * consumer waited (it runs on nextTick, after our synchronous batch): measured 1–2 ms idle per
 * chunk, ~8% of `items --quiet`. Same chunk sizes as before, so the same batches; but each read
 * fills READ_BYTES and the chunks are adjacent views of it, so a record spanning two chunks of
 * one read is not copied by the reader (only one per READ_BYTES is).
 */
export async function* readAhead(path: string, readBytes = READ_BYTES): AsyncGenerator<Buffer> {
  const fh = await openFile(path, 'r');
  // Three read buffers in turn: read k+1 goes into the one that held read k-2. By then every
  // packet of read k-2 has been through the pipeline and the reader's leftover tail of read k-1
  // is what it still reads. Everything downstream copies what it keeps (RawPacket's contract;
  // test/capture/reader.test.ts runs a capture through tiny reads to prove it), so a fresh
  // 4 MiB allocation per read, and its ~1,000 page faults (~10% of `items --quiet`), is not
  // needed.
  const ring: Buffer[] = [];
  let turn = 0;
  const read = async (at: number): Promise<Buffer> => {
    const i = turn++ % 3;
    const buf = (ring[i] ??= Buffer.allocUnsafeSlow(readBytes));
    const { bytesRead } = await fh.read(buf, 0, readBytes, at);
    return bytesRead === readBytes ? buf : buf.subarray(0, bytesRead);
  };
  let next: Promise<Buffer> | null = read(0);
  let pos = 0;
  try {
    for (;;) {
      const big: Buffer = await next;
      next = null;
      if (big.length === 0) return;
      pos += big.length;
      next = read(pos);
      next.catch(() => {}); // surfaces when awaited; no unhandled rejection if we stop first
      for (let o = 0; o < big.length; o += CHUNK_BYTES) yield big.subarray(o, Math.min(big.length, o + CHUNK_BYTES));
    }
  } finally {
    if (next) await next.catch(() => {});
    await fh.close();
  }
}
