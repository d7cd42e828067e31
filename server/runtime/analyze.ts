/**
 * Static analysis of a hook script (acorn): its title, which hooks it defines, whether it
 * touches `pcap.*`, and — the speed crux — which `data.…` paths each item hook can read, so
 * the runtime moves only those into QuickJS (moving a whole 2 KB item costs ~55 µs; a hook
 * call ~1 µs). Anything we cannot follow statically falls back to the whole item.
 */
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { mergeProjections } from './projection';

/** A projection: `true` = the whole value; otherwise the keys to copy, each with its own projection. */
export type Projection = true | { [key: string]: Projection };

export interface HookInfo {
  /** What the hook's first parameter may read (`true` = everything). */
  reads: Projection;
}

export interface ScriptAnalysis {
  title: string;
  hooks: Record<string, HookInfo | undefined>;
  /** 1-based line of each hook's (last top-level) definition. */
  hookLines: Record<string, number>;
  usesPcap: boolean;
  /** `kfl.match` appears: it must see whole items (the host evaluates it on the full item). */
  usesKflMatch: boolean;
  /** Direct `console.<method>(…)` calls, in source order: where each starts (see sites.ts). */
  consoleSites: ConsoleSite[];
}

/** A `console.x(…)` call: UTF-16 offset of `console` in the source, 1-based line and column. */
export interface ConsoleSite {
  offset: number;
  line: number;
  col: number;
}

export class AnalysisSyntaxError extends Error {
  constructor(readonly line: number, readonly col: number, message: string) {
    super(message);
  }
}

export const ITEM_HOOKS = ['onItemCaptured', 'onItemQueried', 'onPacketCaptured'] as const;
export const HOOK_NAMES = ['onItemCaptured', 'onItemQueried', 'onPacketCaptured', 'onJobPassed', 'onJobFailed', 'onHubAction'] as const;
const CONSOLE_METHODS = new Set(['log', 'info', 'debug', 'warn', 'error', 'clear']);

/** Names found on Object.prototype: reading them is a method/prototype access, not item data. */
const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

type Node = acorn.Node & Record<string, any>;

export function analyzeScript(source: string): ScriptAnalysis {
  let firstComment: string | null = null;
  let ast: Node;
  try {
    ast = acorn.parse(source, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowReturnOutsideFunction: true,
      allowHashBang: true,
      locations: true,
      onComment: (block, text) => {
        if (firstComment === null) firstComment = block ? text.replace(/^\s*\*+/gm, '') : text;
      },
    }) as Node;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    const msg = err.message.replace(/\s*\(\d+:\d+\)$/, '');
    throw new AnalysisSyntaxError(err.loc?.line ?? 1, (err.loc?.column ?? 0) + 1, msg);
  }
  const title = (firstComment ?? '').split('\n').map((l: string) => l.trim()).filter(Boolean)[0] ?? '';

  const defs = hookDefinitions(ast);
  const hooks: Record<string, HookInfo | undefined> = {};
  for (const name of ITEM_HOOKS) {
    const d = defs.get(name);
    // Every function the name may end up holding: the hook that runs is the last one assigned.
    let reads: Projection = d && !d.opaque && d.fns.length ? {} : true;
    for (const fn of d?.fns ?? []) if (reads !== true) reads = mergeProjections(reads, paramReads(fn, name === 'onItemQueried'));
    hooks[name] = { reads };
  }
  const hookLines: Record<string, number> = {};
  for (const [name, d] of defs) if (d.line) hookLines[name] = d.line;

  let usesPcap = false;
  let usesKflMatch = false;
  let consoleSites: ConsoleSite[] = [];
  let consoleBound = false;
  walk.simple(ast, {
    MemberExpression(n: Node) {
      if (n.object.type === 'Identifier' && n.object.name === 'pcap') usesPcap = true;
      if (n.object.type === 'Identifier' && n.object.name === 'kfl' && propKey(n) !== 'validate') usesKflMatch = true;
    },
    Identifier(n: Node) {
      // `var p = pcap` or passing it around: assume it is used.
      if (n.name === 'pcap') usesPcap = true;
      if (n.name === 'kfl') usesKflMatch = true;
    },
    CallExpression(n: Node) {
      const c = n.callee as Node;
      if (c.type === 'MemberExpression' && c.object.type === 'Identifier' && c.object.name === 'console' && CONSOLE_METHODS.has(propKey(c) ?? '')) {
        consoleSites.push({ offset: c.object.start, line: c.object.loc.start.line, col: c.object.loc.start.column + 1 });
      }
    },
    VariablePattern(n: Node) {
      if (n.name === 'console') consoleBound = true;
    },
    AssignmentExpression(n: Node) {
      if (n.left.type === 'MemberExpression' && propKey(n.left) === 'console') consoleBound = true; // globalThis.console = …
    },
  } as walk.SimpleVisitors<unknown>);
  // A script that declares or assigns its own `console` keeps it as is (its lines have no location).
  if (consoleBound) consoleSites = [];
  consoleSites.sort((a, b) => a.offset - b.offset);
  return { title, hooks, hookLines, usesPcap, usesKflMatch, consoleSites };
}

interface HookDef {
  /** Function values the name is given (declarations, `var x = function`, `x = function`). */
  fns: Node[];
  /** Assigned something else too (a call's result, through a member, …): what it reads is unknown. */
  opaque: boolean;
  /** Line of the last top-level definition, 0 if none. */
  line: number;
}

/**
 * Where each hook name gets its value. A script may define a hook and reassign it at top level
 * (`onItemCaptured = function (d) {…}`): the hook that runs is the last one, so the projection
 * is the union over every function the name is given, and anything we cannot follow reads the
 * whole item.
 */
function hookDefinitions(ast: Node): Map<string, HookDef> {
  const names = new Set<string>(HOOK_NAMES);
  const defs = new Map<string, HookDef>();
  const def = (name: string) => {
    let d = defs.get(name);
    if (!d) defs.set(name, (d = { fns: [], opaque: false, line: 0 }));
    return d;
  };
  const isFn = (n: Node | null | undefined) => !!n && /Function/.test(n.type);
  for (const st of ast.body as Node[]) {
    if (st.type === 'FunctionDeclaration' && st.id && names.has(st.id.name)) {
      def(st.id.name).fns.push(st);
      def(st.id.name).line = st.loc!.start.line;
    }
    if (st.type === 'VariableDeclaration') {
      for (const d of st.declarations as Node[]) {
        if (d.id.type !== 'Identifier' || !names.has(d.id.name) || !d.init) continue;
        if (isFn(d.init)) def(d.id.name).fns.push(d.init);
        else def(d.id.name).opaque = true;
        def(d.id.name).line = d.loc!.start.line;
      }
    }
    const e = st.type === 'ExpressionStatement' ? (st.expression as Node) : null;
    if (e?.type === 'AssignmentExpression' && e.left.type === 'Identifier' && names.has(e.left.name) && isFn(e.right)) {
      def(e.left.name).line = st.loc!.start.line;
    }
  }
  walk.simple(ast, {
    AssignmentExpression(n: Node) {
      const l = n.left as Node;
      const name = l.type === 'Identifier' ? l.name : l.type === 'MemberExpression' ? propKey(l) : null;
      if (name === null || !names.has(name)) return;
      if (l.type === 'Identifier' && n.operator === '=' && isFn(n.right)) def(name).fns.push(n.right);
      else def(name).opaque = true;
    },
  });
  return defs;
}

/** What the function's first parameter may read; `queried` hooks that return or write get everything. */
function paramReads(fn: Node, queried: boolean): Projection {
  const p0 = fn.params[0] as Node | undefined;
  if (!p0) return {};
  if (p0.type !== 'Identifier') return true;
  const param = p0.name as string;
  const body = fn.body as Node;
  if (body.type !== 'BlockStatement') return true; // arrow expression body: its value is returned

  // Pass 1: declaration counts (shadowing/reassignment makes a name untrustworthy) and aliases.
  const declCount = new Map<string, number>();
  let dynamic = false;
  walk.full(body, (n: Node, _st, type) => {
    if (type === 'VariablePattern') declCount.set(n.name, (declCount.get(n.name) ?? 0) + 1);
    if (n.type === 'Identifier' && n.name === 'arguments') dynamic = true;
    if (n.type === 'WithStatement') dynamic = true;
    if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'eval') dynamic = true;
    if (queried && n.type === 'ReturnStatement' && n.argument) dynamic = true;
  });
  if (dynamic || declCount.has(param)) return true;

  const roots = new Map<string, string[]>([[param, []]]);
  for (let changed = true; changed; ) {
    changed = false;
    walk.simple(body, {
      VariableDeclarator(d: Node) {
        if (d.id.type !== 'Identifier' || !d.init || roots.has(d.id.name)) return;
        if (declCount.get(d.id.name) !== 1) return;
        const chain = memberChain(d.init, roots);
        if (chain && chain.length > 0) {
          roots.set(d.id.name, chain);
          changed = true;
        }
      },
    });
  }

  // Pass 2: every use of the parameter or an alias adds the path it reads.
  const tree: { [k: string]: Projection } = {};
  let whole = false;
  walk.ancestor(body, {
    Identifier(n: Node, _st: unknown, ancestors: Node[]) {
      if (whole) return;
      const base = roots.get(n.name);
      if (!base) return;
      const path = [...base];
      let top: Node = n;
      let open = true; // the chain ended on a static key (not a computed/prototype access)
      let i = ancestors.length - 2;
      while (i >= 0) {
        const p = ancestors[i];
        if (p.type === 'ChainExpression') { top = p; i--; continue; }
        if (p.type !== 'MemberExpression' || p.object !== top) break;
        const key = propKey(p);
        top = p;
        i--;
        if (key === null || PROTO_NAMES.has(key)) { open = false; break; }
        path.push(key);
      }
      const parent = ancestors[i] as Node | undefined;
      // A method call on the chain (`data.request.path.indexOf(x)`): the object is read whole.
      if (open && parent?.type === 'CallExpression' && parent.callee === top && top.type === 'MemberExpression' && path.length > base.length) {
        path.pop();
      }
      if (parent && isWrite(parent, top)) { whole = true; return; }
      if (path.length === 0 && n === top && parent && isKnownHelperArg(parent, n)) return;
      if (parent?.type === 'VariableDeclarator' && parent.init === top && parent.id?.type === 'Identifier' && roots.get(parent.id.name)?.join('.') === path.join('.')) {
        // The alias's own value is read only where it is used, but evaluating the declaration
        // walks the chain: the objects along it must exist (else `var p = data.a.b` throws).
        let t = tree;
        for (const k of path.slice(0, -1)) {
          const next = t[k];
          if (next === true) break;
          t = (t[k] = next ?? {}) as { [k: string]: Projection };
        }
        return;
      }
      if (path.length === 0) { whole = true; return; }
      addPath(tree, path);
    },
  });
  return whole ? true : tree;
}

function propKey(m: Node): string | null {
  if (!m.computed) return m.property.type === 'Identifier' ? m.property.name : null;
  const k = m.property;
  if (k.type === 'Literal' && (typeof k.value === 'string' || typeof k.value === 'number')) return String(k.value);
  return null;
}

/** `root.a.b` (static keys only) → [...rootPath, 'a', 'b'], else null. */
function memberChain(n: Node, roots: Map<string, string[]>): string[] | null {
  const keys: string[] = [];
  let cur = n;
  while (cur.type === 'MemberExpression') {
    const k = propKey(cur);
    if (k === null || PROTO_NAMES.has(k)) return null;
    keys.unshift(k);
    cur = cur.object;
  }
  if (cur.type !== 'Identifier') return null;
  const base = roots.get(cur.name);
  return base ? [...base, ...keys] : null;
}

function isWrite(parent: Node, child: Node): boolean {
  if (parent.type === 'AssignmentExpression' && parent.left === child) return true;
  if (parent.type === 'UpdateExpression') return true;
  if (parent.type === 'UnaryExpression' && parent.operator === 'delete') return true;
  if (parent.type === 'ForInStatement' || parent.type === 'ForOfStatement') return parent.left === child;
  return false;
}

/** `kfl.match(q, data)` and `test.pass/fail(data)` take the item by identity: the host has it whole. */
function isKnownHelperArg(parent: Node, n: Node): boolean {
  if (parent.type !== 'CallExpression' || parent.callee.type !== 'MemberExpression') return false;
  const c = parent.callee;
  if (c.object.type !== 'Identifier' || c.computed) return false;
  const name = `${c.object.name}.${c.property.name}`;
  if (name === 'kfl.match') return parent.arguments[1] === n;
  if (name === 'test.pass' || name === 'test.fail') return parent.arguments[0] === n;
  return false;
}

function addPath(tree: { [k: string]: Projection }, path: string[]): void {
  let t = tree;
  for (let i = 0; i < path.length; i++) {
    const k = path[i];
    const cur = t[k];
    if (cur === true) return;
    if (i === path.length - 1) { t[k] = true; return; }
    if (cur === undefined) t[k] = {};
    t = t[k] as { [k: string]: Projection };
  }
}
