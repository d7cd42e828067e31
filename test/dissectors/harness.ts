/**
 * Test harness for dissectors: a recording relay that captures the exact bytes a real client
 * and server exchange on loopback (TCP streams and UDP datagrams, in arrival order), and a
 * small DissectorContext that collects what a dissector emits.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Direction, DissectorContext, FlowAddr, L7Message, TcpStreamParser, Timestamp, UdpFlowParser } from '../../capture/types';

export interface Chunk { dir: Direction; bytes: Buffer; ts: Timestamp }
export interface Recorded { transport: 'tcp' | 'udp'; chunks: Chunk[] }

let clock = 0;
/** Deterministic, strictly increasing timestamps (1 ms apart) so replays compare exactly. */
function tick(): Timestamp {
  clock++;
  return { sec: 1_700_000_000 + Math.floor(clock / 1000), nsec: (clock % 1000) * 1_000_000 };
}

/**
 * Listens on 127.0.0.1 (TCP and UDP on one port), relays to `target`, and records every chunk.
 * `run(port)` drives clients against the relay port.
 */
export async function recordRelay(target: number, run: (port: number) => Promise<void>): Promise<Recorded[]> {
  const conns: (Recorded & { clientEnded?: boolean; upClosed?: boolean })[] = [];
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((client) => {
    const rec: Recorded & { clientEnded?: boolean; upClosed?: boolean } = { transport: 'tcp', chunks: [] };
    conns.push(rec);
    const up = net.connect(target, '127.0.0.1');
    client.on('end', () => (rec.clientEnded = true));
    up.on('close', () => (rec.upClosed = true));
    sockets.add(client); sockets.add(up);
    client.on('data', (d) => { rec.chunks.push({ dir: 0, bytes: Buffer.from(d), ts: tick() }); up.write(d); });
    up.on('data', (d) => { rec.chunks.push({ dir: 1, bytes: Buffer.from(d), ts: tick() }); client.write(d); });
    client.on('end', () => up.end());
    up.on('end', () => client.end());
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => { up.destroy(); sockets.delete(client); });
    up.on('close', () => { client.destroy(); sockets.delete(up); });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const port = (tcp.address() as net.AddressInfo).port;
  /** Ports whose sockets the relay's traffic passes through (UDP upstream sockets added as bound). */
  const ports = new Set([port, target]);
  const udp = dgram.createSocket('udp4');
  const flows = new Map<string, { rec: Recorded; up: dgram.Socket }>();
  udp.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let f = flows.get(key);
    if (!f) {
      const rec: Recorded = { transport: 'udp', chunks: [] };
      conns.push(rec);
      const up = dgram.createSocket('udp4');
      up.on('message', (m) => { rec.chunks.push({ dir: 1, bytes: Buffer.from(m), ts: tick() }); udp.send(m, rinfo.port, rinfo.address); });
      f = { rec, up };
      flows.set(key, f);
    }
    f.rec.chunks.push({ dir: 0, bytes: Buffer.from(msg), ts: tick() });
    const up = f.up;
    up.send(msg, target, '127.0.0.1', () => { try { ports.add(up.address().port); } catch { /* closed */ } });
  });
  await new Promise<void>((r, j) => { udp.once('error', j); udp.bind(port, '127.0.0.1', () => r()); });
  try {
    await run(port);
    // Not a sleep: wait until the relay has recorded every byte in flight (no socket of the
    // relay, client or server holds an unread or unsent byte in the kernel) and every connection
    // the client closed is closed on the server's leg too (its last bytes came before its FIN).
    await settled(() => kernelQueuesEmpty(ports) && conns.every((c) => !c.clientEnded || c.upClosed), 'the relay never settled');
  } finally {
    for (const s of sockets) s.destroy();
    for (const f of flows.values()) f.up.close();
    udp.close();
    await new Promise<void>((r) => tcp.close(() => r()));
  }
  return conns;
}

/**
 * True when no TCP or UDP socket on these ports (either end) holds a byte in the kernel: sent and
 * not yet read (rx_queue), or not yet taken by the peer (tx_queue). Listening sockets are skipped
 * (their columns count the accept queue).
 */
export function kernelQueuesEmpty(ports: Set<number>): boolean {
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 5 || (f.includes('tcp') && c[3] === '0A')) continue;
      const lp = parseInt(c[1].split(':')[1], 16);
      const rp = parseInt(c[2].split(':')[1], 16);
      if (!ports.has(lp) && !ports.has(rp)) continue;
      const [tx, rx] = c[4].split(':').map((h) => parseInt(h, 16));
      if (tx !== 0 || rx !== 0) return false;
    }
  }
  return true;
}

/** Bytes the kernel still holds unacknowledged on the TCP socket localPort → remotePort (IPv4). */
export function unacked(localPort: number, remotePort: number): number {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c.length < 5) continue;
    if (parseInt(c[1].split(':')[1], 16) === localPort && parseInt(c[2].split(':')[1], 16) === remotePort) return parseInt(c[4].split(':')[0], 16);
  }
  return 0;
}

/** Resolves once everything written on `s` so far is acknowledged by the peer's kernel (it is on the wire). */
export async function untilAcked(s: net.Socket, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (s.writableLength > 0 || unacked(s.localPort!, s.remotePort!) > 0) {
    if (Date.now() - t0 > ms) throw new Error(`${s.localPort} → ${s.remotePort}: written bytes never acknowledged within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Waits until `cond()` holds on two checks in a row, a few event-loop turns apart (so callbacks
 * of bytes just read have run). The deadline (20 s) only catches a real hang.
 */
export async function settled(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  let ok = 0;
  while (ok < 2) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    ok = cond() ? ok + 1 : 0;
    if (ok < 2 && Date.now() - t0 > ms) throw new Error(`${what} within ${ms} ms`);
  }
}

/**
 * One event-loop turn, for long synchronous fuzz loops: a failed node:zlib *Sync call (a corrupt
 * gzip/deflate body, WebSocket or MongoDB message) frees its engine and 16 KiB output buffer only
 * on the next tick, so a loop that never yields holds every one of them (measured: ~600 MB over
 * 20,000 WebSocket rounds). The pipeline yields per batch; the loops do it every 50 rounds.
 */
export const turn = (i: number): Promise<void> | null => (i % 50 === 49 ? new Promise((r) => setImmediate(r)) : null);

export interface Collected {
  msgs: L7Message[];
  warnings: string[];
  pendings: (Timestamp | null)[];
  ctx: DissectorContext;
}

export function collector(transport: 'tcp' | 'udp' = 'tcp', bodyCap = 64 * 1024): Collected {
  const flow: FlowAddr = { srcIp: '127.0.0.1', srcPort: 40000, dstIp: '127.0.0.1', dstPort: 8080, transport };
  const c: Collected = {
    msgs: [],
    warnings: [],
    pendings: [],
    ctx: {
      flow,
      bodyCap,
      emit: (m) => c.msgs.push(m),
      pending: (ts) => c.pendings.push(ts),
      warn: (kind, detail) => c.warnings.push(`${kind}: ${detail}`),
    },
  };
  return c;
}

const END_TS: Timestamp = { sec: 1_800_000_000, nsec: 0 };

/** Replays a recorded TCP connection; `split` re-chunks every recorded chunk into pieces of that size. */
export function replayTcp(p: TcpStreamParser, rec: Recorded, split = 0): void {
  for (const c of rec.chunks) {
    if (split <= 0) p.data(c.dir, c.bytes, c.ts);
    else for (let i = 0; i < c.bytes.length; i += split) p.data(c.dir, c.bytes.subarray(i, i + split), c.ts);
  }
  p.end(null, END_TS, 'fin');
}

export function replayUdp(p: UdpFlowParser, rec: Recorded): void {
  for (const c of rec.chunks) p.datagram(c.dir, c.bytes, c.ts);
  p.end(END_TS, 'eof');
}

/** mulberry32: small, seeded, good enough to pick mutations reproducibly (fuzz and lean-DNS tests). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A DNS query message for `name` (class IN; type A unless given; RD set unless flags say otherwise). */
export function dnsQuery(id: number, name: string, type = 1, flags = 0x0100): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(flags, 2); h.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4); tail.writeUInt16BE(type, 0); tail.writeUInt16BE(1, 2);
  return Buffer.concat([h, ...labels, Buffer.from([0]), tail]);
}

/** A few random byte flips, and now and then a cut: the fuzz tests' one mutation. */
export function mutate(b: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(b);
  const flips = Math.floor(rnd() * 4);
  for (let i = 0; i < flips && out.length; i++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
  if (rnd() < 0.1) return out.subarray(0, Math.floor(rnd() * out.length));
  return out;
}

export interface MutationRates {
  /** Chance a chunk is replaced by a gap of 1..maxGap bytes. */
  gap: number;
  /** Chance a chunk is mutated (given it is not a gap). */
  mutate: number;
  maxGap: number;
  /** Gaps say at random whether bytes were lost or cut by the snaplen. */
  gapKinds?: boolean;
  /** Chance the connection is cut after each chunk. */
  cut?: number;
}

/**
 * The fuzz tests' replay: each recorded chunk, maybe turned into a gap or mutated, fed in
 * random small steps, then the end (FIN or RST at random). Consumes `rnd` in a fixed order so
 * a seed always replays the same case.
 */
export function replayMutated(p: TcpStreamParser, chunks: Chunk[], rnd: () => number, rates: MutationRates): void {
  for (const ch of chunks) {
    const r = rnd();
    if (r < rates.gap) {
      const n = 1 + Math.floor(rnd() * rates.maxGap);
      if (rates.gapKinds) p.gap(ch.dir, n, ch.ts, rnd() < 0.5 ? 'lost' : 'snaplen');
      else p.gap(ch.dir, n, ch.ts);
      continue;
    }
    const bytes = r < rates.mutate ? mutate(ch.bytes, rnd) : ch.bytes;
    const step = rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : bytes.length || 1;
    for (let i = 0; i < bytes.length; i += step) p.data(ch.dir, bytes.subarray(i, i + step), ch.ts);
    if (rates.cut !== undefined && rnd() < rates.cut) break;
  }
  p.end(null, { sec: 2e9, nsec: 0 }, rnd() < 0.5 ? 'fin' : 'rst');
}
