/**
 * Everything the server pushes to the client goes through here, so a flood of traffic never
 * floods the editor: each notification kind has its own throttle (RATES in server/protocol.ts),
 * console lines and previews are bounded per batch and what does not fit is counted as skipped.
 * The store keeps every item; the client asks for what it shows.
 */
import type { Connection } from 'vscode-languageserver';
import {
  ConsoleNotificationType,
  ItemsNotificationType,
  RATES,
  StateNotificationType,
  StatsNotificationType,
  type CaptureState,
  type ConsoleLine,
  type ItemPreview,
  type StatsNotification,
} from '../protocol';
import { TRACE, trace } from './trace';

/**
 * Leading-edge throttle: runs `send` at once when the last send was at least the interval ago,
 * else schedules it for exactly last + interval (so a steady stream goes out every interval and
 * nothing waits longer than one interval plus the event loop's delay).
 */
export class Throttle {
  private last = -Infinity;
  /** When it last sent (-Infinity before the first). */
  get lastSent(): number {
    return this.last;
  }
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly intervalMs: number,
    private readonly send: () => boolean | void,
    private readonly now: () => number = () => performance.now(),
  ) {}
  kick(): void {
    if (this.timer) return;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), wait);
  }
  /** Sends now. A send that had nothing to send (returns false) does not start an interval. */
  fire(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const t = this.now();
    if (this.send() !== false) this.last = t;
  }
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export class Outbox {
  private lines: ConsoleLine[] = [];
  private linesSkipped = 0;
  /** Queued previews by id; a function builds it when sent (most queued in a flood are dropped unbuilt). */
  private previews = new Map<string, ItemPreview | (() => ItemPreview)>();
  private previewsSkipped = 0;
  /** The rest of a new query's first page (olderPage()), built when sent. */
  private older: (() => ItemPreview)[] = [];
  private reset = false;
  private matched = 0;
  private counting = false;
  private itemsDirty = false;
  /** Inside itemsBatch(): queue, do not send. */
  private holding = false;
  private statsMsg: StatsNotification | null = null;
  private closed = false;
  private readonly consoleT: Throttle;
  private readonly itemsT: Throttle;
  private readonly statsT: Throttle;

  /** `now`: the clock the throttles read (tests pass a fake one). */
  constructor(
    private readonly conn: Pick<Connection, 'sendNotification'>,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.consoleT = new Throttle(RATES.consoleIntervalMs, () => this.sendConsole(), now);
    this.itemsT = new Throttle(RATES.itemsIntervalMs, () => this.sendItems(), now);
    this.statsT = new Throttle(RATES.statsIntervalMs, () => this.sendStats(), now);
  }

  console(line: ConsoleLine): void {
    if (this.closed) return;
    if (this.lines.length >= RATES.maxConsoleLinesPerBatch && this.lines.length >= this.consoleRoom()) {
      // Keep the newest: an endless flood shows its latest output, and says how much it skipped.
      this.lines.shift();
      this.linesSkipped++;
    }
    this.lines.push(line);
    this.consoleT.kick();
  }

  /**
   * Lines the next console batch may hold: maxConsoleLinesPerBatch per interval since the last
   * batch. At 10k lines/s a 300 ms stall (measured: scavenges and sync writes under load) queued
   * 3,000 lines, and a fixed 2,000 dropped a third of them (issue #9, docs/protocol.md).
   */
  private consoleRoom(): number {
    const intervals = Math.max(1, (this.now() - this.consoleT.lastSent) / RATES.consoleIntervalMs);
    return Math.min(RATES.maxConsoleLinesQueued, Math.floor(intervals * RATES.maxConsoleLinesPerBatch));
  }

  /** A preview to show (a preview whose id is already shown replaces it in the client). */
  preview(p: ItemPreview): void {
    this.previewOf(p.id, p);
  }

  /**
   * A preview built only if it is sent: at 10k items/s, 800 of them a second go out, so building
   * all 10k (~1 µs each, and their garbage) was wasted work on the capture thread.
   */
  previewOf(id: string, p: ItemPreview | (() => ItemPreview)): void {
    if (this.closed) return;
    if (this.previews.has(id)) this.previews.delete(id);
    else if (this.previews.size >= RATES.maxPreviewsPerBatch) {
      this.previews.delete(this.previews.keys().next().value as string);
      this.previewsSkipped++;
    }
    this.previews.set(id, p);
    this.itemsDirty = true;
    if (!this.holding) this.itemsT.kick();
  }

  /**
   * The list must be rebuilt (new query or capture): queued previews are dropped. `counting`:
   * `matched` is a lower bound until setMatched(n, false).
   */
  resetItems(matched: number, counting = false): void {
    this.previews.clear();
    this.older = [];
    this.previewsSkipped = 0;
    this.reset = true;
    this.matched = matched;
    this.counting = counting;
    this.itemsDirty = true;
    if (!this.holding) this.itemsT.kick();
  }

  /** Sends the queued items batch now (a new query's first page: the user is waiting for it). */
  itemsNow(): void {
    this.itemsT.fire();
  }

  /**
   * Queues a whole items batch (a reset and its page) and sends it at once. Without it the
   * throttle, idle for 250 ms, sent the reset on its leading edge with no previews, and the page
   * came in a second batch (seen under load in test/lsp/server.test.ts's first-page test).
   */
  itemsBatch(fill: () => void): void {
    this.holding = true;
    try {
      fill();
    } finally {
      this.holding = false;
    }
    this.itemsNow();
  }

  /**
   * The rest of a new query's first page (`older` in the notification, oldest first): sent now,
   * with whatever live previews are queued, so a client places the arrivals after the page.
   */
  olderPage(previews: (() => ItemPreview)[], matched: number): void {
    if (this.closed || !previews.length) return;
    this.older.push(...previews);
    this.matched = matched;
    this.itemsDirty = true;
    this.itemsNow();
  }

  setMatched(n: number, counting = this.counting): void {
    if (n === this.matched && counting === this.counting) return;
    this.matched = n;
    this.counting = counting;
    this.itemsDirty = true;
    if (!this.holding) this.itemsT.kick();
  }

  /**
   * State changes are rare and matter (errors, running → stopped): sent at once, after queued
   * lines, previews and stats. The stats first: a capture's final figures (stored, drops) are
   * queued when it ends, and a client that saw "finished" before them showed, and reported on a
   * crash, the figures of up to a second earlier (an e2e run in CI: "0 stored items lost").
   */
  state(s: CaptureState): void {
    if (this.closed) return;
    this.consoleT.fire();
    this.itemsT.fire();
    this.statsT.fire();
    void this.conn.sendNotification(StateNotificationType, s);
  }

  stats(s: StatsNotification): void {
    if (this.closed) return;
    this.statsMsg = s;
    this.statsT.kick();
  }

  private sendConsole(): boolean {
    if (!this.lines.length && !this.linesSkipped) return false;
    const t = TRACE ? performance.now() : 0;
    void this.conn.sendNotification(ConsoleNotificationType, { lines: this.lines, skipped: this.linesSkipped });
    if (TRACE) trace.consoleSent(this.lines, performance.now() - t);
    this.lines = [];
    this.linesSkipped = 0;
    return true;
  }

  private sendItems(): boolean {
    if (!this.itemsDirty) return false;
    void this.conn.sendNotification(ItemsNotificationType, {
      previews: Array.from(this.previews.values(), (p) => (typeof p === 'function' ? p() : p)),
      skipped: this.previewsSkipped,
      matched: this.matched,
      reset: this.reset,
      ...(this.counting ? { counting: true } : {}),
      ...(this.older.length ? { older: this.older.map((p) => p()) } : {}),
    });
    this.previews.clear();
    this.older = [];
    this.previewsSkipped = 0;
    this.reset = false;
    this.itemsDirty = false;
    return true;
  }

  private sendStats(): boolean {
    if (!this.statsMsg) return false;
    void this.conn.sendNotification(StatsNotificationType, this.statsMsg);
    this.statsMsg = null;
    return true;
  }

  /** Sends everything queued now (shutdown). */
  flush(): void {
    this.consoleT.fire();
    this.itemsT.fire();
    this.statsT.fire();
  }

  close(): void {
    this.flush();
    this.closed = true;
    this.consoleT.cancel();
    this.itemsT.cancel();
    this.statsT.cancel();
  }
}
