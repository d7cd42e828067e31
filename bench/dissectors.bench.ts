/**
 * HTTP/1.x and DNS dissector throughput on bytes recorded from real loopback traffic, printed
 * as ratios against peers measured in the same run:
 *  - floors: HTTP bytes only searched for head terminators; DNS header + question name only;
 *  - tshark's full dissection of a capture of the very same traffic (`-Y 'http or dns'`).
 * Inputs are generated once and cached in bench/.data/ (delete it to regenerate).
 */
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { startHttpServer, startDnsServer } from '../test/helpers/traffic';
import { captureLoopback } from '../test/helpers/capture';
import { collector, type Recorded } from '../test/dissectors/harness';
import { dissectTcp, rate } from './dissect';
import { http as httpDissector } from '../capture/dissectors/http';
import { dns as dnsDissector } from '../capture/dissectors/dns';
import { decodeMessage, readHeader, readName } from '../capture/dissectors/dns-wire';

const DATA = 'bench/.data';
const REC = `${DATA}/dissectors-rec.json`;
const PCAP = `${DATA}/dissectors.pcap`;
const HTTP_N = 4000;
const DNS_N = 4000;

const PATHS = ['/api/users', '/api/users/1', '/api/users/42', '/api/search?q=a&q=b&lang=en', '/api/fail', '/chunked', '/gzip', '/cookie'];

/** The dissectors' input: the TCP/UDP payloads of the pcap, per TCP stream, extracted by tshark. */
function extract(): { http: Recorded[]; dnsMsgs: Buffer[] } {
  const out = execFileSync('tshark', ['-r', PCAP, '-q', '-Y', 'udp', '-T', 'fields', '-e', 'udp.payload'], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const dnsMsgs = out.split('\n').filter(Boolean).map((hex) => Buffer.from(hex.replace(/:/g, ''), 'hex'));
  const tcp = execFileSync('tshark', ['-r', PCAP, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.dstport', '-e', 'tcp.payload'], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const streams = new Map<string, Recorded>();
  let t = 0;
  const serverPort = JSON.parse(readFileSync(REC, 'utf8')).httpPort as number;
  for (const line of tcp.split('\n').filter(Boolean)) {
    const [s, dport, hex] = line.split('\t');
    const rec = streams.get(s) ?? { transport: 'tcp' as const, chunks: [] };
    streams.set(s, rec);
    t++;
    rec.chunks.push({ dir: Number(dport) === serverPort ? 0 : 1, bytes: Buffer.from(hex.replace(/:/g, ''), 'hex'), ts: { sec: 1 + Math.floor(t / 1e6), nsec: (t % 1e6) * 1000 } });
  }
  return { http: [...streams.values()], dnsMsgs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main(): Promise<void> {
  if (!existsSync(PCAP) || !existsSync(REC)) {
    console.log('generating inputs (real loopback traffic)…');
    await generate();
  }
  const { http: conns, dnsMsgs } = extract();
  const httpMsgs = conns.reduce((n, c) => n + c.chunks.filter((k) => k.dir === 0).length, 0);
  const bytes = conns.reduce((n, c) => n + c.chunks.reduce((m, k) => m + k.bytes.length, 0), 0);

  const runHttp = () => dissectTcp(httpDissector, conns);
  const floorHttp = () => {
    // Floor: find every head end and nothing else.
    let n = 0;
    for (const c of conns) for (const k of c.chunks) { let i = -1; while ((i = k.bytes.indexOf('\r\n\r\n', i + 1)) >= 0) n++; }
    return n / 2;
  };
  const runDns = () => {
    const col = collector('udp');
    const p = dnsDissector.udp!(col.ctx);
    for (let i = 0; i < dnsMsgs.length; i++) p.datagram(0, dnsMsgs[i], { sec: 1, nsec: i });
    p.end({ sec: 2, nsec: 0 }, 'eof');
    return dnsMsgs.length;
  };
  const decodeOnly = () => { for (const m of dnsMsgs) decodeMessage(m); return dnsMsgs.length; };
  // Floor: header + first question name only (what a port-53 counter would need).
  const floorDns = () => { let s = 0; for (const m of dnsMsgs) { s += readHeader(m).id; s += readName(m, 12)[1]; } return s >= 0 ? dnsMsgs.length : 0; };

  const items = runHttp();
  const tsharkRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync('tshark', ['-r', PCAP, '-Y', 'http or dns', '-q'], { stdio: 'ignore' });
    tsharkRuns.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const tsharkMsgs = (httpMsgs * 2 + dnsMsgs.length) / median(tsharkRuns);
  const h = median([rate(runHttp), rate(runHttp), rate(runHttp)]) * 2; // request + response per item
  const hf = median([rate(floorHttp), rate(floorHttp), rate(floorHttp)]) * 2;
  const d = median([rate(runDns), rate(runDns), rate(runDns)]);
  const dd = median([rate(decodeOnly), rate(decodeOnly), rate(decodeOnly)]);
  const df = median([rate(floorDns), rate(floorDns), rate(floorDns)]);
  const k = (x: number) => `${(x / 1000).toFixed(0)}k`;
  console.log(`input: ${conns.length} HTTP connections, ${items} exchanges, ${(bytes / 1e6).toFixed(1)} MB; ${dnsMsgs.length} DNS messages`);
  console.log(`HTTP messages/s: wirehook ${k(h)} | scan floor ${k(hf)} (wirehook = ${(h / hf).toFixed(2)}× floor)`);
  console.log(`DNS messages/s: wirehook (decode + pair) ${k(d)} | decode only ${k(dd)} | header+question floor ${k(df)} (wirehook = ${(d / df).toFixed(3)}× floor)`);
  console.log(`tshark -Y 'http or dns' on the same capture: ${k(tsharkMsgs)} messages/s (whole file, ${median(tsharkRuns).toFixed(2)} s)`);
  const ours = (httpMsgs * 2 + dnsMsgs.length) / ((httpMsgs * 2) / h + dnsMsgs.length / d);
  console.log(`ratio: wirehook dissectors = ${(ours / tsharkMsgs).toFixed(1)}× tshark's message rate (dissectors only; tshark also decodes/reassembles packets)`);
}

/** Records HTTP + DNS traffic with tcpdump (the dissectors' input is rebuilt from that pcap). */
async function generate(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const h = await startHttpServer();
  const d = await startDnsServer();
  try {
    const file = await captureLoopback(`port ${h.port} or port ${d.port}`, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const one = (i: number) => new Promise<void>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: h.port, path: PATHS[i % PATHS.length], agent, headers: { 'User-Agent': 'bench/1.0', Cookie: 'sid=1' } }, (res) => { res.resume(); res.on('end', () => resolve()); });
        r.on('error', reject);
        r.end();
      });
      for (let i = 0; i < HTTP_N; i += 4) await Promise.all([one(i), one(i + 1), one(i + 2), one(i + 3)]);
      agent.destroy();
      const res = new Resolver({ timeout: 2000, tries: 1 });
      res.setServers([`127.0.0.1:${d.port}`]);
      const names = ['a.wirehook.test', 'www.wirehook.test', 'txt.wirehook.test', 'nx.wirehook.test'];
      for (let i = 0; i < DNS_N / 2; i += 8) {
        await Promise.all(Array.from({ length: 8 }, (_, k) => (k % 2 ? res.resolve6(names[(i + k) % 4]) : res.resolve4(names[(i + k) % 4])).catch(() => null)));
      }
    }, { file: `${PCAP}.tmp` });
    renameSync(file, PCAP);
    writeFileSync(REC, JSON.stringify({ httpPort: h.port, dnsPort: d.port }));
  } finally {
    await h.close();
    await d.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
