/**
 * Differential test for the weblayer protocols: the same real loopback captures through the
 * built `wirehook items` CLI and through tshark must agree exactly on
 * - WebSocket: per direction and in order, each message's opcode and payload length on the
 *   wire (tshark lists frames: a message is its first frame's opcode and the sum of its frames'
 *   lengths, up to the frame with FIN), with and without permessage-deflate;
 * - TLS: per connection, SNI, offered ALPN, JA3 (hash and string) and JA3S hash. (JA4 came to
 *   tshark in 4.2; Debian 12 has 4.0, so JA4 is checked against published values in
 *   test/dissectors/tlsx.test.ts.)
 * - ICMP/ICMPv6: the type and code of every message, in order.
 * Needs `npm run build` first (dist/cli.js).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { icmpCapture, tlsCapture, wsCapture } from '../helpers/weblayer-captures';
import type { IcmpMessage, Item, TlsClientHello, TlsServerHello, WsMessage } from '../../capture/item/schema';

const CLI = 'dist/cli.js';

function runItems(file: string): Item[] {
  const out = execFileSync(process.execPath, [CLI, 'items', '--pcap', file], { maxBuffer: 256 * 1024 * 1024 }).toString();
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item);
}

function tshark(file: string, args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

before(() => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
});

for (const mode of ['off', 'takeover'] as const) {
  test(`WebSocket (${mode === 'off' ? 'plain' : 'permessage-deflate'}): opcode and wire length of every message agree with tshark, per direction`, async () => {
    const { file, port } = await wsCapture(mode);
    const rows = tshark(file, ['-d', `tcp.port==${port},http`, '-Y', 'websocket', '-e', 'tcp.srcport', '-e', 'websocket.fin', '-e', 'websocket.opcode', '-e', 'websocket.payload_length', '-e', 'websocket.payload_length_ext_16', '-e', 'websocket.payload_length_ext_64']);
    const fromTshark: Record<string, string[]> = { client: [], server: [] };
    // Per direction: the data message being assembled from fragments.
    const open: Record<string, { op: number; len: number } | null> = { client: null, server: null };
    for (const [sport, fins, ops, l7s, l16s, l64s] of rows) {
      const from = sport === String(port) ? 'server' : 'client';
      const fin = fins.split('|'), op = ops.split('|'), l7 = l7s.split('|');
      // ext fields appear only for frames that have them: consume them in order.
      const l16 = l16s ? l16s.split('|') : [], l64 = l64s ? l64s.split('|') : [];
      for (let k = 0; k < op.length; k++) {
        const n = Number(l7[k]);
        const len = n === 126 ? Number(l16.shift()) : n === 127 ? Number(l64.shift()) : n;
        const o = Number(op[k]);
        const f = fin[k] === '1' || fin[k] === 'True';
        if (o >= 8) { fromTshark[from].push(`${o} ${len}`); continue; }
        const m = o === 0 && open[from] ? open[from]! : { op: o, len: 0 };
        m.len += len;
        open[from] = f ? null : m;
        if (f) fromTshark[from].push(`${m.op} ${m.len}`);
      }
    }
    const items = runItems(file).filter((i) => i.protocol.name === 'ws');
    const fromWirehook: Record<string, string[]> = { client: [], server: [] };
    for (const i of items) {
      const r = i.request as WsMessage, s = i.response as WsMessage;
      const m = r.from ? r : s;
      fromWirehook[m.from].push(`${m.opcodeNumber} ${m.wireLength}`);
    }
    assert.ok(fromTshark.client.length >= 7);
    assert.deepEqual(fromWirehook, fromTshark);
  });
}

test('TLS: SNI, offered ALPN, JA3 string and hash, JA3S agree with tshark for every handshake', async () => {
  const { file, port } = await tlsCapture();
  const rows = tshark(file, ['-Y', 'tls.handshake.type == 1 or tls.handshake.type == 2', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.type', '-e', 'tls.handshake.extensions_server_name', '-e', 'tls.handshake.extensions_alpn_str', '-e', 'tls.handshake.ja3', '-e', 'tls.handshake.ja3_full', '-e', 'tls.handshake.ja3s']);
  const byClient = new Map<string, string[]>();
  for (const [sp, dp, type, sni, alpn, j3, j3full, j3s] of rows) {
    const client = sp === String(port) ? dp : sp;
    const e = byClient.get(client) ?? ['', '', '', '', ''];
    if (type.split('|').includes('1')) { e[0] = sni; e[1] = alpn; e[2] = j3; e[3] = j3full; }
    if (type.split('|').includes('2')) e[4] = j3s;
    byClient.set(client, e);
  }
  const fromTshark = [...byClient.entries()].sort().map(([p, e]) => [p, ...e]);
  const fromWirehook = runItems(file).filter((i) => i.protocol.name === 'tlsx').map((i) => {
    const q = i.request as TlsClientHello, r = i.response as TlsServerHello;
    return [i.src.port, q.sni, q.alpn.join('|'), q.ja3Hash, q.ja3, r.ja3sHash];
  }).sort();
  assert.equal(fromTshark.length, 4);
  assert.deepEqual(fromWirehook, fromTshark);
});

test('ICMP/ICMPv6: type and code of every message agree with tshark, in order', async () => {
  const { file } = await icmpCapture();
  const rows = tshark(file, ['-Y', 'icmp or icmpv6', '-e', 'icmp.type', '-e', 'icmp.code', '-e', 'icmpv6.type', '-e', 'icmpv6.code']);
  // (For an ICMP error tshark also decodes the quoted datagram: the first value is the message's own.)
  const fromTshark = rows.map(([t4, c4, t6, c6]) => (t4 ? `4 ${t4.split('|')[0]} ${c4.split('|')[0]}` : `6 ${t6.split('|')[0]} ${c6.split('|')[0]}`));
  const msgs: { ts: number; m: IcmpMessage }[] = [];
  for (const i of runItems(file).filter((x) => x.protocol.name === 'icmp')) {
    const q = i.request as IcmpMessage, r = i.response as IcmpMessage;
    // Nanoseconds since 2020 (since 1970 they would not fit a double exactly).
    const t0 = (Date.parse(i.startTime.slice(0, 19) + 'Z') / 1000 - 1.577e9) * 1e9 + Number(i.startTime.slice(20, 29));
    if (q.type >= 0) msgs.push({ ts: t0, m: q });
    if (r.type >= 0) msgs.push({ ts: t0 + 1, m: r });
  }
  const fromWirehook = msgs.sort((a, b) => a.ts - b.ts).map(({ m }) => `${m.version} ${m.type} ${m.code}`);
  assert.ok(fromTshark.length >= 11, 'pings both ways and the unreachable');
  assert.deepEqual(fromWirehook, fromTshark);
});
