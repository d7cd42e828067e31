/**
 * Request-order release of items across streams. Each stream tells us (DissectorContext.pending)
 * the earliest request time it still owes an item for; a finished item is released once no
 * stream owes an earlier one. Bounded: past MAX_HELD items, or when the oldest held item is
 * MAX_WAIT_S of capture time old, items are released anyway (a stuck stream must not hold the
 * whole capture back).
 */
export const MAX_HELD = 20000;
export const MAX_WAIT_S = 10;

interface Entry<T> {
  sec: number;
  nsec: number;
  /** Tie-break: emit order (items), or validity stamp (pending marks). */
  seq: number;
  id: number;
  item: T | null;
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
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

export class ReorderBuffer<T> {
  private items = new Heap<T>();
  private marks = new Heap<T>();
  /** stream id → stamp of its current pending mark (absent: owes nothing). */
  private current = new Map<number, number>();
  private seq = 0;
  private stamp = 0;

  constructor(private readonly out: (item: T) => boolean | void) {}

  get held(): number {
    return this.items.size;
  }

  /** Returns false when the consumer asked to stop. */
  push(item: T, sec: number, nsec: number): boolean {
    // Fast path (most items): nothing held and nothing owed earlier → straight out.
    if (this.items.size === 0) {
      const p = this.minPending();
      if (!p || p.sec > sec || (p.sec === sec && p.nsec >= nsec)) return this.out(item) !== false;
    }
    this.items.push({ sec, nsec, seq: this.seq++, id: 0, item });
    return true;
  }

  /** Stream `id` owes an item whose request started at (sec, nsec); null: owes nothing. */
  setPending(id: number, sec: number | null, nsec = 0): void {
    if (sec === null) {
      this.current.delete(id);
      return;
    }
    const s = ++this.stamp;
    this.current.set(id, s);
    this.marks.push({ sec, nsec, seq: s, id, item: null });
  }

  private minPending(): Entry<T> | undefined {
    for (;;) {
      const t = this.marks.top();
      if (!t || this.current.get(t.id) === t.seq) return t;
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
      if (earlier && this.items.size <= MAX_HELD && nowSec - top.sec < MAX_WAIT_S) return true;
      this.items.pop();
      if (this.out(top.item as T) === false) return false;
    }
  }

  /** End of input: everything goes, in order. */
  flush(): boolean {
    this.current.clear();
    return this.release(Infinity);
  }
}
