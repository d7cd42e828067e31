// Link types, VLAN tags and IP fragments, from real captures: every encapsulation of the same
// traffic must give the same items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { runPipeline } from '../../capture/pipeline';
import { ReadableSource } from '../../capture/sources/file';
import type { Item } from '../../capture/item/schema';
import type { Dissector, RawPacket } from '../../capture/types';
import { formatIp, PacketDecoder, Status } from '../../capture/decode/packet';
import { mixCapture, outFile, readAll, record, sh, writePcap } from './lib';
import { stripMarker, untilInFile } from '../helpers/capture';

async function items(file: string, dissectors?: Dissector[]): Promise<{ items: Item[]; skipped: number; fragmented: number }> {
  const out: Item[] = [];
  let fragmented = 0;
  const src = new ReadableSource('file/t', 't', () => Readable.from([readFileSync(file)]));
  const st = await runPipeline(src, { item: (i) => void out.push(i), packet: (_a, _b, _c, _d, _t, f) => void (f && fragmented++) }, { dissectors });
  return { items: out, skipped: st.skipped, fragmented };
}

/** What must not change with the encapsulation. */
function digest(list: Item[]): string[] {
  return list.map((i) => {
    const r = i.request as Record<string, any>;
    const s = i.response as Record<string, any>;
    return `${i.protocol.name} ${i.src.ip}>${i.dst.ip}:${i.dst.port} ${r.method ?? ''} ${r.url ?? r.questions?.[0]?.name ?? ''} ${s.status ?? s.code} ${i.startTime}`;
  });
}

test('Ethernet, raw IP (101, 228, 12), BSD null/loop (both byte orders) and stacked VLANs agree', async () => {
  const { file, http, dns } = await mixCapture();
  const base = digest((await items(file)).items);
  assert.equal(base.length, http + dns);
  const pkts = await readAll(file);
  const strip = (p: RawPacket, pre: Buffer) => {
    const d = Buffer.concat([pre, p.data.subarray(14)]);
    return { ...p, data: d, caplen: d.length, origLen: d.length };
  };
  const af = (n: number, be: boolean) => {
    const b = Buffer.alloc(4);
    if (be) b.writeUInt32BE(n);
    else b.writeUInt32LE(n);
    return b;
  };
  const variants: [string, RawPacket[], number][] = [
    ['raw 101', pkts.map((p) => strip(p, Buffer.alloc(0))), 101],
    ['raw 228', pkts.map((p) => strip(p, Buffer.alloc(0))), 228],
    ['raw 12', pkts.map((p) => strip(p, Buffer.alloc(0))), 12],
    ['null LE', pkts.map((p) => strip(p, af(2, false))), 0],
    ['null BE', pkts.map((p) => strip(p, af(2, true))), 0],
    ['loop', pkts.map((p) => strip(p, af(2, true))), 108],
    [
      'QinQ',
      pkts.map((p) => {
        const d = Buffer.concat([p.data.subarray(0, 12), Buffer.from([0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 200]), p.data.subarray(12)]);
        return { ...p, data: d, caplen: d.length, origLen: d.length };
      }),
      1,
    ],
  ];
  for (const [name, list, lt] of variants) {
    const f = writePcap(outFile('pcap'), list, lt);
    assert.deepEqual(digest((await items(f)).items), base, name);
  }
  // editcap's own rewrite to raw IP agrees too.
  const raw = outFile('pcap');
  sh('editcap', ['-C', '14', '-T', 'rawip4', file, raw]);
  assert.deepEqual(digest((await items(raw)).items), base, 'editcap rawip4');
});

test('Linux cooked captures of the any device (SLL2 by default, SLL with -y LINUX_SLL)', async () => {
  for (const extra of [[], ['-y', 'LINUX_SLL']]) {
    const { startHttpServer, httpScenario } = await import('../helpers/traffic');
    const h = await startHttpServer();
    let n = 0;
    const f = await record(`tcp port ${h.port}`, async () => void (n = (await httpScenario(h.port)).length), { iface: 'any', extra });
    await h.close();
    const lt = readFileSync(f).readUInt32LE(20);
    assert.equal(lt, extra.length ? 113 : 276);
    const got = await items(f);
    assert.equal(got.items.filter((i) => i.protocol.name === 'http').length, n);
    assert.equal(got.skipped, 0);
  }
});

/**
 * Runs `script` with node inside a fresh network namespace whose lo has MTU 1500, under tcpdump.
 * The recording ends when tcpdump has written a marker datagram the script sends last (on
 * 'beforeExit': after everything it started is done), not after a sleep; the marker is taken out.
 */
async function inNetns(script: string, bpf: string): Promise<string> {
  const ns = `wh-h1-${process.pid}`;
  const markPort = 9000 + (process.pid % 900);
  const mark = Buffer.from(`wirehook-netns-end-${process.pid}-${Date.now()}`);
  spawnSync('ip', ['netns', 'del', ns]);
  sh('ip', ['netns', 'add', ns]);
  try {
    sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up', 'mtu', '1500']);
    const file = outFile('pcap');
    const filter = `(${bpf}) or (udp and dst port ${markPort})`;
    const td = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-n', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = new Promise((r) => td.on('close', r));
    await new Promise<void>((res, rej) => {
      let e = '';
      td.stderr.on('data', (d) => ((e += d), /listening on/.test(e) && res()));
      td.on('close', () => rej(new Error(e)));
    });
    const js = outFile('cjs');
    const ender = `
      let ended = false;
      process.on('beforeExit', () => {
        if (ended) return;
        ended = true;
        const s = require('node:dgram').createSocket('udp4');
        s.send(Buffer.from(${JSON.stringify(mark.toString())}), ${markPort}, '127.0.0.1', () => s.close());
      });`;
    writeFileSync(js, script + ender);
    sh('ip', ['netns', 'exec', ns, process.execPath, js]);
    try {
      await untilInFile(file, mark);
    } finally {
      td.kill('SIGINT');
      await done;
    }
    stripMarker(file, mark);
    return file;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

test('IPv4 and IPv6 fragments of real oversized UDP datagrams are reassembled', async () => {
  const payload = (tag: string) => Buffer.concat([Buffer.from(`WHFRAG${tag}`), Buffer.alloc(5000, tag)]);
  const script = `
    const dgram = require('node:dgram');
    const send = (type, host, tag) => new Promise((res) => {
      const s = dgram.createSocket(type);
      const body = Buffer.concat([Buffer.from('WHFRAG' + tag), Buffer.alloc(5000, tag)]);
      s.send(body, 9999, host, () => { s.close(); res(); });
    });
    (async () => { await send('udp4', '127.0.0.1', 'A'); await send('udp6', '::1', 'B'); })();`;
  const file = await inNetns(script, 'udp port 9999 or ip[6:2] & 0x1fff != 0 or ip6[6] == 44');
  const got: { payload: Buffer; src: string }[] = [];
  const rec: Dissector = {
    name: 'frag',
    priority: 0,
    detect: (first) => first.subarray(0, 6).toString() === 'WHFRAG',
    udp: (ctx) => ({ datagram: (_d, p) => void got.push({ payload: Buffer.from(p), src: ctx.flow.srcIp }), end() {} }),
  };
  const r = await items(file, [rec]);
  assert.ok(r.fragmented >= 8, `fragments seen: ${r.fragmented}`);
  assert.equal(got.length, 2);
  assert.deepEqual(got.map((g) => g.src), ['127.0.0.1', '::1']);
  assert.deepEqual(got[0].payload, payload('A'));
  assert.deepEqual(got[1].payload, payload('B'));

  // Fragments out of order, duplicated and overlapping still give the same datagram once.
  const pkts = await readAll(file);
  const v4 = pkts.filter((p) => p.data[14] >> 4 === 4);
  const shuffled = [v4[2], v4[0], v4[0], ...v4.slice(3), v4[1]];
  got.length = 0;
  await items(writePcap(outFile('pcap'), shuffled), [rec]);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].payload, payload('A'));
  // A fragment missing: nothing comes out, nothing is thrown.
  got.length = 0;
  await items(writePcap(outFile('pcap'), v4.slice(1)), [rec]);
  assert.equal(got.length, 0);
});

test('IPv6 addresses are written in RFC 5952 form', () => {
  const b = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');
  assert.equal(formatIp(b('0000:0000:0000:0000:0000:0000:0000:0001'), 0, 6), '::1');
  assert.equal(formatIp(b('2001:0db8:0000:0000:0001:0000:0000:0001'), 0, 6), '2001:db8::1:0:0:1');
  assert.equal(formatIp(b('2001:0db8:0000:0001:0001:0001:0001:0001'), 0, 6), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIp(b('0000:0000:0000:0000:0000:ffff:7f00:0001'), 0, 6), '::ffff:127.0.0.1');
  assert.equal(formatIp(b('fe80:0000:0000:0000:0000:0000:0000:0000'), 0, 6), 'fe80::');
});

test('decodeAt on a frame inside a bigger buffer decodes as decode() on the frame alone', async () => {
  const { file } = await mixCapture();
  const pkts = await readAll(file);
  const frames: { linkType: number; data: Buffer; tsSec: number }[] = pkts.map((p) => ({ linkType: p.linkType, data: p.data, tsSec: p.tsSec }));
  // Other encapsulations, and short/garbled frames, exercise every early return.
  for (const p of pkts.slice(0, 40)) {
    frames.push({ linkType: 101, data: p.data.subarray(14), tsSec: p.tsSec });
    frames.push({ linkType: 276, data: Buffer.concat([Buffer.from([0x08, 0, 0, 0]), Buffer.alloc(16), p.data.subarray(14)]), tsSec: p.tsSec });
    frames.push({ linkType: 0, data: Buffer.concat([Buffer.from([2, 0, 0, 0]), p.data.subarray(14)]), tsSec: p.tsSec });
    for (const cut of [1, 13, 15, 30, 40, 54]) frames.push({ linkType: 1, data: p.data.subarray(0, cut), tsSec: p.tsSec });
  }
  const a = new PacketDecoder(() => {});
  const b = new PacketDecoder(() => {});
  const pad = Buffer.from('garbage before the frame');
  let l4 = 0;
  for (const f of frames) {
    const big = Buffer.concat([pad, f.data, Buffer.from([0x45, 0, 0xff, 0xff, 1, 2, 3])]);
    const sa = a.decode(f.linkType, f.data, f.tsSec);
    const sb = b.decodeAt(f.linkType, big, pad.length, pad.length + f.data.length, f.tsSec);
    assert.equal(sb, sa);
    if (sa !== Status.L4) continue;
    l4++;
    const x = a.d;
    const y = b.d;
    const shift = y.payloadBuf === big ? pad.length : 0;
    assert.deepEqual(
      [y.ipVersion, y.proto, y.srcPort, y.dstPort, y.seq, y.ack, y.flags, y.fragmented, y.payloadEnd - y.payloadStart, y.payloadStart - shift],
      [x.ipVersion, x.proto, x.srcPort, x.dstPort, x.seq, x.ack, x.flags, x.fragmented, x.payloadEnd - x.payloadStart, x.payloadStart],
    );
    assert.deepEqual(y.payloadBuf.subarray(y.payloadStart, y.payloadEnd), x.payloadBuf.subarray(x.payloadStart, x.payloadEnd));
    assert.equal(formatIp(y.addrBuf, y.srcOff, y.ipVersion), formatIp(x.addrBuf, x.srcOff, x.ipVersion));
    assert.equal(formatIp(y.addrBuf, y.dstOff, y.ipVersion), formatIp(x.addrBuf, x.dstOff, x.ipVersion));
  }
  assert.ok(l4 > 100);
});
