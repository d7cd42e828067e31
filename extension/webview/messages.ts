/**
 * Messages between the items webview (browser code in this folder) and the extension host
 * (extension/items/host.ts). Types only: both bundles import it.
 */
import type { ItemPreview, SourcePos } from '../../server/protocol';

export type CopyFormat = 'json' | 'curl' | 'har';

/** Webview → extension. */
export type ToHost =
  | { type: 'ready' }
  /** Rows [offset, offset+limit) of the active query; answered with `rows` carrying the same `seq`. */
  | { type: 'rows'; seq: number; offset: number; limit: number }
  | { type: 'check'; seq: number; query: string }
  | { type: 'setQuery'; query: string }
  | { type: 'getItem'; id: string }
  | { type: 'copy'; id: string; format: CopyFormat }
  | { type: 'open'; id: string }
  | { type: 'export'; ids?: string[] }
  | { type: 'command'; command: string };

/** Extension → webview. */
export type ToView =
  /**
   * Live batch (`wirehook/items`): `matched` is the new total; previews are the newest matches.
   * `counting`: a new query's stored matches are still being counted, `matched` is a lower bound.
   */
  | { type: 'items'; previews: ItemPreview[]; matched: number; reset: boolean; evicted: number; counting: boolean; older?: ItemPreview[] }
  | { type: 'rows'; seq: number; offset: number; total: number; items: ItemPreview[]; error?: SourcePos }
  | { type: 'check'; seq: number; ok: boolean; language: string; error?: SourcePos; matched?: number }
  /** `partial`: `matched` is a lower bound (the count follows in an items batch without `counting`). */
  | { type: 'query'; query: string; ok: boolean; language?: string; error?: SourcePos; matched?: number; partial?: boolean }
  | { type: 'item'; id: string; item: unknown | null }
  | { type: 'status'; text: string; running: boolean; source: string | null; serverReady: boolean };
