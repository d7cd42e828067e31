/** Shared plumbing of the database dissector tests: items of a capture, tshark's fields. */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item } from '../../capture/item/schema';

/** Items as the built CLI prints them (`wirehook items --pcap`); needs `npm run build`. */
export function cliItems(file: string): Item[] {
  const out = execFileSync(process.execPath, ['dist/cli.js', 'items', '--pcap', file], { maxBuffer: 512 * 1024 * 1024 }).toString();
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item);
}

export async function itemsOf(file: string): Promise<{ items: Item[]; stats: CaptureStats }> {
  const items: Item[] = [];
  const stats = await runPipeline(fileSource(file), { item: (i) => items.push(i) });
  return { items, stats };
}

/** tshark -T fields rows (tab-separated fields, `|` between a field's occurrences in one frame). */
export function tsharkRows(file: string, args: string[], fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

export const split = (s: string | undefined): string[] => (s ? s.split('|') : []);

/** Groups by the client port (the end that is not the server's). */
export function byClient<T>(rows: T[], ports: (r: T) => [string, string], server: number): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const [a, b] = ports(r);
    const c = a === String(server) ? b : a;
    const l = m.get(c) ?? [];
    l.push(r);
    m.set(c, l);
  }
  return m;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client that goes away mid-message: writes `bytes` on the connected socket `s`, waits until
 * the server's kernel has acknowledged them, then closes (FIN, a segment of its own) and resolves
 * once the connection is closed both ways (the server's answer to the FIN is on the wire).
 * Events, not sleeps; the deadline is for a hang.
 */
export async function leaveMidMessage(s: net.Socket, bytes: Buffer | string): Promise<void> {
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.on('error', () => {});
  await new Promise<void>((r) => s.write(bytes, () => r()));
  await untilAcked(s);
  s.end();
  await closed;
}

import { readFileSync } from 'node:fs';
import { PacketDecoder, Status, TCP_SYN, TCP_ACK } from '../../capture/decode/packet';
import { PcapReader } from '../../capture/sources/pcap-reader';
import { untilAcked, type Recorded } from './harness';

/**
 * The TCP payloads of a loopback capture (in order, no loss: what tcpdump on lo records) as
 * one recorded connection per client port, direction from the SYN; and the server port.
 */
export async function connectionsOf(file: string): Promise<{ conn: Recorded; serverPort: number }[]> {
  const out = new Map<string, { conn: Recorded; serverPort: number }>();
  const dec = new PacketDecoder(() => {});
  const r = new PcapReader(file);
  for await (const batch of r.read([readFileSync(file)])) {
    for (const p of batch) {
      if (dec.decode(p.linkType, p.data, p.tsSec) !== Status.L4 || dec.d.proto !== 6) continue;
      const d = dec.d;
      const a = `${d.srcPort}-${d.dstPort}`, b = `${d.dstPort}-${d.srcPort}`;
      let c = out.get(a) ?? out.get(b);
      if (!c && (d.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) out.set(a, (c = { conn: { transport: 'tcp', chunks: [] }, serverPort: d.dstPort }));
      if (!c || d.payloadEnd <= d.payloadStart) continue;
      c.conn.chunks.push({ dir: d.dstPort === c.serverPort ? 0 : 1, bytes: Buffer.from(d.payloadBuf.subarray(d.payloadStart, d.payloadEnd)), ts: { sec: p.tsSec, nsec: p.tsNsec } });
    }
  }
  return [...out.values()];
}
