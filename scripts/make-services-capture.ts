/**
 * Writes examples/captures/services.pcap: the demo's second capture, real loopback traffic of
 * everything beyond HTTP/1.1 and DNS that Wirehook dissects — HTTP/2 and gRPC (Node http2,
 * @grpc/grpc-js), GraphQL over HTTP/2, WebSocket (ws), TLS handshakes (Node tls), Redis
 * (ioredis), PostgreSQL (pg), MySQL (mysql2), AMQP (amqplib + RabbitMQ), Kafka and MongoDB
 * (kafkajs / the mongodb driver against the test responders: Debian ships neither server), and
 * a TCP connection and a UDP flow no dissector claims. Reuses the tests' servers and scenarios; needs the test
 * servers installed (scripts/setup-test-servers.sh). Run once, as root:
 *   node --import tsx scripts/make-services-capture.ts
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import pg from 'pg';
import mysql from 'mysql2/promise';
import amqplib from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { captureLoopback } from '../test/helpers/capture';
import { startMariadb, startPostgres, startRedis, PG_PASSWORD } from '../test/helpers/db-servers';
import { startH2Server, h2Scenario, startGrpcServer, grpcScenario } from '../test/helpers/h2-traffic';
import { startTlsServer, tlsScenario, startWsServer, wsScenario } from '../test/helpers/weblayer-traffic';
import { startKafkaResponder } from '../test/helpers/kafka-responder';
import { startMongoResponder } from '../test/helpers/mongo-responder';
import { startRabbitMq } from '../test/helpers/rabbitmq';

const OUT = resolve('examples', 'captures', 'services.pcap');

async function main(): Promise<void> {
  const up = {
    h2: await startH2Server(), grpc: await startGrpcServer(), tls: await startTlsServer(), ws: await startWsServer('takeover'),
    redis: await startRedis(), pg: await startPostgres(), my: await startMariadb(),
    kafka: await startKafkaResponder(), mongo: await startMongoResponder(), rabbit: await startRabbitMq(),
  };
  const udpPort = 40000 + Math.floor(Math.random() * 20000);
  // A binary echo service nobody dissects: becomes a tcp-conn item.
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const ports = [echoPort, up.h2.port, up.grpc.port, up.tls.port, up.ws.port, up.redis.port, up.pg.port, up.my.port, up.kafka.port, up.mongo.port, up.rabbit.port, udpPort];
  try {
    await captureLoopback(ports.map((p) => `port ${p}`).join(' or '), async () => {
      await h2Scenario(up.h2.port);
      await grpcScenario(up.grpc.port);
      await wsScenario(up.ws.port, true);
      await tlsScenario(up.tls.port);

      const io = new Redis({ port: up.redis.port, host: '127.0.0.1', lazyConnect: true });
      await io.connect();
      await io.pipeline().set('user:42', 'ada').get('user:42').incr('visits').hgetall('nope').exec();
      await io.call('NOPE').catch(() => {});
      io.disconnect();

      const c = new pg.Client({ host: '127.0.0.1', port: up.pg.port, user: 'postgres', password: PG_PASSWORD });
      await c.connect();
      await c.query('CREATE TEMP TABLE orders (id int, total numeric)');
      await c.query('INSERT INTO orders SELECT g, g * 9.5 FROM generate_series(1, $1::int) g', [50]);
      await c.query('SELECT id, total FROM orders WHERE total > $1 ORDER BY id', [400]);
      await c.query('SELECT pg_sleep(0.2)');
      await c.query('SELECT * FROM missing_table').catch(() => {});
      await c.end();

      const my = await mysql.createConnection({ host: '127.0.0.1', port: up.my.port, user: 'root', database: 'information_schema' });
      await my.execute('SELECT ? AS id, ? AS name', [7, 'grace']);
      await my.query('SELECT TABLE_SCHEMA, TABLE_NAME FROM TABLES ORDER BY TABLE_NAME LIMIT 25');
      await my.query('SELECT nope FROM nowhere').catch(() => {});
      await my.end();

      const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${up.rabbit.port}`);
      const ch = await conn.createChannel();
      await ch.assertQueue('orders', { durable: false });
      ch.sendToQueue('orders', Buffer.from(JSON.stringify({ id: 7, total: 66.5 })), { contentType: 'application/json' });
      const got = await new Promise<boolean>((r) => { void ch.consume('orders', (m) => { if (m) ch.ack(m); r(true); }); setTimeout(() => r(false), 3000); });
      if (!got) throw new Error('AMQP: the published message did not come back');
      await ch.close();
      await conn.close();

      const kafka = new Kafka({ clientId: 'wirehook-demo', brokers: [`127.0.0.1:${up.kafka.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'orders', messages: [{ key: 'o-7', value: JSON.stringify({ id: 7 }) }] });
      await producer.disconnect();

      const mc = new MongoClient(`mongodb://127.0.0.1:${up.mongo.port}/?directConnection=true`, { serverSelectionTimeoutMS: 3000 });
      await mc.connect();
      await mc.db('shop').collection('orders').insertOne({ id: 7, total: 66.5 });
      await mc.db('shop').collection('orders').find({ total: { $gt: 50 } }).toArray();
      await mc.close();

      await new Promise<void>((r, j) => {
        const s = net.connect(echoPort, '127.0.0.1', () => s.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])));
        s.once('data', () => s.end());
        s.on('close', () => r());
        s.on('error', j);
      });
      // A UDP flow nobody dissects: becomes a udp-conn item.
      const u = dgram.createSocket('udp4');
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => u.send(Buffer.from(`telemetry ${i}`), udpPort, '127.0.0.1', () => r()));
      u.close();
    }, { file: OUT });
  } finally {
    echo.close();
    for (const s of Object.values(up) as { close?: () => Promise<void>; stop?: () => Promise<void> }[]) await (s.close ?? s.stop)!.call(s).catch(() => {});
  }
  console.log(`wrote ${OUT}`);
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
