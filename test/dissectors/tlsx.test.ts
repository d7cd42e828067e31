/**
 * TLS handshake items from real traffic: Node's tls client (TLS 1.3 with SNI and ALPN, TLS 1.2
 * with SNI, TLS 1.2 without either) and curl -k against a self-signed Node tls server. JA3/JA4
 * are also checked against a published example (values as the FoxIO/Salesforce tools print
 * them for a Chrome ClientHello).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemsOf, tlsCapture } from '../helpers/weblayer-captures';
import { TLS_CLIENTS } from '../helpers/weblayer-traffic';
import { ja3, ja4 } from '../../capture/dissectors/tls-fingerprint';
import { tlsx } from '../../capture/dissectors/tlsx';
import type { TlsClientHello, TlsServerHello } from '../../capture/item/schema';

test('JA3 and JA4 of a published Chrome ClientHello (GREASE included on input) match the published fingerprints', () => {
  const hx = (s: string) => s.split(',').map((x) => parseInt(x, 16));
  // Wire order, as in the example's ja4_ro; GREASE values added where Chrome puts them.
  const h = {
    version: 0x0303,
    ciphers: [0x0a0a, ...hx('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035')],
    extensions: [0xfafa, ...hx('002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b'), 0x1a1a],
    groups: [0x2a2a, 4588, 29, 23, 24],
    pointFormats: [0],
    sigAlgs: hx('0403,0804,0401,0503,0805,0501,0806,0601'),
    supportedVersions: [0x5a5a, 0x0304, 0x0303],
    alpn: ['h2', 'http/1.1'],
    sni: true,
  };
  assert.deepEqual(ja4(h), {
    fp: 't13d1516h2_8daaf6152771_d8a2da3f94cd',
    raw: 't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  });
  assert.deepEqual(ja3(h), {
    text: '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0',
    hash: '98487aa16281980e7d1120d399efb6a4',
  });
  // No ALPN, no SNI, no signature algorithms: "00", "i", and the extension hash without "_".
  const bare = ja4({ ...h, alpn: [], sni: false, sigAlgs: [], extensions: [0x000a] });
  assert.match(bare.fp, /^t13i150100_8daaf6152771_[0-9a-f]{12}$/);
  assert.equal(bare.raw.split('_')[2], '000a');
});

test('tlsx: one item per handshake with SNI, ALPN, versions, suites, fingerprints; certificates on TLS 1.2', async () => {
  const { file } = await tlsCapture();
  const { items, stats } = await itemsOf(file);
  assert.deepEqual(items.map((i) => i.protocol.name), ['tlsx', 'tlsx', 'tlsx', 'tlsx'], 'three Node clients and curl; nothing else');
  for (const i of items) assert.equal(i.error, null);
  const reqs = items.map((i) => i.request as TlsClientHello);
  const ress = items.map((i) => i.response as TlsServerHello);
  assert.deepEqual(reqs.slice(0, 3).map((r) => [r.sni, r.alpn]), TLS_CLIENTS.map((c) => [c.sni, c.alpn]));
  assert.deepEqual(ress.map((r) => r.version), ['TLS 1.3', 'TLS 1.2', 'TLS 1.2', 'TLS 1.3']);
  assert.ok(reqs[0].versions.includes('TLS 1.3') && !reqs[1].versions.includes('TLS 1.3'));
  // ALPN in TLS 1.3 is in the encrypted extensions: visible only on 1.2.
  assert.deepEqual(ress.map((r) => r.alpn), ['', 'http/1.1', '', '']);
  for (const [k, r] of reqs.entries()) {
    assert.match(r.ja3Hash, /^[0-9a-f]{32}$/);
    assert.match(r.ja4, new RegExp(`^t1${k === 0 || k === 3 ? 3 : 2}${r.sni ? 'd' : 'i'}\\d{4}${r.alpn[0] ? r.alpn[0][0] + r.alpn[0].slice(-1) : '00'}_[0-9a-f]{12}_[0-9a-f]{12}$`));
    assert.ok(r.cipherSuites.includes(ress[k].cipherSuite), 'the chosen suite was offered');
  }
  const certs = ress.map((r) => r.certificates.map((c) => [c.subject, c.issuer, c.subjectAltName]));
  const self = [['CN=wirehook.test\nO=Wirehook Test', 'CN=wirehook.test\nO=Wirehook Test', 'DNS:wirehook.test, IP Address:127.0.0.1']];
  assert.deepEqual(certs, [[], self, self, []]);
  // Sizes: the handshake records seen; the TLS 1.2 server's include the certificate.
  assert.ok(items[1].responseSize > 800 && items[0].requestSize > 100);
  assert.deepEqual(Object.keys(stats.packetsBy), ['tcp/tlsx']);
});

test('tlsx detection: a ClientHello/ServerHello record start claims; anything else declines in a comparison or two', () => {
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
  assert.equal(tlsx.detect(hello, 0, {} as never), true);
  assert.equal(tlsx.detect(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x5a, 0x02]), 1, {} as never), true);
  assert.equal(tlsx.detect(hello, 1, {} as never), false, 'a ClientHello from the server side is not TLS');
  assert.equal(tlsx.detect(Buffer.from([0x16, 0x03]), 0, {} as never), 'maybe');
  assert.equal(tlsx.detect(Buffer.from('GET / HTTP/1.1\r\n'), 0, {} as never), false);
  assert.equal(tlsx.detect(Buffer.from([0x16, 0x04, 0x01, 0, 0, 1]), 0, {} as never), false);
});
