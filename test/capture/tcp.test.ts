// TCP reassembly on a real capture whose packets are reordered, duplicated, split into
// overlapping pieces, renumbered across the 32-bit wrap or dropped; the oracle for the stream
// bytes is tshark's "follow tcp raw" of the untouched capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { runPipeline } from '../../capture/pipeline';
import { ReadableSource } from '../../capture/sources/file';
import type { Dissector, FlowAddr, RawPacket } from '../../capture/types';
import { mixCapture, outFile, readAll, sh, writePcap } from './lib';

interface Rec {
  flow: FlowAddr;
  bytes: [Buffer[], Buffer[]];
  gaps: [number, number];
  ends: string[];
}

/** Claims every TCP stream and records what reassembly delivers. */
function recorder(): { d: Dissector; streams: Rec[] } {
  const streams: Rec[] = [];
  const d: Dissector = {
    name: 'rec',
    priority: 0,
    detect: () => true,
    tcp(ctx) {
      const r: Rec = { flow: ctx.flow, bytes: [[], []], gaps: [0, 0], ends: [] };
      streams.push(r);
      return {
        data: (dir, b) => void r.bytes[dir].push(Buffer.from(b)),
        gap: (dir, n) => void (r.gaps[dir] += n),
        end: (dir, _ts, why) => void r.ends.push(`${dir}:${why}`),
      };
    },
  };
  return { d, streams };
}

async function reassemble(pkts: RawPacket[]): Promise<{ streams: Rec[]; gaps: number }> {
  const f = writePcap(outFile('pcap'), pkts);
  const { d, streams } = recorder();
  const src = new ReadableSource('file/t', 't', () => Readable.from([readFileSync(f)]));
  const stats = await runPipeline(src, {}, { dissectors: [d] });
  return { streams, gaps: stats.gaps };
}

/** tshark's reassembled bytes of TCP stream `n`: [client → server, server → client]. */
function follow(file: string, n: number): [Buffer, Buffer] {
  const out = sh('tshark', ['-r', file, '-q', '-z', `follow,tcp,raw,${n}`]);
  const parts: [string[], string[]] = [[], []];
  for (const line of out.split('\n')) {
    if (!/^\t?[0-9a-f]+$/.test(line)) continue;
    parts[line.startsWith('\t') ? 1 : 0].push(line.trim());
  }
  return [Buffer.from(parts[0].join(''), 'hex'), Buffer.from(parts[1].join(''), 'hex')];
}

interface Tcp {
  ip: number;
  tcp: number;
  payload: number;
  len: number;
}

/** Offsets in an Ethernet/IPv4/TCP frame. */
function tcpOf(p: RawPacket): Tcp {
  const ip = 14;
  const tcp = ip + (p.data[ip] & 15) * 4;
  const payload = tcp + (p.data[tcp + 12] >> 4) * 4;
  return { ip, tcp, payload, len: p.data.length - payload };
}

/** The first keep-alive HTTP connection of the mix, and its packets in capture order. */
async function firstStream(): Promise<{ file: string; pkts: RawPacket[]; oracle: [Buffer, Buffer] }> {
  const { file } = await mixCapture();
  const all = await readAll(file);
  const first = all[0];
  const ports = (p: RawPacket) => {
    const t = tcpOf(p);
    return [p.data.readUInt16BE(t.tcp), p.data.readUInt16BE(t.tcp + 2)].sort().join(',');
  };
  const key = ports(first);
  const pkts = all.filter((p) => p.data[23] === 6 && ports(p) === key);
  const f = writePcap(outFile('pcap'), pkts);
  return { file: f, pkts, oracle: follow(f, 0) };
}

function joined(r: Rec): [Buffer, Buffer] {
  return [Buffer.concat(r.bytes[0]), Buffer.concat(r.bytes[1])];
}

test('in capture order the stream bytes equal tshark follow', async () => {
  const { pkts, oracle } = await firstStream();
  assert.ok(oracle[1].length > 256 * 1024, 'the stream carries the large body');
  const { streams, gaps } = await reassemble(pkts);
  assert.equal(streams.length, 1);
  assert.deepEqual(joined(streams[0]), oracle);
  assert.equal(gaps, 0);
  assert.deepEqual(streams[0].ends.sort(), ['0:fin', '1:fin', 'null:fin'].sort());
});

test('reordered, duplicated and overlapping segments deliver each byte once, in order', async () => {
  const { pkts, oracle } = await firstStream();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: RawPacket[] = [];
  for (const p of pkts) {
    const t = tcpOf(p);
    if (t.len > 20 && rnd() < 0.5) {
      // Split into two overlapping segments: [0, cut+ov) and [cut, len).
      const cut = 1 + Math.floor(rnd() * (t.len - 10));
      const ov = Math.floor(rnd() * 8);
      const a = Buffer.from(p.data.subarray(0, t.payload + cut + ov));
      const b = Buffer.concat([p.data.subarray(0, t.payload), p.data.subarray(t.payload + cut)]);
      a.writeUInt16BE(a.length - t.ip, t.ip + 2);
      b.writeUInt16BE(b.length - t.ip, t.ip + 2);
      b.writeUInt32BE((p.data.readUInt32BE(t.tcp + 4) + cut) >>> 0, t.tcp + 4);
      out.push({ ...p, data: b, caplen: b.length, origLen: b.length }, { ...p, data: a, caplen: a.length, origLen: a.length });
    } else out.push(p);
    if (t.len > 0 && rnd() < 0.2) out.push(p); // retransmission
  }
  // Local shuffles: swap neighbours inside small windows (what loss + retransmit looks like).
  for (let i = 0; i + 1 < out.length; i++) if (rnd() < 0.3) [out[i], out[i + 1]] = [out[i + 1], out[i]];
  const { streams, gaps } = await reassemble(out);
  assert.equal(streams.length, 1);
  const got = joined(streams[0]);
  assert.equal(gaps, 0);
  assert.equal(got[0].length, oracle[0].length);
  assert.equal(got[1].length, oracle[1].length);
  assert.deepEqual(got, oracle);
});

test('sequence numbers that wrap past 2^32 mid-stream', async () => {
  const { pkts, oracle } = await firstStream();
  const syn = tcpOf(pkts[0]);
  const isn = pkts[0].data.readUInt32BE(syn.tcp + 4);
  const clientPort = pkts[0].data.readUInt16BE(syn.tcp);
  // Both directions: their ISNs move to 1000 bytes before the wrap.
  const isnB = pkts[1].data.readUInt32BE(tcpOf(pkts[1]).tcp + 4);
  const shift = [(0x100000000 - 1000 - isn) >>> 0, (0x100000000 - 500 - isnB) >>> 0];
  const out = pkts.map((p) => {
    const t = tcpOf(p);
    const d = Buffer.from(p.data);
    const fromClient = d.readUInt16BE(t.tcp) === clientPort ? 0 : 1;
    d.writeUInt32BE((d.readUInt32BE(t.tcp + 4) + shift[fromClient]) >>> 0, t.tcp + 4);
    if (d[t.tcp + 13] & 0x10) d.writeUInt32BE((d.readUInt32BE(t.tcp + 8) + shift[fromClient ^ 1]) >>> 0, t.tcp + 8);
    return { ...p, data: d };
  });
  const { streams } = await reassemble(out);
  assert.deepEqual(joined(streams[0]), oracle);
});

test('a dropped segment becomes a gap of exactly its length; the rest still arrives', async () => {
  const { pkts, oracle } = await firstStream();
  // Drop a server → client data segment in the middle of the big body.
  const serverPort = pkts[1].data.readUInt16BE(tcpOf(pkts[1]).tcp);
  const big = pkts.map((p, i) => ({ p, i, t: tcpOf(p) })).filter((x) => x.t.len > 1000 && x.p.data.readUInt16BE(x.t.tcp) === serverPort);
  const victim = big[Math.floor(big.length / 2)];
  const out = pkts.filter((_, i) => i !== victim.i);
  const { streams, gaps } = await reassemble(out);
  assert.equal(gaps, 1);
  assert.deepEqual(streams[0].gaps, [0, victim.t.len]);
  const got = joined(streams[0]);
  assert.deepEqual(got[0], oracle[0]);
  assert.equal(got[1].length, oracle[1].length - victim.t.len);
});

test('a connection whose handshake was not captured: lower port is the server, bytes from the first seen', async () => {
  const { pkts } = await firstStream();
  const cut = pkts.findIndex((p, i) => i > 3 && tcpOf(p).len > 0);
  const rest = pkts.slice(cut);
  const { streams } = await reassemble(rest);
  assert.equal(streams.length, 1);
  const f = streams[0].flow;
  assert.ok(f.dstPort < f.srcPort, `server ${f.dstPort} is the lower port`);
  const oracleAll = follow(writePcap(outFile('pcap'), rest), 0);
  const got = joined(streams[0]);
  // tshark orients by the first packet's sender; compare as a set of directions.
  assert.deepEqual(new Set([got[0].length, got[1].length]), new Set([oracleAll[0].length, oracleAll[1].length]));
});

test('a hole nobody ACKs past is given up after 2 s of capture time; idle connections time out', async () => {
  const { pkts } = await firstStream();
  const serverPort = pkts[1].data.readUInt16BE(tcpOf(pkts[1]).tcp);
  const data = pkts.map((p, i) => ({ p, i, t: tcpOf(p) })).filter((x) => x.t.len > 1000 && x.p.data.readUInt16BE(x.t.tcp) === serverPort);
  const victim = data[1];
  // Drop the segment and every ACK from the client after it; shift later packets 3 s on.
  const clientPort = pkts[0].data.readUInt16BE(tcpOf(pkts[0]).tcp);
  const out = pkts
    .filter((p, i) => i !== victim.i && !(i > victim.i && p.data.readUInt16BE(tcpOf(p).tcp) === clientPort && tcpOf(p).len === 0))
    .map((p, i) => (p.offset > victim.p.offset ? { ...p, tsSec: p.tsSec + 3 + Math.floor(i / 1000) } : p));
  const { streams, gaps } = await reassemble(out);
  assert.ok(gaps >= 1);
  assert.equal(streams[0].gaps[1], victim.t.len);

  // The same connection with a 61 s silence before its last packets: it ends by timeout there.
  const cut = Math.floor(pkts.length / 2);
  const idle = pkts.map((p, i) => (i >= cut ? { ...p, tsSec: p.tsSec + 61 } : p));
  const r = await reassemble(idle);
  assert.ok(r.streams[0].ends.includes('null:timeout'), r.streams[0].ends.join());
});
