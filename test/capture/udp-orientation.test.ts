// A capture that starts between a DNS query and its answer: the first datagram of the flow is
// the response (from port 53). The item must still name the querier as src and the server as dst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, dnsScenario } from '../helpers/traffic';
import { captureLoopback } from '../helpers/capture';
import { readAll, writePcap, outFile, cli } from './lib';

test('UDP flow first seen from a well-known port to an ephemeral one: the receiver is the client', async () => {
  let d;
  try {
    d = await startDnsServer(53);
  } catch (e) {
    assert.fail(`port 53 on 127.0.0.1 is taken (${(e as Error).message}); this test needs it free`);
  }
  const file = await captureLoopback('udp port 53', async () => void (await dnsScenario(53)));
  await d.close();
  const pkts = await readAll(file);
  // Drop every query (to port 53): each flow now starts with its response.
  const onlyResponses = pkts.filter((p) => p.data.readUInt16BE(14 + 20 + 2) !== 53);
  assert.ok(onlyResponses.length > 0 && onlyResponses.length < pkts.length);
  const cut = writePcap(outFile('pcap'), onlyResponses);
  const r = cli(['items', '--pcap', cut]);
  assert.equal(r.code, 0, r.stderr);
  const items = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(items.length > 0, 'responses without queries still yield items');
  for (const it of items) {
    assert.equal(it.dst.port, '53', `server side of ${it.id}`);
    assert.notEqual(it.src.port, '53');
    assert.ok(it.response.code, 'built from the response');
  }
});
