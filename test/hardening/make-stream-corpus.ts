/**
 * Regenerates test/hardening/corpus/streams/{kafka,amqp,mongodb}.json: real connections recorded
 * byte for byte by the test relay (test/dissectors/harness.ts recordRelay) — kafkajs against the
 * scripted Kafka responder, amqplib against Debian's RabbitMQ, the mongodb driver against the
 * scripted MongoDB responder — as seeds for the dissector fuzzing (test/dissectors/fuzz.test.ts),
 * so that suite needs no broker; and the relay → server leg of the same sessions as capture
 * files, corpus/binary/{kafka,amqp,mongodb}.pcap, seeds for test/hardening/fuzz-pipeline.test.ts. Run: `node --import tsx test/hardening/make-stream-corpus.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import amqplib from 'amqplib';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { recordRelay, type Recorded } from '../dissectors/harness';
import { captureLoopback } from '../helpers/capture';
import { startKafkaResponder } from '../helpers/kafka-responder';
import { startMongoResponder } from '../helpers/mongo-responder';
import { startRabbitMq } from '../helpers/rabbitmq';

const DIR = resolve('test', 'hardening', 'corpus', 'streams');
const PCAPS = resolve('test', 'hardening', 'corpus', 'binary');
mkdirSync(DIR, { recursive: true });
mkdirSync(PCAPS, { recursive: true });

/** recordRelay, with the relay → server leg captured into corpus/binary/NAME.pcap. */
async function recorded(name: string, port: number, run: (p: number) => Promise<void>): Promise<Recorded[]> {
  let recs: Recorded[] = [];
  await captureLoopback(`tcp port ${port}`, async () => { recs = await recordRelay(port, run); }, { file: join(PCAPS, `${name}.pcap`) });
  return recs;
}

function save(name: string, recs: Recorded[]): void {
  const tcp = recs.filter((r) => r.transport === 'tcp' && r.chunks.length > 0);
  const out = tcp.map((r) => r.chunks.map((c) => [c.dir, c.bytes.toString('hex')]));
  writeFileSync(join(DIR, `${name}.json`), JSON.stringify(out) + '\n');
  console.log(`${name}: ${tcp.length} connections, ${tcp.reduce((n, r) => n + r.chunks.length, 0)} chunks`);
}

async function main(): Promise<void> {
  const kafkaBroker = await startKafkaResponder();
  save('kafka', await recorded('kafka', kafkaBroker.port, async (p) => {
    kafkaBroker.advertised = p;
    const kafka = new Kafka({ clientId: 'corpus', brokers: [`127.0.0.1:${p}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }], waitForLeaders: false });
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'v', partition: 0, headers: { h: 'x' } }, { value: 'w', partition: 1 }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'g', heartbeatInterval: 100, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await new Promise((r) => setTimeout(r, 600));
    await consumer.commitOffsets([{ topic: 'orders', partition: 0, offset: '1' }]);
    await consumer.disconnect();
  }));
  await kafkaBroker.close();

  const mongo = await startMongoResponder();
  save('mongodb', await recorded('mongodb', mongo.port, async (p) => {
    const client = new MongoClient(`mongodb://127.0.0.1:${p}/?directConnection=true&serverMonitoringMode=poll`);
    await client.connect();
    const db = client.db('shop');
    await db.collection('people').insertMany([{ name: 'a', n: 1 }, { name: 'b', when: new Date(0) }]);
    await db.collection('people').find({ n: { $gt: 0 } }).toArray();
    await db.command({ nope: 1 }).catch(() => {});
    await client.close();
  }));
  await mongo.close();

  const rabbit = await startRabbitMq();
  try {
    save('amqp', await recorded('amqp', rabbit.port, async (p) => {
      const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${p}?frameMax=4096`);
      const ch = await conn.createChannel();
      await ch.assertQueue('q', { durable: false });
      ch.sendToQueue('q', Buffer.from('hello'), { contentType: 'text/plain', headers: { a: 1, b: 'x', c: [1, 'y'], d: { e: true } } });
      ch.sendToQueue('q', Buffer.alloc(20_000, 'z'));
      let n = 0;
      await new Promise<void>((res) => { void ch.consume('q', (m) => { if (m) { ch.ack(m); if (++n === 2) res(); } }); });
      const bad = await conn.createChannel();
      bad.on('error', () => {});
      await bad.checkQueue('missing').catch(() => {});
      await ch.close();
      await conn.close();
    }));
  } finally {
    await rabbit.stop();
  }
}

void main();
