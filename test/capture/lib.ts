/**
 * Capture-test plumbing. `record` runs tcpdump in immediate mode: without it, libpcap's
 * TPACKET_V3 ring hands packets over in blocks retired after up to 1 s, and whatever is still in
 * the current block when tcpdump is stopped is lost (seen with test/helpers/capture.ts: the
 * tail of a scenario went missing). Immediate mode on lo costs one 128 KiB ring slot per packet,
 * so the kernel buffer is raised (-B) or bursts are dropped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startDnsServer, startHttpServer, httpScenario, dnsScenario } from '../helpers/traffic';

export const OUT = resolve('test', '.out', 'capture');
mkdirSync(OUT, { recursive: true });
let n = 0;
export function outFile(ext: string): string {
  return join(OUT, `t-${process.pid}-${++n}.${ext}`);
}

export async function record(bpf: string, run: () => Promise<void>, opts: { file?: string; nano?: boolean; iface?: string; extra?: string[] } = {}): Promise<string> {
  const file = opts.file ?? outFile('pcap');
  const args = ['-i', opts.iface ?? 'lo', '--immediate-mode', '-B', '131072', '-U', '-n', '-s', '0', '-w', file, ...(opts.extra ?? [])];
  if (opts.nano) args.push('--time-stamp-precision=nano');
  args.push(bpf);
  const td = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<void>((r) => td.on('close', () => r()));
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`tcpdump did not start: ${err}`)), 10_000);
    td.stderr.on('data', (d: Buffer) => {
      err += d;
      if (/listening on/.test(err)) (clearTimeout(t), res());
    });
    td.on('close', (c) => (clearTimeout(t), rej(new Error(`tcpdump exited ${c}: ${err}`))));
  });
  try {
    await run();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    td.kill('SIGINT');
    await exited;
  }
  return file;
}

/** The helpers' HTTP + DNS scenarios, recorded; cached per process and variant. */
const cache = new Map<string, Promise<{ file: string; http: number; dns: number }>>();
export function mixCapture(variant: { nano?: boolean; iface?: string } = {}): Promise<{ file: string; http: number; dns: number }> {
  const key = JSON.stringify(variant);
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const h = await startHttpServer();
      const d = await startDnsServer();
      let http = 0;
      let dns = 0;
      const file = await record(`port ${h.port} or port ${d.port}`, async () => {
        http = (await httpScenario(h.port)).length;
        dns = (await dnsScenario(d.port)).length;
      }, variant);
      await h.close();
      await d.close();
      return { file, http, dns };
    })();
    cache.set(key, p);
  }
  return p;
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
