/**
 * Real loopback traffic for the weblayer protocols: a TLS server (self-signed certificate made
 * with openssl in a temp dir) with Node's tls and curl as clients, a WebSocket server and client
 * (the `ws` package, with and without permessage-deflate), ping, and plain TCP/UDP flows that no
 * dissector claims (refused, reset, a long one). Everything on 127.0.0.1/::1, random high ports.
 */
import tls from 'node:tls';
import net from 'node:net';
import dgram from 'node:dgram';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocketServer, WebSocket } from 'ws';

const execFileP = promisify(execFile);

export interface Running {
  port: number;
  close(): Promise<void>;
}

let certs: { key: Buffer; cert: Buffer } | null = null;
/** A self-signed certificate for CN=wirehook.test (made once per process). */
export function selfSigned(): { key: Buffer; cert: Buffer } {
  if (certs) return certs;
  const dir = mkdtempSync(join(tmpdir(), 'wirehook-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=wirehook.test/O=Wirehook Test', '-addext', 'subjectAltName=DNS:wirehook.test,IP:127.0.0.1'], { stdio: 'ignore' });
    certs = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return certs;
}

const listen = (srv: net.Server, host = '127.0.0.1') => new Promise<number>((r) => srv.listen(0, host, () => r((srv.address() as net.AddressInfo).port)));
const closeSrv = (srv: net.Server) => new Promise<void>((r) => srv.close(() => r()));

/** TLS server: answers "hello\n" to anything, offers h2 and http/1.1 by ALPN. */
export async function startTlsServer(): Promise<Running> {
  const { key, cert } = selfSigned();
  const srv = tls.createServer({ key, cert, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
    s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n'));
    s.on('error', () => {});
  });
  const port = await listen(srv);
  return { port, close: () => closeSrv(srv) };
}

export interface TlsExchange {
  sni: string;
  alpn: string[];
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Node tls clients (TLS 1.2 and 1.3, with and without ALPN/SNI) and curl -k. */
export const TLS_CLIENTS: TlsExchange[] = [
  { sni: 'wirehook.test', alpn: ['h2', 'http/1.1'], maxVersion: 'TLSv1.3' },
  { sni: 'api.wirehook.test', alpn: ['http/1.1'], maxVersion: 'TLSv1.2' },
  { sni: '', alpn: [], maxVersion: 'TLSv1.2' },
];

export async function tlsScenario(port: number): Promise<void> {
  for (const c of TLS_CLIENTS) {
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: c.sni || undefined, ALPNProtocols: c.alpn.length ? c.alpn : undefined, maxVersion: c.maxVersion, rejectUnauthorized: false }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('data', () => {});
      s.on('end', () => { s.end(); resolve(); });
      s.on('error', reject);
    });
  }
  await execFileP('curl', ['-sk', '--max-time', '5', '-o', '/dev/null', `https://127.0.0.1:${port}/`]).catch(() => {});
}

// ------------------------------------------------------------------------------ WebSocket

/** Echo server: every message comes back; "close" makes the server close with 4001. */
export async function startWsServer(mode: 'off' | 'takeover' | 'no-takeover'): Promise<Running> {
  const perMessageDeflate = mode === 'off' ? false : mode === 'takeover' ? { threshold: 0 } : { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true };
  const srv = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  await new Promise<void>((r) => srv.once('listening', () => r()));
  srv.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close') ws.close(4001, 'bye from server');
      else ws.send(data, { binary: isBinary });
    });
    ws.on('ping', () => {});
  });
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

export interface WsSent {
  from: 'client' | 'server';
  opcode: string;
  length: number;
}

/**
 * A client session: text, binary, a large text, a fragmented message (two frames), ping/pong,
 * then "close" (the server closes with 4001). Returns what was sent, in order per direction.
 */
export async function wsScenario(port: number, deflate: boolean): Promise<WsSent[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?room=1`, { perMessageDeflate: deflate ? { threshold: 0 } : false });
  const sent: WsSent[] = [];
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
  const echoed = () => new Promise<void>((r) => ws.once('message', () => r()));
  const send = async (data: string | Buffer, binary: boolean) => {
    const e = echoed();
    ws.send(data, { binary });
    const len = Buffer.byteLength(data);
    sent.push({ from: 'client', opcode: binary ? 'binary' : 'text', length: len }, { from: 'server', opcode: binary ? 'binary' : 'text', length: len });
    await e;
  };
  await send('hello websocket', false);
  await send(Buffer.from([0, 1, 2, 3, 254, 255]), true);
  // A repeat of the previous message: with context takeover it compresses to a back-reference.
  await send('hello websocket', false);
  await send('x'.repeat(70000), false);
  // Fragmented: two frames (fin false, then fin true) make one message.
  const e = echoed();
  ws.send('part one, ', { fin: false });
  ws.send('part two', { fin: true });
  sent.push({ from: 'client', opcode: 'text', length: 18 }, { from: 'server', opcode: 'text', length: 18 });
  await e;
  const pong = new Promise<void>((r) => ws.once('pong', () => r()));
  ws.ping('are you there');
  sent.push({ from: 'client', opcode: 'ping', length: 13 }, { from: 'server', opcode: 'pong', length: 13 });
  await pong;
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  ws.send('close');
  sent.push({ from: 'client', opcode: 'text', length: 5 }, { from: 'server', opcode: 'close', length: 2 + 'bye from server'.length }, { from: 'client', opcode: 'close', length: 2 + 'bye from server'.length });
  await closed;
  return sent;
}

// ------------------------------------------------------------------------------ ICMP and flows

export async function pingScenario(): Promise<void> {
  await execFileP('ping', ['-c', '3', '-i', '0.2', '127.0.0.1']);
  await execFileP('ping', ['-6', '-c', '2', '-i', '0.2', '::1']);
}

/** A free port nothing listens on (bound then released). */
export async function closedPort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = net.createServer();
    const p = await listen(s);
    await closeSrv(s);
    return p;
  }
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
  const p = u.address().port;
  await new Promise<void>((r) => u.close(() => r()));
  return p;
}

/** One datagram to a closed UDP port: the kernel answers ICMP port unreachable. */
export async function udpToClosed(port: number): Promise<void> {
  // A connected socket is told of the ICMP answer (ECONNREFUSED): wait for it, not for a time.
  const u = dgram.createSocket('udp4');
  try {
    await new Promise<void>((r) => u.connect(port, '127.0.0.1', () => r()));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no ICMP port unreachable for 127.0.0.1:${port} within 20 s`)), 20_000);
      u.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); e.code === 'ECONNREFUSED' ? res() : rej(e); });
      u.send('anyone there?');
    });
  } finally {
    u.close();
  }
}

/** A TCP connect to a closed port: SYN, RST (refused). */
export async function tcpRefused(port: number): Promise<void> {
  await new Promise<void>((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => r());
    s.on('connect', () => { s.destroy(); r(); });
  });
}

/**
 * A TCP server speaking an unknown protocol: `reset` connections are aborted by the server with
 * RST after one exchange; the others exchange `rounds` messages `gapMs` apart and close.
 */
export async function startRawServer(): Promise<Running> {
  const srv = net.createServer((s) => {
    s.on('data', (d) => {
      if (d.toString().startsWith('RESET')) s.resetAndDestroy();
      else s.write(Buffer.concat([Buffer.from('\x00\x01ACK '), d]));
    });
    s.on('error', () => {});
  });
  const port = await listen(srv);
  return { port, close: () => closeSrv(srv) };
}

export async function rawSession(port: number, msgs: string[], gapMs: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.on('error', () => {});
  for (const m of msgs) {
    s.write(m);
    if (m.startsWith('RESET')) break;
    await new Promise<void>((r) => s.once('data', () => r()));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await new Promise<void>((r) => { s.once('close', () => r()); s.end(); });
}
