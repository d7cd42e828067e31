/**
 * dst.name from the request when nothing else names the server (kubeshark-compat §6.6): HTTP/1
 * `Host`, port dropped, from a real loopback capture (Node's http server, raw client requests).
 * HTTP/2's `:authority`: test/dissectors/http2.test.ts.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { captureLoopback } from '../helpers/capture';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { HttpItem, Item } from '../../capture/item/schema';
import { buildItem } from '../../capture/item/build';
import { PROTOCOLS } from '../../capture/item/protocols';
import { hostOf } from '../../capture/dissectors/http-fields';

/** Raw requests, one connection each, and the dst.name each item should get. */
const REQUESTS: [string, string][] = [
  ['GET /a HTTP/1.1\r\nHost: shop.test:8080\r\nConnection: close\r\n\r\n', 'shop.test'],
  ['GET /b HTTP/1.1\r\nHost: Orders.Example\r\nConnection: close\r\n\r\n', 'Orders.Example'],
  ['GET /c HTTP/1.1\r\nHost: [::1]:9000\r\nConnection: close\r\n\r\n', '::1'],
  ['GET /d HTTP/1.0\r\n\r\n', ''],
];

let items: HttpItem[] = [];

before(async () => {
  const server = http.createServer((req, res) => res.end(req.url));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const file = await captureLoopback(`tcp port ${port}`, async () => {
    for (const [raw] of REQUESTS) {
      await new Promise<void>((res, rej) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(raw));
        s.on('data', () => {});
        s.on('end', () => res());
        s.on('error', rej);
      });
    }
  });
  await new Promise<void>((r) => server.close(() => r()));
  const out: Item[] = [];
  await runPipeline(fileSource(file), { item: (i) => void out.push(i) });
  items = out as HttpItem[];
});

test('HTTP/1: dst.name is the Host header without its port; no Host, no name', () => {
  assert.deepEqual(items.map((i) => i.request.path), ['/a', '/b', '/c', '/d']);
  assert.deepEqual(items.map((i) => i.dst.name), REQUESTS.map(([, name]) => name));
  for (const i of items) assert.equal(i.dst.ip, '127.0.0.1');
});

test('a name from the process table or DNS answers wins over the request\'s own', () => {
  const flow = { srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 80, transport: 'tcp' as const };
  const msg = { protocol: PROTOCOLS.http11, request: {}, response: {}, requestSize: 1, responseSize: 1, requestTs: { sec: 1, nsec: 0 }, responseTs: null, dstName: 'from-host' };
  const build = (dst: Parameters<typeof buildItem>[7]) => buildItem(msg, flow, '000000000001.pcap', 0, 'w', { name: 'n', ip: '' }, null, dst).dst;
  assert.equal(build({ name: 'api.svc', processName: '', processId: 0 }).name, 'api.svc');
  assert.deepEqual(build(null), { ip: '10.0.0.2', port: '80', name: 'from-host', namespace: '', processName: '', processId: 0 });
  // A process found without a name keeps its pid, and the request names it.
  assert.deepEqual(build({ name: '', processName: '', processId: 42 }).processId, 42);
  assert.equal(build({ name: '', processName: '', processId: 42 }).name, 'from-host');
});

test('hostOf: ports dropped, IPv6 brackets removed, odd values kept', () => {
  assert.equal(hostOf(undefined), '');
  assert.equal(hostOf(''), '');
  assert.equal(hostOf('api'), 'api');
  assert.equal(hostOf('api:8080'), 'api');
  assert.equal(hostOf('[2001:db8::1]:443'), '2001:db8::1');
  assert.equal(hostOf('[::1]'), '::1');
  assert.equal(hostOf('[broken'), '[broken');
  assert.equal(hostOf('2001:db8::1'), '2001:db8::1');
});

test('TLS handshakes: dst.name is the SNI the client asked for; without SNI, no name', async () => {
  const { itemsOf } = await import('../runtime/fixture');
  const tls = itemsOf('examples/captures/services.pcap').filter((i) => i.protocol.name === 'tlsx');
  const sni = (i: (typeof tls)[number]) => (i.request as { sni: string }).sni;
  assert.ok(tls.some((i) => sni(i) !== '') && tls.some((i) => sni(i) === ''), 'real handshakes with and without SNI');
  assert.deepEqual(tls.map((i) => i.dst.name), tls.map(sni));
});
