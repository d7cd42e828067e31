/**
 * A loopback TCP server that cuts what it reads into length-prefixed frames: the socket plumbing
 * shared by the scripted Kafka and MongoDB responders (no broker/server of either runs here).
 */
import net from 'node:net';

export interface FrameServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `frameLength(buf)` says how long the frame at the start of `buf` is, its 4-byte length prefix
 * included (called once 4 bytes are buffered). `onFrames` gets the complete frames of one read,
 * in order, so pipelined requests can be answered with one write.
 */
export async function startFrameServer(
  frameLength: (buf: Buffer) => number,
  onFrames: (frames: Buffer[], sock: net.Socket) => void,
): Promise<FrameServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const frames: Buffer[] = [];
      while (buf.length >= 4) {
        const n = frameLength(buf);
        if (n < 4) { sock.destroy(); return; } // a length that cannot be: stop rather than spin
        if (buf.length < n) break;
        frames.push(buf.subarray(0, n));
        buf = buf.subarray(n);
      }
      if (frames.length) onFrames(frames, sock);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((res) => { for (const s of sockets) s.destroy(); server.close(() => res()); }),
  };
}
