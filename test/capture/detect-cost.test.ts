/**
 * Dissector choice stays cheap (issue 11): a TCP stream no dissector claims is refused by every
 * dissector's detect() on its first bytes — one call each (a few more while a longer header
 * is still incomplete), a few byte comparisons each — and is never looked at again; its
 * packets land in `tcp/flow` and it becomes a `tcp-conn` item. Real
 * loopback traffic: a server-speaks-first text protocol (SMTP-like banner and replies) and a
 * binary request/response protocol with length prefixes, from Node's net module.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { captureLoopback } from '../helpers/capture';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import { DISSECTORS } from '../../capture/dissectors/registry';
import type { Dissector } from '../../capture/types';
import type { Item } from '../../capture/item/schema';

const CONNS = 6;
const ROUNDS = 8;
/** One capture per protocol kind. */
const files: string[] = [];

/** Reads until `n` bytes (or a line, when n is 0) arrived. */
function read(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((res) => {
    let buf = Buffer.alloc(0);
    const on = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (n > 0 ? buf.length >= n : buf.includes('\n')) { s.off('data', on); res(buf); }
    };
    s.on('data', on);
  });
}

/** The server speaks first, then answers each line. */
const text = (s: net.Socket) => {
  s.write('220 wirehook.test ESMTP ready\r\n');
  s.on('data', (d: Buffer) => s.write(d.toString().startsWith('QUIT') ? '221 bye\r\n' : '250 OK\r\n'));
};
const textClient = async (s: net.Socket) => {
  await read(s, 0);
  for (let i = 0; i < ROUNDS; i++) { s.write(`MAIL FROM:<a${i}@b.test>\r\n`); await read(s, 0); }
  s.write('QUIT\r\n');
  await read(s, 0);
};
/** 2-byte length, 4-byte number; the answer doubles it. */
const bin = (s: net.Socket) => s.on('data', (d: Buffer) => {
  const out = Buffer.alloc(6);
  out.writeUInt16BE(4, 0);
  out.writeUInt32BE(d.readUInt32BE(2) * 2, 2);
  s.write(out);
});
const binClient = async (s: net.Socket) => {
  for (let i = 0; i < ROUNDS; i++) {
    const m = Buffer.alloc(6);
    m.writeUInt16BE(4, 0);
    m.writeUInt32BE(1000 + i, 2);
    s.write(m);
    await read(s, 6);
  }
};

before(async () => {
  for (const [onConn, client] of [[text, textClient], [bin, binClient]] as const) {
    const server = net.createServer((s) => { s.on('error', () => {}); onConn(s); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    files.push(await captureLoopback(`tcp port ${port}`, async () => {
      for (let i = 0; i < CONNS; i++) {
        await new Promise<void>((res, rej) => {
          const s = net.connect(port, '127.0.0.1', () => void client(s).then(() => s.end(), rej));
          s.on('close', () => res());
          s.on('error', rej);
        });
      }
    }));
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('an unclaimed stream is refused on its first bytes, a few detect() calls, then never looked at again', async () => {
  assert.equal(files.length, 2);
  const tcpDissectors = DISSECTORS.filter((d) => typeof d.tcp === 'function').map((d) => d.name).sort();
  for (const [k, f] of files.entries()) {
    const calls = new Map<string, number>();
    const counted: Dissector[] = DISSECTORS.map((d) => ({ ...d, detect: (b, dir, flow) => { calls.set(d.name, (calls.get(d.name) ?? 0) + 1); return d.detect(b, dir, flow); } }));
    const items: Item[] = [];
    const st = await runPipeline(fileSource(f), { item: (i) => void items.push(i) }, { dissectors: counted });
    assert.deepEqual([...calls.keys()].sort(), tcpDissectors, 'every TCP dissector was asked');
    if (k === 0) {
      // Text, server first: every dissector says no to the banner at once.
      for (const [name, n] of calls) assert.equal(n, CONNS, `${name}: ${n} calls for ${CONNS} connections`);
    } else {
      // 6-byte binary messages: a dissector whose header is longer (MongoDB's 16 bytes) says
      // "maybe" until it has one, then no. Bounded by the header, not by the stream: each
      // connection carries 2 × ROUNDS segments with data.
      for (const [name, n] of calls) assert.ok(n <= 5 * CONNS, `${name}: ${n} calls for ${CONNS} connections`);
      const total = [...calls.values()].reduce((a, b) => a + b, 0);
      assert.ok(total <= 2 * tcpDissectors.length * CONNS, `${total} detect() calls in all`);
    }
    const conns = items.filter((i) => i.protocol.name === 'tcp-conn');
    assert.equal(conns.length, CONNS);
    assert.equal(items.length, CONNS, 'nothing but the flow items');
    assert.equal(st.packetsBy['tcp/flow'], st.packets, 'every packet accounted as an unclaimed flow');
  }
});
