// Bundles the entry points with esbuild. Native/wasm packages stay external: they load
// files relative to their own package folder at run time.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

// The CLI is a small dispatcher plus one bundle per command (server/cli/load.ts says why).
const entries = [
  { in: 'server/cli/main.ts', out: 'cli' },
  { in: 'server/cli/items.ts', out: 'cmd-items' },
  { in: 'server/cli/run.ts', out: 'cmd-run' },
  { in: 'server/cli/interfaces.ts', out: 'cmd-interfaces' },
  { in: 'server/kfl/index.ts', out: 'kfl' },
  { in: 'server/runtime/worker.ts', out: 'runtime-worker' },
  { in: 'server/lsp/main.ts', out: 'server' },
  { in: 'extension/main.ts', out: 'extension' },
].filter((e) => existsSync(e.in));

// Libraries only some traffic needs (MongoDB's BSON, the GraphQL parser) are their own bundles,
// required on first use (capture/dissectors/mongodb.ts, graphql.ts): inside every bundle, their
// text and module set-up were ~20 ms of each `wirehook items` start (docs/capture.md).
const VENDOR = { bson: 'vendor-bson', 'graphql/language/parser': 'vendor-graphql' };
const vendor = {
  name: 'vendor',
  setup(b) {
    b.onResolve({ filter: /^(bson|graphql\/language\/parser)$/ }, (a) => (a.kind === 'require-call' ? { path: `./${VENDOR[a.path]}.js`, external: true } : undefined));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['cap', 'vscode', 'quickjs-emscripten', '@jitl/*', 'quickjs-emscripten-core'],
  banner: { js: '' },
  // Strings and regexps escaped to ASCII; see asciiOnly below for the comments.
  charset: 'ascii',
};
await build({ ...common, entryPoints: entries, outdir: 'dist', plugins: [vendor] });
await build({ ...common, entryPoints: Object.entries(VENDOR).map(([lib, out]) => ({ in: lib, out })), outdir: 'dist' });

// One non-ASCII character anywhere (a kept comment's arrow or section sign) makes Node hold the
// whole source as UTF-16 and V8 decode and scan it as such: measured ~2-3 ms of each start of
// cmd-items.js. With charset 'ascii' only comments can still hold them; each becomes '?' per
// UTF-16 unit, so source-map columns stay right.
function asciiOnly(file) {
  const s = readFileSync(file, 'utf8');
  if (/[^\x00-\x7f]/.test(s)) writeFileSync(file, s.replace(/[^\x00-\x7f]/gu, (c) => '?'.repeat(c.length)));
}
for (const e of entries) asciiOnly(`dist/${e.out}.js`);
for (const out of Object.values(VENDOR)) asciiOnly(`dist/${out}.js`);

// The items webview's browser code (extension/webview/) and its styles, plus the codicon font
// it shows (copied so the packaged extension needs no node_modules for it).
if (existsSync('extension/webview/main.ts')) {
  await build({
    entryPoints: { webview: 'extension/webview/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
  });
  mkdirSync('dist', { recursive: true });
  copyFileSync('extension/webview/style.css', 'dist/webview.css');
  copyFileSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/codicon.css');
  copyFileSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/codicon.ttf');
}

// The TypeScript server plugin (extension/tsserver-plugin/): its own package, which tsserver
// loads from the extension's node_modules (package.json's `file:` dependency). `typescript` is
// the one tsserver hands it, never bundled.
if (existsSync('extension/tsserver-plugin/index.ts')) {
  await build({ ...common, external: [], entryPoints: ['extension/tsserver-plugin/index.ts'], outfile: 'extension/tsserver-plugin/dist/index.js' });
}
