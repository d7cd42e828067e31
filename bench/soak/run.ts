/**
 * Soak (`npm run torture`; not part of `npm test` or CI): live capture on lo for SOAK_MIN
 * minutes (default 30) at SOAK_RATE HTTP requests/s (default 100), from a generator that stops by
 * itself (bench/soak/load.mjs), with three hook scripts running and the language server attached
 * over stdio (test/lsp/client.ts). Reports:
 *   - the server's RSS over time and its slope (least squares over the second half, MB/hour);
 *   - items lost between the generator, the capture, the store, each hook and the client;
 *   - hook errors counted by the server against the errors the scripts were made to throw;
 *   - packets and kernel drops reported by the capture against an independent tcpdump on the
 *     same filter (its own PACKET_STATISTICS at exit: received by filter, dropped by kernel).
 * Figures only, no assertion on time. Results: bench/.data/soak-<time>.json and stdout.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ConsoleNotificationType, ItemsNotificationType, QueryItems, StartCapture, StopCapture, type StatsNotification } from '../../server/protocol';
import { startServer, uriOf } from '../../test/lsp/client';

const MIN = Number(process.env.SOAK_MIN ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 100);
const PORT = Number(process.env.SOAK_PORT ?? 40000 + Math.floor(Math.random() * 20000));
const DATA = path.resolve('bench/.data');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const loadAvg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const SCRIPTS: Record<string, string> = {
  // Every item, one line: what reached the hook.
  'a-log.js': `function onItemCaptured(data) {\n  console.log("A " + data.request.path);\n}\n`,
  // Another projection (the response), script state and a job.
  'b-status.js': `var n = 0;\nfunction onItemCaptured(data) {\n  n++;\n  console.log("B " + data.request.path + " " + data.response.status);\n}\njobs.schedule("tick", "*/30 * * * * *", function () {\n  console.log("B-total " + n);\n});\n`,
  // Throws on every 50th request: the server must count each error.
  'c-throw.js': `function onItemCaptured(data) {\n  var seq = Number(data.request.path.split("/").pop());\n  if (seq % 50 === 0) throw new Error("planted " + (seq % 3));\n}\n`,
};

function seqOf(p: string): number {
  const m = /\/soak\/(\d+)/.exec(p);
  return m ? Number(m[1]) : -1;
}

async function main(): Promise<void> {
  const ws = path.join(DATA, `soak-${process.pid}`);
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  const c = await startServer(ws);
  const pid = c.proc.pid!;
  // Count as lines arrive; keep nothing else (the client's arrays would grow for 30 minutes).
  const seen = { A: new Set<number>(), B: new Set<number>(), client: new Set<number>(), bWrongStatus: 0, consoleSkipped: 0, itemsSkipped: 0, errorLines: 0, errorCount: 0, probes: 0, bTotal: 0 };
  let last: StatsNotification | null = null;
  c.conn.onNotification(ConsoleNotificationType, (n) => {
    seen.consoleSkipped += n.skipped;
    for (const l of n.lines) {
      if (l.level === 'error') { seen.errorLines++; seen.errorCount += l.count ?? 1; continue; }
      const t = l.text;
      if (t.startsWith('A ')) { const s = seqOf(t); if (s >= 0) seen.A.add(s); else seen.probes++; }
      else if (t.startsWith('B-total ')) seen.bTotal = Number(t.slice(8));
      else if (t.startsWith('B ')) {
        const s = seqOf(t);
        if (s >= 0) { seen.B.add(s); if (Number(t.split(' ')[2]) !== (s % 10 === 7 ? 500 : 200)) seen.bWrongStatus++; }
      }
    }
  });
  c.conn.onNotification(ItemsNotificationType, (n) => {
    seen.itemsSkipped += n.skipped;
    for (const p of n.previews) { const s = seqOf(p.summary); if (s >= 0) seen.client.add(s); }
  });
  c.conn.onNotification('wirehook/stats', (n: StatsNotification) => { last = n; });
  for (const [name, text] of Object.entries(SCRIPTS)) c.open(uriOf(path.join(ws, name)), text);

  // The generator's server first (its port), then both captures on that port.
  const gen = spawn(process.execPath, [path.resolve('bench/soak/load.mjs'), String(RATE), String(MIN * 60)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, SOAK_PORT: String(PORT) } });
  const genOut = createInterface({ input: gen.stdout! });
  const genLines: string[] = [];
  const genLine = () => new Promise<string>((r) => { if (genLines.length) r(genLines.shift()!); else genOut.once('line', r); });
  genOut.on('line', (l) => genLines.push(l));
  const port = Number(await genLine());
  genLines.length = 0;
  const filter = `tcp port ${port}`;
  const ref = spawn('tcpdump', ['-i', 'lo', '-w', '/dev/null', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let refErr = '';
  ref.stderr!.on('data', (d) => (refErr += d));
  await new Promise<void>((r, j) => { const t = setInterval(() => { if (/listening on/.test(refErr)) { clearInterval(t); r(); } }, 50); setTimeout(() => j(new Error(`reference tcpdump: ${refErr}`)), 20_000); });
  await c.conn.sendRequest(StartCapture, { source: { interface: 'lo', filter } });
  // Probe until the capture is seen end to end (a probe item's hook line arrives).
  const agent = new http.Agent({ keepAlive: false });
  let probesSent = 0;
  for (let i = 0; seen.probes === 0; i++) {
    if (i > 200) throw new Error('the capture never saw a probe');
    probesSent++;
    await new Promise<void>((r) => http.get({ host: '127.0.0.1', port, path: '/probe', agent }, (res) => { res.resume(); res.on('end', () => r()); }).on('error', () => r()));
    await sleep(1500);
  }
  gen.stdin!.write('go\n');
  const t0 = Date.now();
  console.log(`soak: ${MIN} min at ${RATE} req/s on lo port ${port}; server pid ${pid}; load ${loadAvg()}`);
  const samples: { t: number; rss: number; items: number; stored: number; load: string }[] = [];
  const genDone = new Promise<string>((r) => gen.once('exit', () => r(genLines.join('\n'))));
  let finished = false;
  void genDone.then(() => (finished = true));
  while (!finished) {
    await sleep(10_000);
    const st = last as StatsNotification | null;
    const s = { t: (Date.now() - t0) / 1000, rss: rssMb(pid), items: st ? Object.values(st.itemsByProtocol).reduce((a, b) => a + b, 0) : 0, stored: st?.storedTotal ?? 0, load: loadAvg() };
    samples.push(s);
    if (samples.length % 6 === 0) console.log(`  t=${s.t.toFixed(0)}s rss=${s.rss.toFixed(0)}MB items=${s.items} hookA=${seen.A.size} client=${seen.client.size} drops=${JSON.stringify(st?.drops)} load ${s.load}`);
  }
  const genSummary = JSON.parse((await genDone).trim().split('\n').pop()!) as { sent: number; ok: number; failed: number; deferred: number; seconds: number };
  // Let the tail through: throughput mode hands a partial block over after tcpdump's 1 s timeout.
  const want = genSummary.sent + probesSent;
  const itemsOf = (st: StatsNotification | null) => (st ? Object.values(st.itemsByProtocol).reduce((a, b) => a + b, 0) : 0);
  for (let i = 0; i < 60 && (itemsOf(last) < want || seen.A.size < genSummary.sent || seen.B.size < genSummary.sent); i++) await sleep(1000);
  await sleep(3000);
  const beforeStop = last as StatsNotification | null;
  await c.conn.sendRequest(StopCapture);
  await sleep(2500);
  const fin = (last as StatsNotification | null) ?? beforeStop!;
  ref.kill('SIGINT');
  await new Promise((r) => ref.once('exit', r));
  const refStats = {
    captured: Number(/(\d+) packets? captured/.exec(refErr)?.[1] ?? NaN),
    received: Number(/(\d+) packets? received by filter/.exec(refErr)?.[1] ?? NaN),
    dropped: Number(/(\d+) packets? dropped by kernel/.exec(refErr)?.[1] ?? NaN),
  };
  // The store keeps its newest items; those it kept must all be there.
  const total = (await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 1 })).total;
  const finalRss = rssMb(pid);
  await c.close();

  // RSS slope over the second half (after warm-up): least squares, MB per hour.
  const half = samples.slice(Math.floor(samples.length / 2));
  const mx = half.reduce((a, s) => a + s.t, 0) / half.length;
  const my = half.reduce((a, s) => a + s.rss, 0) / half.length;
  const slope = half.reduce((a, s) => a + (s.t - mx) * (s.rss - my), 0) / half.reduce((a, s) => a + (s.t - mx) ** 2, 0) * 3600;
  const missing = (set: Set<number>) => { let n = 0; for (let i = 0; i < genSummary.sent; i++) if (!set.has(i)) n++; return n; };
  const plantedErrors = Math.ceil(genSummary.sent / 50);
  const items = itemsOf(fin);
  const result = {
    minutes: MIN, rate: RATE, port, generator: genSummary, probes: probesSent,
    capture: { packets: fin.packets, drops: fin.drops, gaps: fin.gaps, items, itemsExpected: want, warnings: fin.warnings },
    reference: refStats,
    store: { storedTotal: fin.storedTotal, stored: fin.stored, evicted: fin.evicted, storeMB: +(fin.storeBytes / 1e6).toFixed(1), spillMB: +(fin.storeSpillBytes / 1e6).toFixed(1), queryTotal: total },
    hooks: {
      aMissing: missing(seen.A), bMissing: missing(seen.B), bWrongStatus: seen.bWrongStatus, bJobTotal: seen.bTotal,
      errorsCounted: fin.hookErrors, errorsPlanted: plantedErrors, errorLinesShown: seen.errorLines,
      stats: fin.hooks.map((h) => ({ hook: `${path.basename(h.uri)}:${h.hook}`, calls: h.calls, errors: h.errors, meanUs: h.meanUs })),
    },
    client: { previewsMissing: missing(seen.client), itemsSkipped: seen.itemsSkipped, consoleSkipped: seen.consoleSkipped },
    rss: { startMB: +samples[0].rss.toFixed(1), endMB: +finalRss.toFixed(1), maxMB: +Math.max(...samples.map((s) => s.rss)).toFixed(1), slopeMBperHourSecondHalf: +slope.toFixed(2), samples: samples.length },
    load: { start: samples[0].load, end: samples[samples.length - 1].load },
  };
  fs.mkdirSync(DATA, { recursive: true });
  const out = path.join(DATA, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(out, JSON.stringify({ ...result, samples }, null, 1));
  console.log(JSON.stringify(result, null, 1));
  console.log(`soak: results in ${out}`);
  fs.rmSync(ws, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
