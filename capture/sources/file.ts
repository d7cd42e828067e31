/** pcap/pcapng from a file, stdin, or any Readable (a tcpdump/ssh/kubectl pipe). */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { CaptureError } from '../errors';
import type { PacketSource, RawPacket } from '../types';
import { PcapReader } from './pcap-reader';

/** Streamed in 1 MiB chunks: a capture of any size is never loaded whole. */
export const CHUNK_BYTES = 1024 * 1024;

export class ReadableSource implements PacketSource {
  private stopped = false;
  private reader: PcapReader;
  private input: Readable | null = null;

  constructor(
    readonly name: string,
    private readonly label: string,
    private readonly open: () => Readable,
  ) {
    this.reader = new PcapReader(label);
  }

  async *packets(): AsyncGenerator<RawPacket[]> {
    const input = (this.input = this.open());
    try {
      for await (const batch of this.reader.read(input)) {
        yield batch;
        if (this.stopped) return;
      }
    } catch (e) {
      if (this.stopped && (e as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw ioError(e, this.label);
    } finally {
      if (input !== process.stdin) input.destroy();
    }
  }

  stop(): void {
    this.stopped = true;
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

export function fileSource(path: string): PacketSource {
  if (path === '-') return new ReadableSource('file/stdin', 'stdin', () => process.stdin);
  return new ReadableSource(`file/${basename(path)}`, path, () => createReadStream(path, { highWaterMark: CHUNK_BYTES }));
}
