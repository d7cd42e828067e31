/**
 * Differential test for HTTP/2 and gRPC: one real loopback capture (Node http2 client/server,
 * @grpc/grpc-js, nghttp and curl against nghttpd, curl and nghttp upgrading to h2c) through the
 * built `wirehook items` CLI and through tshark. Per connection and stream, in order, they must
 * agree exactly on every header field (name, value; pseudo-headers, CONTINUATION, PUSH_PROMISE,
 * trailers included), the status, and for gRPC on the method and grpc-status. Needs
 * `npm run build` first (dist/cli.js).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { captureLoopback } from '../helpers/capture';
import {
  grpcScenario, h2Scenario, nghttpScenario, startGrpcServer, startH2Server, startH2cUpgradeServer, startNghttpd, upgradeScenario,
} from '../helpers/h2-traffic';
import type { HttpItem, Item } from '../../capture/item/schema';

const CLI = 'dist/cli.js';
let pcap = '';
let items: HttpItem[] = [];
const ports: { h2: number[]; upgrade: number } = { h2: [], upgrade: 0 };

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const node = await startH2Server();
  const grpc = await startGrpcServer();
  const ng = await startNghttpd();
  const up = await startH2cUpgradeServer();
  ports.h2 = [node.port, grpc.port, ng.port];
  ports.upgrade = up.port;
  try {
    pcap = await captureLoopback([...ports.h2, up.port].map((p) => `tcp port ${p}`).join(' or '), async () => {
      await h2Scenario(node.port);
      await grpcScenario(grpc.port);
      await nghttpScenario(ng.port);
      await upgradeScenario(up.port);
    }, { nano: true });
  } finally {
    await node.close();
    await grpc.close();
    await ng.close();
    await up.close();
  }
  const out = execFileSync(process.execPath, [CLI, 'items', '--pcap', pcap], { maxBuffer: 256 * 1024 * 1024 }).toString();
  items = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item) as HttpItem[];
});

type Fields = [string, string][];
interface TStream { req: Fields; res: Fields }

/** tshark's decoded header blocks: per client port, the streams in the order their first block appears. */
function tsharkStreams(): Map<string, TStream[]> {
  const decode = [...ports.h2.flatMap((p) => ['-d', `tcp.port==${p},http2`]), '-d', `tcp.port==${ports.upgrade},http`];
  const json = execFileSync('tshark', ['-r', pcap, ...decode, '-Y', 'http2.header', '-T', 'json', '--no-duplicate-keys', '-J', 'http2 tcp'], { maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const conns = new Map<string, Map<number, TStream>>();
  const serverPorts = new Set([...ports.h2, ports.upgrade].map(String));
  for (const pkt of JSON.parse(json) as { _source: { layers: Record<string, any> } }[]) {
    const L = pkt._source.layers;
    const sport = String(L.tcp['tcp.srcport']), dport = String(L.tcp['tcp.dstport']);
    const fromClient = serverPorts.has(dport);
    const client = fromClient ? sport : dport;
    const streams = conns.get(client) ?? new Map<number, TStream>();
    conns.set(client, streams);
    for (const layer of list(L.http2)) {
      for (const s of list(layer['http2.stream'])) {
        const headers = list(s['http2.header']) as Record<string, string>[];
        if (headers.length === 0) continue;
        const promised = s['http2.push_promise.promised_stream_id'];
        // A PUSH_PROMISE carries the request of the stream it promises.
        const id = Number(promised ?? s['http2.streamid']);
        const st = streams.get(id) ?? { req: [], res: [] };
        streams.set(id, st);
        const side = fromClient || promised !== undefined ? st.req : st.res;
        for (const h of headers) side.push([h['http2.header.name'], h['http2.header.value'] ?? '']);
      }
    }
  }
  return new Map([...conns].map(([c, m]) => [c, [...m.values()]]));
}

/** The item's rule, written out here: names lower-cased, repeats joined with "," ("; " for cookie). */
function grouped(fields: Fields): Fields {
  const m = new Map<string, string>();
  for (const [n, v] of fields) {
    const k = n.toLowerCase();
    const prev = m.get(k);
    m.set(k, prev === undefined ? v : prev + (k === 'cookie' ? '; ' : ',') + v);
  }
  return [...m].sort();
}
const itemFields = (h: Record<string, string>): Fields => Object.entries(h).map(([k, v]) => [k.toLowerCase(), v] as [string, string]).sort();

test('HTTP/2: every header field and status agree with tshark, per connection and stream, in order', () => {
  const fromTshark = tsharkStreams();
  const h2 = items.filter((i) => i.protocol.version === '2.0');
  const byConn = new Map<string, HttpItem[]>();
  for (const i of h2) byConn.set(i.src.port, [...(byConn.get(i.src.port) ?? []), i]);
  assert.deepEqual([...byConn.keys()].sort(), [...fromTshark.keys()].sort(), 'the same HTTP/2 connections');
  let streams = 0, upgraded = 0;
  for (const [client, list] of byConn) {
    const ts = fromTshark.get(client)!;
    assert.equal(list.length, ts.length, `connection ${client}: one item per stream`);
    list.forEach((item, k) => {
      streams++;
      if (item.request.httpVersion === 'HTTP/1.1') {
        // Stream 1 after an Upgrade: its request was HTTP/1.1, not an HTTP/2 header block.
        upgraded++;
        assert.deepEqual(ts[k].req, []);
      } else {
        assert.deepEqual(itemFields(item.request.headers), grouped(ts[k].req), `${client} #${k} request headers`);
      }
      assert.deepEqual(itemFields(item.response.headers), grouped(ts[k].res), `${client} #${k} response headers (trailers merged)`);
      const status = ts[k].res.find(([n]) => n === ':status')?.[1];
      assert.equal(item.response.status, status === undefined ? 0 : Number(status));
    });
  }
  assert.ok(streams >= 20 && upgraded === 2, `${streams} streams, ${upgraded} upgraded`);
});

test('gRPC: method and grpc-status agree with tshark on every call', () => {
  const fromTshark = [...tsharkStreams().values()].flat().filter((s) => s.req.some(([n, v]) => n === 'content-type' && v.startsWith('application/grpc')));
  const calls = fromTshark.map((s) => `${s.req.find(([n]) => n === ':path')![1].split('/').pop()} ${s.res.find(([n]) => n === 'grpc-status')?.[1]}`);
  const grpc = items.filter((i) => i.protocol.abbr === 'gRPC');
  assert.deepEqual(grpc.map((i) => `${i.request.grpc?.method} ${i.response.grpc?.status}`), calls);
  assert.deepEqual(calls, ['Say 0', 'Fail 5', 'Count 0']);
});
