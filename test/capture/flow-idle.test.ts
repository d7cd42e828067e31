/**
 * Flow items for flows that do not end with FIN/RST (issue 11: "one item when the flow ends or
 * goes idle"): real loopback traffic — a TCP connection and a UDP flow, each with two exchanges
 * 300 ms apart, still open when the capture stops. As captured they end with the capture
 * (`open`, `capture-end`); with the second exchange moved 100 s later in capture time (the
 * recorded packets re-stamped, nothing else touched) the first part idles out (TCP 60 s: `open`,
 * `idle`; UDP 30 s: `closed`, `idle`) and the later packets are flows of their own.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { captureLoopback } from '../helpers/capture';
import { itemsOf } from '../helpers/weblayer-captures';
import { outFile, readAll, writePcap } from './lib';
import type { FlowRequest, FlowResponse, Item } from '../../capture/item/schema';

let file = '';
let shifted = '';

const reply = (s: net.Socket) => new Promise<void>((r) => s.once('data', () => r()));

before(async () => {
  const tcp = net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, ri) => udp.send(m, ri.port, ri.address));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const tp = (tcp.address() as AddressInfo).port, up = udp.address().port;
  const client = dgram.createSocket('udp4');
  let sock: net.Socket | null = null;
  file = await captureLoopback(`tcp port ${tp} or udp port ${up}`, async () => {
    sock = net.connect(tp, '127.0.0.1');
    await new Promise<void>((r) => sock!.once('connect', () => r()));
    const udpReply = () => new Promise<void>((r) => client.once('message', () => r()));
    for (const round of [1, 2]) {
      if (round === 2) await new Promise((r) => setTimeout(r, 300));
      sock.write(`ping${round}\n`);
      await reply(sock);
      client.send(`u${round}`, up, '127.0.0.1');
      await udpReply();
    }
  });
  // Closed only after the capture stopped: both flows are open at its end.
  (sock as net.Socket | null)?.destroy();
  client.close();
  udp.close();
  await new Promise<void>((r) => tcp.close(() => r()));
  const pkts = await readAll(file);
  const t0 = pkts[0].tsSec + pkts[0].tsNsec / 1e9;
  for (const p of pkts) if (p.tsSec + p.tsNsec / 1e9 - t0 >= 0.25) p.tsSec += 100;
  shifted = writePcap(outFile('pcap'), pkts);
});

const flow = (i: Item) => {
  const q = i.request as FlowRequest, r = i.response as FlowResponse;
  return `${i.protocol.name} ${q.state}/${q.end} ${q.bytes}+${r.bytes}`;
};
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

test('flows still open when the capture ends: one item each, state open, end capture-end', async () => {
  const { items, stats } = await itemsOf(file);
  assert.deepEqual(items.map(flow).sort(), ['tcp-conn open/capture-end 12+12', 'udp-conn open/capture-end 4+4']);
  assert.equal(sum(stats.packetsBy), stats.packets);
});

test('flows that go quiet: TCP idles out after 60 s (open/idle), UDP after 30 s (closed/idle); what comes later is a new flow', async () => {
  const { items, stats } = await itemsOf(shifted);
  assert.deepEqual(items.map(flow).sort(), [
    'tcp-conn open/capture-end 6+6',
    'tcp-conn open/idle 6+6',
    'udp-conn closed/idle 2+2',
    'udp-conn open/capture-end 2+2',
  ]);
  const idle = items.find((i) => flow(i).startsWith('tcp-conn open/idle'))!;
  assert.ok(idle.elapsedTime < 1000, 'the idle item spans the flow up to its last packet, not the timeout');
  assert.equal(sum(stats.packetsBy), stats.packets);
});
