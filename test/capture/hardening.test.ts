// Hardening regressions, each from a capture that shows the defect (real loopback traffic where
// it can be made, else a capture this test writes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { GAP_WAIT_S, MAX_HALF_OPEN } from '../../capture/stream/tcp';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item } from '../../capture/item/schema';
import { startHttpServer } from '../helpers/traffic';
import type { Dissector, RawPacket } from '../../capture/types';
import { cli, outFile, pollCapture, QUICK, readAll, record, writePcap } from './lib';

async function itemsOf(file: string): Promise<{ items: Item[]; stats: Awaited<ReturnType<typeof runPipeline>> }> {
  const items: Item[] = [];
  const stats = await runPipeline(fileSource(file), { item: (i) => void items.push(i) });
  return { items, stats };
}

const req = (i: Item) => i.request as { method?: string; path?: string; headers?: Record<string, string> };
const res = (i: Item) => i.response as { status?: number; headers?: Record<string, string> };

/** Sends `parts` as separate TCP segments (each write waits until the previous one left), then reads until close. */
function segmented(port: number, parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    s.on('connect', async () => {
      for (const p of parts) await new Promise<void>((r) => s.write(p, () => r()));
    });
  });
}

test('HTTP is detected when a segment ends on the CR of the request line', async () => {
  const h = await startHttpServer();
  let answer = '';
  const file = await record(`tcp port ${h.port}`, async () => {
    answer = await segmented(h.port, ['GET /api/users HTTP/1.1\r', '\nHost: x\r\nConnection: close\r\n\r\n']);
  });
  await h.close();
  assert.match(answer, /^HTTP\/1\.1 200 /);
  // The capture really has a client segment ending in CR.
  assert.ok((await readAll(file)).some((p) => p.data.toString('latin1').endsWith('GET /api/users HTTP/1.1\r')), 'a segment ends on CR');
  const { items } = await itemsOf(file);
  assert.equal(items.length, 1);
  assert.equal(req(items[0]).path, '/api/users');
  assert.equal(res(items[0]).status, 200);
  assert.equal(items[0].error, null);
});

test('snap-length cut captures: said in a notice and counted; request lines and headers that fit are kept', async () => {
  const h = await startHttpServer();
  const file = await record(`tcp port ${h.port}`, async () => {
    // Raw requests: the first head fits in the snap length, the second is cut after its Host line.
    await segmented(h.port, ['GET /api/users HTTP/1.1\r\nHost: a\r\n\r\n', 'GET /api/users/1 HTTP/1.1\r\nHost: b\r\nX-Long: ' + 'x'.repeat(300) + '\r\nConnection: close\r\n\r\n']);
  });
  await h.close();
  const cut = outFile('pcap');
  execFileSync('editcap', ['-s', '120', file, cut]);
  const whole = await itemsOf(file);
  assert.deepEqual(whole.items.map((i) => req(i).path), ['/api/users', '/api/users/1']);
  const { items, stats } = await itemsOf(cut);
  // Every exchange still becomes an item, with what fits of its heads, and says it was cut.
  assert.deepEqual(items.map((i) => req(i).method + ' ' + req(i).path), ['GET /api/users', 'GET /api/users/1']);
  assert.equal(req(items[1]).headers?.Host, 'b');
  assert.equal(req(items[1]).headers?.['X-Long'], undefined);
  assert.deepEqual(items.map((i) => res(i).status), [200, 200]);
  for (const i of items) assert.match(i.error?.msg ?? '', /snap length/);
  assert.ok(stats.warnings['capture.snaplen-cut'] > 0);
  assert.equal(stats.gaps, 0);
  assert.match(stats.notices.join('\n'), /cut short by the capture's snap length \(as little as 120 bytes kept\)/);
  const c = cli(['items', '--pcap', cut, '--stats']);
  assert.equal(c.code, 0);
  assert.match(c.stderr, /warning: \d+ of \d+ packets were cut short/);
  assert.match(c.stderr, /capture\.snaplen-cut ×\d+/);
});

/** An Ethernet ARP request stamped `tsSec`: not TCP/UDP, but its time drives the sweeps. */
function arp(tsSec: number): RawPacket {
  const data = Buffer.alloc(42);
  data.fill(0xff, 0, 6);
  data.writeUInt16BE(0x0806, 12);
  data.writeUInt16BE(1, 14); // Ethernet
  data.writeUInt16BE(0x0800, 16); // IPv4
  data[18] = 6;
  data[19] = 4;
  data.writeUInt16BE(1, 20); // request
  return { linkType: 1, tsSec, tsNsec: 0, caplen: 42, origLen: 42, data, interfaceId: 0, offset: 0 };
}

const YEAR = 365 * 86400;
const pathOf = (i: Item) => req(i).path ?? '';

test('idle sweeps survive a packet stamped a year ahead, a clock stepped back and a long silence', async () => {
  const pkts = await readAll(await pollCapture());
  const t0 = pkts[0].tsSec;
  const tEnd = pkts[pkts.length - 1].tsSec;
  const b = pkts.findIndex((p) => p.data.includes('GET /b '));
  assert.ok(b > 0);
  const variants: Record<string, RawPacket[]> = {
    // One packet a year ahead, while /b waits for its response: it must neither time out the
    // open connections nor stop later sweeps.
    'a year ahead': [...pkts.slice(0, b + 1), arp(t0 + YEAR), ...pkts.slice(b + 1), arp(tEnd + 120)],
    // The capture starts with the clock a year ahead, then steps back for good.
    'stepped back': [arp(t0 + YEAR), arp(t0 + YEAR + 1), ...pkts, arp(tEnd + 120)],
    // A real silence of two hours (two packets agree on the new time).
    'long silence': [...pkts, arp(tEnd + 7200), arp(tEnd + 7201)],
  };
  for (const [name, list] of Object.entries(variants)) {
    const { items } = await itemsOf(writePcap(outFile('pcap'), list));
    for (const q of QUICK) assert.equal(items.find((i) => pathOf(i) === q)?.error, null, `${name}: ${q} completed`);
    // The long-poll's connection idled out (60 s of capture time) before the capture ended.
    assert.equal(items.find((i) => pathOf(i) === '/poll')?.error?.type, 'timeout', `${name}: the open request timed out`);
  }
});

/** A SYN from 10.x.y.z:port to 127.0.0.1:80 (Ethernet, IPv4, TCP without options). */
function syn(n: number, tsSec: number, tsNsec: number): RawPacket {
  const data = Buffer.alloc(54);
  data.writeUInt16BE(0x0800, 12);
  data[14] = 0x45;
  data.writeUInt16BE(40, 16);
  data[22] = 64;
  data[23] = 6;
  data.writeUInt32BE((10 << 24) | (n >>> 8), 26);
  data.writeUInt32BE(0x7f000001, 30);
  data.writeUInt16BE(1024 + (n & 0xff), 34);
  data.writeUInt16BE(80, 36);
  data.writeUInt32BE(n, 38);
  data[46] = 0x50;
  data[47] = 0x02; // SYN
  data.writeUInt16BE(65535, 48);
  return { linkType: 1, tsSec, tsNsec, caplen: 54, origLen: 54, data, interfaceId: 0, offset: 0 };
}

test('half-open connections are capped: the oldest are forgotten and counted, real traffic still dissected', async () => {
  const real = await readAll(await pollCapture());
  const t0 = real[0].tsSec - 2;
  const extra = 2000;
  const flood: RawPacket[] = [];
  for (let n = 0; n < MAX_HALF_OPEN + extra; n++) flood.push(syn(n, t0, n * 10));
  const { items, stats } = await itemsOf(writePcap(outFile('pcap'), [...flood, ...real]));
  const evicted = stats.warnings['tcp.half-open-evicted'];
  // The flood's surplus, plus one for each real connection's SYN while the table is full.
  assert.ok(evicted >= extra && evicted <= extra + 8, `evicted ${evicted}`);
  const http = items.filter((i) => i.protocol.name === 'http');
  assert.deepEqual(http.map(pathOf).sort(), ['/poll', ...QUICK].sort());
  assert.deepEqual(http.map(pathOf).sort(), (await itemsOf(await pollCapture())).items.map(pathOf).sort());
  // The flood's SYNs still in the table at the end are tcp-conn items; the evicted ones are counted.
  assert.equal(items.filter((i) => i.protocol.name === 'tcp-conn').length, MAX_HALF_OPEN + extra - evicted);
  assert.equal(stats.packetsBy['tcp/half-open-evicted'], evicted);
});

/** Claims every TCP stream and logs what reassembly hands over, in order. */
function logger(log: string[]): Dissector {
  return {
    name: 'log',
    priority: 0,
    detect: () => true,
    tcp: () => ({
      data: (dir, b) => void log.push(`data${dir}:${b.toString('latin1').split('\r')[0]}`),
      gap: (dir, n) => void log.push(`gap${dir}:${n}`),
      end: (dir, _ts, why) => void log.push(`end${dir ?? ''}:${why}`),
    }),
  };
}

test(`a hole is declared lost once its held segment waited exactly GAP_WAIT_S (${GAP_WAIT_S} s), by the sweep and by the packet check`, async () => {
  const h = await startHttpServer();
  const file = await record(`tcp port ${h.port}`, async () => {
    await segmented(h.port, ['GET /api/users HTTP/1.1\r\n', 'Host: x\r\n', 'Connection: close\r\n\r\n']);
  });
  await h.close();
  const pkts = await readAll(file);
  const at = (s: string) => pkts.findIndex((p) => p.data.toString('latin1').includes(s));
  const d1 = at('GET /api/users');
  const d2 = at('Host: x');
  const d3 = at('Connection: close');
  const r = at('HTTP/1.1 200');
  assert.ok(d1 > 0 && d2 > d1 && d3 > d2 && r > d3);
  const T = pkts[0].tsSec + 10;
  const stamp = (p: RawPacket, sec: number): RawPacket => ({ ...p, data: p.data, tsSec: sec, tsNsec: 0 });
  const head = pkts.slice(0, d1 + 1).map((p) => stamp(p, T - 5));
  const ackOfD1 = pkts.slice(d1 + 1, d2).find((p) => p.data.length <= 66 + 12);
  assert.ok(ackOfD1, "the server's ACK of the first segment");
  const variants: Record<string, RawPacket[]> = {
    // Held at T; the response at T + GAP_WAIT_S: the sweep before it declares the hole.
    sweep: [...head, stamp(pkts[d3], T), stamp(pkts[r], T + GAP_WAIT_S)],
    // The sweep of second T + GAP_WAIT_S ran before the segment was held (capture order a bit
    // off); its retransmission at T + GAP_WAIT_S declares the hole in the packet check.
    'packet check': [...head, stamp(ackOfD1!, T + GAP_WAIT_S), stamp(pkts[d3], T), stamp(pkts[d3], T + GAP_WAIT_S), stamp(pkts[r], T + GAP_WAIT_S)],
  };
  for (const [name, list] of Object.entries(variants)) {
    const log: string[] = [];
    await runPipeline(fileSource(writePcap(outFile('pcap'), list)), {}, { dissectors: [logger(log)] });
    // With '>' instead of '>=' the hole would wait until the end of the capture, after the response.
    assert.deepEqual(log.slice(0, 4), ['data0:GET /api/users HTTP/1.1', 'gap0:9', 'data0:Connection: close', 'data1:HTTP/1.1 200 OK'], name);
  }
});
