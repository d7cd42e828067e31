/**
 * `wirehook run HOOK.js …`: runs hook scripts over a capture. Script console.log → stdout
 * (exactly as printed, one line per call), console.error → stderr; Wirehook's own messages go
 * to stderr prefixed `wirehook:`. A script that fails to load: `FILE:LINE:COL: message`, exit 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import type { Item } from '../../capture/item/schema';
import type { CompiledQuery } from '../kfl/api';
import { RuntimeClient } from '../runtime/client';
import { loadEnv } from '../runtime/env';
import { ScriptLoadError } from '../runtime/errors';
import { PcapStreamWriter } from '../runtime/pcap';
import type { RuntimeEvent, RuntimeOptions } from '../runtime/types';
import { UsageError } from './common';
import { openAnnounced, parseSourceArgs, SOURCE_USAGE } from './source-options';
import { watchScripts } from './watch';

/** Items kept for replay under --watch (the last ones of a file source). */
const REPLAY_KEEP = 10_000;

const USAGE = `usage: wirehook run HOOK.js [HOOK2.js …] (--pcap FILE|- | --interface IF [--filter BPF]) [options]

Runs Kubeshark-style hook scripts (onItemCaptured, onPacketCaptured, onItemQueried, jobs …)
over a capture. console.log goes to stdout, console.error and Wirehook's messages to stderr.

${SOURCE_USAGE}
  --query Q, -q        run onItemQueried(data, Q) for items matching the KFL/KFL2 query Q
  --env FILE|KEY=VALUE the scripts' env (JSON, YAML or KEY=VALUE lines); repeatable
  --allow-net          let vendor.*/webhook helpers really send (default: record and show only)
  --metrics-port N     serve prometheus.* metrics on http://127.0.0.1:N/metrics (0 = any port)
  --timeout-ms N       per hook call time budget, wall-clock ms (default 100)
  --memory-mb N        per script memory limit (default 64)
  --files-dir DIR      the folder file.* is confined to (default .wirehook/files)
  --node-name NAME     what utils.nodeName() returns (default: the host name)
  --linger S           after a file source ends, keep jobs and timers running S more seconds
  --watch, -w          reload a script when its file changes (a broken save keeps the old
                       version). A file source keeps running after its end (Ctrl-C stops) and
                       its last ${REPLAY_KEEP.toLocaleString('en')} items are replayed through each reloaded version
  --help, -h           this help
`;

export async function main(argv: string[]): Promise<number> {
  const { spec, values, positionals } = parseSourceArgs(
    argv,
    {
      query: { type: 'string', short: 'q' },
      env: { type: 'string', multiple: true },
      'allow-net': { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'memory-mb': { type: 'string' },
      'files-dir': { type: 'string' },
      'node-name': { type: 'string' },
      linger: { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give at least one hook script (wirehook run HOOK.js --pcap FILE)');
  const num = (name: string, min: number, max: number): number | undefined => {
    const v = (values as Record<string, unknown>)[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(String(v)) || n < min) throw new UsageError(`--${name} wants a number ≥ ${min}, got '${String(v)}'`);
    if (n > max) throw new UsageError(`--${name} wants a number ≤ ${max}, got '${String(v)}'`);
    return n;
  };
  // Upper bounds: what the value feeds must take it. A timer longer than 2^31-1 ms fires at
  // once (Node's TimeoutOverflowWarning); a port is 16 bits; the sandbox is 32-bit wasm.
  const MAX_TIMER_MS = 2 ** 31 - 1;
  const timeoutMs = num('timeout-ms', 1, MAX_TIMER_MS);
  const memoryMb = num('memory-mb', 1, 4095);
  const metricsPort = num('metrics-port', 0, 65535);
  const lingerS = num('linger', 0, Math.floor(MAX_TIMER_MS / 1000)) ?? 0;
  const watch = values.watch === true;

  const scripts = positionals.map((f) => {
    try {
      return { file: f, source: fs.readFileSync(f, 'utf8') };
    } catch (e) {
      throw new UsageError(`cannot read hook script ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });

  let query: CompiledQuery | null = null;
  if (typeof values.query === 'string') {
    const { compileQuery } = await import('../kfl/index');
    try {
      query = compileQuery(values.query, 'auto');
    } catch (e) {
      if ((e as Error).name === 'QueryError') throw new UsageError(`query ${(e as Error).message}`);
      throw e;
    }
  }
  let env: Record<string, unknown> = {};
  try {
    env = loadEnv((values.env as string[] | undefined) ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const filesDir = path.resolve((values['files-dir'] as string | undefined) ?? path.join('.wirehook', 'files'));
  const opts: RuntimeOptions = {
    env,
    allowNetwork: values['allow-net'] === true,
    nodeName: values['node-name'] as string | undefined,
    filesDir,
    limits: { ...(timeoutMs ? { timeoutMs } : {}), ...(memoryMb ? { memoryBytes: memoryMb * 1024 * 1024 } : {}) },
  };
  const client = await RuntimeClient.start(opts);
  const counts: Counts = { recorded: 0, sent: 0, errors: 0, byPlace: new Map() };
  client.onEvent = (e) => printEvent(e, counts);

  try {
    let usesPcap = false;
    // Under --watch a reloaded version may start using onPacketCaptured: always send packet infos.
    let wantsPackets = watch;
    for (const s of scripts) {
      try {
        const loaded = await client.load(s.file, s.source);
        usesPcap ||= loaded.usesPcap;
        wantsPackets ||= loaded.hooks.includes('onPacketCaptured');
      } catch (e) {
        if (e instanceof ScriptLoadError) {
          await client.drain().catch(() => {});
          process.stderr.write(`${e.message}\n`);
          return 2;
        }
        throw e;
      }
    }
    if (metricsPort !== undefined) {
      const m = await client.metrics(metricsPort);
      process.stderr.write(`wirehook: metrics on http://127.0.0.1:${m.port}/metrics\n`);
    }

    const source = await openAnnounced(spec);
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    const pcapWriter = usesPcap ? new PcapStreamWriter(path.join(filesDir, 'pcaps'), undefined, (why) => process.stderr.write(`wirehook: warning: ${why}; the capture goes on\n`)) : null;
    let queued: Item[] = [];
    const queriedTotals = { items: 0, passed: 0, failed: 0 };
    const runQueried = async () => {
      if (!queued.length) return;
      const batch = queued;
      queued = [];
      const res = await client.queried(batch, values.query as string);
      queriedTotals.items += res.length;
      for (const r of res) {
        if (r.passed) queriedTotals.passed++;
        if (r.failed) queriedTotals.failed++;
      }
    };
    // --watch: the last items of a file source (a ring), replayed through a reloaded version once the file has finished.
    const kept: Item[] = [];
    let keptAt = 0;
    const keep = watch && spec.pcap !== undefined;
    let finished = false;
    let reloads: Promise<void> = Promise.resolve();
    const reload = (file: string, src: string) => {
      reloads = reloads.then(async () => {
        let hooks: string[];
        try {
          hooks = (await client.load(file, src)).hooks;
        } catch (e) {
          if (!(e instanceof ScriptLoadError)) throw e;
          process.stderr.write(`${e.message}\nwirehook: ${file} not reloaded; the previous version keeps running\n`);
          return;
        }
        process.stderr.write(`wirehook: reloaded ${file}\n`);
        if (finished && kept.length && hooks.includes('onItemCaptured')) {
          const items = kept.length < REPLAY_KEEP ? kept : [...kept.slice(keptAt), ...kept.slice(0, keptAt)];
          process.stderr.write(`wirehook: replaying ${items.length} items through ${file}\n`);
          await client.replay(file, items);
          await client.drain();
        }
      }).catch((e: Error) => {
        process.stderr.write(`wirehook: reloading ${file} failed: ${e.message}\n`);
      });
    };
    const watcher = watch ? watchScripts(scripts.map((s) => s.file), new Map(scripts.map((s) => [s.file, s.source])), reload) : null;
    if (watch) process.stderr.write(`wirehook: watching ${scripts.map((s) => s.file).join(', ')} for changes\n`);
    let stats: CaptureStats;
    try {
      stats = await runPipeline(
        source,
        {
          item: (item) => {
            client.captured(item);
            if (keep) {
              if (kept.length < REPLAY_KEEP) kept.push(item);
              else {
                kept[keptAt] = item;
                keptAt = (keptAt + 1) % REPLAY_KEEP;
              }
            }
            if (query && query.match(item)) queued.push(item);
          },
          packet: wantsPackets ? (s, ns, cl, len, tr, fr) => client.packet(s, ns, cl, len, tr, fr) : undefined,
          streamPacket: pcapWriter ? (stream, pkt) => pcapWriter.streamPacket(stream, pkt) : undefined,
          flush: async () => {
            if (queued.length >= 256) await runQueried();
            await client.flush();
          },
        },
        { count: spec.count, durationS: spec.durationS, signal: ac.signal },
      );
      await runQueried();
      await client.drain();
      finished = true;
      if (watch && !ac.signal.aborted) {
        process.stderr.write('wirehook: capture done; still watching, edits replay the capture (Ctrl-C stops)\n');
        await new Promise<void>((r) => ac.signal.addEventListener('abort', () => r()));
        await reloads;
      } else if (lingerS > 0 && !ac.signal.aborted) {
        process.stderr.write(`wirehook: capture done; jobs keep running for ${lingerS} s (Ctrl-C stops)\n`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, lingerS * 1000);
          ac.signal.addEventListener('abort', () => { clearTimeout(t); r(); });
        });
      }
    } finally {
      watcher?.close();
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      pcapWriter?.close();
    }
    const rs = await client.drain();
    for (const n of stats.notices) process.stderr.write(`wirehook: warning: ${n}\n`);
    const parts = [`${rs.items} items`, `${rs.packets} packet infos`];
    if (query) parts.push(`${queriedTotals.items} queried (${queriedTotals.passed} passed, ${queriedTotals.failed} failed)`);
    if (counts.errors) {
      const places = [...counts.byPlace].sort((x, y) => y[1] - x[1]);
      const shown = places.slice(0, 5).map(([p, n]) => `${n} at ${p}`).join(', ');
      parts.push(`${counts.errors} script errors (${shown}${places.length > 5 ? `, ${places.length - 5} more places` : ''})`);
    }
    if (counts.recorded) parts.push(`${counts.recorded} network calls recorded, not sent (--allow-net sends them)`);
    if (counts.sent) parts.push(`${counts.sent} network calls sent`);
    process.stderr.write(`wirehook: ran ${scripts.length} script(s) over ${parts.join(', ')}\n`);
    process.stderr.write(`wirehook: time in scripts: ${rs.scripts.map((s) => `${s.file} ${s.busyMs} ms`).join(', ')}\n`);
    for (const s of rs.scripts) if (s.disabled) process.stderr.write(`wirehook: ${s.file} was disabled: ${s.disabled}\n`);
    const m = await client.metrics();
    if (m.text) process.stderr.write(`wirehook: metrics at exit:\n${m.text.replace(/^/gm, '  ')}`);
    return 0;
  } finally {
    await client.close();
  }
}

interface Counts { recorded: number; sent: number; errors: number; byPlace: Map<string, number> }

function printEvent(e: RuntimeEvent, counts: Counts): void {
  const hub = 'role' in e && e.role === 'hub' ? '[hub] ' : '';
  switch (e.type) {
    case 'log':
      if (e.stream === 'log') process.stdout.write(`${hub}${e.text}\n`);
      else if (e.stream === 'error') process.stderr.write(`${hub}${e.text}\n`);
      else if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      break;
    case 'error': {
      counts.errors += e.count;
      const place = `${e.script}:${e.line}:${e.col}`;
      counts.byPlace.set(place, (counts.byPlace.get(place) ?? 0) + e.count);
      // Folded repeats (docs/runtime.md): one line with how many more there were.
      process.stderr.write(e.repeat ? `${hub}${e.message} (${e.count} more)\n` : `${hub}${e.message}\n`);
      break;
    }
    case 'disabled':
      process.stderr.write(`wirehook: ${e.script} disabled: ${e.reason}\n`);
      break;
    case 'network':
      if (e.sent) counts.sent++;
      else if (!e.error) counts.recorded++;
      process.stderr.write(`wirehook: ${e.script}: ${e.helper} ${e.sent ? 'sent' : e.error ? 'failed' : 'recorded (not sent)'}: ${e.summary}${e.error ? ` — ${e.error}` : ''}\n`);
      break;
    case 'notice':
      process.stderr.write(`wirehook: ${e.script}: ${e.text}\n`);
      break;
  }
}
