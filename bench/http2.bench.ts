/**
 * HTTP/2 + gRPC dissector throughput on bytes recorded from real loopback traffic
 * (@grpc/grpc-js: 3,000 unary calls on one connection, plus the Node http2 test scenario),
 * against the same dissector in lean mode in the same run (`items --quiet`: frames, HPACK,
 * streams and pairing, but no item fields), so the ratio is what building the items costs.
 */
import * as grpc from '@grpc/grpc-js';
import { recordRelay, type Recorded } from '../test/dissectors/harness';
import { dissectTcp, rate } from './dissect';
import { ECHO_SERVICE, startGrpcServer, startH2Server, h2Scenario } from '../test/helpers/h2-traffic';
import { http2 } from '../capture/dissectors/http2';

const CALLS = 3000;

async function record(): Promise<Recorded[]> {
  const g = await startGrpcServer();
  const h = await startH2Server();
  try {
    const recs = await recordRelay(g.port, async (port) => {
      const Client = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
      const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => void> & grpc.Client;
      const msg = Buffer.from('bench message '.repeat(8));
      for (let i = 0; i < CALLS; i += 50) {
        await Promise.all(Array.from({ length: 50 }, () => new Promise<void>((r) => client.Say.call(client, msg, () => r()))));
      }
      client.close();
    });
    recs.push(...await recordRelay(h.port, async (port) => { await h2Scenario(port); }));
    return recs.filter((r) => r.transport === 'tcp' && r.chunks.length > 0);
  } finally {
    await g.close();
    await h.close();
  }
}

async function main(): Promise<void> {
  const recs = await record();
  const streams = dissectTcp(http2, recs);
  const bytes = recs.reduce((n, r) => n + r.chunks.reduce((m, c) => m + c.bytes.length, 0), 0);

  const run = (lean: boolean) => (): number => dissectTcp(http2, recs, { lean });

  const r1 = rate(run(false));
  const r0 = rate(run(true));
  console.log(`input: ${recs.length} connections, ${streams} streams (items), ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`  http2 dissector: ${Math.round(r1 / 1000)}k streams/s (${((r1 / streams) * bytes / 1e6).toFixed(0)} MB/s)`);
  console.log(`  lean (no item fields): ${Math.round(r0 / 1000)}k streams/s`);
  console.log(`  ratio: ${(r1 / r0).toFixed(2)}× lean`);
}

void main().then(() => process.exit(0));
