// Generates server/lsp/features/model.generated.json: the type model the language features
// complete, hover and lint from, read out of capture/item/schema.ts (the item) and
// server/runtime/api.d.ts.txt (hooks and helpers) with the TypeScript parser — so there is no
// second, hand-kept list of fields. Run by `npm run build`; a test checks the file is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const OUT = 'server/lsp/features/model.generated.json';

/** The JSDoc text right before a declaration, `*` margins removed; '' when none. */
function docOf(src, node) {
  const ranges = ts.getLeadingCommentRanges(src, node.pos) ?? [];
  const last = ranges.filter((r) => src.startsWith('/**', r.pos)).at(-1);
  if (!last) return '';
  return src
    .slice(last.pos + 3, last.end - 2)
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, '').trimEnd())
    .join('\n')
    .trim();
}

function typeOf(src, t, subst) {
  if (!t) return { k: 'prim', text: 'any' };
  const text = t.getText();
  switch (t.kind) {
    case ts.SyntaxKind.ParenthesizedType:
      return typeOf(src, t.type, subst);
    case ts.SyntaxKind.ArrayType:
      return { k: 'array', of: typeOf(src, t.elementType, subst) };
    case ts.SyntaxKind.UnionType: {
      const parts = t.types.map((x) => typeOf(src, x, subst));
      if (parts.every((p) => p.k === 'prim')) return { k: 'prim', text };
      return { k: 'union', of: parts };
    }
    case ts.SyntaxKind.TypeLiteral:
      return { k: 'object', members: membersOf(src, t.members, subst) };
    case ts.SyntaxKind.FunctionType:
      return { k: 'fn', sigs: [sigOf(src, t, subst, '')] };
    case ts.SyntaxKind.TypeReference: {
      const name = t.typeName.getText();
      const args = t.typeArguments ?? [];
      if (subst.has(name)) return subst.get(name);
      if (name === 'Record' && args.length === 2) return { k: 'map', of: typeOf(src, args[1], subst) };
      if (name === 'Array' && args.length === 1) return { k: 'array', of: typeOf(src, args[0], subst) };
      if (/^[A-Z]$/.test(name)) return { k: 'prim', text: 'object' }; // a method's own type parameter (T extends object)
      return { k: 'ref', name };
    }
    default:
      return { k: 'prim', text };
  }
}

function sigOf(src, fn, subst, doc) {
  return {
    params: fn.parameters.map((p) => ({
      name: p.name.getText(),
      type: p.type ? p.type.getText() : 'any',
      optional: !!p.questionToken,
      rest: !!p.dotDotDotToken,
    })),
    ret: fn.type ? fn.type.getText() : 'void',
    doc,
  };
}

function membersOf(src, members, subst) {
  const out = [];
  for (const m of members) {
    const name = m.name?.getText();
    if (!name) continue;
    const doc = docOf(src, m);
    if (ts.isMethodSignature(m)) {
      const prev = out.find((x) => x.name === name && x.type.k === 'fn');
      const sig = sigOf(src, m, subst, doc);
      if (prev) prev.type.sigs.push(sig);
      else out.push({ name, type: { k: 'fn', sigs: [sig] }, text: 'function', optional: false, doc });
    } else if (ts.isPropertySignature(m)) {
      const t = m.type ? m.type.getText() : 'any';
      out.push({ name, type: typeOf(src, m.type, subst), text: subst.has(t) ? subst.text.get(t) : t, optional: !!m.questionToken, doc });
    }
  }
  return out;
}

/** Interfaces and type aliases of one file; hooks, globals and functions of an ambient one. */
function read(file, src) {
  const sf = ts.createSourceFile(file, src, ts.ScriptTarget.Latest, true);
  const interfaces = {};
  const aliases = {};
  const globals = {};
  const hooks = [];
  const protocols = [];
  const extended = [];
  for (const st of sf.statements) {
    if (ts.isInterfaceDeclaration(st)) {
      const subst = new Map();
      subst.text = new Map(); // a type parameter's default, as written (`Req` → `ItemRequest`)
      for (const tp of st.typeParameters ?? []) {
        if (!tp.default) continue;
        subst.set(tp.name.text, typeOf(src, tp.default, new Map()));
        subst.text.set(tp.name.text, tp.default.getText());
      }
      interfaces[st.name.text] = { doc: docOf(src, st), members: membersOf(src, st.members, subst) };
      // `interface FlowRequest extends FlowSide`: the base's members are merged in below.
      const bases = (st.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText()));
      if (bases.length) extended.push([st.name.text, bases]);
    } else if (ts.isTypeAliasDeclaration(st)) {
      const name = st.name.text;
      const m = /^([A-Z][a-z0-9]*)Item$/.exec(name);
      // `type DnsItem = Item<DnsRequest, DnsResponse>`: the protocol's request/response shapes.
      if (m && ts.isTypeReferenceNode(st.type) && st.type.typeName.getText() === 'Item' && st.type.typeArguments?.length === 2) {
        const [req, res] = st.type.typeArguments.map((a) => a.getText());
        // Names the alias cannot spell (`tcp-conn`): a JSDoc line `@protocols tcp-conn udp-conn`.
        const tagged = /@protocols\s+([^\n]+)/.exec(docOf(src, st))?.[1].trim().split(/\s+/);
        for (const name of tagged ?? [m[1].toLowerCase()]) protocols.push({ name, request: req, response: res });
      }
      aliases[name] = typeOf(src, st.type, new Map());
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      const name = st.name.text;
      const doc = docOf(src, st);
      const sig = sigOf(src, st, new Map(), doc);
      if (/^on[A-Z]/.test(name)) {
        hooks.push({ name, doc, params: st.parameters.map((p) => ({ name: p.name.getText(), type: typeOf(src, p.type, new Map()), text: p.type?.getText() ?? 'any' })), sig });
      } else {
        globals[name] = { type: { k: 'fn', sigs: [sig] }, text: 'function', doc };
      }
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        globals[d.name.getText()] = { type: typeOf(src, d.type, new Map()), text: d.type?.getText() ?? 'any', doc: docOf(src, st) };
      }
    }
  }
  // Inherited members first (in the base's order), then the interface's own (which win).
  const done = new Set();
  const resolve = (name) => {
    if (done.has(name)) return;
    done.add(name);
    const bases = extended.find(([n]) => n === name)?.[1] ?? [];
    const own = interfaces[name].members;
    const inherited = [];
    for (const b of bases) {
      if (!interfaces[b]) continue;
      resolve(b);
      for (const m of interfaces[b].members) if (!own.some((o) => o.name === m.name) && !inherited.some((o) => o.name === m.name)) inherited.push(m);
    }
    interfaces[name].members = [...inherited, ...own];
  };
  for (const [name] of extended) resolve(name);
  return { interfaces, aliases, globals, hooks, protocols };
}

export function generateModel() {
  const schema = read('schema.ts', readFileSync('capture/item/schema.ts', 'utf8'));
  const api = read('api.d.ts', readFileSync('server/runtime/api.d.ts.txt', 'utf8'));
  const model = {
    interfaces: { ...schema.interfaces, ...api.interfaces },
    aliases: { ...schema.aliases, ...api.aliases },
    protocols: schema.protocols,
    hooks: api.hooks,
    globals: api.globals,
  };
  return JSON.stringify(model, null, 1) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeFileSync(OUT, generateModel());
