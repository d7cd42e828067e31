/**
 * `pcap.*` backing. The capture side (`PcapStreamWriter`, fed by the pipeline's
 * `streamPacket(stream, pkt)` sink) appends each L4 stream's packets to `<dir>/<stream>` as a
 * nanosecond pcap; the runtime side (`PcapHelpers`) answers `pcap.path` from those files and
 * merges them for `pcap.snapshot`. Only wired when a script mentions `pcap` (static check),
 * so there is no cost otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawPacket } from '../../capture/types';

const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US = 0xa1b2c3d4;

function fileHeader(linkType: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(MAGIC_NS, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

function record(p: { tsSec: number; tsNsec: number; data: Buffer; origLen: number }): Buffer {
  const r = Buffer.allocUnsafe(16 + p.data.length);
  r.writeUInt32LE(p.tsSec >>> 0, 0);
  r.writeUInt32LE(p.tsNsec >>> 0, 4);
  r.writeUInt32LE(p.data.length, 8);
  r.writeUInt32LE(p.origLen, 12);
  p.data.copy(r, 16);
  return r;
}

/** Capture side: one pcap file per stream, written as packets arrive (bounded set of open files). */
export class PcapStreamWriter {
  private fds = new Map<string, number>();
  private started = new Set<string>();
  /** Why recording stopped (a full disk, the folder gone); null while it works. */
  failure: string | null = null;

  /** `onFail`: told once when recording stops; the capture goes on without it. */
  constructor(readonly dir: string, private maxOpen = 256, private onFail: (why: string) => void = () => {}) {
    fs.mkdirSync(dir, { recursive: true });
  }

  streamPacket(stream: string, pkt: RawPacket): void {
    if (this.failure !== null || !/^[\w.-]+$/.test(stream)) return;
    try {
      this.write(stream, pkt);
    } catch (e) {
      // A full disk must not end the capture (its items matter more than the stream pcaps):
      // recording stops, files keep what was written (readPcap drops a partly written record).
      this.failure = `recording stream packets for pcap.* in ${this.dir} stopped: ${(e as Error).message}`;
      this.close();
      this.onFail(this.failure);
    }
  }

  private write(stream: string, pkt: RawPacket): void {
    let fd = this.fds.get(stream);
    if (fd === undefined) {
      fd = fs.openSync(path.join(this.dir, stream), this.started.has(stream) ? 'a' : 'w');
      if (!this.started.has(stream)) {
        fs.writeSync(fd, fileHeader(pkt.linkType));
        this.started.add(stream);
      }
      if (this.fds.size >= this.maxOpen) {
        const [oldest, ofd] = this.fds.entries().next().value as [string, number];
        fs.closeSync(ofd);
        this.fds.delete(oldest);
      }
    } else this.fds.delete(stream); // re-inserted below: Map order = least recently used first
    this.fds.set(stream, fd);
    fs.writeSync(fd, record(pkt));
  }

  close(): void {
    for (const fd of this.fds.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        // closing after a failed write: nothing more to lose
      }
    }
    this.fds.clear();
  }
}

interface Rec { sec: number; nsec: number; buf: Buffer }

/** Reads a pcap written by us (or any classic pcap) → link type + records. */
export function readPcap(file: string): { linkType: number; recs: Rec[] } {
  const b = fs.readFileSync(file);
  if (b.length < 24) throw new Error(`pcap: ${file} is not a pcap file`);
  const magic = b.readUInt32LE(0);
  if (magic !== MAGIC_NS && magic !== MAGIC_US) throw new Error(`pcap: ${file} is not a little-endian pcap file`);
  const scale = magic === MAGIC_US ? 1000 : 1;
  const recs: Rec[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const incl = b.readUInt32LE(o + 8);
    if (o + 16 + incl > b.length) break; // a partly written last record
    recs.push({ sec: b.readUInt32LE(o), nsec: b.readUInt32LE(o + 4) * scale, buf: b.subarray(o, o + 16 + incl) });
    o += 16 + incl;
  }
  return { linkType: b.readUInt32LE(20), recs };
}

/** Runtime side. */
export class PcapHelpers {
  private names: Record<string, Record<string, { FullAddress: string; Namespace: string }>> = {};

  constructor(private pcapDir: string, private outDir: () => string, private resolveDir: (p: string) => string) {}

  path(stream: unknown): string {
    if (typeof stream !== 'string' || !/^[\w.-]+$/.test(stream)) throw new Error(`pcap.path: expected a stream name like "000000000042.pcap", got ${JSON.stringify(stream)}`);
    const p = path.join(this.pcapDir, stream);
    if (!fs.existsSync(p)) throw new Error(`pcap.path: no packets recorded for stream ${stream}`);
    return p;
  }

  /** Merges stream pcaps (all, the listed base names, or the files in `dir`) into `<outDir>/<UNIX_TS>.pcap`. */
  snapshot(selected: unknown, dir: unknown): string {
    let files: string[];
    if (typeof dir === 'string' && dir !== '') {
      const d = this.resolveDir(dir);
      files = fs.readdirSync(d).filter((f) => f.endsWith('.pcap')).map((f) => path.join(d, f));
    } else if (Array.isArray(selected) && selected.length > 0) {
      files = selected.map((s) => this.path(path.basename(String(s))));
    } else if (typeof selected === 'string' && selected !== '') {
      // The docs' `pcap.snapshot(dir)` form.
      return this.snapshot(null, selected);
    } else {
      files = fs.existsSync(this.pcapDir) ? fs.readdirSync(this.pcapDir).filter((f) => f.endsWith('.pcap')).map((f) => path.join(this.pcapDir, f)) : [];
    }
    let linkType = -1;
    const recs: Rec[] = [];
    for (const f of files) {
      // A stream file cut before its header (recording stopped on a full disk) has no packet.
      if (fs.statSync(f).size < 24 && f.startsWith(this.pcapDir + path.sep)) continue;
      const p = readPcap(f);
      if (linkType === -1) linkType = p.linkType;
      if (p.linkType !== linkType) continue; // one link type per classic pcap file
      recs.push(...p.recs);
    }
    recs.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    const outDir = this.outDir();
    let out = path.join(outDir, `${Math.floor(Date.now() / 1000)}.pcap`);
    for (let n = 1; fs.existsSync(out); n++) out = path.join(outDir, `${Math.floor(Date.now() / 1000)}_${n}.pcap`);
    const parts = [fileHeader(linkType === -1 ? 1 : linkType)];
    for (const r of recs) {
      // Rewrite the header in ns units (the source may have been a µs pcap).
      const h = Buffer.from(r.buf.subarray(0, 16));
      h.writeUInt32LE(r.nsec, 4);
      parts.push(h, r.buf.subarray(16));
    }
    try {
      fs.writeFileSync(out, Buffer.concat(parts));
    } catch (e) {
      // A full disk: no half-written snapshot is left behind to be mistaken for a whole one.
      fs.rmSync(out, { force: true });
      throw new Error(`pcap.snapshot: cannot write ${out}: ${(e as Error).message}; no snapshot was written`);
    }
    return out;
  }

  /** Records the answers of a DNS item for `nameResolutionHistory()`. */
  observeDns(item: { timestamp?: number; response?: { answers?: { name?: string; ip?: string }[] } }): void {
    const answers = item.response?.answers;
    if (!Array.isArray(answers)) return;
    for (const a of answers) {
      if (!a?.ip || a.ip === '<nil>' || !a.name) continue;
      const ts = String(Math.floor((item.timestamp ?? Date.now()) / 1000));
      (this.names[ts] ??= {})[a.ip] = { FullAddress: a.name, Namespace: '' };
    }
  }

  nameResolutionHistory(): typeof this.names {
    return this.names;
  }
}
