/**
 * Warms the capture path in idle time after the server starts: the bundled demo capture (real
 * HTTP and DNS) goes through the pipeline, a throwaway store and the preview code a few dozen
 * times, so the first seconds of a user's capture don't run on cold (unoptimised) code.
 * Why (issue #9, docs/protocol.md "Third pass"): in a fresh process the first 10k items cost
 * 730 ms of CPU against ~300 ms warm, and on a quiet machine the read → console line p99 came
 * from that first second (the capture fell up to 170 ms behind, then caught up).
 * Nothing it makes is kept or sent; a capture that starts cancels it first (start() awaits it,
 * so two pipelines never run at once). WIREHOOK_WARMUP=0 turns it off (for measuring).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runPipeline } from '../../capture/pipeline';
import { openSourceSpec } from '../../capture/sources/open';
import { ItemStore } from './store';
import { preview } from './preview';

/** Passes over demo.pcap (~60 items, 177 packets each): ~3,500 items, enough for V8 to optimise the hot paths. */
const PASSES = 60;

/** dist/server.js → examples/ beside dist/; from source (tests under tsx) two levels up. */
function demoCapture(): string | null {
  for (const p of [path.join(__dirname, '..', 'examples', 'captures', 'demo.pcap'), path.join(__dirname, '..', '..', 'examples', 'captures', 'demo.pcap')]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export class WarmUp {
  private readonly abort = new AbortController();
  private done: Promise<void> | null = null;
  /** Items that went through (for tests and the trace). */
  items = 0;

  /** Starts warming (once); a missing demo capture or WIREHOOK_WARMUP=0 makes it a no-op. */
  start(file = demoCapture()): void {
    if (this.done || !file || process.env.WIREHOOK_WARMUP === '0') return;
    this.done = this.run(file).catch(() => {});
  }

  private async run(file: string): Promise<void> {
    const store = new ItemStore({ maxItems: 1000, maxBytes: 4 * 1024 * 1024 });
    for (let i = 0; i < PASSES && !this.abort.signal.aborted; i++) {
      const source = await openSourceSpec({ pcap: file });
      await runPipeline(source, {
        item: (it) => {
          store.add(it);
          preview(it, null);
          this.items++;
        },
      }, { signal: this.abort.signal, sliceMs: 8 });
      // Idle time only: let anything waiting (an LSP request, a capture start) go first.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Stops warming; resolves when its pipeline has ended. */
  async cancel(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
