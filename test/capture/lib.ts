/** Capture-test plumbing: recorded mixes, pcap writing, the CLI and tshark as peers. */
import { spawnSync } from 'node:child_process';
import { captureLoopback, scenarioCapture } from '../helpers/capture';
import { getOnce, startLongPollServer } from '../helpers/traffic';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const OUT = resolve('test', '.out', 'capture');
mkdirSync(OUT, { recursive: true });
let n = 0;
export function outFile(ext: string): string {
  return join(OUT, `t-${process.pid}-${++n}.${ext}`);
}

/** Records real loopback traffic (see test/helpers/capture.ts) into this suite's output folder. */
export function record(bpf: string, run: () => Promise<void>, opts: { file?: string; nano?: boolean; iface?: string; extra?: string[] } = {}): Promise<string> {
  return captureLoopback(bpf, run, { ...opts, file: opts.file ?? outFile('pcap') });
}

/** The helpers' HTTP + DNS scenarios, recorded once per process and variant, with exchange counts. */
export async function mixCapture(variant: { nano?: boolean; iface?: string } = {}): Promise<{ file: string; http: number; dns: number }> {
  const r = await scenarioCapture(variant);
  return { file: r.file, http: r.http.length, dns: r.dns.length };
}

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export const CLI = resolve('dist', 'cli.js');
export function cli(args: string[], input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

import { readFileSync, writeFileSync } from 'node:fs';
import { PcapReader } from '../../capture/sources/pcap-reader';
import type { RawPacket } from '../../capture/types';

/** Every packet of a capture file, copied out. */
export async function readAll(file: string): Promise<RawPacket[]> {
  const r = new PcapReader(file);
  const out: RawPacket[] = [];
  for await (const b of r.read([readFileSync(file)])) for (const p of b) out.push({ ...p, data: Buffer.from(p.data) });
  return out;
}

/** Writes a classic pcap (µs, little-endian unless `be`, ns when `nano`). */
export function writePcap(file: string, pkts: RawPacket[], linkType = pkts[0]?.linkType ?? 1, opts: { be?: boolean; nano?: boolean } = {}): string {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number) => (opts.be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (opts.be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  w32(h, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, 262144, 16);
  w32(h, linkType, 20);
  parts.push(h);
  for (const p of pkts) {
    const r = Buffer.alloc(16);
    w32(r, p.tsSec, 0);
    w32(r, opts.nano ? p.tsNsec : Math.floor(p.tsNsec / 1000), 4);
    w32(r, p.data.length, 8);
    w32(r, p.origLen - p.caplen + p.data.length, 12);
    parts.push(r, p.data);
  }
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** tshark's view of a file: one line per frame with the given fields. */
export function tsharkFields(file: string, fields: string[], filter?: string): string[] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=|'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  return sh('tshark', args).split('\n').filter(Boolean);
}

/** The quick requests of longPollTraffic(), in the order they are sent. */
export const QUICK = ['/a', '/b', '/c'];

/** Real traffic: a long-poll held open, then three quick requests on connections of their own. */
export async function longPollTraffic(port: number, polled: () => Promise<void>): Promise<{ poll: Promise<string> }> {
  const poll = getOnce(port, '/poll');
  await polled();
  for (const p of QUICK) await getOnce(port, p);
  return { poll }; // wrapped: an async function returning the promise itself would wait for it
}

let pollRecording: Promise<string> | null = null;
/** A recording of longPollTraffic() that ends while the long-poll is still open (its request has no response in it). */
export function pollCapture(): Promise<string> {
  return (pollRecording ??= (async () => {
    const srv = await startLongPollServer();
    let poll: Promise<string> = Promise.resolve('');
    const file = await record(`tcp port ${srv.port}`, async () => {
      ({ poll } = await longPollTraffic(srv.port, () => srv.polled()));
    });
    srv.release();
    await poll;
    await srv.close();
    return file;
  })());
}

/**
 * One TCP connection 10.0.0.1:port → 10.0.0.2:80 as Ethernet/IPv4 frames: handshake, `segs`,
 * FIN both ways. Segments whose index is in `drop` take their sequence space but are not written
 * (a hole the capture never saw). Packets are `stepNs` apart from `t0`.
 */
export function tcpConversation(segs: [0 | 1, Buffer][], opts: { drop?: Set<number>; port?: number; t0?: number; stepNs: number }): RawPacket[] {
  const { drop = new Set<number>(), port = 40000, t0 = 1_700_000_000, stepNs } = opts;
  const seq = [1000, 5000];
  let t = 0;
  const out: RawPacket[] = [];
  const frame = (dir: 0 | 1, flags: number, payload: Buffer, keep = true) => {
    const data = Buffer.alloc(54 + payload.length);
    data.writeUInt16BE(0x0800, 12);
    data[14] = 0x45;
    data.writeUInt16BE(40 + payload.length, 16);
    data[22] = 64;
    data[23] = 6;
    const [a, b] = dir === 0 ? [0x0a000001, 0x0a000002] : [0x0a000002, 0x0a000001];
    data.writeUInt32BE(a, 26);
    data.writeUInt32BE(b, 30);
    data.writeUInt16BE(dir === 0 ? port : 80, 34);
    data.writeUInt16BE(dir === 0 ? 80 : port, 36);
    data.writeUInt32BE(seq[dir] >>> 0, 38);
    data.writeUInt32BE(seq[1 - dir] >>> 0, 42);
    data[46] = 0x50;
    data[47] = flags;
    data.writeUInt16BE(65535, 48);
    payload.copy(data, 54);
    seq[dir] += payload.length + (flags & 0x03 ? 1 : 0);
    t++;
    if (keep) out.push({ linkType: 1, tsSec: t0 + Math.floor((t * stepNs) / 1e9), tsNsec: (t * stepNs) % 1e9, caplen: data.length, origLen: data.length, data, interfaceId: 0, offset: 0 });
  };
  const none = Buffer.alloc(0);
  frame(0, 0x02, none);
  frame(1, 0x12, none);
  frame(0, 0x10, none);
  segs.forEach(([dir, p], i) => frame(dir, 0x18, p, !drop.has(i)));
  frame(0, 0x11, none);
  frame(1, 0x11, none);
  return out;
}
