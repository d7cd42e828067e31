/**
 * The runtime thread (built to dist/runtime-worker.js): hooks run here so dissection (capture
 * thread) and QuickJS use both cores. Events are batched: one message per handled request.
 */
import { parentPort } from 'node:worker_threads';
import { ScriptLoadError } from './errors';
import type { FromWorker, ToWorker } from './protocol';
import { HookRuntime } from './runtime';
import type { RuntimeEvent } from './types';

const port = parentPort;
if (!port) throw new Error('runtime-worker must run in a worker thread');

let rt: HookRuntime | null = null;
let pending: RuntimeEvent[] = [];
let metricsServer: { port: number } | null = null;
const queue: ToWorker[] = [];
let busy = false;

const send = (m: FromWorker) => port.postMessage(m);
function flushEvents(): void {
  if (pending.length) {
    send({ t: 'events', list: pending });
    pending = [];
  }
}

/** The ack of a batch carries its events: the capture thread handles one message per batch. */
function ack(): void {
  if (pending.length) {
    send({ t: 'ack', list: pending });
    pending = [];
  } else send({ t: 'ack' });
}

async function handle(m: ToWorker): Promise<void> {
  if (m.t === 'init') {
    rt = await HookRuntime.create(m.opts, (e) => {
      pending.push(e);
      if (pending.length >= 512) flushEvents();
    });
    send({ t: 'ready' });
    return;
  }
  if (!rt) throw new Error('runtime not initialised');
  switch (m.t) {
    case 'load':
      try {
        send({ t: 'loaded', id: m.id, ok: true, script: rt.load(m.file, m.source) });
      } catch (e) {
        const err = e as Error & Partial<ScriptLoadError>;
        send({ t: 'loaded', id: m.id, ok: false, error: { name: err.name, message: err.message, file: err.file, line: err.line, col: err.col, text: err.text } });
      }
      break;
    case 'unload':
      rt.unload(m.file);
      break;
    case 'items':
      rt.capturedJson(m.json, m.count, m.key);
      ack();
      break;
    case 'replay':
      send({ t: 'replayed', id: m.id, items: rt.replayJson(m.file, m.json, m.count, m.key) });
      break;
    case 'stats':
      send({ t: 'stats', id: m.id, stats: rt.stats() });
      break;
    case 'packets':
      rt.packets(m.buf);
      ack();
      break;
    case 'queried':
      send({ t: 'queried', id: m.id, results: rt.queried(m.items, m.query) });
      break;
    case 'drain':
      rt.flushRepeats(true);
      flushEvents();
      send({ t: 'drained', id: m.id, stats: rt.stats() });
      break;
    case 'metrics':
      try {
        if (m.port !== undefined && !metricsServer) metricsServer = await rt.metrics.serve(m.port);
        send({ t: 'metrics', id: m.id, text: rt.metrics.render(), port: metricsServer?.port });
      } catch (e) {
        send({ t: 'metrics', id: m.id, text: '', error: (e as Error).message });
      }
      break;
    case 'runJob':
      rt.runJob(m.file, m.tag);
      break;
  }
  flushEvents();
}

// Messages are handled strictly in order (init is async).
async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    while (queue.length) await handle(queue.shift()!);
  } catch (e) {
    send({ t: 'fatal', message: (e as Error).stack ?? String(e) });
  } finally {
    busy = false;
  }
}

port.on('message', (m: ToWorker) => {
  queue.push(m);
  void pump();
});

// Jobs and timers fire between messages: their output must not wait for the next request. Counts
// of folded errors are sent once they are a second old.
setInterval(() => {
  rt?.flushRepeats(false);
  flushEvents();
}, 50).unref();
