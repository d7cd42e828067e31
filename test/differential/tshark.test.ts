/**
 * Differential test: the same real loopback capture (HTTP + DNS scenarios) through the built
 * `wirehook items` CLI and through tshark must agree exactly on every HTTP exchange (method,
 * URI, status, per connection, in order) and every DNS answer (name, type, rcode, answer count,
 * transport). The capture has nanosecond timestamps. Needs `npm run build` first (dist/cli.js).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import type { HttpExchange, DnsExchange } from '../helpers/traffic';
import { scenarioCapture } from '../helpers/capture';
import type { Item, HttpRequest, HttpResponse, DnsRequest, DnsResponse } from '../../capture/item/schema';

const CLI = 'dist/cli.js';
let httpSrv: { port: number }, dnsSrv: { port: number };
let pcap = '';
let httpSent: HttpExchange[] = [];
let dnsSent: DnsExchange[] = [];
let items: Item[] = [];

function runItems(file: string): Item[] {
  const out = execFileSync(process.execPath, [CLI, 'items', '--pcap', file], { maxBuffer: 256 * 1024 * 1024 }).toString();
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item);
}

function tshark(file: string, args: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a'], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

before(async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const rec = await scenarioCapture({ nano: true });
  ({ file: pcap, http: httpSent, dns: dnsSent } = rec);
  httpSrv = { port: rec.httpPort };
  dnsSrv = { port: rec.dnsPort };
  items = runItems(pcap);
});


const isHttp = (i: Item) => i.protocol.name === 'http';
const isDns = (i: Item) => i.protocol.name === 'dns';

/** Per client port, in order: "METHOD URI STATUS" from tshark and from Wirehook's items. */
function httpSides(file: string, port: number, its: Item[]) {
  // One row per frame carrying HTTP: the ports, then the requests and/or responses in that frame.
  const rows = tshark(file, ['-d', `tcp.port==${port},http`, '-Y', 'http', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code']);
  const perConn = new Map<string, { reqs: [string, string][]; codes: number[] }>();
  for (const [sport, dport, methods, uris, codes] of rows) {
    const client = sport === String(port) ? dport : sport;
    const c = perConn.get(client) ?? { reqs: [], codes: [] };
    perConn.set(client, c);
    if (methods) {
      const ms = methods.split('|'), us = uris.split('|');
      ms.forEach((m, k) => c.reqs.push([m, us[k]]));
    }
    // 1xx responses (100 Continue) are interim: tshark lists them, Wirehook folds them into the exchange.
    if (codes) for (const s of codes.split('|').map(Number)) if (s >= 200) c.codes.push(s);
  }
  const fromTshark = [...perConn.entries()].map(([p, c]) => ({ port: p, exchanges: c.reqs.map(([m, u], k) => `${m} ${u} ${c.codes[k]}`) }));
  const byPort = new Map<string, string[]>();
  for (const i of its.filter(isHttp)) {
    const r = i.request as HttpRequest, s = i.response as HttpResponse;
    const list = byPort.get(i.src.port) ?? [];
    byPort.set(i.src.port, list);
    list.push(`${r.method} ${r.url} ${s.status}`);
  }
  const fromWirehook = [...byPort.entries()].map(([p, exchanges]) => ({ port: p, exchanges }));
  // Both sides listed by client port.
  const order = (l: { port: string }[]) => [...l].sort((x, y) => Number(x.port) - Number(y.port));
  return { fromTshark: order(fromTshark), fromWirehook: order(fromWirehook), inItemOrder: fromWirehook };
}

test('HTTP: method, URI and status of every exchange agree with tshark, per connection and in order', () => {
  const { fromTshark, fromWirehook, inItemOrder } = httpSides(pcap, httpSrv.port, items);
  assert.ok(fromTshark.length >= 4, 'keep-alive, pipelined, HTTP/1.0 and fetch connections were captured');
  assert.deepEqual(fromWirehook, fromTshark);
  // …and both agree with what the client itself saw.
  assert.deepEqual(inItemOrder.flatMap((c) => c.exchanges), httpSent.map((e) => `${e.method} ${e.url} ${e.status}`));
});

// Kubeshark's strings for the codes the scenario produces, written out here so the test does
// not reuse the dissector's own tables.
const RCODE: Record<string, string> = { '0': 'No Error', '2': 'Server Failure', '3': 'Non-Existent Domain', '5': 'Query Refused' };
const QTYPE: Record<string, string> = { '1': 'A', '2': 'NS', '5': 'CNAME', '6': 'SOA', '12': 'PTR', '15': 'MX', '16': 'TXT', '28': 'AAAA', '33': 'SRV', '257': 'CAA', '65534': 'TYPE65534' };

/** One "name type rcode answers transport" per DNS answer, from tshark and from the items. */
function dnsSides(file: string, port: number, its: Item[]) {
  const rows = tshark(file, ['-d', `udp.port==${port},dns`, '-d', `tcp.port==${port},dns`, '-Y', 'dns.flags.response == 1', '-e', 'dns.qry.name', '-e', 'dns.qry.type', '-e', 'dns.flags.rcode', '-e', 'dns.count.answers', '-e', 'udp.srcport']);
  const fromTshark: string[] = [];
  for (const [names, types, rcodes, counts, udpPort] of rows) {
    // A TCP segment may carry several DNS messages: one entry per message.
    const ns = names.split('|'), ts = types.split('|'), rs = rcodes.split('|'), cs = counts.split('|');
    ns.forEach((n, k) => fromTshark.push(`${n} ${QTYPE[ts[k]] ?? `?${ts[k]}`} ${RCODE[rs[k]] ?? `?${rs[k]}`} ${cs[k]} ${udpPort ? 'udp' : 'tcp'}`));
  }
  const fromWirehook = its.filter(isDns).map((i) => {
    const q = (i.request as DnsRequest).questions[0];
    const r = i.response as DnsResponse;
    return `${q.name} ${q.type} ${r.code} ${r.answers.length} ${i.protocol.layer4}`;
  });
  // Items leave in query order across flows, frames in arrival order: compare as sorted lists.
  return { fromTshark: fromTshark.sort(), fromWirehook: fromWirehook.sort() };
}

test('DNS: name, type, rcode and answer count of every answer agree with tshark, over UDP and TCP', () => {
  const { fromTshark, fromWirehook } = dnsSides(pcap, dnsSrv.port, items);
  assert.equal(fromTshark.length, dnsSent.length, 'tshark saw every answer the clients got');
  assert.deepEqual(fromWirehook, fromTshark);
  for (const i of items.filter(isDns)) assert.equal(i.error, null);
});

test('the bundled demo capture (two clients at once, DNS on 53) agrees with tshark too', () => {
  const demo = 'examples/captures/demo.pcap';
  const its = runItems(demo);
  const h = httpSides(demo, 8080, its);
  assert.ok(h.fromTshark.length >= 2);
  assert.deepEqual(h.fromWirehook, h.fromTshark);
  const d = dnsSides(demo, 53, its);
  assert.ok(d.fromTshark.length > 10);
  assert.deepEqual(d.fromWirehook, d.fromTshark);
});

test('the same capture converted to pcapng gives the same items', () => {
  const ng = pcap.replace(/\.pcap$/, '.pcapng');
  execFileSync('editcap', ['-F', 'pcapng', pcap, ng], { stdio: 'ignore' });
  const again = runItems(ng);
  const strip = (l: Item[]) => l.map((i) => ({ ...i, id: '', worker: '' }));
  assert.deepEqual(strip(again), strip(items));
  renameSync(ng, `${ng}.checked`);
});
