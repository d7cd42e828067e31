/**
 * The packets behind stored items, for pcap export: every L4 stream's packets (the pipeline's
 * `streamPacket` sink) appended to segment files in `dir`. Each record carries the position of
 * the same stream's previous record, so memory holds only a few numbers per stream, not per
 * packet; writing a stream walks its chain back. Past `maxBytes` the oldest segment is deleted
 * together with every stream that started in it (a stream is kept whole or not at all), and
 * counted in `stats().droppedStreams`. Decision and figures: docs/store.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { RawPacket } from '../../capture/types';

export interface PacketKeeperOptions {
  maxBytes: number;
  dir: string;
}

export interface PacketStats {
  streams: number;
  packets: number;
  /** Bytes in segment files and the write buffer. */
  bytes: number;
  droppedStreams: number;
}

interface StreamState {
  first: number;
  last: number;
  linkType: number;
  packets: number;
}

interface Segment {
  start: number;
  size: number;
  fd: number;
  file: string;
  /** Background writes in flight to it: its fd is closed once they are done. */
  writes: number;
  dropped: boolean;
}

/** Record: previous record's position (f64, -1 for none) + pcap record header (16) + frame. */
const PREV = 8;
const HDR = 16;
const WRITE_BUF = 1 << 20;
const PCAP_NS = 0xa1b23c4d;
const GONE_KEPT = 4096;

export class PacketKeeper {
  private readonly maxBytes: number;
  private readonly dir: string;
  private readonly segBytes: number;
  private streams = new Map<string, StreamState>();
  /** Streams in order of their first record (positions only grow), for dropping the oldest. */
  private order: { stream: string; first: number }[] = [];
  private orderHead = 0;
  private segs: Segment[] = [];
  private wbuf: Buffer = Buffer.allocUnsafeSlow(WRITE_BUF);
  /**
   * The other write buffer: a full one is written in the background (a 1 MB writeSync measured
   * 5–10 ms on this disk, ~15 times a second at 10k items/s: the server's event loop stalled)
   * while packets go into this one. One write in flight at most; past it, writes are synchronous.
   */
  private spare: Buffer | null = null;
  private inFlight: Promise<void> | null = null;
  private wUsed = 0;
  /** Position of wbuf[0]: every byte ever written before it. */
  private wStart = 0;
  private diskBytes = 0;
  private packetCount = 0;
  private dropped = 0;
  /** Names of streams dropped while perhaps still active: their later packets are not kept (a stream is whole or absent). */
  private gone = new Set<string>();
  private fileSeq = 0;
  /** Exports under way: segments are not deleted under them (the bound is restored after). */
  private writing = 0;

  constructor(opts: PacketKeeperOptions) {
    if (!(opts.maxBytes > 0)) throw new Error(`packet keeper: maxBytes must be positive (got ${opts.maxBytes})`);
    this.maxBytes = opts.maxBytes;
    this.dir = opts.dir;
    this.segBytes = Math.max(1 << 20, Math.min(64 << 20, Math.floor(opts.maxBytes / 8)));
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Copies the frame (pkt.data may be a reused view). */
  add(stream: string, pkt: RawPacket): void {
    const data = pkt.buf !== undefined ? pkt.buf.subarray(pkt.off!, pkt.off! + pkt.caplen) : pkt.data;
    const len = PREV + HDR + data.length;
    // A frame bigger than the write buffer (jumbo/GRO) is written straight through.
    const big = len > this.wbuf.length;
    if (big || this.wUsed + len > this.wbuf.length) this.flush(len, !big);
    const pos = this.wStart + this.wUsed;
    let st = this.streams.get(stream);
    if (!st) {
      if (this.gone.has(stream)) return;
      st = { first: pos, last: -1, linkType: pkt.linkType, packets: 0 };
      this.streams.set(stream, st);
      this.order.push({ stream, first: pos });
    }
    const b = big ? Buffer.allocUnsafe(len) : this.wbuf;
    const o = big ? 0 : this.wUsed;
    b.writeDoubleLE(st.last, o);
    b.writeUInt32LE(pkt.tsSec >>> 0, o + 8);
    b.writeUInt32LE(pkt.tsNsec >>> 0, o + 12);
    b.writeUInt32LE(data.length, o + 16);
    b.writeUInt32LE(pkt.origLen >>> 0, o + 20);
    data.copy(b, o + PREV + HDR);
    if (big) {
      this.append(b);
      this.wStart += len;
    } else this.wUsed += len;
    st.last = pos;
    st.packets++;
    this.packetCount++;
  }

  has(stream: string): boolean {
    return this.streams.has(stream);
  }

  stats(): PacketStats {
    return { streams: this.streams.size, packets: this.packetCount, bytes: this.diskBytes + this.wUsed, droppedStreams: this.dropped };
  }

  /**
   * Writes the listed streams' packets, merged in time order, to a nanosecond pcap at `file`.
   * Streams not kept (never seen, or dropped) are skipped. Returns the packets written.
   */
  async write(streams: string[], file: string): Promise<number> {
    this.flush(0);
    this.writing++;
    // Records are read back from the files: a background write must have landed.
    while (this.inFlight) await this.inFlight;
    try {
      return await this.writeLocked(streams, file);
    } finally {
      this.writing--;
      this.flush(0);
    }
  }

  private async writeLocked(streams: string[], file: string): Promise<number> {
    const recs: { sec: number; nsec: number; pos: number; len: number }[] = [];
    let linkType = -1;
    const hdr = Buffer.alloc(PREV + HDR);
    for (const name of new Set(streams)) {
      const st = this.streams.get(name);
      if (!st) continue;
      if (linkType === -1) linkType = st.linkType;
      if (st.linkType !== linkType) continue; // a classic pcap has one link type
      for (let pos = st.last; pos >= 0; ) {
        this.read(hdr, pos);
        recs.push({ sec: hdr.readUInt32LE(8), nsec: hdr.readUInt32LE(12), pos, len: PREV + HDR + hdr.readUInt32LE(16) });
        pos = hdr.readDoubleLE(0);
      }
    }
    recs.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.pos - b.pos);
    const out = await fs.promises.open(file, 'w');
    try {
      const head = Buffer.alloc(24);
      head.writeUInt32LE(PCAP_NS, 0);
      head.writeUInt16LE(2, 4);
      head.writeUInt16LE(4, 6);
      head.writeUInt32LE(262144, 16);
      head.writeUInt32LE(linkType === -1 ? 1 : linkType, 20);
      const buf = Buffer.allocUnsafe(WRITE_BUF);
      head.copy(buf);
      let used = 24;
      for (const r of recs) {
        const n = r.len - PREV;
        if (used + n > buf.length) {
          await out.write(buf, 0, used);
          used = 0;
        }
        if (n > buf.length) {
          const big = Buffer.allocUnsafe(r.len);
          this.read(big, r.pos);
          await out.write(big, PREV, n);
          continue;
        }
        this.readInto(buf, used, r.pos + PREV, n);
        used += n;
      }
      await out.write(buf, 0, used);
    } finally {
      await out.close();
    }
    return recs.length;
  }

  clear(): void {
    for (const s of this.segs) this.unlink(s);
    this.segs = [];
    this.streams.clear();
    this.order = [];
    this.orderHead = 0;
    this.wStart += this.wUsed;
    this.wUsed = 0;
    this.diskBytes = 0;
    this.packetCount = 0;
    this.dropped = 0;
    this.gone.clear();
  }

  /** Closes the files and deletes them. */
  close(): void {
    this.clear();
  }

  // ---------------------------------------------------------------- disk

  /**
   * Moves the write buffer to the current segment (a new one when full), in the background when
   * asked and no other write is in flight, then enforces maxBytes.
   */
  private flush(incoming: number, background = false): void {
    if (this.wUsed > 0) {
      const full = this.wbuf.subarray(0, this.wUsed);
      if (background && !this.inFlight) {
        this.append(full, this.wbuf);
        const b = this.spare ?? Buffer.allocUnsafeSlow(WRITE_BUF);
        this.spare = null;
        this.wbuf = b;
      } else this.append(full);
      this.wStart += this.wUsed;
      this.wUsed = 0;
    }
    // Leave room for what is about to be buffered.
    while (this.writing === 0 && this.diskBytes + Math.min(incoming, WRITE_BUF) + WRITE_BUF > this.maxBytes && this.segs.length > 0) this.dropOldest();
  }

  /** With `whole` (the write buffer `bytes` is part of), written in the background; `whole` becomes the spare after. */
  private append(bytes: Buffer, whole?: Buffer): void {
    let seg = this.segs[this.segs.length - 1];
    if (!seg || seg.size >= this.segBytes) {
      const file = path.join(this.dir, `packets-${process.pid}-${++this.fileSeq}.seg`);
      seg = { start: this.wStart, size: 0, fd: fs.openSync(file, 'w+'), file, writes: 0, dropped: false };
      this.segs.push(seg);
    }
    const at = seg.size;
    seg.size += bytes.length;
    this.diskBytes += bytes.length;
    if (!whole) {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(seg.fd, bytes, done, bytes.length - done, at + done);
      return;
    }
    const s = seg;
    s.writes++;
    this.inFlight = (async () => {
      try {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await fsp.write(s.fd, bytes, done, bytes.length - done, at + done);
          if (bytesWritten <= 0) break;
          done += bytesWritten;
        }
      } catch {
        // A segment dropped meanwhile (its file is gone), or a full disk: an export of these
        // streams then fails with "not on disk" rather than the capture.
      } finally {
        s.writes--;
        if (s.dropped && s.writes === 0) closeQuietly(s.fd);
        this.spare = whole;
        this.inFlight = null;
      }
    })();
  }

  private dropOldest(): void {
    const s = this.segs.shift()!;
    this.diskBytes -= s.size;
    this.unlink(s);
    const keepFrom = this.segs.length > 0 ? this.segs[0].start : this.wStart;
    // Every stream that started before the oldest remaining byte has lost packets: drop it whole.
    while (this.orderHead < this.order.length && this.order[this.orderHead].first < keepFrom) {
      const { stream, first } = this.order[this.orderHead++];
      const st = this.streams.get(stream);
      if (st && st.first === first) {
        this.streams.delete(stream);
        this.packetCount -= st.packets;
        this.dropped++;
        this.gone.add(stream);
        if (this.gone.size > GONE_KEPT) this.gone.delete(this.gone.values().next().value!);
      }
    }
    if (this.orderHead > 4096 && this.orderHead > this.order.length / 2) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  private unlink(s: Segment): void {
    s.dropped = true;
    if (s.writes === 0) closeQuietly(s.fd);
    try {
      fs.unlinkSync(s.file);
    } catch {
      // already gone
    }
  }

  private read(into: Buffer, pos: number): void {
    this.readInto(into, 0, pos, into.length);
  }

  private readInto(into: Buffer, at: number, pos: number, len: number): void {
    // Segments are in position order; records never straddle two.
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segs[mid].start <= pos) lo = mid;
      else hi = mid - 1;
    }
    const s = this.segs[lo];
    if (!s || pos < s.start || pos + len > s.start + s.size) throw new Error(`packet keeper: record at ${pos} is not on disk`);
    fs.readSync(s.fd, into, at, len, pos - s.start);
  }
}

const fsp = { write: promisify(fs.write) as unknown as (fd: number, b: Buffer, off: number, len: number, pos: number) => Promise<{ bytesWritten: number }> };

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
