// The type model is generated from capture/item/schema.ts and the runtime API text, and is current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs build script without types
import { generateModel } from '../../scripts/gen-lsp-model.mjs';
import { HOOK_NAMES, MODEL } from '../../server/lsp/features/model';

test('model.generated.json is what gen-lsp-model.mjs makes from the schema today', () => {
  assert.equal(readFileSync('server/lsp/features/model.generated.json', 'utf8'), generateModel(), 'run: node scripts/gen-lsp-model.mjs');
});

test('the model has the six Kubeshark hooks, the helpers, and each protocol\'s shapes', () => {
  assert.deepEqual([...HOOK_NAMES].sort(), ['onHubAction', 'onItemCaptured', 'onItemQueried', 'onJobFailed', 'onJobPassed', 'onPacketCaptured']);
  for (const g of ['console', 'test', 'env', 'kfl', 'jobs', 'utils', 'hub', 'wrapper', 'prometheus', 'file', 'pcap', 'vendor', 'chatgpt']) assert.ok(MODEL.globals[g], g);
  assert.deepEqual(MODEL.protocols, [
    { name: 'http', request: 'HttpRequest', response: 'HttpResponse' },
    { name: 'dns', request: 'DnsRequest', response: 'DnsResponse' },
    // weblayer
    { name: 'ws', request: 'WsMessage', response: 'WsMessage' },
    { name: 'tlsx', request: 'TlsClientHello', response: 'TlsServerHello' },
    { name: 'icmp', request: 'IcmpMessage', response: 'IcmpResponse' },
    ...['tcp-conn', 'udp-conn', 'tcp-flow', 'udp-flow'].map((name) => ({ name, request: 'FlowRequest', response: 'FlowResponse' })),
    // end weblayer
    // protocols II
    { name: 'redis', request: 'RedisMessage', response: 'RedisMessage' },
    { name: 'postgresql', request: 'PostgresqlRequest', response: 'PostgresqlResponse' },
    { name: 'mysql', request: 'MysqlRequest', response: 'MysqlResponse' },
    // Kafka, AMQP 0-9-1, MongoDB (issue 12)
    { name: 'kafka', request: 'KafkaRequest', response: 'KafkaResponse' },
    { name: 'amqp', request: 'AmqpMethod', response: 'AmqpMethod' },
    { name: 'mongodb', request: 'MongoRequest', response: 'MongoResponse' },
  ]);
});
