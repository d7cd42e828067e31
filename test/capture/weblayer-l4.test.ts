/**
 * ICMP/ICMPv6 items and flow items from real loopback traffic: `ping` and `ping -6` (echo pairs
 * with RTT), a datagram to a closed UDP port (ICMP port unreachable tied to its flow, which is
 * `refused`), a connect to a closed TCP port (refused), and sessions of an unknown protocol
 * (closed with FIN, reset by the server, a long one reported periodically). `--stats` puts every
 * packet in exactly one bucket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowCapture, icmpCapture, itemsOf } from '../helpers/weblayer-captures';
import type { FlowRequest, FlowResponse, IcmpMessage, IcmpResponse, Item } from '../../capture/item/schema';

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

test('ICMP: echo requests pair with their replies (RTT, id, seq), v4 and v6', async () => {
  const { file } = await icmpCapture();
  const { items } = await itemsOf(file);
  const echoes = items.filter((i) => i.protocol.name === 'icmp' && (i.request as IcmpMessage).typeName === 'EchoRequest');
  assert.deepEqual(echoes.map((i) => [i.protocol.abbr, (i.request as IcmpMessage).seq, (i.response as IcmpResponse).typeName]), [
    ['ICMP', 1, 'EchoReply'], ['ICMP', 2, 'EchoReply'], ['ICMP', 3, 'EchoReply'],
    ['ICMPv6', 1, 'EchoReply'], ['ICMPv6', 2, 'EchoReply'],
  ]);
  for (const i of echoes) {
    const q = i.request as IcmpMessage, r = i.response as IcmpResponse;
    assert.equal(q.id, r.id);
    assert.ok(r.rtt > 0 && r.rtt < 1e6, `rtt ${r.rtt} µs`);
    assert.equal(i.error, null);
    assert.match(i.stream, /^\d{12}_icmp\.pcap$/);
  }
  assert.equal(new Set(echoes.map((i) => i.stream)).size, 2, 'one stream per ping run');
});

test('ICMP port unreachable names the UDP flow it quotes; that flow and a refused TCP connect are flow items', async () => {
  const { file, udpPort, tcpPort } = await icmpCapture();
  const { items, stats } = await itemsOf(file);
  const unreach = items.find((i) => (i.request as IcmpMessage).typeName === 'DestinationUnreachable')!;
  const u = unreach.request as IcmpMessage;
  assert.equal(u.typeCode, 'DestinationUnreachable(Port)');
  const udp = items.find((i) => i.protocol.name === 'udp-conn')!;
  assert.deepEqual(u.original, { transport: 'udp', srcIp: '127.0.0.1', srcPort: Number(udp.src.port), dstIp: '127.0.0.1', dstPort: udpPort, stream: udp.stream });
  const ur = udp.request as FlowRequest;
  assert.deepEqual([ur.state, ur.packets, ur.bytes, Buffer.from(ur.payload, 'base64').toString()], ['refused', 1, 13, 'anyone there?']);
  const tcp = items.find((i) => i.protocol.name === 'tcp-conn')!;
  assert.equal(tcp.dst.port, String(tcpPort));
  assert.deepEqual([(tcp.request as FlowRequest).state, (tcp.request as FlowRequest).end], ['refused', 'rst']);
  assert.equal(sum(stats.packetsBy), stats.packets);
  assert.deepEqual(Object.keys(stats.packetsBy).sort(), ['icmp', 'icmp6', 'tcp/flow', 'udp/flow']);
});

test('flow items: FIN-closed and reset sessions, byte/packet counts and first bytes; a long flow is reported periodically', async () => {
  const { file, port } = await flowCapture();
  const { items, stats } = await itemsOf(file, { flowReportS: 1 });
  const conns = items.filter((i) => i.protocol.name === 'tcp-conn');
  assert.equal(conns.length, 3);
  const byState = (i: Item) => [(i.request as FlowRequest).state, (i.request as FlowRequest).end];
  assert.deepEqual(conns.map(byState), [['closed', 'fin'], ['reset', 'rst'], ['closed', 'fin']]);
  const [first, , long] = conns;
  const fq = first.request as FlowRequest, fr = first.response as FlowResponse;
  assert.equal(first.dst.port, String(port));
  assert.deepEqual([fq.bytes, fr.bytes], ['hello\nbye\n'.length, 2 * '\x00\x01ACK '.length + 'hello\nbye\n'.length]);
  assert.equal(Buffer.from(fq.payload, 'base64').toString(), 'hello\n');
  assert.equal(Buffer.from(fr.payload, 'base64').toString(), '\x00\x01ACK hello\n');
  assert.ok(fq.packets >= 4 && fr.packets >= 3, 'SYN, data, ACKs, FIN');
  assert.equal(first.requestSize, fq.bytes);
  const lq = long.request as FlowRequest;
  assert.ok(lq.duration > 2e6, `long flow lasted ${lq.duration} µs`);
  assert.ok(long.elapsedTime >= 2000);
  // Periodic reports of the long flow: counts since the previous report add up to its totals.
  const reports = items.filter((i) => i.protocol.name === 'tcp-flow' && i.stream === long.stream);
  assert.ok(reports.length >= 1, `${reports.length} reports`);
  for (const r of reports) assert.deepEqual([(r.request as FlowRequest).state, (r.request as FlowRequest).end], ['open', 'report']);
  const last = reports[reports.length - 1].request as FlowRequest;
  assert.equal(reports.reduce((a, r) => a + (r.request as FlowRequest).bytes, 0), last.totalBytes);
  assert.ok(last.totalBytes! <= lq.bytes);
  assert.deepEqual(Object.keys(stats.packetsBy), ['tcp/flow']);
  assert.equal(stats.packetsBy['tcp/flow'], stats.packets);
  // Without the short report period, the default (60 s) makes no report in a 3 s capture.
  assert.equal((await itemsOf(file)).items.filter((i) => i.protocol.name === 'tcp-flow').length, 0);
});

test('--stats: every packet of the HTTP/DNS scenario and of the mixed capture is in exactly one bucket', async () => {
  const { scenarioCapture } = await import('../helpers/capture');
  const { mixCapture } = await import('./lib');
  for (const file of [(await scenarioCapture()).file, (await mixCapture()).file]) {
    const { stats } = await itemsOf(file);
    assert.equal(sum(stats.packetsBy), stats.packets, JSON.stringify(stats.packetsBy));
    // Lean runs and --count runs account too (an early stop leaves the rest "in-flight").
    const { runPipeline } = await import('../../capture/pipeline');
    const { fileSource } = await import('../../capture/sources/file');
    const lean = await runPipeline(fileSource(file), {}, { lean: true });
    assert.deepEqual(lean.packetsBy, stats.packetsBy);
    const cut = await itemsOf(file, { count: 2 });
    assert.equal(sum(cut.stats.packetsBy), cut.stats.packets);
  }
});
