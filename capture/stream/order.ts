/**
 * Request-order release of items across streams. Each stream tells us (DissectorContext.pending)
 * the earliest request time it still owes an item for; a finished item is released once no
 * stream owes an earlier one. Bounded: past MAX_HELD items or MAX_HELD_BYTES (as the caller
 * sizes them), or when the oldest held item is MAX_WAIT_S of capture time old, items are
 * released anyway (a stuck stream must not hold the whole capture back). Superseded pending
 * marks are dropped lazily and the marks heap is rebuilt when they outnumber the live ones (a
 * never-answered request at the top used to pin every later mark: unbounded growth).
 */
export const MAX_HELD = 20000;
export const MAX_HELD_BYTES = 64 * 1024 * 1024;
export const MAX_WAIT_S = 10;
/** The marks heap is rebuilt when it holds more than this many entries beyond 2× the live marks. */
const MARKS_SLACK = 1024;

interface Entry<T> {
  sec: number;
  nsec: number;
  /** Tie-break: emit order (items), or validity stamp (pending marks). */
  seq: number;
  id: number;
  item: T | null;
  /** Items: the caller's size estimate, bytes. */
  bytes: number;
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.sec !== b.sec ? a.sec < b.sec : a.nsec !== b.nsec ? a.nsec < b.nsec : a.seq < b.seq;
}

class Heap<T> {
  a: Entry<T>[] = [];
  get size(): number {
    return this.a.length;
  }
  top(): Entry<T> | undefined {
    return this.a[0];
  }
  /** Replaces the contents with `es` in O(n). */
  rebuild(es: Entry<T>[]): void {
    const a = (this.a = es);
    for (let i = (a.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
  private down(i: number): void {
    const a = this.a;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && less(a[l], a[m])) m = l;
      if (r < a.length && less(a[r], a[m])) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
  push(e: Entry<T>): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Entry<T> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      this.down(0);
    }
    return top;
  }
}

export class ReorderBuffer<T> {
  private items = new Heap<T>();
  private marks = new Heap<T>();
  /** stream id → its current pending mark (absent: owes nothing). */
  private current = new Map<number, Entry<T>>();
  private seq = 0;
  private stamp = 0;
  private heldBytes = 0;
  /** Items released before their turn because MAX_HELD_BYTES was reached. */
  bytesCapReleases = 0;

  constructor(private readonly out: (item: T) => boolean | void) {}

  get held(): number {
    return this.items.size;
  }

  /** Entries in the marks heap, superseded ones included (bounded: see setPending). */
  get marksHeld(): number {
    return this.marks.size;
  }

  /** Returns false when the consumer asked to stop. `bytes`: the item's size estimate. */
  push(item: T, sec: number, nsec: number, bytes = 0): boolean {
    // Fast path (most items): nothing held and nothing owed earlier → straight out.
    if (this.items.size === 0) {
      const p = this.minPending();
      if (!p || p.sec > sec || (p.sec === sec && p.nsec >= nsec)) return this.out(item) !== false;
    }
    this.items.push({ sec, nsec, seq: this.seq++, id: 0, item, bytes });
    this.heldBytes += bytes;
    return true;
  }

  /** Stream `id` owes an item whose request started at (sec, nsec); null: owes nothing. */
  setPending(id: number, sec: number | null, nsec = 0): void {
    if (sec === null) {
      this.current.delete(id);
      return;
    }
    const e: Entry<T> = { sec, nsec, seq: ++this.stamp, id, item: null, bytes: 0 };
    this.current.set(id, e);
    this.marks.push(e);
    // Superseded marks below a live top are never popped: rebuild from the live ones.
    if (this.marks.size > 2 * this.current.size + MARKS_SLACK) this.marks.rebuild([...this.current.values()]);
  }

  private minPending(): Entry<T> | undefined {
    for (;;) {
      const t = this.marks.top();
      if (!t || this.current.get(t.id) === t) return t;
      this.marks.pop();
    }
  }

  /**
   * Releases what may go out. `nowSec` is the current capture time. Returns false when the
   * consumer asked to stop (out returned false).
   */
  release(nowSec: number): boolean {
    for (;;) {
      const top = this.items.top();
      if (!top) return true;
      const p = this.minPending();
      const earlier = p !== undefined && (p.sec < top.sec || (p.sec === top.sec && p.nsec < top.nsec));
      if (earlier && this.items.size <= MAX_HELD && nowSec - top.sec < MAX_WAIT_S) {
        if (this.heldBytes <= MAX_HELD_BYTES) return true;
        this.bytesCapReleases++;
      }
      this.items.pop();
      this.heldBytes -= top.bytes;
      if (this.out(top.item as T) === false) return false;
    }
  }

  /** End of input: everything goes, in order. */
  flush(): boolean {
    this.current.clear();
    return this.release(Infinity);
  }
}
