/**
 * TypeScript server plugin (`contributes.typescriptServerPlugins`): VS Code's own JavaScript
 * service types hook scripts with nothing written into the workspace.
 *
 * 1. A project holding a hook script (HOOK_DECL on its text) gets the extension's
 *    wirehook.d.ts as one more root file: `kfl.`, `console.`, `test.`, `Item`… resolve.
 * 2. `data` in `function onItemCaptured(data)`: TypeScript types a JS function declaration's
 *    parameters only from its own JSDoc (no contextual type reaches a declaration, whatever
 *    the d.ts declares). So before the program is bound, a top-level hook declaration without
 *    its own `@type`/`@param` gets a `@type {(data: Item) => void}` JSDoc node, built from the
 *    hook's `declare function` in wirehook.d.ts. The node is zero-width (no text, no position
 *    a request can land on); only the checker sees it. Files are never changed.
 *
 * tsserver loads this from `<extension>/node_modules/wirehook-tsserver-plugin` (the `file:`
 * dependency in package.json); the d.ts is the extension's own, three folders up.
 */
import type * as TS from 'typescript';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { minimatch } from 'minimatch';
import { HOOK_DECL, HOOK_NAMES } from '../hookDecl';
import type { PluginConfig } from './config';

/** `block`: ours; `tag`: the user's, given our tag. */
type Jsdoc = TS.JSDoc & { wirehook?: 'block' | 'tag' };
type Tag = TS.JSDocTag & { wirehook?: true };
type WithJsdoc = TS.Node & { jsDoc?: Jsdoc[]; jsDocCache?: unknown };

const SCRIPT = /\.[cm]?js$/i;

// tsserver calls the factory below once per project, and `onConfigurationChanged` on each
// project's instance: what is shared by all projects lives here, once.
/** Every project we wrap, to re-list their roots when the globs change. */
const projects = new Set<TS.server.Project>();
let config: Required<PluginConfig> = { roots: [], scripts: [] };
/** Bumped by a configuration change: cached hook answers are stale. */
let configEpoch = 0;
/** Document registries already patched (all projects of a service share one). */
const patched = new WeakSet<TS.DocumentRegistry>();

function configure(next: PluginConfig | undefined): boolean {
  const roots = Array.isArray(next?.roots) ? next.roots.filter((r) => typeof r === 'string') : [];
  const scripts = Array.isArray(next?.scripts) ? next.scripts.filter((g) => typeof g === 'string') : [];
  if (JSON.stringify({ roots, scripts }) === JSON.stringify(config)) return false;
  config = { roots, scripts };
  configEpoch++;
  return true;
}

/** A file named by `wirehook.scripts` (relative to any workspace folder: the server's rule). */
function byGlob(fileName: string): boolean {
  if (!config.scripts.length) return false;
  for (const root of config.roots) {
    const rel = relative(root, fileName);
    if (!rel || rel.startsWith('..') || resolve(root, rel) !== resolve(fileName)) continue;
    if (config.scripts.some((g) => minimatch(rel, g, { dot: true }))) return true;
  }
  return false;
}

function init(modules: { typescript: typeof TS }) {
  const ts = modules.typescript;
  const dts = resolve(__dirname, '..', '..', '..', 'wirehook.d.ts');
  let hookTypes: { mtime: number; types: Map<string, string> } | undefined;
  /** Projects whose program got the d.ts on its last update. */
  const typed = new WeakSet<TS.server.Project>();

  /** Hook name → its function type as text, from the `declare function onX(...)` lines of the d.ts. */
  function types(): Map<string, string> {
    let mtime = -1;
    try {
      mtime = statSync(dts).mtimeMs;
    } catch {
      return new Map();
    }
    if (hookTypes?.mtime === mtime) return hookTypes.types;
    const sf = ts.createSourceFile(dts, readFileSync(dts, 'utf8'), ts.ScriptTarget.Latest);
    const out = new Map<string, string>();
    for (const st of sf.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.name || !(HOOK_NAMES as readonly string[]).includes(st.name.text)) continue;
      const params = st.parameters.map((p) => p.getText(sf)).join(', ');
      out.set(st.name.text, `(${params}) => ${st.type ? st.type.getText(sf) : 'void'}`);
    }
    hookTypes = { mtime, types: out };
    return out;
  }

  /**
   * Where the added nodes sit. The root (our JSDoc block, or our tag in the user's block) and
   * its children are zero-width at the start of the root's parent: no position is inside them,
   * and the position walks that look at a zero-width node (findPrecedingToken, at its end) see
   * children without tokens and stop there. Everything deeper is positioned as synthesized
   * (-1): a zero-width name at a real position would read as a missing one (nodeIsMissing) and
   * resolve to nothing, and a real width would need real text under it. The incremental parser
   * finds the root inside its parent and leaves -1 alone (tested in test/extension).
   */
  const synthesized = (n: TS.Node, parent: TS.Node): void => {
    (n as { pos: number }).pos = -1;
    (n as { end: number }).end = -1;
    (n as { parent: TS.Node }).parent = parent;
    ts.forEachChild(n, (c) => synthesized(c, n), (arr) => {
      (arr as { pos: number }).pos = -1;
      (arr as { end: number }).end = -1;
      for (const c of arr) synthesized(c, n);
    });
  };
  const place = (root: TS.Node, parent: TS.Node): void => {
    synthesized(root, parent);
    const at = (n: TS.Node | TS.NodeArray<TS.Node>) => {
      (n as { pos: number }).pos = parent.pos;
      (n as { end: number }).end = parent.pos;
    };
    at(root);
    ts.forEachChild(root, at, (arr) => {
      at(arr);
      arr.forEach(at);
    });
  };

  /** A `@type {T}` JSDoc block for `host`. */
  function typeJsdoc(type: string, host: TS.Node): Jsdoc {
    const tmp = ts.createSourceFile('wirehook-hook.js', `/** @type {${type}} */\nfunction f() {}`, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    const doc = (tmp.statements[0] as WithJsdoc).jsDoc![0];
    place(doc, host);
    doc.wirehook = 'block';
    return doc;
  }

  /** Gives each top-level hook declaration of an unbound source file its type. */
  function annotate(sf: TS.SourceFile): void {
    const known = types();
    for (const st of sf.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.name || !st.body) continue;
      const type = known.get(st.name.text);
      if (!type) continue;
      const node = st as WithJsdoc;
      const docs = node.jsDoc ?? [];
      // A declaration the incremental parser reused keeps its annotation, shifted with the
      // text it moved past (the synthesized nodes too): back in place.
      const mine = docs.find((d) => d.wirehook);
      if (mine) {
        if (mine.wirehook === 'block') place(mine, st);
        for (const t of mine.tags ?? []) if ((t as Tag).wirehook) place(t, mine);
        continue;
      }
      if (docs.some((d) => d.tags?.some((t) => ts.isJSDocTypeTag(t) || ts.isJSDocParameterTag(t) || ts.isJSDocThisTag(t)))) continue;
      // Only the last JSDoc block's @type counts: a block of the user's that types nothing
      // (a description) gets the tag added, else the function gets the block.
      const doc = typeJsdoc(type, st);
      const own = docs[docs.length - 1];
      if (own) {
        const tag = doc.tags![0] as Tag;
        tag.wirehook = true;
        place(tag, own);
        // First, so the tags stay in position order (ours at the block's start).
        const arr = ts.factory.createNodeArray([tag, ...(own.tags ?? [])] as TS.JSDocTag[]);
        (arr as { pos: number }).pos = own.tags?.pos ?? own.end;
        (arr as { end: number }).end = own.tags?.end ?? own.end;
        (own as { tags?: TS.NodeArray<TS.JSDocTag> }).tags = arr;
        (own as Jsdoc).wirehook = 'tag';
      } else {
        node.jsDoc = [doc];
      }
      node.jsDocCache = undefined;
      for (const p of st.parameters) (p as WithJsdoc).jsDocCache = undefined;
    }
  }

  /**
   * Every source file a language service parses comes from the service's document registry:
   * a hook script is annotated there, fresh from the parser, before any checker binds it.
   * (The registry is shared by the service's projects; an incremental re-parse reuses the
   * annotated nodes it keeps, which annotate() recognises.)
   */
  function patchRegistry(reg: TS.DocumentRegistry, log: (m: string) => void): void {
    if (!reg || patched.has(reg)) return;
    patched.add(reg);
    for (const k of ['acquireDocumentWithKey', 'updateDocumentWithKey'] as const) {
      const f = reg[k] as (...a: unknown[]) => TS.SourceFile;
      (reg as unknown as Record<string, unknown>)[k] = (...args: unknown[]) => {
        const sf = f.apply(reg, args);
        try {
          if (SCRIPT.test(sf.fileName) && HOOK_DECL.test(sf.text)) annotate(sf);
        } catch (e) {
          log(`annotate ${sf.fileName}: ${(e as Error).stack}`);
        }
        return sf;
      };
    }
  }

  function create(info: TS.server.PluginCreateInfo): TS.LanguageService {
    const host = info.languageServiceHost;
    const ls = info.languageService;
    const log = (m: string) => info.project.projectService.logger.info(`[wirehook] ${m}`);
    const hookCache = new Map<string, { version: string; epoch: number; hook: boolean }>();

    const isHook = (fileName: string): boolean => {
      if (!SCRIPT.test(fileName) || fileName.includes('/node_modules/')) return false;
      const version = host.getScriptVersion(fileName);
      const c = hookCache.get(fileName);
      if (c && c.version === version && c.epoch === configEpoch) return c.hook;
      let hook = byGlob(fileName);
      if (!hook) {
        const snap = host.getScriptSnapshot(fileName);
        hook = !!snap && HOOK_DECL.test(snap.getText(0, snap.getLength()));
      }
      hookCache.set(fileName, { version, epoch: configEpoch, hook });
      return hook;
    };

    const names = host.getScriptFileNames.bind(host);
    host.getScriptFileNames = () => {
      const roots = names();
      const add = roots.some(isHook) && existsSync(dts);
      if (add) typed.add(info.project);
      else typed.delete(info.project);
      return add && !roots.includes(dts) ? [...roots, dts] : roots;
    };

    projects.add(info.project);
    // A project made after `configurePlugin` gets the configuration as its plugin entry.
    configure({ roots: config.roots, scripts: config.scripts, ...(info.config as PluginConfig) });
    patchRegistry((info.project.projectService as unknown as { documentRegistry: TS.DocumentRegistry }).documentRegistry, log);
    log(`loaded; typings ${dts}`);
    return ls;
  }

  return {
    create,
    onConfigurationChanged(next: PluginConfig): void {
      if (!configure(next)) return;
      for (const p of projects) {
        if (p.isClosed()) projects.delete(p);
        // The next request updates the graph, which lists the roots again (getScriptFileNames).
        // markAsDirty is internal to tsserver: without it, the change shows on the next edit.
        else (p as unknown as { markAsDirty?: () => void }).markAsDirty?.();
      }
    },
    // Configured projects (jsconfig/tsconfig) also list it here, so tsserver watches the file.
    getExternalFiles(project: TS.server.Project): string[] {
      return typed.has(project) ? [dts] : [];
    },
  };
}

module.exports = init;
