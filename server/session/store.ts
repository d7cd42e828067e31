/**
 * The item store: the last `maxItems` items, indexed by id, queryable with any match function
 * (KFL/KFL2 `CompiledQuery.match`). Decisions and measurements: docs/store.md.
 *
 * Items are kept as JSON bytes, not objects: appended to fixed-size chunks, so memory is the
 * chunks' bytes and nothing else grows per item but three numbers and the id. The protocol
 * table entry every item repeats (~430 of ~1700 bytes) is stored as an index. When the chunks
 * pass `maxBytes`, the oldest chunk is written whole to an append-only spill file (with
 * `spillDir`) or its items are dropped; spill files are deleted once all their items are
 * evicted. Matching decodes items, so each query function's hits are cached and extended
 * incrementally: paging and counting the active query cost only the new items.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Item, Protocol } from '../../capture/item/schema';
import { itemJsonParts } from '../../capture/item/json';
import { StoreObserved } from './store-observed';

export interface ItemStoreOptions {
  maxItems: number;
  maxBytes: number;
  /** Where chunks that do not fit in `maxBytes` go; without it they are dropped. */
  spillDir?: string;
  /** Bound on spill files; default 32 × maxBytes (1.5 GiB for the default 48 MB). */
  maxSpillBytes?: number;
}

export interface ItemMarks {
  passed?: boolean;
  failed?: boolean;
  queried?: unknown;
}

export interface StoreStats {
  /** Items held (memory + spill). */
  stored: number;
  /** Items ever added since the last clear. */
  total: number;
  /** Items dropped to keep the bounds. */
  evicted: number;
  /** Bytes held: memory chunks + spill files. */
  bytes: number;
  memBytes: number;
  spillBytes: number;
}

export type MatchFn = (item: Item) => boolean;

interface Chunk {
  buf: Buffer | null;
  used: number;
  /** Its spill write is in flight: `buf` stays (readable, counted in memBytes) until it completes. */
  writing: boolean;
  /** Newest seq written into it. */
  lastSeq: number;
  /** Spill segment and position once written out; -1 while in memory. */
  seg: number;
  pos: number;
}

interface Segment {
  fd: number;
  file: string;
  size: number;
  lastSeq: number;
  /** Spill writes in flight to it; its fd is closed when they are done. */
  writes: number;
  dropped: boolean;
}

/** A count under way (prepare()), shared by its callers. */
interface Scan {
  users: number;
  done: Promise<void>;
}

interface HitCache {
  hits: number[];
  start: number;
  /** Next seq to test. */
  upto: number;
  deletions: number;
}

const MAX_CHUNK = 4 << 20;
const MIN_CHUNK = 64 << 10;
const SEGMENT_BYTES = 64 << 20;
const MAX_CACHES = 8;
const EAGER = 2;
/** Estimated bytes per stored item outside the chunks (id string and Map entry, ring slots). */
const INDEX_BYTES = 120;
/**
 * Background spill writes in flight before the next is written synchronously. With one, a
 * write slower than one chunk of traffic (2 MB every ~170 ms at 10k DNS items/s; the shared
 * disk took longer) made the next spill a writeSync on the capture thread: 418 ms of stalls in
 * one 10 s run of the LSP read bench (issue #9). Each one costs one chunk of memory room.
 */
export const SPILL_WRITES = 3;
/** Items tested per slice by prepare() and newestFirst() before yielding to the event loop... */
const SLICE = 2000;
/**
 * ...and at most this long a slice (checked every 32 items). 2,000 whole items took 20–40 ms
 * to decode and match, more under load; the capture, and the reply to the setQuery that
 * started the scan, waited behind each slice (issue #9: setQuery's first page). 8 ms, as the
 * capture's own slices (session.ts SLICE_MS).
 */
const SLICE_MS = 8;
const ALL: MatchFn = () => true;

export class ItemStore {
  readonly observed: StoreObserved;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly maxSpill: number;
  private readonly spillDir: string | undefined;
  private readonly chunkSize: number;

  // Per-item ring, indexed by seq & mask, for seqs in [head, next).
  private cap = 0;
  private mask = 0;
  private chunkOf = new Float64Array(0);
  private offOf = new Uint32Array(0);
  private lenOf = new Uint32Array(0);
  private idOf: (string | undefined)[] = [];
  private deadOf = new Uint8Array(0);
  private head = 0;
  private next = 0;
  private live = 0;
  private evictedCount = 0;
  private deletions = 0;

  private ids = new Map<string, number>();
  private markMap = new Map<number, ItemMarks>();

  // Chunks: chunks[i] has number chunkBase + i; in-memory ones are the suffix from memFrom.
  private chunks: Chunk[] = [];
  private chunkBase = 0;
  private memFrom = 0;
  private memBytes = 0;

  private segs: Segment[] = [];
  private segBase = 0;
  private spillBytes = 0;
  private spillSeq = 0;

  private protos: Protocol[] = [];
  private protoIdx = new Map<Protocol, { idx: number; member: string }>();
  private protoByKey = new Map<string, number>();

  private caches = new Map<MatchFn, HitCache>();
  private scans = new Map<MatchFn, Scan>();
  /** Up to EAGER most recently used query functions, kept up to date as items arrive. */
  private eager: MatchFn[] = [];
  /** A chunk buffer freed by spilling or eviction, reused: memory stays at the bound instead of waiting for GC. */
  private free: Buffer[] = [];
  /** Background spill writes in flight, and their chunks' bytes (still in memBytes). */
  private writesInFlight = 0;
  private inFlightBytes = 0;
  /** Bumped by clear(): a spill write completing after it finds nothing of its own left. */
  private generation = 0;
  /** Why spilling stopped (null while it works): past it, the oldest items are dropped. */
  spillError: string | null = null;
  private readonly parts = new Parts();
  /** The last chunk read back from a spill file (scans read whole chunks). */
  private scratch: { no: number; buf: Buffer } | null = null;

  constructor(opts: ItemStoreOptions) {
    if (!(opts.maxItems >= 1) || !(opts.maxBytes >= 1)) throw new Error(`item store: maxItems and maxBytes must be positive (got ${opts.maxItems}, ${opts.maxBytes})`);
    this.maxItems = Math.floor(opts.maxItems);
    this.maxBytes = opts.maxBytes;
    this.maxSpill = opts.maxSpillBytes ?? opts.maxBytes * 32;
    this.spillDir = opts.spillDir;
    this.chunkSize = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, 2 ** Math.floor(Math.log2(opts.maxBytes / 16))));
    this.observed = new StoreObserved((n) => this.newest(null, n));
    this.grow(1024);
  }

  get size(): number {
    return this.live;
  }

  /** Spill writes running in the background now (tests, diagnostics). */
  get spillWritesInFlight(): number {
    return this.writesInFlight;
  }

  add(item: Item): void {
    const parts = this.encode(item);
    const id = String(item.id);
    const old = this.ids.get(id);
    if (old !== undefined) this.kill(old);
    if (this.next - this.head >= this.cap) this.grow(this.cap * 2);
    const seq = this.next++;
    const chunk = this.roomFor(parts);
    const no = this.chunkBase + this.chunks.length - 1;
    const buf = chunk.buf!;
    let written = 0;
    for (let k = 0; k < parts.n; k++) {
      const p = parts.p[k];
      // Base64 body previews are ASCII: a byte copy, not a UTF-8 encode.
      written += buf.write(p, chunk.used + written, parts.ascii[k] ? 'latin1' : 'utf8');
    }
    const i = seq & this.mask;
    this.chunkOf[i] = no;
    this.offOf[i] = chunk.used;
    this.lenOf[i] = written;
    this.idOf[i] = id;
    this.deadOf[i] = 0;
    chunk.used += written;
    chunk.lastSeq = seq;
    this.ids.set(id, seq);
    this.live++;
    this.observed.observe(item);
    // The most recently used queries are tested on the item in hand (no decode later).
    for (const fn of this.eager) {
      const c = this.caches.get(fn);
      if (c && c.upto === seq) {
        if (fn === ALL || fn(item)) c.hits.push(seq);
        c.upto = seq + 1;
      }
    }
    while (this.next - this.head > this.maxItems || (this.live > this.maxItems && this.head < this.next)) this.evictOldest();
    this.enforceBytes();
  }

  get(id: string): Item | null {
    const seq = this.ids.get(id);
    return seq === undefined ? null : this.decode(seq, false);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Matching items oldest first, `offset` counted from the oldest match; `total` is every match. */
  query(match: MatchFn | null, offset: number, limit: number): { total: number; items: Item[] } {
    const c = this.hitsFor(match ?? ALL);
    const total = c.hits.length - c.start;
    const items: Item[] = [];
    const from = c.start + Math.max(0, Math.floor(offset));
    const to = Math.min(c.hits.length, from + Math.max(0, Math.floor(limit)));
    for (let k = from; k < to; k++) items.push(this.decode(c.hits[k], true));
    return { total, items };
  }

  count(match: MatchFn | null): number {
    const c = this.hitsFor(match ?? ALL);
    return c.hits.length - c.start;
  }

  /**
   * Tests the stored items against `match` in slices, yielding to the event loop between them,
   * so a new query over a full store (≈1 s per 100k items, docs/store.md) does not block the
   * server; query/count/newest are then instant. Resolves to the match count, or early (with
   * the count so far) when `signal` aborts.
   *
   * Callers counting the same query share one scan (a filter box's check and the same query
   * applied, a rows request during a count): two loops over one cache took two slices per turn
   * of the event loop, and every request waited for both. The scan stops once every caller has
   * aborted.
   */
  async prepare(match: MatchFn | null, signal?: AbortSignal): Promise<number> {
    const fn = match ?? ALL;
    const c = this.hitsFor(fn, false);
    if (c.upto >= this.next) return c.hits.length - c.start;
    let scan = this.scans.get(fn);
    if (!scan) {
      const s: Scan = { users: 0, done: Promise.resolve() };
      s.done = this.scan(fn, s).finally(() => {
        if (this.scans.get(fn) === s) this.scans.delete(fn);
      });
      this.scans.set(fn, (scan = s));
    }
    const s = scan;
    s.users++;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<void>((r) => {
      if (!signal) return;
      if (signal.aborted) return r();
      signal.addEventListener('abort', (onAbort = () => r()), { once: true });
    });
    try {
      await Promise.race([s.done, aborted]);
    } finally {
      s.users--;
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
    // Arrivals since the scan ended are tested now (a few at most), so the count is current.
    const now = this.hitsFor(fn, false);
    if (!signal?.aborted) this.extend(fn, now);
    return now.hits.length - now.start;
  }

  private async scan(fn: MatchFn, s: Scan): Promise<void> {
    for (;;) {
      const c = this.hitsFor(fn, false);
      this.extend(fn, c, SLICE, performance.now() + SLICE_MS);
      if (c.upto >= this.next) return;
      await new Promise<void>((r) => setImmediate(r));
      if (s.users === 0) return;
    }
  }

  /**
   * The newest `limit` matching items, newest first, found by testing the stored items from the
   * newest back, in slices with the event loop turning between them: a query's first page is
   * there as soon as it is filled, long before a count over the whole store (`prepare`). Stops
   * early when `stop()` says so. `all`: every stored item was tested, so `items` are all the
   * matches (the query's cache is then filled from them: no second pass to count). With
   * `budgetMs`, returns what it found once that much time has gone (a rare query has no first
   * page to wait for: testing 100k items takes ~1 s).
   */
  async newestFirst(match: MatchFn | null, limit: number, stop?: () => boolean, budgetMs = Infinity): Promise<{ items: Item[]; all: boolean }> {
    const t0 = performance.now();
    const fn = match ?? ALL;
    const known = this.caches.get(fn);
    if (known && known.upto >= this.next) return { items: this.newest(match, limit), all: known.hits.length - known.start <= limit };
    const end = this.next;
    const items: Item[] = [];
    const seqs: number[] = [];
    let s = end - 1;
    for (;;) {
      const low = Math.max(this.head, s - SLICE + 1);
      const sliceEnd = performance.now() + SLICE_MS;
      for (; s >= low && items.length < limit; s--) {
        if (this.deadOf[s & this.mask]) continue;
        if ((s & 31) === 0) {
          const now = performance.now();
          if (now - t0 > budgetMs) return { items, all: false };
          if (now > sliceEnd) break;
        }
        const it = this.decode(s, true);
        if (fn === ALL || fn(it)) {
          items.push(it);
          seqs.push(s);
        }
      }
      if (items.length >= limit || s < this.head) break;
      await new Promise<void>((r) => setImmediate(r));
      if (stop?.()) return { items, all: false };
      // Items evicted meanwhile are not read (s is re-checked against the new head).
      if (s < this.head) break;
    }
    const all = s < this.head && items.length < limit;
    if (all && !this.caches.has(fn)) {
      if (this.caches.size >= MAX_CACHES) this.caches.delete(this.caches.keys().next().value!);
      this.caches.set(fn, { hits: seqs.filter((q) => q >= this.head && !this.deadOf[q & this.mask]).reverse(), start: 0, upto: end, deletions: this.deletions });
    }
    return { items, all };
  }

  /** Newest matching items, newest first. */
  newest(match: MatchFn | null, limit: number): Item[] {
    const out: Item[] = [];
    const fn = match ?? ALL;
    const c = this.caches.get(fn);
    if (c) {
      this.extend(fn, c);
      for (let k = c.hits.length - 1; k >= c.start && out.length < limit; k--) out.push(this.decode(c.hits[k], true));
      return out;
    }
    for (let s = this.next - 1; s >= this.head && out.length < limit; s--) {
      if (this.deadOf[s & this.mask]) continue;
      const it = this.decode(s, true);
      if (fn === ALL || fn(it)) out.push(it);
    }
    return out;
  }

  /**
   * Matching items oldest first, decoded one at a time (an export of a query over the whole
   * store holds one item, not all). The matches are those when the iteration starts.
   */
  *matches(match: MatchFn | null): Iterable<Item> {
    const c = this.hitsFor(match ?? ALL);
    const seqs = c.hits.slice(c.start);
    for (const s of seqs) {
      if (s < this.head || this.deadOf[s & this.mask]) continue;
      yield this.decode(s, true);
    }
  }

  /** Every stored item, oldest first, as stored when the iteration starts (evicted ones are skipped). */
  *iterate(): Iterable<Item> {
    const end = this.next;
    for (let s = this.head; s < end; s++) {
      if (s < this.head) s = this.head;
      if (s >= end) break;
      if (this.deadOf[s & this.mask]) continue;
      yield this.decode(s, true);
    }
  }

  mark(id: string, m: ItemMarks): void {
    const seq = this.ids.get(id);
    if (seq === undefined) return;
    const cur = this.markMap.get(seq);
    this.markMap.set(seq, cur ? { ...cur, ...m } : { ...m });
  }

  marks(id: string): ItemMarks | null {
    const seq = this.ids.get(id);
    return seq === undefined ? null : (this.markMap.get(seq) ?? null);
  }

  clear(): void {
    this.generation++;
    this.writesInFlight = 0;
    this.inFlightBytes = 0;
    this.spillError = null;
    for (const s of this.segs) this.dropSegment(s);
    this.segs = [];
    this.segBase = 0;
    this.spillBytes = 0;
    this.chunks = [];
    this.chunkBase = 0;
    this.memFrom = 0;
    this.memBytes = 0;
    this.ids.clear();
    this.markMap.clear();
    this.caches.clear();
    this.eager = [];
    this.scratch = null;
    this.free = [];
    this.head = this.next = this.live = this.evictedCount = 0;
    this.cap = 0;
    this.grow(1024);
    this.observed.clear();
  }

  stats(): StoreStats {
    return { stored: this.live, total: this.next, evicted: this.evictedCount, bytes: this.memBytes + this.spillBytes, memBytes: this.memBytes, spillBytes: this.spillBytes };
  }

  // ---------------------------------------------------------------- encoding

  /**
   * The item's JSON as pieces (written into the chunk one by one: a body preview is never
   * concatenated or scanned again), with the protocol entry replaced by its index in `protos`.
   * Reuses one Parts object: valid until the next call.
   */
  private encode(item: Item): Parts {
    const p = item.protocol;
    let pr = this.protoIdx.get(p);
    if (pr === undefined) {
      const json = JSON.stringify(p);
      let idx = this.protoByKey.get(json);
      if (idx === undefined) {
        idx = this.protos.length;
        this.protos.push(deepFreeze(JSON.parse(json)) as Protocol);
        this.protoByKey.set(json, idx);
      }
      pr = { idx, member: `"protocol":${json}` };
      if (typeof p === 'object' && p !== null && this.protoIdx.size < 256) this.protoIdx.set(p, pr);
    }
    const out = this.parts;
    out.n = 0;
    out.length = 0;
    try {
      // The capture's hand writer (byte for byte JSON.stringify, ~2x faster), in its pieces; the
      // member is cut out of the first piece that has it. `"protocol":{` cannot occur inside a
      // JSON string (its quotes would be escaped), so the first occurrence is the item's own;
      // the writer cuts pieces only inside a body string, never across a member.
      let found = false;
      const member = pr.member;
      const idx = pr.idx;
      itemJsonParts(
        item,
        () => {},
        (s, ascii) => {
          if (!found && !ascii) {
            const k = s.indexOf(member);
            if (k >= 0) {
              found = true;
              out.push(s.slice(0, k + 11) + idx, false);
              out.push(s.slice(k + member.length), false);
              return;
            }
          }
          out.push(s, ascii === true);
        },
      );
      if (found) return out;
      // Not found (a protocol object that does not serialize as its table entry): swap it in place.
      out.n = 0;
      out.length = 0;
      if (Object.isFrozen(item)) out.push(JSON.stringify({ ...item, protocol: pr.idx }), false);
      else {
        (item as { protocol: unknown }).protocol = pr.idx;
        try {
          out.push(JSON.stringify(item), false);
        } finally {
          item.protocol = p;
        }
      }
      return out;
    } catch (e) {
      throw new Error(`item store: item ${item.id} cannot be stored as JSON: ${(e as Error).message}`);
    }
  }

  private decode(seq: number, scan: boolean): Item {
    const i = seq & this.mask;
    const no = this.chunkOf[i];
    const off = this.offOf[i];
    const len = this.lenOf[i];
    const chunk = this.chunks[no - this.chunkBase];
    let text: string;
    if (chunk.buf) text = chunk.buf.toString('utf8', off, off + len);
    else if (scan) text = this.readChunk(no, chunk).toString('utf8', off, off + len);
    else {
      const b = Buffer.allocUnsafe(len);
      fs.readSync(this.segs[chunk.seg - this.segBase].fd, b, 0, len, chunk.pos + off);
      text = b.toString('utf8');
    }
    const item = JSON.parse(text) as Item;
    item.protocol = this.protos[item.protocol as unknown as number];
    const m = this.markMap.get(seq);
    if (m) {
      if (m.passed !== undefined) item.passed = m.passed;
      if (m.failed !== undefined) item.failed = m.failed;
    }
    return item;
  }

  private readChunk(no: number, chunk: Chunk): Buffer {
    if (this.scratch?.no === no) return this.scratch.buf;
    const buf = this.scratch && this.scratch.buf.length >= chunk.used ? this.scratch.buf : Buffer.allocUnsafeSlow(Math.max(chunk.used, this.chunkSize));
    fs.readSync(this.segs[chunk.seg - this.segBase].fd, buf, 0, chunk.used, chunk.pos);
    this.scratch = { no, buf };
    return buf;
  }

  // ---------------------------------------------------------------- bounds

  /** The chunk to append `parts` to (the last one, or a new one). */
  private roomFor(parts: Parts): Chunk {
    const last = this.chunks[this.chunks.length - 1];
    // 3 bytes per UTF-16 unit at worst; the exact count only when that does not fit.
    const worst = parts.length * 3;
    if (last?.buf && !last.writing && this.memFrom < this.chunks.length) {
      const room = last.buf.length - last.used;
      if (worst <= room || parts.bytes() <= room) return last;
    }
    const size = Math.max(this.chunkSize, worst <= this.chunkSize ? 0 : parts.bytes());
    const reuse = size === this.chunkSize ? this.free.pop() : undefined;
    const c: Chunk = { buf: reuse ?? Buffer.allocUnsafeSlow(size), used: 0, writing: false, lastSeq: -1, seg: -1, pos: 0 };
    this.chunks.push(c);
    this.memBytes += size;
    return c;
  }

  /**
   * Memory the store holds besides its chunks, counted against maxBytes so that the setting is
   * what the process pays: the spare and read-back chunk buffers, and per stored item its id
   * (string + Map entry) and ring slots, ~INDEX_BYTES.
   */
  private overhead(): number {
    return (this.free.length + (this.scratch ? 1 : 0)) * this.chunkSize + (this.next - this.head) * INDEX_BYTES;
  }

  private enforceBytes(): void {
    // The chunk being filled stays in memory. A spill write runs in the background (a 4 MB
    // writeSync measured 10–40 ms on this machine's disk: an event loop stall every ~0.4 s at
    // 10k items/s), so one chunk of room is kept for it: memory stays under maxBytes with one
    // write in flight. A spill past SPILL_WRITES in flight (the disk slower than the traffic)
    // is written synchronously, which bounds memory and backs up the capture. (Room is kept
    // for SPILL_WRITES chunks: writes in flight are counted in `held`, so
    // held + (SPILL_WRITES − in flight) × chunk ≤ maxBytes holds until the sync path.)
    for (;;) {
      const held = this.memBytes + this.overhead();
      const canWait = this.writesInFlight < SPILL_WRITES;
      const over = canWait ? held + (SPILL_WRITES - this.writesInFlight) * this.chunkSize > this.maxBytes : held > this.maxBytes;
      if (!over || this.memFrom >= this.chunks.length - 1) break;
      const c = this.chunks[this.memFrom];
      if (this.spillDir && !this.spillError) this.spill(c, canWait && c.buf!.length === this.chunkSize);
      else {
        while (this.head <= c.lastSeq) this.evictOldest();
      }
    }
    while (this.spillBytes > this.maxSpill && this.segs.length > 0) {
      const s = this.segs[0];
      while (this.head <= s.lastSeq && this.head < this.next) this.evictOldest();
      if (this.segs[0] === s) break; // (cannot happen: evicting its items drops it)
    }
  }

  private spill(c: Chunk, background: boolean): void {
    let seg = this.segs[this.segs.length - 1];
    if (!seg || seg.size >= SEGMENT_BYTES) {
      try {
        fs.mkdirSync(this.spillDir!, { recursive: true });
        const file = path.join(this.spillDir!, `items-${process.pid}-${++this.spillSeq}.spill`);
        seg = { fd: fs.openSync(file, 'w+'), file, size: 0, lastSeq: -1, writes: 0, dropped: false };
      } catch (e) {
        this.spillFailed(e);
        return;
      }
      this.segs.push(seg);
    }
    const pos = seg.size;
    c.seg = this.segBase + this.segs.length - 1;
    c.pos = pos;
    seg.size += c.used;
    seg.lastSeq = c.lastSeq;
    this.spillBytes += c.used;
    this.memFrom++;
    const buf = c.buf!;
    if (!background) {
      try {
        let done = 0;
        while (done < c.used) done += fs.writeSync(seg.fd, buf, done, c.used - done, pos + done);
      } catch (e) {
        this.spillFailed(e);
        return;
      }
      this.memBytes -= buf.length;
      this.release(buf);
      c.buf = null;
      return;
    }
    c.writing = true;
    seg.writes++;
    this.writesInFlight++;
    this.inFlightBytes += buf.length;
    const gen = this.generation;
    const s = seg;
    const done = (err: Error | null) => {
      s.writes--;
      if (s.dropped && s.writes === 0) closeQuietly(s.fd);
      if (gen !== this.generation) return; // cleared meanwhile: nothing of it is counted any more
      this.writesInFlight--;
      this.inFlightBytes -= buf.length;
      c.writing = false;
      if (err) {
        // The chunk stays in memory (still readable); what comes next is dropped, not spilled.
        this.spillFailed(err);
        if (!this.chunks.includes(c)) {
          this.memBytes -= buf.length;
          c.buf = null;
        }
        return;
      }
      this.memBytes -= buf.length;
      this.release(buf);
      c.buf = null;
    };
    let written = 0;
    const more = (): void => {
      fs.write(s.fd, buf, written, c.used - written, pos + written, (err, n) => {
        if (err) return done(err);
        written += n;
        if (written < c.used && n > 0) more();
        else done(written < c.used ? new Error('short write') : null);
      });
    };
    more();
  }

  /** Spilling stopped working (disk full, directory gone): from now on the oldest items are dropped instead. */
  private spillFailed(e: unknown): void {
    this.spillError = (e as Error).message ?? String(e);
  }

  private evictOldest(): void {
    if (this.head >= this.next) return;
    const seq = this.head++;
    const i = seq & this.mask;
    if (!this.deadOf[i]) {
      const id = this.idOf[i]!;
      if (this.ids.get(id) === seq) this.ids.delete(id);
      this.live--;
      this.evictedCount++;
    }
    this.idOf[i] = undefined;
    this.markMap.delete(seq);
    // Drop chunks and segments that hold nothing stored any more.
    while (this.chunks.length > 1 && this.chunks[0].lastSeq < this.head) {
      const c = this.chunks.shift()!;
      this.chunkBase++;
      if (this.memFrom > 0) this.memFrom--;
      // A chunk whose spill write is in flight is let go when the write completes.
      if (c.buf && !c.writing) {
        this.memBytes -= c.buf.length;
        this.release(c.buf);
        c.buf = null;
      }
      if (this.scratch?.no === this.chunkBase - 1) this.scratch = null;
    }
    // A new spill opens a new segment if the last one was dropped.
    while (this.segs.length > 0 && this.segs[0].lastSeq < this.head) {
      const s = this.segs.shift()!;
      this.segBase++;
      this.spillBytes -= s.size;
      this.dropSegment(s);
    }
  }

  private release(b: Buffer): void {
    // Two spares: with a spill write in flight the next chunk cannot wait for its buffer, and a
    // fresh 4 MB allocation each time (freed only when V8 next collects) raised the peak RSS.
    if (b.length === this.chunkSize && this.free.length < 2) this.free.push(b);
  }

  private dropSegment(s: Segment): void {
    s.dropped = true;
    // Closed once its writes in flight are done (a write to a closed, reused fd would land elsewhere).
    if (s.writes === 0) closeQuietly(s.fd);
    try {
      fs.unlinkSync(s.file);
    } catch {
      // already gone: nothing to free
    }
  }

  /** An item replaced by a newer one with the same id. */
  private kill(seq: number): void {
    const i = seq & this.mask;
    if (this.deadOf[i]) return;
    this.deadOf[i] = 1;
    this.live--;
    this.deletions++;
    this.markMap.delete(seq);
  }

  private grow(cap: number): void {
    let c = 1024;
    while (c < cap) c *= 2;
    if (c <= this.cap) return;
    const chunkOf = new Float64Array(c);
    const offOf = new Uint32Array(c);
    const lenOf = new Uint32Array(c);
    const deadOf = new Uint8Array(c);
    const idOf: (string | undefined)[] = new Array(c);
    for (let s = this.head; s < this.next; s++) {
      const a = s & this.mask;
      const b = s & (c - 1);
      chunkOf[b] = this.chunkOf[a];
      offOf[b] = this.offOf[a];
      lenOf[b] = this.lenOf[a];
      deadOf[b] = this.deadOf[a];
      idOf[b] = this.idOf[a];
    }
    Object.assign(this, { chunkOf, offOf, lenOf, deadOf, idOf, cap: c, mask: c - 1 });
  }

  // ---------------------------------------------------------------- query caches

  private hitsFor(fn: MatchFn, extend = true): HitCache {
    let c = this.caches.get(fn);
    if (c) this.caches.delete(fn);
    else {
      c = { hits: [], start: 0, upto: this.head, deletions: this.deletions };
      if (this.caches.size >= MAX_CACHES) this.caches.delete(this.caches.keys().next().value!);
    }
    this.caches.set(fn, c);
    if (this.eager[0] !== fn) this.eager = [fn, ...this.eager.filter((f) => f !== fn)].slice(0, EAGER);
    if (extend) this.extend(fn, c);
    return c;
  }

  /** Tests the items not tested yet for `c`: at most `budget` of them, and until `deadline` (performance.now()). */
  private extend(fn: MatchFn, c: HitCache, budget = Infinity, deadline = Infinity): void {
    // Evicted hits fall off the front.
    const hits = c.hits;
    while (c.start < hits.length && hits[c.start] < this.head) c.start++;
    if (c.start > 4096 && c.start > hits.length / 2) {
      c.hits = hits.slice(c.start);
      c.start = 0;
    }
    if (c.deletions !== this.deletions) {
      c.hits = c.hits.slice(c.start).filter((s) => !this.deadOf[s & this.mask]);
      c.start = 0;
      c.deletions = this.deletions;
    }
    const end = Math.min(this.next, Math.max(c.upto, this.head) + budget);
    let s = Math.max(c.upto, this.head);
    try {
      for (; s < end; s++) {
        if (this.deadOf[s & this.mask]) continue;
        if ((s & 31) === 0 && deadline !== Infinity && performance.now() > deadline) break;
        if (fn === ALL || fn(this.decode(s, true))) c.hits.push(s);
      }
    } finally {
      // A match function that throws leaves the cache consistent up to the item it threw on.
      c.upto = s;
    }
  }
}

/** An item's JSON as pieces, and their total UTF-16 length. */
class Parts {
  p: string[] = [];
  ascii: boolean[] = [];
  n = 0;
  length = 0;
  push(s: string, ascii: boolean): void {
    this.p[this.n] = s;
    this.ascii[this.n++] = ascii;
    this.length += s.length;
  }
  bytes(): number {
    let b = 0;
    for (let k = 0; k < this.n; k++) b += this.ascii[k] ? this.p[k].length : Buffer.byteLength(this.p[k]);
    return b;
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
