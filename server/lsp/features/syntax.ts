/**
 * The real parse (acorn, as server/runtime/analyze.ts parses scripts), cached per text; its
 * syntax error, and the ES5 check: one warning per construct newer than ES5, found by walking
 * the ecmaVersion-latest AST (an ES5 parse would stop at the first one).
 */
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

type Node = acorn.Node & Record<string, any>;

export interface Parsed {
  ast: Node | null;
  error: { pos: number; message: string } | null;
}

const cache = new Map<string, Parsed>();

export function parse(text: string): Parsed {
  const hit = cache.get(text);
  if (hit) return hit;
  let r: Parsed;
  try {
    const ast = acorn.parse(text, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true }) as Node;
    r = { ast, error: null };
  } catch (e) {
    const err = e as SyntaxError & { pos?: number };
    r = { ast: null, error: { pos: err.pos ?? 0, message: err.message.replace(/\s*\(\d+:\d+\)$/, '') } };
  }
  if (cache.size >= 4) cache.delete(cache.keys().next().value!);
  cache.set(text, r);
  return r;
}

export interface Es5Finding {
  s: number;
  e: number;
  what: string;
  /** `let`/`const` → `var`. */
  fix?: { s: number; e: number; text: string };
}

/** Constructs newer than ES5, each with a precise range (the construct's head, not its whole body). */
export function es5Findings(ast: Node, text: string): Es5Finding[] {
  const out: Es5Finding[] = [];
  const add = (s: number, e: number, what: string, fix?: Es5Finding['fix']) => out.push(fix ? { s, e, what, fix } : { s, e, what });
  const fnHead = (n: Node) => {
    if (n.async) add(n.start, n.start + 5, 'async functions');
    if (n.generator) add(n.start, (n.body as Node).start, 'generator functions');
    for (const p of n.params as Node[]) {
      if (p.type === 'AssignmentPattern') add(p.start, p.end, 'default parameters');
    }
  };
  walk.full(ast, (n: Node) => {
    switch (n.type) {
      case 'VariableDeclaration':
        if (n.kind !== 'var') add(n.start, n.start + n.kind.length, `"${n.kind}" declarations`, { s: n.start, e: n.start + n.kind.length, text: 'var' });
        break;
      case 'ArrowFunctionExpression': {
        const arrow = text.lastIndexOf('=>', (n.body as Node).start);
        add(n.start, arrow >= n.start ? arrow + 2 : (n.body as Node).start, 'arrow functions');
        fnHead(n);
        break;
      }
      case 'FunctionDeclaration':
      case 'FunctionExpression':
        fnHead(n);
        break;
      case 'TemplateLiteral':
        add(n.start, n.end, 'template strings');
        break;
      case 'TaggedTemplateExpression':
        add(n.start, (n.quasi as Node).start, 'tagged templates');
        break;
      case 'ClassDeclaration':
      case 'ClassExpression':
        add(n.start, (n.body as Node).start, 'classes');
        break;
      case 'ObjectPattern':
      case 'ArrayPattern':
        add(n.start, n.end, 'destructuring');
        break;
      case 'SpreadElement':
      case 'RestElement':
        add(n.start, n.end, n.type === 'RestElement' ? 'rest parameters' : 'spread');
        break;
      case 'ForOfStatement':
        add(n.start, (n.right as Node).start, 'for…of loops');
        break;
      case 'Property':
        if (n.shorthand && n.kind === 'init' && !n.method) add(n.start, n.end, 'shorthand properties');
        else if (n.method) add(n.start, (n.value as Node).start, 'method shorthand');
        else if (n.computed) add(n.start, (n.value as Node).start, 'computed property names');
        break;
      case 'ChainExpression':
        add(n.start, n.end, 'optional chaining (?.)');
        break;
      case 'LogicalExpression':
        if (n.operator === '??') add((n.left as Node).end, (n.right as Node).start, 'the ?? operator');
        break;
      case 'BinaryExpression':
        if (n.operator === '**') add((n.left as Node).end, (n.right as Node).start, 'the ** operator');
        break;
      case 'AwaitExpression':
        add(n.start, n.start + 5, 'await');
        break;
      case 'Literal':
        if (typeof n.bigint === 'string') add(n.start, n.end, 'BigInt literals');
        else if (n.regex && /[uys]/.test(n.regex.flags)) add(n.start, n.end, `the regex flag "${n.regex.flags.replace(/[gim]/g, '')}"`);
        break;
      case 'MetaProperty':
        add(n.start, n.end, n.meta.name + '.' + n.property.name);
        break;
    }
  });
  // Trim ranges to the first line (VS Code underlines the whole span; a multi-line template is noisy).
  for (const f of out) {
    const nl = text.indexOf('\n', f.s);
    if (nl >= 0 && nl < f.e && f.what !== 'template strings') f.e = nl;
  }
  return out.sort((a, b) => a.s - b.s);
}
