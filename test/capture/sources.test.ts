// Sources for the server: commands, progress of files, stream-number counters that keep ids
// unique across runs, and stopping a source that has no traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { runPipeline, streamCounter } from '../../capture/pipeline';
import { openSourceSpec } from '../../capture/sources/open';
import { ReadableSource, fileSource } from '../../capture/sources/file';
import type { CommandSource } from '../../capture/sources/command';
import type { Item } from '../../capture/item/schema';
import { cli, mixCapture, pollCapture } from './lib';

async function items(src: Awaited<ReturnType<typeof openSourceSpec>>, opts: Parameters<typeof runPipeline>[2] = {}): Promise<Item[]> {
  const out: Item[] = [];
  await runPipeline(src, { item: (i) => void out.push(i) }, opts);
  return out;
}

const strip = (i: Item) => JSON.stringify({ ...i, id: '', worker: '' });

test('command source: `cat FILE` gives the file\'s items, named command/cat', async () => {
  const { file } = await mixCapture();
  const fromFile = await items(fileSource(file));
  const src = await openSourceSpec({ command: ['cat', file] });
  assert.equal(src.name, 'command/cat');
  const fromCmd = await items(src);
  // Live delivery may order connections differently; each item is the same.
  assert.deepEqual(fromCmd.map(strip).sort(), fromFile.map(strip).sort());
  assert.match(fromCmd[0].id, /^command\/cat\//);
});

test('command source: failures carry the exit code and the stderr tail', async () => {
  // Exits non-zero before any pcap header.
  await assert.rejects(
    openSourceSpec({ command: ['sh', '-c', 'echo "ssh: connect to host nowhere: Connection refused" >&2; exit 255'] }).then((s) => items(s)),
    (e: Error & { exitCode?: number }) => {
      assert.equal(e.name, 'CaptureError');
      assert.match(e.message, /exited with code 255/);
      assert.match(e.message, /Connection refused/);
      assert.equal(e.exitCode, 255);
      return true;
    },
  );
  // Exits 0 without writing a capture.
  await assert.rejects(
    openSourceSpec({ command: ['sh', '-c', 'echo not a capture'] }).then((s) => items(s)),
    /command 'sh' (exited with code 0|was stopped \(its output is not a capture\)): .*bad magic/,
  );
  // Good packets, then a failure: the items are kept, the error still reported.
  const { file } = await mixCapture();
  const got: Item[] = [];
  await assert.rejects(
    openSourceSpec({ command: ['sh', '-c', 'cat "$0"; echo "lost the connection" >&2; exit 3', file] }).then((s) => runPipeline(s, { item: (i) => void got.push(i) })),
    /exited with code 3.*lost the connection/,
  );
  assert.equal(got.length, (await items(fileSource(file))).length);
  // Cannot be started at all.
  await assert.rejects(openSourceSpec({ command: ['/nonexistent/wirehook-capture'] }), /cannot run command '\/nonexistent\/wirehook-capture': .*ENOENT/);
  await assert.rejects(openSourceSpec({ command: [] }), /give the program/);
  await assert.rejects(openSourceSpec({ command: ['cat'], pcap: file }), /not --pcap and a command/);
});

test('command source: stop() ends an idle capture (tcpdump with no traffic) and its process group', { timeout: 30_000 }, async () => {
  // A shell that starts tcpdump as its child: the kill must reach the group, not just sh.
  const src = (await openSourceSpec({ command: ['sh', '-c', 'tcpdump -U -n -w - -i lo "tcp port 9 and host 127.0.0.254"; echo done'] })) as CommandSource;
  await src.stderrMatch(/listening on/);
  const ac = new AbortController();
  const run = runPipeline(src, {}, { signal: ac.signal });
  ac.abort();
  const stats = await run;
  assert.equal(stats.packets, 0);
});

test('a live pipe with no traffic stops on abort', { timeout: 30_000 }, async () => {
  const { file } = await mixCapture();
  const pipe = new PassThrough();
  pipe.write(readFileSync(file).subarray(0, 24)); // the pcap header, then nothing
  const src = new ReadableSource('file/stdin', 'stdin', () => pipe, { live: true });
  const ac = new AbortController();
  let packets = 0;
  const run = runPipeline(src, { packet: () => void packets++ }, { signal: ac.signal });
  await new Promise<void>((r) => setImmediate(r));
  ac.abort();
  await run;
  assert.equal(packets, 0);
});

test('file sources report progress', async () => {
  const { file } = await mixCapture();
  const src = fileSource(file);
  const size = statSync(file).size;
  assert.deepEqual(src.progress!(), { bytesRead: 0, totalBytes: size });
  const seen: number[] = [];
  await runPipeline(src, { flush: () => void seen.push(src.progress!().bytesRead) });
  assert.deepEqual(src.progress!(), { bytesRead: size, totalBytes: size });
  assert.ok(seen.length > 0 && seen.every((b) => b > 0 && b <= size));
  assert.equal(fileSource('-').progress, undefined);
});

test('one stream counter over several runs: ids never repeat (same base name, restarts)', async () => {
  const { file } = await mixCapture();
  const first = await items(fileSource(file));
  assert.match(first[0].id, /\/000000000001\.pcap-0$|\/000000000001_udp\.pcap-0$/);
  const counter = streamCounter();
  const a = await items(fileSource(file), { streams: counter });
  const b = await items(fileSource(file), { streams: counter });
  assert.deepEqual(a.map((i) => i.id), first.map((i) => i.id));
  const ids = new Set([...a, ...b].map((i) => i.id));
  assert.equal(ids.size, a.length + b.length);
  const unnumbered = (i: Item) => strip(i).replace(/\d{12}/g, '');
  assert.deepEqual(b.map(unnumbered), a.map(unnumbered));
});

test('CLI --speed realtime replays a file with the same items; bad values are usage errors', async () => {
  const file = await pollCapture();
  const asap = cli(['items', '--pcap', file]);
  const real = cli(['items', '--pcap', file, '--speed', 'realtime']);
  assert.equal(real.code, 0, real.stderr);
  const sorted = (out: string) => out.trim().split('\n').sort();
  assert.deepEqual(sorted(real.stdout), sorted(asap.stdout));
  const bad = cli(['items', '--pcap', file, '--speed', 'fast']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--speed wants asap or realtime, got 'fast'/);
  assert.match(cli(['items', '--pcap', '-', '--speed', 'realtime']).stderr, /--speed applies to --pcap FILE only/);
});
