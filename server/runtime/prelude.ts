/**
 * JavaScript evaluated inside each QuickJS context before the user's script: the helper
 * globals (thin wrappers over one host dispatcher `H(op, a, b, c)` that only ever exchanges
 * strings and numbers) and the driver the host calls (batched item/packet loops, jobs, timers,
 * hub actions). Kept as plain ES5 text so it runs in any context; 'use strict' so nothing in
 * it can be walked back through `.caller`. It closes over `H`; user code never sees it.
 *
 * Driver results: a string — the loop index alone when there is nothing else to report (the
 * hot path), or JSON {i, o: output, q: onItemQueried results}. `o` holds console lines
 * (`KIND SITE ':' text`, KIND L/E/C, SITE the console call's number or empty, see sites.ts) and
 * errors ({h, i, n, m, s}) in the order they happened.
 */
export const PRELUDE = String.raw`(function (H, G, CFG) {
'use strict';
var parse = JSON.parse, stringify = JSON.stringify, now = Date.now, isArray = Array.isArray;
var keysOf = Object.keys, protoOf = Object.getPrototypeOf, OP = Object.prototype, AP = Array.prototype;
var ownProp = Function.prototype.call.bind(OP.hasOwnProperty);
/**
 * The driver's own results (console lines, errors, hook names) must reach the host as written,
 * whatever the script did to the prototypes: a top-level 'Object.prototype.toJSON = …' once
 * turned them into garbage and the load into a wasm crash. JSON.stringify consults toJSON on
 * Object.prototype and Array.prototype (and whatever Array.prototype now inherits from), so
 * while those are untouched it is used as is (the fast path); otherwise enc() writes the
 * driver's plain data by hand, reading own properties only (a primitive string's JSON form
 * never looks toJSON up).
 */
function encode(v) {
  if (protoOf(AP) === OP && !ownProp(OP, 'toJSON') && !ownProp(AP, 'toJSON')) return stringify(v);
  return enc(v);
}
function enc(v) {
  if (v === null || v === undefined) return 'null';
  var t = typeof v, s, i;
  if (t === 'string') return stringify(v);
  if (t === 'number') return isFinite(v) ? '' + v : 'null';
  if (t === 'boolean') return v ? 'true' : 'false';
  if (isArray(v)) {
    s = '[';
    for (i = 0; i < v.length; i++) s += (i ? ',' : '') + enc(v[i]);
    return s + ']';
  }
  var ks = keysOf(v);
  s = '{';
  for (i = 0; i < ks.length; i++) s += (i ? ',' : '') + stringify(ks[i]) + ':' + enc(v[ks[i]]);
  return s + '}';
}
var out = [], qout = [];
var hooks = {}, jobsTab = {}, timers = {}, timerSeq = 0;
var batch = null, curObj, cur = -1, curHook = '', base = 0;
var SLICE = CFG.sliceMs;

function show(v) {
  if (typeof v === 'string') return v;
  if (v === undefined || typeof v === 'number' || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return String(v);
  if (v instanceof Error) return String(v);
  try { var s = stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
}
function line(args) {
  var out = '';
  for (var i = 0; i < args.length; i++) out += (i ? ' ' : '') + show(args[i]);
  return out;
}
function call(op, a, b, c) {
  var r = H(op, a, b, c);
  if (r === undefined) return undefined;
  var k = r.charAt(0);
  if (k === '!') throw new Error(r.slice(1));
  if (k === '=') return parse(r.slice(1));
  return r.slice(1);
}
function j(v) { return v === undefined ? undefined : stringify(v); }
function errorOf(e) {
  if (e && typeof e === 'object') return { n: String(e.name || 'Error'), m: String(e.message), s: String(e.stack || '') };
  return { n: 'Error', m: show(e), s: '' };
}
function report(where, e, idx) {
  var r = errorOf(e); r.h = where; r.i = idx; out.push(r);
}
function result(i) {
  if (!out.length && !qout.length) return '' + i;
  var r = encode({ i: i, o: out, q: qout });
  out = []; qout = [];
  return r;
}
/** Names a helper namespace so an unknown member fails with a clear message instead of "not a function". */
function ns(name, obj) {
  return new Proxy(obj, {
    get: function (t, k) {
      if (typeof k === 'symbol' || k in t || k === 'toJSON' || k === 'then' || k === 'inspect') return t[k];
      throw new TypeError(name + '.' + String(k) + ' is not a Wirehook helper');
    },
  });
}

var shared = new Proxy({}, {
  get: function (t, k) { if (typeof k === 'symbol') return undefined; var r = H('sget', k); return r === undefined ? undefined : parse(r); },
  set: function (t, k, v) { if (typeof k !== 'symbol') H('sset', k, stringify(v === undefined ? null : v)); return true; },
  has: function (t, k) { return typeof k !== 'symbol' && H('shas', k) === '1'; },
  deleteProperty: function (t, k) { if (typeof k !== 'symbol') H('sdel', k); return true; },
  ownKeys: function () { return parse(H('skeys')); },
  getOwnPropertyDescriptor: function (t, k) {
    if (typeof k === 'symbol') return undefined;
    var r = H('sget', k);
    return r === undefined ? undefined : { value: parse(r), writable: true, enumerable: true, configurable: true };
  },
});

// Located calls reach these through a site object (sites.ts) whose prototype is console and
// which holds the line prefixes for its site number under private symbols; a plain or detached
// call has none.
var PFX = { L: Symbol('L'), E: Symbol('E'), C: Symbol('C') };
function printer(kind) {
  var k = PFX[kind];
  return function () { var t = this, p = t && t[k]; out.push((p === undefined ? kind + ':' : p) + line(arguments)); };
}
G.console = {
  log: printer('L'), info: printer('L'), debug: printer('L'),
  warn: printer('E'), error: printer('E'),
  clear: function () { var t = this, p = t && t[PFX.C]; out.push(p === undefined ? 'C:' : p); },
};
for (var si = 0; si < CFG.sites.length; si++) {
  var site = Object.create(G.console);
  site[PFX.L] = 'L' + si + ':'; site[PFX.E] = 'E' + si + ':'; site[PFX.C] = 'C' + si + ':';
  Object.defineProperty(G, CFG.sites[si], { value: Object.freeze(site) });
}
G.test = ns('test', {
  pass: function (d) { if (d && typeof d === 'object') d.passed = true; return d; },
  fail: function (d) { if (d && typeof d === 'object') d.failed = true; return d; },
});
G.env = parse(CFG.env);
G.kfl = ns('kfl', {
  match: function (q, d) {
    q = String(q);
    var i = d === curObj ? cur : (batch && d && typeof d === 'object' ? batch.indexOf(d) : -1);
    var r = i >= 0 ? call('kfl', q, base + i) : call('kflj', q, stringify(d === undefined ? null : d));
    return r === '1';
  },
  validate: function (q) { return call('kflv', String(q)) === '1'; },
});
G.jobs = ns('jobs', {
  schedule: function (tag, cron, fn, limit) {
    if (typeof fn !== 'function') throw new TypeError('jobs.schedule: the third argument must be a function');
    tag = String(tag);
    call('jsched', tag, String(cron), Number(limit) || 0);
    jobsTab[tag] = { fn: fn, args: Array.prototype.slice.call(arguments, 4), cron: String(cron), limit: Number(limit) || 0 };
  },
  remove: function (tag) { tag = String(tag); delete jobsTab[tag]; call('jremove', tag); },
  removeAll: function () { jobsTab = {}; call('jremoveAll'); },
  list: function () { return Object.keys(jobsTab); },
  run: function (tag) { runJob(String(tag)); },
  runAll: function () { Object.keys(jobsTab).forEach(runJob); },
  scheduler: ns('jobs.scheduler', {
    isRunning: function () { return call('jrunning') === '1'; },
    start: function () { call('jstart'); },
    stop: function () { call('jstop'); },
  }),
});
G.utils = ns('utils', {
  nodeName: function () { return CFG.nodeName; },
  json2Yaml: function (s) { return call('yaml', typeof s === 'string' ? s : stringify(s)); },
});
G.hub = ns('hub', {
  action: function (action, obj) { call('hub', String(action), stringify(obj === undefined ? null : obj)); },
  targeted: function () { return stringify({ targets: [], excluded: [] }); },
  blockPod: function (name, namespace) { return call('net', 'hub.blockPod', stringify([name, namespace])); },
});
G.wrapper = ns('wrapper', {
  buildHAR: function (items) { return call('har', stringify(items || [])); },
  joinMaps: function (a, b) {
    var out = {}, k;
    for (k in a) if (Object.prototype.hasOwnProperty.call(a, k)) out[k] = a[k];
    for (k in b) if (Object.prototype.hasOwnProperty.call(b, k)) {
      out[k] = (typeof out[k] === 'number' && typeof b[k] === 'number') ? out[k] + b[k] : b[k];
    }
    return out;
  },
  kflPcapS3: function () { return call('net', 'wrapper.kflPcapS3', stringify(Array.prototype.slice.call(arguments, 1))); },
});
G.prometheus = ns('prometheus', {
  metric: function (name, help, type, value, labels) { return call('prom', stringify([name, help, type, value, labels || {}]), 0); },
  vector: function (name, help, type, value, labels) { return call('prom', stringify([name, help, type, value, labels || {}]), 1); },
});
function fileOp(op) { return function () { return call('file', op, stringify(Array.prototype.slice.call(arguments))); }; }
G.file = ns('file', {
  write: fileOp('write'), append: fileOp('append'), move: fileOp('move'), copy: fileOp('copy'),
  delete: fileOp('delete'), mkdir: fileOp('mkdir'), mkdirTemp: fileOp('mkdirTemp'), temp: fileOp('temp'),
  tar: fileOp('tar'), read: fileOp('read'),
});
G.pcap = ns('pcap', {
  path: function (stream) { return call('pcap', 'path', stringify([stream])); },
  snapshot: function (selected, dir) { return call('pcap', 'snapshot', stringify([selected === undefined ? null : selected, dir === undefined ? null : dir])); },
  nameResolutionHistory: function () { return call('pcap', 'names', '[]'); },
});
function net(name) { return function () { return call('net', name, stringify(Array.prototype.slice.call(arguments))); }; }
G.vendor = ns('vendor', {
  webhook: function (method, url, body, headers) {
    return call('net', 'vendor.webhook', stringify([method, url, typeof body === 'string' ? body : (body === undefined ? '' : stringify(body)), headers || {}]));
  },
  webhookForm: net('vendor.webhookForm'),
  slack: net('vendor.slack'),
  slackBot: net('vendor.slackBot'),
  influxdb: net('vendor.influxdb'),
  elastic: net('vendor.elastic'),
  s3: ns('vendor.s3', { put: net('vendor.s3.put'), clear: net('vendor.s3.clear') }),
  gcs: ns('vendor.gcs', { put: net('vendor.gcs.put'), clear: net('vendor.gcs.clear') }),
  azure: ns('vendor.azure', { put: net('vendor.azure.put') }),
  kinesis: ns('vendor.kinesis', { put: net('vendor.kinesis.put') }),
});
G.chatgpt = ns('chatgpt', {
  prompt: net('chatgpt.prompt'),
  sentiment: function (text) { return call('sentiment', String(text)); },
});
G.setTimeout = function (fn, ms) {
  if (typeof fn !== 'function') throw new TypeError('setTimeout: the first argument must be a function');
  var id = ++timerSeq;
  timers[id] = { fn: fn, args: Array.prototype.slice.call(arguments, 2) };
  call('timer', id, Number(ms) || 0);
  return id;
};
G.clearTimeout = function (id) { if (timers[id]) { delete timers[id]; call('untimer', Number(id)); } };

function runJob(tag) {
  var jb = jobsTab[tag];
  if (!jb) throw new Error('jobs: no job tagged ' + stringify(tag));
  curHook = 'job ' + tag;
  try {
    jb.fn.apply(shared, jb.args);
  } catch (e) {
    if (hooks.onJobFailed) {
      try { hooks.onJobFailed.call(shared, tag, jb.cron, jb.limit, String(e && e.message !== undefined ? e.message : e)); } catch (e2) { report('onJobFailed', e2, -1); }
    } else report('job ' + tag, e, -1);
    return;
  }
  if (hooks.onJobPassed) {
    try { hooks.onJobPassed.call(shared, tag, jb.cron, jb.limit); } catch (e3) { report('onJobPassed', e3, -1); }
  }
}

var NAMES = ['onItemCaptured', 'onItemQueried', 'onPacketCaptured', 'onJobPassed', 'onJobFailed', 'onHubAction'];
// Packet timestamps: the per-second prefix is cached (packets arrive in time order).
var tsSec = -1, tsPrefix = '';
function ts(sec, nsec) {
  if (sec !== tsSec) { tsSec = sec; tsPrefix = new Date(sec * 1000).toISOString().slice(0, 19) + '.'; }
  return tsPrefix + String(1e9 + nsec).slice(1) + 'Z';
}
// Hooks that never mention 'this' are called plainly (Function.prototype.call costs a native frame).
function usesThis(fn) { return /\bthis\b/.test(String(fn)); }

var queried = '';
function loop(from) {
  var fn = hooks[curHook], arr = batch, t0 = now(), isQ = curHook === 'onItemQueried', th = usesThis(fn), i = from, r, o;
  while (i < arr.length) {
    try {
      for (; i < arr.length; i++) {
        if (now() - t0 > SLICE) return result(i);
        cur = i; curObj = arr[i];
        r = th ? fn.call(shared, curObj, queried) : fn(curObj, queried);
        if (isQ) {
          o = (r && typeof r === 'object') ? r : curObj;
          qout.push([i, (o.passed ? 1 : 0) | (o.failed ? 2 : 0), (r && typeof r === 'object') ? stringify(r) : null]);
        }
      }
    } catch (e) { report(curHook, e, i); i++; }
  }
  cur = -1; curObj = undefined; batch = null;
  return result(arr.length);
}
var pktNeedsTs = CFG.pktNeedsTs, pktReuse = CFG.pktReuse;
var reused = pktNeedsTs ? { timestamp: '', captureLength: 0, length: 0, truncated: false, fragmented: false } : { captureLength: 0, length: 0, truncated: false, fragmented: false };
function packets(buf, from) {
  var a = new Float64Array(buf), n = a.length / 5, fn = hooks.onPacketCaptured, t0 = now(), th = usesThis(fn), i = from, k, f, info;
  curHook = 'onPacketCaptured';
  while (i < n) {
    try {
      for (; i < n; i++) {
        // The clock is read every 64 packets: packet hooks are tiny and Date.now() is not free.
        if ((i & 63) === 0 && now() - t0 > SLICE) return result(i);
        k = i * 5; f = a[k + 4]; cur = i;
        if (pktReuse) {
          // The hook only reads fields (static analysis): one object, refilled per packet.
          info = reused;
          if (pktNeedsTs) info.timestamp = ts(a[k], a[k + 1]);
          info.captureLength = a[k + 2]; info.length = a[k + 3]; info.truncated = (f & 1) === 1; info.fragmented = (f & 2) === 2;
        } else info = pktNeedsTs
          ? { timestamp: ts(a[k], a[k + 1]), captureLength: a[k + 2], length: a[k + 3], truncated: (f & 1) === 1, fragmented: (f & 2) === 2 }
          : { captureLength: a[k + 2], length: a[k + 3], truncated: (f & 1) === 1, fragmented: (f & 2) === 2 };
        if (th) fn.call(shared, info); else fn(info);
      }
    } catch (e) { report('onPacketCaptured', e, i); i++; }
  }
  cur = -1;
  return result(n);
}

return {
  load: function (main) {
    curHook = 'top level';
    var found = main.call(shared);
    for (var i = 0; i < NAMES.length; i++) if (typeof found[i] === 'function') hooks[NAMES[i]] = found[i];
    var has = [];
    for (var k in hooks) has.push(k);
    return encode({ hooks: has, r: result(0) });
  },
  items: function (s, hook, b, q) { batch = parse(s); curHook = hook; base = b; queried = q; return loop(0); },
  resume: function (from) { return loop(from); },
  packets: packets,
  job: function (tag) { if (jobsTab[tag]) runJob(tag); return result(0); },
  timer: function (id) {
    var t = timers[id]; delete timers[id];
    if (t) { curHook = 'setTimeout callback'; try { t.fn.apply(shared, t.args); } catch (e) { report('setTimeout callback', e, -1); } }
    return result(0);
  },
  hubAction: function (action, json) {
    if (hooks.onHubAction) { curHook = 'onHubAction'; try { hooks.onHubAction.call(shared, action, parse(json)); } catch (e) { report('onHubAction', e, -1); } }
    return result(0);
  },
  state: function () { var r = encode({ hook: curHook, i: cur }); cur = -1; curObj = undefined; return r; },
  drain: function () { return result(-1); },
};
})`;
