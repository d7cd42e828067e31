/**
 * Real loopback traffic for tests, benchmarks and the demo capture: an HTTP/1.x server and a
 * DNS server (UDP + TCP on one port) plus fixed, deterministic client scenarios that drive them.
 * Everything binds 127.0.0.1 on an ephemeral port so concurrent captures can filter by port.
 */
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Resolver } from 'node:dns/promises';

const execFileP = promisify(execFile);

export interface Running {
  port: number;
  close(): Promise<void>;
}

export interface HttpExchange {
  method: string;
  url: string;
  /** Final status (interim 1xx responses are not listed). */
  status: number;
}

export interface DnsExchange {
  name: string;
  type: string;
  /** Mnemonic as dig prints it: NOERROR, NXDOMAIN, SERVFAIL, … */
  rcode: string;
  answerCount: number;
  transport: 'udp' | 'tcp';
  /** The UDP answer had TC set (the client then retried over TCP: that is a separate exchange). */
  truncated?: boolean;
}

// ------------------------------------------------------------------------------------ HTTP

const LARGE = Buffer.alloc(256 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789\n');
const TEXT = Buffer.from('hello wirehook '.repeat(200));

function json(res: http.ServerResponse, status: number, body: unknown, extra: http.OutgoingHttpHeaders = {}): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length, ...extra });
  res.end(b);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Routes, by path. Query strings are ignored for routing (they are echoed by /api/search). */
async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const u = new URL(req.url ?? '/', 'http://x');
  const body = await readBody(req);
  const p = u.pathname;
  if (p === '/api/users') return json(res, 200, [{ id: 1, name: 'ada' }, { id: 2, name: 'linus' }]);
  if (p.startsWith('/api/users/')) {
    const id = Number(p.slice('/api/users/'.length));
    if (id === 1) return json(res, 200, { id: 1, name: 'ada' });
    return json(res, 404, { error: 'no such user' });
  }
  if (p === '/api/search') {
    const q: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (q[k] ??= []).push(v);
    return json(res, 200, { query: q });
  }
  if (p === '/api/echo') {
    res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream', 'Content-Length': body.length });
    return void res.end(body);
  }
  if (p === '/api/fail') return json(res, 500, { error: 'boom' });
  if (p === '/api/empty') { res.writeHead(204); return void res.end(); }
  if (p === '/old') { res.writeHead(301, { Location: '/api/users', 'Content-Length': 0 }); return void res.end(); }
  if (p === '/chunked') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }); // no length: node sends chunked
    for (let i = 0; i < 5; i++) res.write(`chunk ${i}\n`);
    return void res.end();
  }
  if (p === '/gzip' || p === '/deflate' || p === '/br') {
    const enc = p.slice(1);
    const z = enc === 'gzip' ? zlib.gzipSync(TEXT) : enc === 'deflate' ? zlib.deflateSync(TEXT) : zlib.brotliCompressSync(TEXT);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': enc, 'Content-Length': z.length });
    return void res.end(z);
  }
  if (p === '/large') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': LARGE.length });
    return void res.end(LARGE);
  }
  if (p === '/cookie') {
    res.writeHead(200, { 'Set-Cookie': ['session=abc123; Path=/; HttpOnly', 'theme=dark'], 'Content-Type': 'text/plain', 'Content-Length': 2 });
    return void res.end('ok');
  }
  if (p === '/slow') {
    const ms = Math.min(Number(u.searchParams.get('ms') ?? 50), 1000);
    await new Promise((r) => setTimeout(r, ms));
    return json(res, 200, { slept: ms });
  }
  if (p === '/upload') return json(res, 201, { received: body.length });
  if (p === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 25 });
    return void res.end('<html>wirehook demo</html>'.slice(0, 25));
  }
  return json(res, 404, { error: 'not found', path: p });
}

/** `port` 0 (the default) picks an ephemeral port; the demo capture asks for a fixed one. */
export function startHttpServer(port = 0): Promise<Running> {
  const server = http.createServer((req, res) => {
    route(req, res).catch(() => { if (!res.headersSent) res.writeHead(500); res.end(); });
  });
  server.keepAliveTimeout = 2000;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

interface ReqOpts {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string | (Buffer | string)[]; // an array is sent chunked, one write per element
  expectContinue?: boolean;
}

/** One request over `agent`; resolves once the whole response has been read. */
function request(port: number, agent: http.Agent, o: ReqOpts): Promise<HttpExchange> {
  return new Promise((resolve, reject) => {
    const method = o.method ?? 'GET';
    const headers: http.OutgoingHttpHeaders = { 'User-Agent': 'wirehook-test/1.0', ...o.headers };
    if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) headers['Content-Length'] = Buffer.byteLength(o.body);
    if (o.expectContinue) headers.Expect = '100-continue';
    const req = http.request({ host: '127.0.0.1', port, method, path: o.path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ method, url: o.path, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const send = () => {
      if (Array.isArray(o.body)) for (const part of o.body) req.write(part);
      else if (o.body !== undefined) req.write(o.body);
      req.end();
    };
    if (o.expectContinue) req.on('continue', send);
    else send();
  });
}

/** Writes `raw` on a fresh socket, reads until the server closes, returns the final statuses. */
function rawExchange(port: number, raw: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    s.on('connect', () => s.write(raw));
    s.on('data', (d) => parts.push(d));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('raw HTTP exchange timed out')));
    s.on('close', () => {
      // Our routes' bodies never contain status lines, so a line scan is enough here.
      const text = Buffer.concat(parts).toString('latin1');
      const codes = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve(codes.filter((c) => c >= 200));
    });
  });
}

/**
 * The fixed HTTP mix: keep-alive requests, a pipelined batch, HTTP/1.0, POST bodies (JSON, form,
 * chunked upload, multipart via fetch), HEAD, Expect: 100-continue, compressed and large bodies,
 * redirects, errors.
 * Requests run one after another, so the returned order is the order on the wire.
 */
export async function httpScenario(port: number): Promise<HttpExchange[]> {
  const out: HttpExchange[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seq: ReqOpts[] = [
    { path: '/api/users', headers: { Cookie: 'session=abc123; theme=dark', Accept: 'application/json' } },
    { path: '/api/users/1' },
    { path: '/api/users/42' },
    { path: '/api/search?q=wire&q=hook&lang=en&empty=&sp=a%20b' },
    { path: '/api/fail' },
    { path: '/api/empty', method: 'DELETE' },
    { path: '/old' },
    { path: '/chunked' },
    { path: '/gzip', headers: { 'Accept-Encoding': 'gzip' } },
    { path: '/deflate', headers: { 'Accept-Encoding': 'deflate' } },
    { path: '/br', headers: { 'Accept-Encoding': 'br' } },
    { path: '/large' },
    { path: '/api/users', method: 'HEAD' },
    { path: '/cookie' },
    { path: '/api/echo', method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'grace', tags: ['a', 'b'] }) },
    { path: '/api/echo', method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=ada&lang=en&lang=fr&note=hello+world%21' },
    { path: '/upload', method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: ['part one\n', 'part two\n', 'part three\n'] },
    { path: '/upload', method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ big: 'x'.repeat(2000) }), expectContinue: true },
    { path: '/nowhere?x=1' },
  ];
  try {
    for (const o of seq) out.push(await request(port, agent, o));
  } finally {
    agent.destroy();
  }
  // Pipelined: three requests in one write, the last one closes the connection.
  const pipelined = [
    'GET /api/users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    'GET /api/fail HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
  ];
  const pst = await rawExchange(port, pipelined.join(''));
  const pm: [string, string][] = [['GET', '/api/users/1'], ['POST', '/api/echo'], ['GET', '/api/fail']];
  pm.forEach(([method, url], i) => out.push({ method, url, status: pst[i] ?? 0 }));
  // HTTP/1.0 client: no Host, no keep-alive, the server closes after the body.
  const s10 = await rawExchange(port, 'GET /api/users HTTP/1.0\r\nUser-Agent: old-client/1.0\r\n\r\n');
  out.push({ method: 'GET', url: '/api/users', status: s10[0] ?? 0 });
  // multipart/form-data from fetch (undici): a text field and a file part.
  const form = new FormData();
  form.append('title', 'holiday');
  form.append('photo', new Blob(['not really a jpeg'], { type: 'image/jpeg' }), 'beach.jpg');
  const r = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: form, headers: { Connection: 'close' } });
  await r.arrayBuffer();
  out.push({ method: 'POST', url: '/upload', status: r.status });
  return out;
}

// ------------------------------------------------------------------------------------- DNS

const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, CAA: 257 } as const;

interface ZoneRR { name: string; type: number; ttl: number; data: (w: Writer) => void; target?: string }

/** Minimal DNS message writer with name compression (RFC 1035 §4.1.4) for the test server. */
class Writer {
  buf = Buffer.alloc(65535);
  pos = 0;
  private names = new Map<string, number>();
  u8(v: number) { this.buf[this.pos++] = v; }
  u16(v: number) { this.buf.writeUInt16BE(v, this.pos); this.pos += 2; }
  u32(v: number) { this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Buffer) { b.copy(this.buf, this.pos); this.pos += b.length; }
  name(n: string) {
    const labels = n.replace(/\.$/, '').split('.').filter(Boolean);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (at !== undefined) { this.u16(0xc000 | at); return; }
      if (this.pos < 0x3fff) this.names.set(suffix, this.pos);
      const l = Buffer.from(labels[i], 'latin1');
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }
  /** Writes RDATA with its length prefix. */
  rdata(fn: (w: Writer) => void) {
    const at = this.pos;
    this.u16(0);
    fn(this);
    this.buf.writeUInt16BE(this.pos - at - 2, at);
  }
  done() { return Buffer.from(this.buf.subarray(0, this.pos)); }
}

const ZONE = 'wirehook.test';
const ip4 = (s: string) => (w: Writer) => s.split('.').forEach((o) => w.u8(Number(o)));
const ip6 = (s: string) => (w: Writer) => { const b = Buffer.alloc(16); const parts = s.split('::'); const head = parts[0] ? parts[0].split(':') : []; const tail = parts[1] ? parts[1].split(':') : []; head.forEach((h, i) => b.writeUInt16BE(parseInt(h, 16), i * 2)); tail.forEach((h, i) => b.writeUInt16BE(parseInt(h, 16), 16 - (tail.length - i) * 2)); w.bytes(b); };
const dname = (n: string) => (w: Writer) => w.name(n);
const strs = (...s: string[]) => (w: Writer) => s.forEach((x) => { const b = Buffer.from(x); w.u8(b.length); w.bytes(b); });

const SOA: ZoneRR = { name: ZONE, type: T.SOA, ttl: 3600, data: (w) => { w.name(`ns1.${ZONE}`); w.name(`hostmaster.${ZONE}`); w.u32(2026112301); w.u32(7200); w.u32(900); w.u32(1209600); w.u32(300); } };

const RECORDS: ZoneRR[] = [
  { name: `a.${ZONE}`, type: T.A, ttl: 300, data: ip4('10.0.0.1') },
  { name: `a.${ZONE}`, type: T.A, ttl: 300, data: ip4('10.0.0.2') },
  { name: `a.${ZONE}`, type: T.AAAA, ttl: 300, data: ip6('fd00::1') },
  { name: `a.${ZONE}`, type: T.AAAA, ttl: 300, data: ip6('2001:db8:0:0:1::2') },
  { name: `www.${ZONE}`, type: T.CNAME, ttl: 60, data: dname(`web.${ZONE}`), target: `web.${ZONE}` },
  { name: `web.${ZONE}`, type: T.CNAME, ttl: 60, data: dname(`a.${ZONE}`), target: `a.${ZONE}` },
  { name: ZONE, type: T.MX, ttl: 3600, data: (w) => { w.u16(10); w.name(`mail.${ZONE}`); } },
  { name: ZONE, type: T.MX, ttl: 3600, data: (w) => { w.u16(20); w.name(`mail2.${ZONE}`); } },
  { name: ZONE, type: T.NS, ttl: 3600, data: dname(`ns1.${ZONE}`) },
  { name: ZONE, type: T.NS, ttl: 3600, data: dname(`ns2.${ZONE}`) },
  SOA,
  { name: ZONE, type: T.CAA, ttl: 3600, data: (w) => { w.u8(0); const t = Buffer.from('issue'); w.u8(t.length); w.bytes(t); w.bytes(Buffer.from('letsencrypt.org')); } },
  { name: `txt.${ZONE}`, type: T.TXT, ttl: 120, data: strs('v=spf1 -all', 'hello world', '') },
  { name: `_http._tcp.${ZONE}`, type: T.SRV, ttl: 120, data: (w) => { w.u16(0); w.u16(5); w.u16(8080); w.name(`a.${ZONE}`); } },
  { name: '1.0.0.10.in-addr.arpa', type: T.PTR, ttl: 300, data: dname(`a.${ZONE}`) },
  { name: `unk.${ZONE}`, type: 65534, ttl: 30, data: (w) => w.bytes(Buffer.from([1, 2, 3, 4, 5])) },
];
// 40 A records: too big for a plain 512-byte UDP answer, so UDP gets TC and the client retries over TCP.
for (let i = 1; i <= 40; i++) RECORDS.push({ name: `big.${ZONE}`, type: T.A, ttl: 60, data: ip4(`10.1.0.${i}`) });

function readName(b: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = b[off];
    if (len === undefined) throw new Error('short name');
    if ((len & 0xc0) === 0xc0) { if (end < 0) end = off + 2; off = ((len & 0x3f) << 8) | b[off + 1]; continue; }
    if (len === 0) return [labels.join('.'), end < 0 ? off + 1 : end];
    labels.push(b.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  throw new Error('name loop');
}

/** Builds the authoritative answer for one query message, or null for garbage. */
function answer(q: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
  if (q.length < 12) return null;
  const id = q.readUInt16BE(0);
  const qd = q.readUInt16BE(4);
  if (qd !== 1) return null;
  let name: string, off: number;
  try { [name, off] = readName(q, 12); } catch { return null; }
  if (off + 4 > q.length) return null;
  const qtype = q.readUInt16BE(off);
  const qclass = q.readUInt16BE(off + 2);
  const hasOpt = q.readUInt16BE(10) > 0;
  const lname = name.toLowerCase().replace(/\.$/, '');
  const rd = q[2] & 1;

  let rcode = 0;
  const answers: ZoneRR[] = [];
  const authority: ZoneRR[] = [];
  let tc = false;
  if (lname === `fail.${ZONE}`) rcode = 2;
  else if (lname === `refused.example`) rcode = 5;
  else if (!lname.endsWith(ZONE) && !lname.endsWith('in-addr.arpa')) rcode = 5;
  else {
    // Follow CNAME chains within the zone.
    let cur = lname;
    for (let hops = 0; hops < 8; hops++) {
      const c = RECORDS.find((r) => r.name === cur && r.type === T.CNAME);
      if (!c || qtype === T.CNAME) break;
      answers.push(c);
      cur = c.target ?? cur;
    }
    const direct = RECORDS.filter((r) => r.name === cur && r.type === qtype);
    answers.push(...direct);
    const known = RECORDS.some((r) => r.name === cur);
    if (!known) { rcode = 3; authority.push(SOA); }
    else if (direct.length === 0 && answers.length === 0) authority.push(SOA);
    if (transport === 'udp' && lname === `big.${ZONE}`) { tc = true; answers.length = 0; }
  }

  const w = new Writer();
  w.u16(id);
  w.u8(0x80 | 0x04 | (tc ? 0x02 : 0) | rd); // QR, AA, TC, RD echoed
  w.u8(rcode); // RA clear: authoritative only
  w.u16(1);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(hasOpt ? 1 : 0);
  w.name(name);
  w.u16(qtype);
  w.u16(qclass);
  for (const r of [...answers, ...authority]) {
    w.name(r.name);
    w.u16(r.type);
    w.u16(1);
    w.u32(r.ttl);
    w.rdata(r.data);
  }
  if (hasOpt) {
    // EDNS OPT pseudo-RR: root name, UDP payload 1232, and one NSID option (code 3) so options show up.
    w.u8(0);
    w.u16(T.OPT);
    w.u16(1232);
    w.u32(0);
    w.rdata((x) => { x.u16(3); const nsid = Buffer.from('wh1'); x.u16(nsid.length); x.bytes(nsid); });
  }
  return w.done();
}

export function startDnsServer(fixedPort = 0): Promise<Running> {
  const tcp = net.createServer((s) => {
    let pending = Buffer.alloc(0);
    s.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const a = answer(msg, 'tcp');
        if (!a) { s.destroy(); return; }
        const pre = Buffer.alloc(2);
        pre.writeUInt16BE(a.length);
        s.write(Buffer.concat([pre, a]));
      }
    });
    s.on('error', () => {});
  });
  const sockets = new Set<net.Socket>();
  tcp.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const listenBoth = (attempt: number): Promise<Running> => new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(attempt === 0 ? fixedPort : 0, '127.0.0.1', () => {
      tcp.off('error', reject);
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket('udp4');
      udp.on('message', (msg, rinfo) => {
        const a = answer(msg, 'udp');
        if (a) udp.send(a, rinfo.port, rinfo.address);
      });
      udp.once('error', (e) => {
        // The UDP port was taken by someone else: try another pair.
        tcp.close();
        if (attempt < 5) listenBoth(attempt + 1).then(resolve, reject);
        else reject(e);
      });
      udp.bind(port, '127.0.0.1', () => {
        udp.removeAllListeners('error');
        udp.on('error', () => {});
        resolve({
          port,
          close: () => new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            udp.close(() => tcp.close(() => r()));
          }),
        });
      });
    });
  });
  return listenBoth(0);
}

/** Parses dig's default output into one exchange per response it printed. */
function parseDig(out: string): DnsExchange[] {
  const res: DnsExchange[] = [];
  for (const b of out.split(/(?=;; ->>HEADER<<-)/).slice(1)) {
    const q = /;; QUESTION SECTION:\n;(\S+)\s+\S+\s+(\S+)/.exec(b);
    const name = (q?.[1] ?? '').replace(/\.$/, '');
    const type = q?.[2] ?? '?';
    const transport = /;; SERVER: .*\(TCP\)/.test(b) ? 'tcp' : 'udp';
    // dig prints only the TCP retry of a truncated UDP answer; the UDP exchange happened too.
    if (transport === 'tcp' && /Truncated, retrying in TCP mode/.test(out) && res.length === 0) {
      res.push({ name, type, rcode: 'NOERROR', answerCount: 0, transport: 'udp', truncated: true });
    }
    res.push({ name, type, rcode: /status: (\w+)/.exec(b)?.[1] ?? '?', answerCount: Number(/ANSWER: (\d+)/.exec(b)?.[1] ?? 0), transport });
  }
  return res;
}

async function dig(port: number, args: string[], tcp = false): Promise<DnsExchange[]> {
  const { stdout } = await execFileP('dig', [`@127.0.0.1`, '-p', String(port), '+tries=1', '+time=3', ...(tcp ? ['+tcp'] : []), ...args]);
  return parseDig(stdout);
}

/**
 * The fixed DNS mix: dig over UDP (with EDNS, dig's default) and TCP (several queries on one
 * kept-open connection), a truncated answer that makes dig retry over TCP, NXDOMAIN, SERVFAIL,
 * REFUSED, and lookups through node's resolver (c-ares, no EDNS).
 */
export async function dnsScenario(port: number): Promise<DnsExchange[]> {
  const out: DnsExchange[] = [];
  const udpQueries: [string, string][] = [
    [`a.${ZONE}`, 'A'], [`a.${ZONE}`, 'AAAA'], [`www.${ZONE}`, 'A'], [ZONE, 'MX'], [`txt.${ZONE}`, 'TXT'],
    [`_http._tcp.${ZONE}`, 'SRV'], ['1.0.0.10.in-addr.arpa', 'PTR'], [ZONE, 'NS'], [ZONE, 'SOA'], [ZONE, 'CAA'],
    [`unk.${ZONE}`, 'TYPE65534'], [`nx.${ZONE}`, 'A'], [`fail.${ZONE}`, 'A'], ['refused.example', 'A'], [`big.${ZONE}`, 'A'],
  ];
  for (const [n, t] of udpQueries) out.push(...await dig(port, [n, t]));
  // Several messages on one TCP connection.
  out.push(...await dig(port, ['+keepopen', `a.${ZONE}`, 'A', `www.${ZONE}`, 'CNAME', `nx.${ZONE}`, 'AAAA'], true));
  // node's resolver: plain queries without EDNS.
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const a = await r.resolve4(`a.${ZONE}`);
  out.push({ name: `a.${ZONE}`, type: 'A', rcode: 'NOERROR', answerCount: a.length, transport: 'udp' });
  const txt = await r.resolveTxt(`txt.${ZONE}`);
  out.push({ name: `txt.${ZONE}`, type: 'TXT', rcode: 'NOERROR', answerCount: txt.length, transport: 'udp' });
  return out;
}

// ------------------------------------------------------------------------------- long-poll

export interface LongPollServer extends Running {
  /** Resolves once `n` /poll requests have arrived (their heads are on the wire). */
  polled(n?: number): Promise<void>;
  /** Answers every /poll request held so far. */
  release(): void;
}

/**
 * An HTTP server whose /poll requests stay open until release() (a long-poll, like an SSE or
 * a slow upload holds a connection); any other path answers at once with `ok <path>`.
 */
export function startLongPollServer(): Promise<LongPollServer> {
  const held: http.ServerResponse[] = [];
  let arrived = 0;
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/poll') {
      held.push(res);
      arrived++;
      for (const w of waiters.splice(0)) w();
      return;
    }
    const body = `ok ${req.url}`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const polled = async (n = 1): Promise<void> => {
    while (arrived < n) await new Promise<void>((r) => waiters.push(r));
  };
  const release = (): void => {
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 4 });
      res.end('done');
    }
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        polled,
        release,
        close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

/** GET `path` on a connection of its own (no keep-alive); resolves with the body. */
export function getOnce(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
