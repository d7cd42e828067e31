// Live delivery: on live, piped, command and realtime sources an item goes out as soon as its
// exchange completes, even while another connection's request (a long-poll) is still open and
// while no further packet arrives; files keep request order across connections. Real traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runPipeline } from '../../capture/pipeline';
import { openSourceSpec } from '../../capture/sources/open';
import type { CommandSource } from '../../capture/sources/command';
import type { Item } from '../../capture/item/schema';
import type { RawPacket } from '../../capture/types';
import { startLongPollServer } from '../helpers/traffic';
import { CLI, cli, longPollTraffic, outFile, pollCapture, QUICK, readAll, writePcap } from './lib';

const pathOf = (i: Item): string => (i.request as { path?: string }).path ?? '';

/** Items as they arrive, and a way to wait for a condition on them (no sleeps). */
function collector() {
  const items: Item[] = [];
  let wake: (() => void) | null = null;
  return {
    items,
    push: (i: Item): void => {
      items.push(i);
      wake?.();
    },
    async until(pred: (items: Item[]) => boolean): Promise<void> {
      while (!pred(items)) await new Promise<void>((r) => (wake = r));
    },
  };
}

const has = (items: Item[], paths: string[]) => paths.every((p) => items.some((i) => pathOf(i) === p));

test('command source (tcpdump on lo): finished exchanges come out while a long-poll is open', { timeout: 60_000 }, async () => {
  const srv = await startLongPollServer();
  const src = (await openSourceSpec({ command: ['tcpdump', '-U', '-n', '-w', '-', '-i', 'lo', `tcp port ${srv.port}`] })) as CommandSource;
  assert.equal(src.name, 'command/tcpdump');
  assert.equal(src.live, true);
  await src.stderrMatch(/listening on/);
  const got = collector();
  const ac = new AbortController();
  const run = runPipeline(src, { item: got.push }, { signal: ac.signal });
  const { poll } = await longPollTraffic(srv.port, () => srv.polled());
  // Before live delivery these waited behind the open /poll request (up to 10 s of capture
  // time, i.e. forever without further traffic): this wait would not end.
  await got.until((items) => has(items, QUICK));
  assert.ok(!has(got.items, ['/poll']), 'the long-poll is still open');
  srv.release();
  assert.equal(await poll, 'done');
  await got.until((items) => has(items, ['/poll']));
  ac.abort();
  const stats = await run;
  await srv.close();
  assert.deepEqual(got.items.map(pathOf), [...QUICK, '/poll']);
  assert.equal(stats.itemsByProtocol.http, 4);
  for (const i of got.items) assert.match(i.id, /^command\/tcpdump\/\d{12}\.pcap-0$/);
});

test('piped stdin: items are written while the pipe stays open after the last packet', { timeout: 60_000 }, async () => {
  const file = await pollCapture();
  // A file keeps request order across connections: the long-poll (first request) comes first.
  const fromFile = cli(['items', '--pcap', file]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(fromFile.stdout.trim().split('\n').map((l) => pathOf(JSON.parse(l))), ['/poll', ...QUICK]);

  const p = spawn(process.execPath, [CLI, 'items', '--pcap', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let wake: (() => void) | null = null;
  p.stdout.on('data', (d) => {
    out += d;
    wake?.();
  });
  const exited = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
  p.stdin.write(readFileSync(file));
  const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item);
  // The pipe is still open: the three finished exchanges must be out already.
  while (lines().length < QUICK.length) await new Promise<void>((r) => (wake = r));
  assert.deepEqual(lines().map(pathOf), QUICK);
  p.stdin.end();
  assert.equal(await exited, 0);
  const all = lines();
  assert.deepEqual(all.map(pathOf), [...QUICK, '/poll']);
  assert.equal(all[3].error?.type, 'pair-not-found');
});

test("speed 'realtime': items come out as the replay reaches them; stop() ends a long wait", { timeout: 60_000 }, async () => {
  const file = await pollCapture();
  const pkts = await readAll(file);
  // One more packet an hour later (a copy of the last one): the replay would wait for it.
  const last = pkts[pkts.length - 1];
  const late: RawPacket = { ...last, data: last.data, tsSec: last.tsSec + 3600 };
  const f = writePcap(outFile('pcap'), [...pkts, late]);
  const src = await openSourceSpec({ pcap: f, speed: 'realtime' });
  assert.equal(src.live, true);
  const got = collector();
  const ac = new AbortController();
  const run = runPipeline(src, { item: got.push }, { signal: ac.signal });
  await got.until((items) => has(items, QUICK));
  assert.deepEqual(got.items.map(pathOf), QUICK);
  ac.abort();
  const stats = await run;
  // Stopped mid-file: the late packet was never handed over (packets after the last quick
  // exchange may or may not have been paced out yet when stop() came); the open long-poll still flushed.
  assert.ok(stats.packets <= pkts.length, `${stats.packets} packets handed over, the late one among them`);
  assert.deepEqual(got.items.map(pathOf), [...QUICK, '/poll']);
});
