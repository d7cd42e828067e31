// streamName (capture/stream/host.ts): Kubeshark's 12-digit stream file names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamName } from '../../capture/stream/host';

test('host: stream names are 12 zero-padded digits and a per-transport suffix', () => {
  assert.equal(streamName(42, 'tcp'), '000000000042.pcap');
  assert.equal(streamName(42, 'udp'), '000000000042_udp.pcap');
  assert.equal(streamName(7, 'icmp'), '000000000007_icmp.pcap');
  assert.equal(streamName(0, 'tcp'), '000000000000.pcap');
  assert.equal(streamName(123456789012, 'udp'), '123456789012_udp.pcap');
});
