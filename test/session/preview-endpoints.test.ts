/**
 * The panel's src → dst text (server/session/preview.ts) on the demo capture's real items. Its
 * HTTP requests were sent with `Host: 127.0.0.1:8080`, so dst.name is the IP literal as sent
 * (capture keeps it: docs/capture.md): the row shows it with the port, as it shows an
 * unnamed endpoint, not a bare `127.0.0.1`. A real name stays a name.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { captureItems } from './items';
import { preview } from '../../server/session/preview';

test('a name that is an IP literal shows as ip:port; real names and unnamed endpoints as before', async () => {
  const { items } = await captureItems();
  const http = items.filter((i) => i.protocol.name === 'http');
  const dns = items.filter((i) => i.protocol.name === 'dns');
  assert.ok(http.length > 10 && dns.length > 10);
  for (const it of http) {
    assert.equal(it.dst.name, '127.0.0.1', 'the item keeps the literal as sent');
    const p = preview(it);
    assert.equal(p.dst, `127.0.0.1:${it.dst.port}`);
    assert.equal(p.src, `${it.src.ip}:${it.src.port}`);
  }
  for (const it of dns) assert.equal(preview(it).dst, `127.0.0.1:53`);
  // The same item with an IPv6 literal, a real name, and a literal that is not the server's own address.
  const base = structuredClone(http[0]);
  assert.equal(preview({ ...base, dst: { ...base.dst, ip: '::1', name: '::1' } }).dst, `[::1]:${base.dst.port}`);
  assert.equal(preview({ ...base, dst: { ...base.dst, name: 'orders.example' } }).dst, 'orders.example');
  assert.equal(preview({ ...base, dst: { ...base.dst, name: '10.1.2.3' } }).dst, `10.1.2.3:${base.dst.port}`);
});
