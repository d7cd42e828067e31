/**
 * The client↔server protocol: the one module both the language server (server/lsp) and the
 * VS Code extension (extension/) import. Method names, parameter and result shapes live here
 * and nowhere else; docs/protocol.md explains them. Only types and `RequestType` /
 * `NotificationType` constants: nothing here may pull server code into the extension bundle.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

// ------------------------------------------------------------------ shared shapes

/** Where packets come from: exactly one of `pcap`, `interface` or `command`. */
export interface CaptureSource {
  /** A pcap/pcapng file path, or `-` for the server's stdin (not useful over LSP). */
  pcap?: string;
  /** A live interface name (`lo`, `eth0`, `any`). */
  interface?: string;
  /** BPF filter for live capture (tcpdump syntax). */
  filter?: string;
  /** argv of a command whose stdout is a pcap stream, e.g. `["ssh","h","tcpdump","-U","-w","-"]`. */
  command?: string[];
}

export type PlaySpeed = 'asap' | 'realtime';

/** A position in a query or script, 1-based line and column. */
export interface SourcePos {
  line: number;
  col: number;
  message: string;
}

/** What the items panel shows per row; everything else is fetched with `getItem`. */
export interface ItemPreview {
  id: string;
  /** Protocol table fields the badge needs. */
  protocol: { name: string; abbr: string; backgroundColor: string; foregroundColor: string };
  /** `name` or `ip:port` of each side. */
  src: string;
  dst: string;
  /** One line: `GET /api/users`, `A example.com`, … */
  summary: string;
  /** Status as shown: HTTP status code, DNS response code, or `""`. */
  status: string;
  /** The status is an error (HTTP ≥ 400, DNS not "No Error", item error). */
  statusError: boolean;
  /** Unix ms of the request. */
  timestamp: number;
  /** Response time, ms. */
  elapsedMs: number;
  /** Request + response bytes. */
  size: number;
  /** Marks from `test.pass/fail` in `onItemQueried`. */
  passed: boolean;
  failed: boolean;
  /** What `onItemQueried` returned for this item (shown instead of the summary), if anything. */
  queried?: unknown;
}

export type ConsoleLevel = 'log' | 'error' | 'info';

/** One `console.log`/`console.error` line, or a runtime message, with its place in the script. */
export interface ConsoleLine {
  /** The script's document URI. */
  uri: string;
  /** 1-based line and column of the `console.*` call (0 when not known). */
  line: number;
  col: number;
  level: ConsoleLevel;
  text: string;
  /** Unix ms when it was printed. */
  time: number;
  /** Printed while replaying stored items through a new version. */
  replay: boolean;
  /** `"hub"` for the hub-role instance of a script with `onHubAction`. */
  role?: 'worker' | 'hub';
  /** How many identical lines this one stands for (repeats of one error are counted, not resent). */
  count?: number;
}

export interface HookStats {
  uri: string;
  /** `onItemCaptured`, `onItemQueried`, `onPacketCaptured`, … */
  hook: string;
  /** 1-based line of the hook's declaration. */
  line: number;
  calls: number;
  errors: number;
  /** Mean time per call, µs. */
  meanUs: number;
}

export interface CaptureState {
  /** Increases with every started capture. */
  session: number;
  /** Human-readable source (`file/demo.pcap`, `local/lo`, `command/ssh`), or null before any. */
  source: string | null;
  running: boolean;
  speed: PlaySpeed;
  /** A file source that has played to its end. */
  finished: boolean;
  /** The last capture error (missing privileges, unreadable file, command died). */
  error?: string;
  /** Progress of a file source, for the progress bar. */
  progress?: { bytesRead: number; totalBytes: number };
}

export interface StatsNotification {
  session: number;
  packets: number;
  bytes: number;
  itemsByProtocol: Record<string, number>;
  /** Kernel drops (null when the source has no counter). */
  drops: { kernel: number; ifdrop: number } | null;
  gaps: number;
  /** Rates over the last second. */
  packetsPerSec: number;
  itemsPerSec: number;
  /** Items held by the store / items ever stored / items evicted. */
  stored: number;
  storedTotal: number;
  evicted: number;
  /** Bytes of items the store holds in memory (bounded by the maxStoreMB setting). */
  storeBytes: number;
  /** Bytes of older items spilled to disk (bounded separately, 32 × maxStoreMB); not memory. */
  storeSpillBytes: number;
  warnings: Record<string, number>;
  hooks: HookStats[];
  /** Hook runtime errors since the capture started. */
  hookErrors: number;
}

// ------------------------------------------------------------------ requests

export interface StartCaptureParams {
  source: CaptureSource;
  speed?: PlaySpeed;
  /**
   * Live capture: `throughput` hands packets over in kernel blocks (no loss at 250k packets/s;
   * up to a second late when traffic is light); `latency` hands each packet over as it arrives
   * (output follows traffic within milliseconds, but on lo its ring holds only ~50 ms of a 20k
   * packets/s flood, and a longer stall loses packets; drops are reported). Default: the
   * `liveMode` setting (docs/protocol.md has the measurements).
   */
  mode?: 'latency' | 'throughput';
}
export interface StartCaptureResult {
  session: number;
  source: string;
}
export const StartCapture = new RequestType<StartCaptureParams, StartCaptureResult, void>('wirehook/startCapture');

export const StopCapture = new RequestType0<CaptureState, void>('wirehook/stopCapture');

export interface InterfaceInfo {
  name: string;
  description: string;
  addresses: string[];
  loopback: boolean;
  up: boolean;
}
export const ListInterfaces = new RequestType0<{ interfaces: InterfaceInfo[]; error?: string }, void>('wirehook/listInterfaces');

export interface SetQueryParams {
  query: string;
}
export interface SetQueryResult {
  ok: boolean;
  /** `empty` for the match-all query. */
  language: 'kfl' | 'kfl2' | 'empty';
  error?: SourcePos;
  /** Stored items the query matches (when ok). With `partial`, only those found so far (a lower bound). */
  matched?: number;
  /**
   * setQuery over a large store answers once the first page (the newest matches) is found,
   * before every stored item has been tested: `matched` is then a lower bound, and the total
   * follows in a `wirehook/items` notification without `counting` (absent: the count is exact).
   */
  partial?: boolean;
}
export const SetQuery = new RequestType<SetQueryParams, SetQueryResult, void>('wirehook/setQuery');

/**
 * Checks a query without making it the active one (the filter box validates as you type).
 * `matched` is absent when the count was stopped: by a newer check, or by setQuery (which
 * counts the applied query itself).
 */
export const CheckQuery = new RequestType<SetQueryParams, SetQueryResult, void>('wirehook/checkQuery');

export interface GetItemParams {
  id: string;
}
/** The full item (Kubeshark JSON shape), or null when it was evicted or never existed. */
export const GetItem = new RequestType<GetItemParams, { item: unknown | null }, void>('wirehook/getItem');

export interface QueryItemsParams {
  /** KFL or KFL2; empty matches everything. Omitted: the active query. */
  query?: string;
  offset: number;
  limit: number;
}
export interface QueryItemsResult {
  /** Matching items in the store. */
  total: number;
  /** Newest last, `offset` counted from the oldest match. */
  items: ItemPreview[];
  error?: SourcePos;
}
export const QueryItems = new RequestType<QueryItemsParams, QueryItemsResult, void>('wirehook/queryItems');

export type ExportFormat = 'har' | 'ndjson' | 'pcap';
export interface ExportItemsParams {
  ids?: string[];
  query?: string;
  format: ExportFormat;
  /** Absolute file path to write. */
  path: string;
}
export interface ExportItemsResult {
  items: number;
  /** Items the format cannot hold (HAR: non-HTTP items), not written. */
  skipped?: number;
  /** Packets written (pcap only). */
  packets?: number;
  path: string;
}
export const ExportItems = new RequestType<ExportItemsParams, ExportItemsResult, void>('wirehook/exportItems');

export interface ReplayParams {
  uri: string;
}
export const Replay = new RequestType<ReplayParams, { items: number }, void>('wirehook/replay');

export interface ScriptParams {
  uri: string;
}
/** Loads (or reloads) a document as a hook script even if it declares no hook. */
export const RunScript = new RequestType<ScriptParams, { ok: boolean; error?: SourcePos }, void>('wirehook/runScript');
/** Stops a running script (it stays open in the editor). */
export const StopScript = new RequestType<ScriptParams, void, void>('wirehook/stopScript');

export interface ScriptInfo {
  uri: string;
  hooks: string[];
  running: boolean;
  error?: SourcePos;
}
export const ListScripts = new RequestType0<{ scripts: ScriptInfo[] }, void>('wirehook/listScripts');

// ------------------------------------------------------------------ notifications (server → client)

export interface ConsoleNotification {
  lines: ConsoleLine[];
  /** Lines dropped by the rate limit since the last batch (the store of lines is the client's). */
  skipped: number;
}
export const ConsoleNotificationType = new NotificationType<ConsoleNotification>('wirehook/console');

export interface ItemsNotification {
  /** Newest previews matching the active query, oldest first; at most a bounded number per batch. */
  previews: ItemPreview[];
  /** Matching items in this interval that were not sent (ask with `queryItems`). */
  skipped: number;
  /** Items in the store that match the active query. */
  matched: number;
  /** The list was reset (new query, new capture): drop what is shown. */
  reset: boolean;
  /**
   * The new query's stored matches are still being counted: `matched` is a lower bound. The
   * first notification without it after a reset carries the total. Absent when exact.
   */
  counting?: boolean;
  /**
   * The rest of a new query's first page, when the time budget ran out before it was full (see
   * SetQuery): stored matches older than every preview sent since the reset, oldest first. They
   * go before the rows held (not after them, as `previews` do); `matched` counts them. Only sent
   * while `counting`.
   */
  older?: ItemPreview[];
}
export const ItemsNotificationType = new NotificationType<ItemsNotification>('wirehook/items');

export const StatsNotificationType = new NotificationType<StatsNotification>('wirehook/stats');
export const StateNotificationType = new NotificationType<CaptureState>('wirehook/state');

// ------------------------------------------------------------------ settings

/** `initializationOptions` and the `wirehook` configuration section the server reads. */
export interface WirehookSettings {
  /** Globs (workspace-relative) of files that are hook scripts even without a hook declaration. */
  scripts: string[];
  /** Warn about syntax newer than ES5 (Kubeshark's engine runs ES5 only). */
  es5Warning: boolean;
  /** Let vendor.*, webhook and chatgpt helpers really send. */
  allowNetwork: boolean;
  /** The workspace is trusted: hook scripts may run. */
  trusted: boolean;
  /** An env file (JSON, YAML or KEY=VALUE) for the scripts' `env`. */
  envFile: string;
  /** Store bounds. */
  maxItems: number;
  maxStoreMB: number;
  /** How live captures hand packets over when `startCapture` does not say (see StartCaptureParams.mode). */
  liveMode: 'latency' | 'throughput';
}

export const DEFAULT_SETTINGS: WirehookSettings = {
  scripts: [],
  es5Warning: true,
  allowNetwork: false,
  trusted: true,
  envFile: '',
  maxItems: 100_000,
  maxStoreMB: 48,
  liveMode: 'throughput',
};

/**
 * Rate limits every server → client stream keeps to (docs/protocol.md): at most ~25
 * messages/s in all (console 20/s, items 4/s, stats 1/s, state only on change). Each kind is
 * throttled on its leading edge, so a quiet stream's first message goes out at once.
 */
export const RATES = {
  /**
   * A console line waits at most this long for its batch: it is the largest fixed term of the
   * read → line time (issue #9: p99 < 100 ms), so 50 ms (20/s) rather than 60 (16/s).
   */
  consoleIntervalMs: 50,
  itemsIntervalMs: 250,
  statsIntervalMs: 1000,
  /** Previews per `wirehook/items` batch. */
  maxPreviewsPerBatch: 200,
  /**
   * Console lines per `wirehook/console` batch, per console interval since the last batch: a
   * batch held back by a stall (GC, a starved CPU) carries what arrived meanwhile instead of
   * dropping it, up to maxConsoleLinesQueued. A sustained flood is still cut at ~33k lines/s.
   */
  maxConsoleLinesPerBatch: 1650,
  maxConsoleLinesQueued: 20_000,
} as const;
