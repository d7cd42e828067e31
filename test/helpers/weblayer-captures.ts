/**
 * Captures of the weblayer scenarios (test/helpers/weblayer-traffic.ts), recorded once per test
 * process, and a helper that runs the pipeline over a file and keeps items and stats.
 */
import { captureLoopback } from './capture';
import {
  closedPort, pingScenario, rawSession, startRawServer, startTlsServer, startWsServer, tcpRefused, tlsScenario, udpToClosed, wsScenario,
  type WsSent,
} from './weblayer-traffic';
import { runPipeline, type CaptureStats, type PipelineOptions } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item } from '../../capture/item/schema';

export async function itemsOf(file: string, opts: PipelineOptions = {}): Promise<{ items: Item[]; stats: CaptureStats }> {
  const items: Item[] = [];
  const stats = await runPipeline(fileSource(file), { item: (i) => void items.push(i) }, opts);
  return { items, stats };
}

const once = <T>(f: () => Promise<T>) => {
  let p: Promise<T> | null = null;
  return () => (p ??= f());
};

export type DeflateMode = 'off' | 'takeover' | 'no-takeover';

export interface WsCapture { file: string; port: number; sent: WsSent[] }

const wsCaps = new Map<DeflateMode, Promise<WsCapture>>();
export function wsCapture(mode: DeflateMode): Promise<WsCapture> {
  let p = wsCaps.get(mode);
  if (!p) {
    p = (async () => {
      const s = await startWsServer(mode);
      let sent: WsSent[] = [];
      try {
        const file = await captureLoopback(`tcp port ${s.port}`, async () => { sent = await wsScenario(s.port, mode !== 'off'); });
        return { file, port: s.port, sent };
      } finally {
        await s.close();
      }
    })();
    wsCaps.set(mode, p);
  }
  return p;
}

export const tlsCapture = once(async () => {
  const s = await startTlsServer();
  try {
    const file = await captureLoopback(`tcp port ${s.port}`, () => tlsScenario(s.port));
    return { file, port: s.port };
  } finally {
    await s.close();
  }
});

/** ping (v4 and v6), a datagram to a closed UDP port, a connect to a closed TCP port. */
export const icmpCapture = once(async () => {
  const udpPort = await closedPort('udp');
  const tcpPort = await closedPort('tcp');
  const file = await captureLoopback(`icmp or icmp6 or udp port ${udpPort} or tcp port ${tcpPort}`, async () => {
    await pingScenario();
    await udpToClosed(udpPort);
    await tcpRefused(tcpPort);
  });
  return { file, udpPort, tcpPort };
});

/**
 * Unclaimed TCP flows against a server of an unknown protocol: a short session closed with FIN,
 * one the server resets, and a long one (6 exchanges 400 ms apart, for periodic reports at 1 s).
 */
export const flowCapture = once(async () => {
  const s = await startRawServer();
  try {
    const file = await captureLoopback(`tcp port ${s.port}`, async () => {
      await rawSession(s.port, ['hello\n', 'bye\n'], 10);
      await rawSession(s.port, ['hi\n', 'RESET please\n'], 10);
      await rawSession(s.port, ['tick 1\n', 'tick 2\n', 'tick 3\n', 'tick 4\n', 'tick 5\n', 'tick 6\n'], 400);
    });
    return { file, port: s.port };
  } finally {
    await s.close();
  }
});
