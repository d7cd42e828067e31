/**
 * Error folding: a hook that throws on every item must not flood the editor or the terminal,
 * yet every error is counted. The first occurrence of an error (same role + line + col +
 * message, replayed ones apart) is sent at once with count 1; repeats are counted and sent as
 * one event (`repeat: true`) carrying how many occurred since the last one, at most once a second per error and
 * whenever the owner flushes (drain, reload, a hook running clean again). So summing `count`
 * over the events gives the number of errors.
 *
 * Messages that differ on every item (`'bad id ' + id`) would defeat that: past MESSAGES_PER_PLACE
 * distinct messages at one place, further new ones fold into one entry for the place, which
 * quotes the first of them.
 */
import type { RuntimeEvent } from './types';

type ErrorEvent = Extract<RuntimeEvent, { type: 'error' }>;

interface Fold {
  event: ErrorEvent;
  place: string;
  /** The catch-all entry of a place with too many distinct messages. */
  other: boolean;
  pending: number;
  lastSent: number;
}

const EVERY_MS = 1000;
const MESSAGES_PER_PLACE = 10;
/** Bound on what is remembered per script; past it repeats of new errors are sent as they come. */
const MAX_FOLDS = 2000;

export class ErrorFolder {
  private folds = new Map<string, Fold>();
  private perPlace = new Map<string, number>();
  private due = new Set<Fold>();

  constructor(private emit: (e: ErrorEvent) => void, private now: () => number = Date.now) {}

  report(e: ErrorEvent): void {
    const place = `${e.replay ? 'r' : ''}${e.role}|${e.line}|${e.col}`;
    let key = `${place}|${e.message}`;
    let f = this.folds.get(key);
    if (!f && (this.perPlace.get(place) ?? 0) >= MESSAGES_PER_PLACE) {
      key = `${place}|*`;
      f = this.folds.get(key);
    }
    const t = this.now();
    if (f) {
      f.pending++;
      this.due.add(f);
      if (t - f.lastSent >= EVERY_MS) this.send(f, t);
      return;
    }
    if (this.folds.size < MAX_FOLDS) {
      const other = key.endsWith('|*');
      this.folds.set(key, { event: e, place, other, pending: 0, lastSent: t });
      if (!other) this.perPlace.set(place, (this.perPlace.get(place) ?? 0) + 1);
    }
    this.emit(e);
  }

  /** Sends the repeat counts that are due (all with `all`). */
  flush(all: boolean): void {
    if (this.due.size === 0) return;
    const t = this.now();
    for (const f of this.due) if (all || t - f.lastSent >= EVERY_MS) this.send(f, t);
  }

  /** Sends the counts of `hook`'s errors and forgets them, so its next error is sent at once. */
  forget(hook: string): void {
    const t = this.now();
    for (const [k, f] of this.folds) {
      if (f.event.hook !== hook) continue;
      if (f.pending) this.send(f, t);
      this.folds.delete(k);
      if (!f.other) this.perPlace.set(f.place, (this.perPlace.get(f.place) ?? 1) - 1);
    }
  }

  private send(f: Fold, t: number): void {
    const n = f.pending;
    f.pending = 0;
    f.lastSent = t;
    this.due.delete(f);
    if (n === 0) return;
    const e = f.event;
    if (!f.other) {
      this.emit({ ...e, count: n, repeat: true });
      return;
    }
    const at = e.message.slice(0, e.message.length - e.text.length);
    const first = e.text.startsWith(`${e.where}: `) ? e.text.slice(e.where.length + 2) : e.text;
    const text = `${e.where}: ${n} more error(s) with other messages here (first: ${first})`;
    this.emit({ ...e, message: at + text, text, count: n, repeat: true });
  }
}
