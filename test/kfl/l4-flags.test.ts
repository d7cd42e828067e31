/**
 * `tcp`/`udp` in both query languages mean Kubeshark's raw L4 items, which ours are the flow
 * items (tcp-conn/tcp-flow, udp-conn/udp-flow): judged on the real items of the bundled
 * services capture, where a UDP flow no dissector claims sits beside a dozen claimed protocols.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { compileQuery } from '../../server/kfl/index';
import { itemsOf } from '../runtime/fixture';

test('tcp/udp match the flow items only, in KFL2 and legacy KFL alike', () => {
  const items = itemsOf(path.resolve('examples/captures/services.pcap'));
  const names = (q: string) => items.filter((it) => compileQuery(q, 'auto').match(it)).map((it) => it.protocol.name);
  assert.ok(items.length > 50);
  for (const [q, want] of [['udp', ['udp-conn']], ['udp and request.payload != ""', ['udp-conn']], ['udp && udp_conn', ['udp-conn']], ['tcp', ['tcp-conn']], ['tcp && conn_state == "closed"', ['tcp-conn']], ['tcp || udp', ['tcp-conn', 'udp-conn']]] as const) {
    assert.deepEqual(names(q), [...want], q);
  }
  // Everything else in the capture runs over TCP, and only the echo connection is a `tcp` item.
  assert.ok(items.filter((it) => it.protocol.layer4 === 'tcp').length > 40);
});
