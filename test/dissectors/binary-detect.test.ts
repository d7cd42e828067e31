/**
 * Detection of Kafka, AMQP 0-9-1 and MongoDB: each claims the first bytes of its own real
 * connections (test/hardening/corpus/streams, recorded from kafkajs, amqplib + RabbitMQ and the
 * mongodb driver) and none claims the others', nor the first bytes of protocols other dissectors
 * own (HTTP, DNS over TCP, TLS, PostgreSQL, MySQL, Redis, SSH), in either direction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Direction, Dissector, FlowAddr } from '../../capture/types';
import { kafka } from '../../capture/dissectors/kafka';
import { amqp } from '../../capture/dissectors/amqp';
import { mongodb } from '../../capture/dissectors/mongodb';

const flow: FlowAddr = { srcIp: '127.0.0.1', srcPort: 50000, dstIp: '127.0.0.1', dstPort: 40000, transport: 'tcp' };
const MINE: Record<string, Dissector> = { kafka, amqp, mongodb };

/** First bytes of each direction of each recorded connection. */
function firsts(name: string): { dir: Direction; bytes: Buffer }[] {
  const conns = JSON.parse(readFileSync(`test/hardening/corpus/streams/${name}.json`, 'utf8')) as [Direction, string][][];
  const out: { dir: Direction; bytes: Buffer }[] = [];
  for (const c of conns) {
    for (const d of [0, 1] as Direction[]) {
      const b = Buffer.concat(c.filter(([dir]) => dir === d).map(([, hex]) => Buffer.from(hex, 'hex'))).subarray(0, 4096);
      if (b.length) out.push({ dir: d, bytes: b });
    }
  }
  return out;
}

test('each claims its own client side, the others refuse it', () => {
  for (const [name, own] of Object.entries(MINE)) {
    for (const { dir, bytes } of firsts(name)) {
      if (dir === 0) assert.equal(own.detect(bytes, 0, flow), true, `${name} claims its client's first bytes`);
      for (const [other, d] of Object.entries(MINE)) {
        if (other === name) continue;
        assert.notEqual(d.detect(bytes, dir, flow), true, `${other} must not claim ${name} (dir ${dir})`);
      }
    }
  }
});

/** First bytes of other protocols, as their clients (0) or servers (1) send them. */
const OTHERS: [string, Direction, Buffer][] = [
  ['HTTP request', 0, Buffer.from('GET /api/users HTTP/1.1\r\nHost: x\r\n\r\n')],
  ['HTTP response', 1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
  ['DNS over TCP', 0, Buffer.from('001d12340100000100000000000003777777076578616d706c6503636f6d0000010001', 'hex')],
  ['TLS ClientHello', 0, Buffer.from('16030100c4010000c00303' + '11'.repeat(32) + '00', 'hex')],
  ['PostgreSQL startup', 0, Buffer.concat([Buffer.from('0000002a00030000', 'hex'), Buffer.from('user\0postgres\0database\0shop\0\0')])],
  ['PostgreSQL SSLRequest', 0, Buffer.from('0000000804d2162f', 'hex')],
  ['PostgreSQL auth', 1, Buffer.from('520000000800000000', 'hex')],
  ['MySQL greeting', 1, Buffer.concat([Buffer.from('4a0000000a', 'hex'), Buffer.from('10.11.6-MariaDB\0'), Buffer.alloc(40, 1)])],
  ['MySQL handshake response', 0, Buffer.concat([Buffer.from('5500000185a6ff0100000001210000000000000000000000000000000000000000000000', 'hex'), Buffer.from('root\0')])],
  ['Redis command', 0, Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n')],
  ['Redis inline', 0, Buffer.from('PING\r\n')],
  ['Redis reply', 1, Buffer.from('+OK\r\n')],
  ['SSH banner', 1, Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')],
];

test('none claims HTTP, DNS, TLS, PostgreSQL, MySQL, Redis or SSH first bytes', () => {
  for (const [what, dir, bytes] of OTHERS) {
    for (const [name, d] of Object.entries(MINE)) {
      assert.notEqual(d.detect(bytes, dir, flow), true, `${name} claimed ${what}`);
    }
  }
});

test('detection decides on a prefix: partial headers wait, then claim', () => {
  for (const [name, own] of Object.entries(MINE)) {
    const first = firsts(name).find((f) => f.dir === 0)!.bytes;
    let verdict: boolean | 'maybe' = 'maybe';
    let at = 0;
    for (at = 1; at <= first.length && verdict === 'maybe'; at++) verdict = own.detect(first.subarray(0, at), 0, flow);
    assert.equal(verdict, true, `${name}: claimed after ${at - 1} bytes`);
    assert.ok(at - 1 <= 64, `${name} needs ${at - 1} bytes`);
  }
});
