/**
 * Real HTTP/2 traffic for tests: Node's `http2` server and client (h2c with prior knowledge),
 * `@grpc/grpc-js` client and server, nghttpd with nghttp and curl as clients. Each scenario
 * returns what the client itself saw, so tests compare items with it.
 */
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface H2Exchange {
  method: string;
  /** Without the query string (what the item's request.path holds). */
  path: string;
  status: number;
}

export const BIG_BODY = Buffer.alloc(100_000, 'h2 body ');
export const GQL_QUERY = 'query HeroName($id: ID!) { hero(id: $id) { name } }';
export const BIG_HEADER = 'x'.repeat(20_000);

/** A free TCP port on 127.0.0.1 (for servers that take a port number, like nghttpd). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

export async function startH2Server(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer({ paddingStrategy: http2.constants.PADDING_STRATEGY_MAX });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const path = String(headers[':path']).split('?')[0];
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      if (path === '/hello') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
        stream.end('hello h2');
      } else if (path === '/echo' || path === '/graphql') {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(path === '/graphql' ? '{"data":{"hero":{"name":"R2-D2"}}}' : body);
      } else if (path === '/gzip') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        stream.end(zlib.gzipSync(Buffer.from('compressed hello '.repeat(50))));
      } else if (path === '/trailers') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123' }));
        stream.end('body before trailers');
      } else if (path === '/big') {
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        stream.end(BIG_BODY);
      } else if (path === '/push') {
        stream.pushStream({ ':path': '/pushed.css' }, (err, push) => {
          if (!err) {
            push.on('error', () => {});
            push.respond({ ':status': 200, 'content-type': 'text/css' });
            push.end('body { color: red }');
          }
          stream.respond({ ':status': 200, 'content-type': 'text/html' });
          stream.end('<link rel="stylesheet" href="/pushed.css">');
        });
      } else if (path === '/slow') {
        // Never answers: the client gives up (RST_STREAM CANCEL).
      } else {
        stream.respond({ ':status': 404 });
        stream.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<{ status: number; body: Buffer }> {
  return new Promise((res, rej) => {
    const req = session.request(headers, { endStream: body === undefined });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => res({ status, body: Buffer.concat(chunks) }));
    req.on('error', rej);
    if (body !== undefined) req.end(body);
  });
}

/** Node client against startH2Server: one connection, concurrent streams, a cancel, a push. */
export async function h2Scenario(port: number): Promise<H2Exchange[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const pushed = new Promise<void>((r) => session.on('stream', (s) => { s.on('error', () => {}); s.resume(); s.on('end', () => r()); }));
  const out: H2Exchange[] = [];
  const go = async (method: string, path: string, extra: http2.OutgoingHttpHeaders = {}, body?: string | Buffer) => {
    const r = await request(session, { ':method': method, ':path': path, ...extra }, body);
    out.push({ method, path: path.split('?')[0], status: r.status });
    return r;
  };
  await go('GET', '/hello', { cookie: 'c1=v1', 'user-agent': 'wirehook-test' });
  // An :authority of its own: the item's dst.name comes from it (port dropped).
  await go('POST', '/echo', { 'content-type': 'application/json', ':authority': 'orders.test:8080' }, '{"hello":"world"}');
  // Concurrent streams: their frames interleave on the connection.
  await Promise.all([go('GET', '/gzip', { 'accept-encoding': 'gzip' }), go('GET', '/big'), go('GET', '/trailers')]);
  await go('GET', '/bigheader', { 'x-big': BIG_HEADER });
  await go('POST', '/graphql', { 'content-type': 'application/json' }, JSON.stringify({ query: GQL_QUERY, operationName: 'HeroName', variables: { id: '1' } }));
  // GraphQL's GET form: the query in the URL.
  await go('GET', `/graphql?query=${encodeURIComponent(GQL_QUERY)}&operationName=HeroName&variables=${encodeURIComponent('{"id":"1"}')}`);
  await go('GET', '/push');
  await pushed;
  // A request the client cancels: RST_STREAM(CANCEL) from the client.
  const slow = session.request({ ':method': 'GET', ':path': '/slow' });
  slow.on('error', () => {});
  // Cancel once its HEADERS (with END_STREAM) are sent: nghttp2 moves the stream to
  // half-closed (local) on sending them. Then the RST_STREAM goes out before the next request's
  // frames (one connection, in order) once the stream has closed. Events, not sleeps.
  const t0 = Date.now();
  while (slow.state?.state !== http2.constants.NGHTTP2_STREAM_STATE_HALF_CLOSED_LOCAL) {
    if (Date.now() - t0 > 20_000) throw new Error(`/slow: its HEADERS were never sent (stream state ${slow.state?.state})`);
    await new Promise((r) => setImmediate(r));
  }
  const closed = new Promise((r) => slow.once('close', r));
  slow.close(http2.constants.NGHTTP2_CANCEL);
  await closed;
  await go('GET', '/missing');
  await new Promise<void>((r) => session.close(() => r()));
  return out;
}

// ------------------------------------------------------------------ gRPC

const pass = (b: Buffer) => b;
export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Say: { path: '/demo.Echo/Say', requestStream: false, responseStream: false, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass },
  Fail: { path: '/demo.Echo/Fail', requestStream: false, responseStream: false, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass },
  Count: { path: '/demo.Echo/Count', requestStream: false, responseStream: true, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass },
};
export const GRPC_FAIL_MESSAGE = 'no such thing: é/100%';

export interface GrpcCall {
  method: string;
  /** Messages the client sent / received. */
  sent: Buffer[];
  received: Buffer[];
  code: number;
  details: string;
}

export async function startGrpcServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])),
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.NOT_FOUND, details: GRPC_FAIL_MESSAGE }),
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 1; i <= 3; i++) call.write(Buffer.from([i, i, i]));
      call.end();
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

export async function grpcScenario(port: number): Promise<GrpcCall[]> {
  const Client = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => unknown> & grpc.Client;
  const calls: GrpcCall[] = [];
  const unary = (method: string, msg: Buffer) => new Promise<void>((res) => {
    (client[method] as (m: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void).call(client, msg, (e, r) => {
      calls.push({ method, sent: [msg], received: r ? [r] : [], code: e ? e.code : 0, details: e ? e.details : '' });
      res();
    });
  });
  await unary('Say', Buffer.from([0x0a, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])); // a protobuf-looking message
  await unary('Fail', Buffer.from('x'));
  await new Promise<void>((res) => {
    const got: Buffer[] = [];
    const s = (client.Count as (m: Buffer) => grpc.ClientReadableStream<Buffer>).call(client, Buffer.from('n'));
    s.on('data', (d: Buffer) => got.push(d));
    s.on('status', (st: grpc.StatusObject) => { calls.push({ method: 'Count', sent: [Buffer.from('n')], received: got, code: st.code, details: st.details }); res(); });
    s.on('error', () => {});
  });
  client.close();
  return calls;
}

// ------------------------------------------------------------------ nghttpd + nghttp / curl

/** nghttpd serving a few files without TLS (h2c: prior knowledge and Upgrade). */
export async function startNghttpd(): Promise<{ port: number; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'wh-nghttpd-'));
  writeFileSync(join(dir, 'index.html'), '<h1>nghttpd</h1>\n');
  writeFileSync(join(dir, 'data.txt'), 'data '.repeat(5000));
  const port = await freePort();
  const p = spawn('nghttpd', ['--no-tls', '-d', dir, String(port)], { stdio: 'ignore' });
  // Wait until it accepts connections.
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise<void>((r) => p.on('close', () => r()));
  return { port, dir, close: async () => { p.kill('SIGTERM'); await exited; } };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => execFile(cmd, args, { timeout: 20_000 }, (e, out, err) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : res(out))));
}

/**
 * A minimal h2c Upgrade server (neither nghttpd nor Node's http2 accepts `Upgrade: h2c`): answers
 * the HTTP/1.1 request with 101, then speaks HTTP/2 itself: its SETTINGS, the response to the
 * upgraded request on stream 1 (HEADERS `:status 200`, `content-type: text/plain`, then DATA),
 * a SETTINGS ACK for the client's, and GOAWAY once the client's preface is in.
 */
export const UPGRADE_BODY = 'upgraded to h2c\n';
export async function startH2cUpgradeServer(): Promise<{ port: number; close(): Promise<void> }> {
  const frame = (type: number, flags: number, sid: number, payload: Buffer) => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type; h[4] = flags; h.writeUInt32BE(sid, 5);
    return Buffer.concat([h, payload]);
  };
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        buf = buf.subarray(end + 4);
        // :status 200 (static index 8), content-type (static 31) literal "text/plain" with indexing.
        const block = Buffer.concat([Buffer.from([0x88, 0x5f, 10]), Buffer.from('text/plain')]);
        sock.write(Buffer.concat([
          Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'),
          frame(4, 0, 0, Buffer.alloc(0)),
          frame(1, 0x4, 1, block),
          frame(0, 0x1, 1, Buffer.from(UPGRADE_BODY)),
        ]));
      }
      // The client's preface (24 bytes) and its SETTINGS frame: acknowledge, then say goodbye.
      if (buf.length >= 24 + 9) {
        buf = Buffer.alloc(0);
        sock.write(Buffer.concat([frame(4, 0x1, 0, Buffer.alloc(0)), frame(7, 0, 0, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]))]));
        sock.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** curl and nghttp asking for h2c with `Upgrade` (HTTP/1.1 first) against startH2cUpgradeServer. */
export async function upgradeScenario(port: number): Promise<H2Exchange[]> {
  const base = `http://127.0.0.1:${port}`;
  const c = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--http2', `${base}/up/curl`]);
  await run('nghttp', ['-nu', `${base}/up/nghttp`]);
  return [{ method: 'GET', path: '/up/curl', status: Number(c) }, { method: 'GET', path: '/up/nghttp', status: 200 }];
}

/** nghttp and curl (prior knowledge) against nghttpd. */
export async function nghttpScenario(port: number): Promise<H2Exchange[]> {
  const base = `http://127.0.0.1:${port}`;
  const out: H2Exchange[] = [];
  await run('nghttp', ['-n', `${base}/index.html`, `${base}/data.txt`, `${base}/nope`]);
  out.push({ method: 'GET', path: '/index.html', status: 200 }, { method: 'GET', path: '/data.txt', status: 200 }, { method: 'GET', path: '/nope', status: 404 });
  const code = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--http2-prior-knowledge', `${base}/index.html`]);
  out.push({ method: 'GET', path: '/index.html', status: Number(code) });
  return out;
}

// ------------------------------------------------------------------ gRPC with compressed messages

/** A message that compresses well and one that inflates past the 64 KiB body cap from a few hundred bytes. */
export const GRPC_TEXT = Buffer.from('compress me, gRPC! '.repeat(40));
export const GRPC_ZEROS = Buffer.alloc(200_000);

/**
 * A gRPC server on Node's http2 that answers `/demo.Echo/Say` with `echo:` + the request message,
 * compressed in the request's own grpc-encoding (gzip or deflate; grpc-js servers never compress
 * responses, grpc-js clients do decompress them).
 */
export async function startCompressingGrpcServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const enc = String(headers['grpc-encoding'] ?? 'identity');
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length < 5 || (body[0] === 1 && enc !== 'gzip' && enc !== 'deflate')) {
        // What grpc-js does with an encoding it lacks: UNIMPLEMENTED, trailers only.
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': `unsupported encoding ${enc}` }, { endStream: true });
        return;
      }
      const flag = body[0];
      const msg = body.subarray(5, 5 + body.readUInt32BE(1));
      const plain = flag === 1 ? (enc === 'gzip' ? zlib.gunzipSync(msg) : zlib.inflateSync(msg)) : msg;
      const reply = Buffer.concat([Buffer.from('echo:'), plain]);
      const packed = enc === 'gzip' ? zlib.gzipSync(reply) : enc === 'deflate' ? zlib.deflateSync(reply) : reply;
      const prefix = Buffer.alloc(5);
      prefix[0] = enc === 'identity' ? 0 : 1;
      prefix.writeUInt32BE(packed.length, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': enc, 'grpc-accept-encoding': 'identity,deflate,gzip' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat([prefix, packed]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface CompressedCall extends GrpcCall {
  /** The grpc-encoding the client compressed with. */
  encoding: string;
  /** The server port the call went to. */
  port: number;
}

/**
 * grpc-js clients with compression on (`grpc.default_compression_algorithm`: gzip, then deflate)
 * against a grpc-js server (compressed requests; it answers uncompressed) and against
 * startCompressingGrpcServer (compressed both ways); then a raw http2 client sending a message
 * in an encoding nobody implements (`snappy`), which the grpc-js server refuses (UNIMPLEMENTED).
 */
export async function compressedGrpcScenario(grpcJsPort: number, compressingPort: number): Promise<CompressedCall[]> {
  const Client = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
  const calls: CompressedCall[] = [];
  for (const [encoding, algo] of [['gzip', 2], ['deflate', 1]] as const) {
    for (const port of [grpcJsPort, compressingPort]) {
      const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': algo }) as unknown as Record<string, (...a: unknown[]) => unknown> & grpc.Client;
      const msgs = port === grpcJsPort && encoding === 'gzip' ? [GRPC_TEXT, GRPC_ZEROS] : [GRPC_TEXT];
      for (const msg of msgs) {
        await new Promise<void>((res) => {
          (client.Say as (m: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void).call(client, msg, (e, r) => {
            calls.push({ method: 'Say', sent: [msg], received: r ? [r] : [], code: e ? e.code : 0, details: e ? e.details : '', encoding, port });
            res();
          });
        });
      }
      client.close();
    }
  }
  // An encoding no one implements: the compressed flag set, grpc-encoding snappy.
  const session = http2.connect(`http://127.0.0.1:${grpcJsPort}`);
  session.on('error', () => {});
  const junk = Buffer.from('not really snappy');
  const framed = Buffer.concat([Buffer.from([1, 0, 0, 0, junk.length]), junk]);
  const code = await new Promise<number>((res, rej) => {
    const req = session.request({ ':method': 'POST', ':path': '/demo.Echo/Say', 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'snappy' });
    let status = -1;
    req.on('response', (h) => { if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']); });
    req.on('trailers', (t) => (status = Number(t['grpc-status'])));
    req.on('data', () => {});
    req.on('end', () => res(status));
    req.on('error', rej);
    req.end(framed);
  });
  calls.push({ method: 'Say', sent: [junk], received: [], code, details: '', encoding: 'snappy', port: grpcJsPort });
  await new Promise<void>((r) => session.close(() => r()));
  return calls;
}
