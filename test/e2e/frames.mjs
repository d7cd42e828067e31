// Frame figures from a Chromium trace (docs/extension.md, "What a frame time is here"), shared
// by the e2e speed test (ui.mjs) and bench/webview.bench.ts.
//
// A frame of the page is one `ProxyMain::BeginMainFrame` on its renderer's main thread (rAF
// callbacks, style, layout, paint, commit). Its *work* is the thread time (`tdur`: CPU, not
// wall clock) of every main-thread task from that frame's start to the next one's: the frame
// itself plus the message handlers and fetch answers that ran between frames. That is what the
// page asks of the main thread per frame, whatever else the machine runs; if it stays under
// 16.7 ms the page fits the 60 Hz budget. Wall-clock figures (rAF intervals, BeginMainFrame
// `dur`) include time the thread waited for a CPU, which on a loaded machine is most of them.

/** Categories to trace: RunTask (disabled-by-default-devtools.timeline), BeginMainFrame (cc). */
export const FRAME_TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'cc', 'benchmark'];

const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] : 0);
const r1 = (x) => Math.round(x * 10) / 10;

/**
 * `trace`: the JSON Buffer from browser.stopTracing(). The renderer is the one whose main
 * thread fired the most animation frames in the trace (the scrolled page), or `pid`.
 */
export function frameFigures(trace, pid) {
  const events = JSON.parse(trace.toString('utf8')).traceEvents;
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  if (pid === undefined) {
    const fired = new Map();
    for (const e of events) {
      if (e.name === 'FireAnimationFrame' && names.get(`${e.pid}:${e.tid}`) === 'CrRendererMain') fired.set(e.pid, (fired.get(e.pid) ?? 0) + 1);
    }
    pid = [...fired].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
  const main = events.filter((e) => e.pid === pid && e.ph === 'X' && names.get(`${e.pid}:${e.tid}`) === 'CrRendererMain');
  const frames = main.filter((e) => e.name === 'ProxyMain::BeginMainFrame').sort((a, b) => a.ts - b.ts);
  const tasks = main.filter((e) => e.name === 'RunTask' && e.tdur !== undefined).sort((a, b) => a.ts - b.ts);
  // Each frame's interval starts with the task that runs it; every task counts once, in the
  // interval where it starts.
  const starts = [];
  let k = 0;
  for (const f of frames) {
    while (k + 1 < tasks.length && tasks[k + 1].ts <= f.ts) k++;
    const host = tasks[k];
    starts.push(host && host.ts <= f.ts && host.ts + host.dur >= f.ts + f.dur ? host.ts : f.ts);
  }
  const work = [];
  let t = 0;
  for (let i = 0; i + 1 < starts.length; i++) {
    while (t < tasks.length && tasks[t].ts < starts[i]) t++;
    let cpu = 0;
    for (; t < tasks.length && tasks[t].ts < starts[i + 1]; t++) cpu += tasks[t].tdur;
    work.push(cpu / 1000);
  }
  const wall = frames.map((e) => e.dur / 1000).sort((a, b) => a - b);
  const cpu = frames.map((e) => (e.tdur ?? e.dur) / 1000).sort((a, b) => a - b);
  work.sort((a, b) => a - b);
  let other = 0;
  for (const e of events) {
    if (e.pid !== pid || e.ph !== 'X' || e.name !== 'RunTask' || !e.tdur) continue;
    if (/Compositor|Raster/i.test(names.get(`${e.pid}:${e.tid}`) ?? '')) other += e.tdur / 1000;
  }
  return {
    frames: frames.length,
    /** Main-thread CPU per frame (the frame and the tasks until the next one), ms. */
    workP50: r1(pct(work, 0.5)),
    workP95: r1(pct(work, 0.95)),
    workMax: r1(work[work.length - 1] ?? 0),
    over16: work.filter((w) => w > 16.7).length,
    /** The frame's own main-thread part: CPU and wall clock (the gap is waiting for a CPU). */
    beginFrameCpuP95: r1(pct(cpu, 0.95)),
    beginFrameWallP95: r1(pct(wall, 0.95)),
    /** The renderer's compositor and raster threads, CPU per frame (mean). */
    compositorCpuPerFrame: r1(frames.length ? other / frames.length : 0),
  };
}

/**
 * In the page: scrolls `selector` by `step` px per animation frame for `ms`, and returns the
 * rAF intervals' p50/p95/max and the Long Animation Frames (> 50 ms, wall clock) seen meanwhile
 * with how much of them was script. Passed to page.evaluate / frame.evaluate.
 */
export async function scrollInPage({ selector, ms, step = 97, wrap = true }) {
  const sc = document.querySelector(selector);
  const loafs = [];
  let obs;
  try {
    obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) loafs.push({ d: e.duration, block: e.blockingDuration, script: (e.scripts ?? []).reduce((s, x) => s + x.duration, 0) });
    });
    obs.observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    obs = undefined;
  }
  const times = [];
  let last = performance.now();
  const end = last + ms;
  await new Promise((done) => {
    const tick = (now) => {
      times.push(now - last);
      last = now;
      // Read, then write: reading after the write would force a layout a real scroll does not.
      const top = sc.scrollTop;
      sc.scrollTop = wrap && top + sc.clientHeight + step >= sc.scrollHeight ? 0 : top + step;
      if (now < end) requestAnimationFrame(tick);
      else done();
    };
    requestAnimationFrame(tick);
  });
  await new Promise((r) => setTimeout(r, 100)); // LoAF entries are delivered after their frame
  obs?.disconnect();
  times.shift();
  times.sort((a, b) => a - b);
  const q = (p) => Math.round(times[Math.min(times.length - 1, Math.floor(times.length * p))] * 10) / 10;
  const d = loafs.map((l) => l.d).sort((a, b) => a - b);
  return {
    frames: times.length,
    p50: q(0.5),
    p95: q(0.95),
    max: q(1),
    loaf: obs ? { count: loafs.length, p95: Math.round(d[Math.floor(d.length * 0.95)] ?? 0), scriptMs: Math.round(loafs.reduce((s, l) => s + l.script, 0)) } : null,
  };
}
