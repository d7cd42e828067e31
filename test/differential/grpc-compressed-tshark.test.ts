/**
 * Differential test for compressed gRPC messages: one real loopback capture (@grpc/grpc-js
 * clients with gzip and deflate compression on, against a grpc-js server and a Node http2 server
 * that compresses its answers; a message in an encoding nobody implements) through the built
 * `wirehook items` CLI and through tshark, which also decompresses gzip and deflate. Per
 * connection, direction and message, in order, they must agree exactly on the compressed flag,
 * the wire length and the message bytes (ours are capped at the body cap: the prefix must
 * agree). Needs `npm run build` first (dist/cli.js).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { captureLoopback } from '../helpers/capture';
import { compressedGrpcScenario, startCompressingGrpcServer, startGrpcServer } from '../helpers/h2-traffic';
import type { HttpItem, Item } from '../../capture/item/schema';

const CLI = 'dist/cli.js';
let pcap = '';
let ports: number[] = [];

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const js = await startGrpcServer();
  const cz = await startCompressingGrpcServer();
  ports = [js.port, cz.port];
  try {
    pcap = await captureLoopback(`tcp port ${js.port} or tcp port ${cz.port}`, async () => { await compressedGrpcScenario(js.port, cz.port); });
  } finally {
    await js.close();
    await cz.close();
  }
});

/** One message: `flag length hex`, as both sides are compared. */
type Msg = { flag: number; length: number; hex: string };

test('compressed gRPC: flag, wire length and (decompressed) message bytes agree with tshark, per connection and direction', () => {
  const decode = ports.flatMap((p) => ['-d', `tcp.port==${p},http2`]);
  const out = execFileSync('tshark', ['-r', pcap, ...decode, '-Y', 'grpc', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'grpc.compressed_flag', '-e', 'grpc.message_length', '-e', 'grpc.message_data'], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const server = new Set(ports.map(String));
  const fromTshark = new Map<string, Msg[]>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [sp, dp, flags, lens, datas] = line.split('\t');
    const key = server.has(sp) ? `${dp} response` : `${sp} request`;
    const f = flags.split('|'), l = lens.split('|'), d = (datas ?? '').split('|');
    const list = fromTshark.get(key) ?? [];
    fromTshark.set(key, list);
    for (let k = 0; k < f.length; k++) list.push({ flag: Number(f[k]), length: Number(l[k]), hex: d[k] ?? '' });
  }
  const items = execFileSync(process.execPath, [CLI, 'items', '--pcap', pcap], { maxBuffer: 256 * 1024 * 1024 }).toString()
    .split('\n').filter(Boolean).map((x) => JSON.parse(x) as Item) as HttpItem[];
  const fromWirehook = new Map<string, (Msg & { truncated: boolean })[]>();
  for (const i of items) {
    for (const [side, g] of [['request', i.request.grpc], ['response', i.response.grpc]] as const) {
      const key = `${i.src.port} ${side}`;
      const list = fromWirehook.get(key) ?? [];
      fromWirehook.set(key, list);
      for (const m of g?.messages ?? []) list.push({ flag: m.compressed ? 1 : 0, length: m.length, hex: Buffer.from(m.data, 'base64').toString('hex'), truncated: m.truncated === true });
    }
  }
  for (const [k, v] of [...fromWirehook]) if (v.length === 0) fromWirehook.delete(k);
  assert.deepEqual([...fromWirehook.keys()].sort(), [...fromTshark.keys()].sort(), 'the same connections and directions carry messages');
  let compared = 0, compressed = 0, capped = 0;
  for (const [key, ours] of fromWirehook) {
    const theirs = fromTshark.get(key)!;
    assert.equal(ours.length, theirs.length, `${key}: message count`);
    ours.forEach((m, n) => {
      const t = theirs[n];
      assert.equal(m.flag, t.flag, `${key} #${n} flag`);
      assert.equal(m.length, t.length, `${key} #${n} length`);
      if (m.truncated) {
        capped++;
        assert.ok(m.hex.length > 0 && t.hex.startsWith(m.hex), `${key} #${n}: our capped bytes are tshark's prefix`);
      } else {
        assert.equal(m.hex, t.hex, `${key} #${n} bytes`);
      }
      compared++;
      if (m.flag) compressed++;
    });
  }
  assert.ok(compared >= 11 && compressed >= 8 && capped >= 2, `${compared} messages, ${compressed} compressed, ${capped} capped`);
});
