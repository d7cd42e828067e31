/**
 * Property-based fuzzing of the pcap/pcapng reader and the file source, seeded with real
 * captures (examples/captures/demo.pcap, its pcapng conversion by editcap, and a pcapng
 * recorded from loopback traffic now). Mutations: byte flips, edge values in length fields,
 * truncation, deletions and splices from the other capture.
 *
 * Properties for every input: only CaptureError is thrown; output is bounded (no more packets
 * than 16-byte records fit in the input, each inside the input); the result does not depend on
 * how the bytes are chunked (one buffer, random chunks, the file source's own reads); one input
 * finishes within DEADLINE_MS.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PcapReader } from '../../capture/sources/pcap-reader';
import { ReadableSource, readAhead } from '../../capture/sources/file';
import { CaptureError } from '../../capture/errors';
import { captureLoopback } from '../helpers/capture';
import { startHttpServer, httpScenario } from '../helpers/traffic';
import { DEADLINE_MS, DEMO, applyEdits, checkDeadline, chunked, corpus, demoPcapng, edit, params, startClock } from './fuzz-lib';

let seeds: Buffer[] = [];

before(async () => {
  const h = await startHttpServer();
  try {
    const live = await captureLoopback(`tcp port ${h.port}`, async () => void (await httpScenario(h.port)), { format: 'pcapng' });
    seeds = [readFileSync(DEMO), readFileSync(demoPcapng()), readFileSync(live)];
  } finally {
    await h.close();
  }
});

interface Outcome {
  packets: string[];
  error: string | null;
  truncated: string | null;
}

/** Reads `chunks` to the end; a packet is summarised with everything a consumer reads from it. */
async function readOutcome(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, total: number): Promise<Outcome> {
  const r = new PcapReader('fuzz');
  const packets: string[] = [];
  let error: string | null = null;
  try {
    for await (const batch of r.read(chunks)) {
      for (const p of batch) {
        assert.equal(p.data.length, p.caplen, 'data is caplen bytes');
        assert.ok(p.offset >= 0 && p.offset + 16 + p.caplen <= total, `packet at ${p.offset} (+${p.caplen}) lies inside the ${total}-byte input`);
        packets.push(`${p.linkType} ${p.interfaceId} ${p.tsSec}.${p.tsNsec} ${p.origLen} @${p.offset} ${p.data.toString('hex')}`);
      }
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    assert.match(e.message, /^fuzz: /, 'the error names its input');
    error = e.message;
  }
  assert.ok(packets.length <= total / 16, `${packets.length} packets from ${total} bytes`);
  return { packets, error, truncated: r.truncated };
}

const input = fc.record({
  seed: fc.nat(),
  donor: fc.nat(),
  edits: fc.array(edit, { minLength: 1, maxLength: 8 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
});

test('reader: mutated real captures throw only CaptureError, stay bounded and read the same however chunked', async () => {
  let errors = 0;
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(input, async ({ seed, donor, edits, cuts }) => {
      const t0 = startClock();
      const bytes = applyEdits(seeds[seed % seeds.length], edits, seeds[donor % seeds.length]);
      const whole = await readOutcome([bytes], bytes.length);
      const split = await readOutcome(chunked(bytes, cuts), bytes.length);
      assert.deepEqual(split, whole, 'chunking changed the result');
      checkDeadline(t0, 'pcap reader');
      cases++;
      if (whole.error) errors++;
    }),
    params(150),
  );
  // The mutations must reach the error paths, or this suite proves little.
  assert.ok(errors > cases / 20, `${errors} of ${cases} inputs were refused`);
});

test('file source: a mutated capture on disk reads as the bytes in memory do, through small reads', async () => {
  const file = resolve('test', '.out', 'hardening', `fuzz-file-${process.pid}.bin`);
  await fc.assert(
    fc.asyncProperty(input, fc.integer({ min: 1, max: 4096 }), async ({ seed, donor, edits }, readBytes) => {
      const t0 = startClock();
      const bytes = applyEdits(seeds[seed % seeds.length], edits, seeds[donor % seeds.length]);
      writeFileSync(file, bytes);
      const want = await readOutcome([bytes], bytes.length);
      const src = new ReadableSource('file/fuzz', 'fuzz', () => readAhead(file, readBytes));
      const got: string[] = [];
      let error: string | null = null;
      try {
        for await (const batch of src.packets()) for (const p of batch) got.push(`${p.linkType} ${p.interfaceId} ${p.tsSec}.${p.tsNsec} ${p.origLen} @${p.offset} ${p.data.toString('hex')}`);
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
        error = e.message;
      }
      assert.deepEqual({ packets: got, error }, { packets: want.packets, error: want.error });
      assert.deepEqual(src.notices(), want.truncated ? [want.truncated] : []);
      // Each read is a syscall and a promise (~30 µs of CPU measured): the 282 KB live capture
      // read 1 byte at a time is 282k reads, ~9 s of CPU, linear, not a blow-up. Allow 0.1 ms
      // per read on top of the deadline (a quadratic cost would still be far over it).
      checkDeadline(t0, 'file source', DEADLINE_MS + 0.1 * Math.ceil(bytes.length / readBytes));
    }),
    params(40),
  );
});

test('reader: corpus inputs replay without a non-CaptureError throw', async () => {
  for (const { name, bytes } of corpus('reader')) {
    const whole = await readOutcome([bytes], bytes.length);
    const split = await readOutcome(chunked(bytes, [0.1, 0.5, 0.51, 0.9]), bytes.length);
    assert.deepEqual(split, whole, name);
  }
});
