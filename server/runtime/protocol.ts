/** Messages between the runtime client (capture thread) and the runtime worker thread. */
import type { Item } from '../../capture/item/schema';
import type { LoadedScript, QueriedItem, RuntimeEvent, RuntimeOptions, RuntimeStats } from './types';

export type ToWorker =
  | { t: 'init'; opts: RuntimeOptions }
  | { t: 'load'; id: number; file: string; source: string }
  | { t: 'unload'; file: string }
  | { t: 'items'; json: string; count: number; key: string }
  | { t: 'replay'; id: number; file: string; json: string; count: number; key: string }
  | { t: 'stats'; id: number }
  | { t: 'packets'; buf: Float64Array }
  | { t: 'queried'; id: number; items: Item[]; query: string }
  | { t: 'drain'; id: number }
  | { t: 'metrics'; id: number; port?: number }
  | { t: 'runJob'; file: string; tag: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'events'; list: RuntimeEvent[] }
  /** A batch of items or packets was run; `list`: the events it produced (one message, not two). */
  | { t: 'ack'; list?: RuntimeEvent[] }
  | { t: 'loaded'; id: number; ok: true; script: LoadedScript }
  | { t: 'loaded'; id: number; ok: false; error: { name: string; message: string; file?: string; line?: number; col?: number; text?: string } }
  | { t: 'queried'; id: number; results: QueriedItem[] }
  | { t: 'drained'; id: number; stats: RuntimeStats }
  | { t: 'replayed'; id: number; items: number }
  | { t: 'stats'; id: number; stats: RuntimeStats }
  | { t: 'metrics'; id: number; text: string; port?: number; error?: string }
  | { t: 'fatal'; message: string };
