// Bundles the entry points with esbuild. Native/wasm packages stay external: they load
// files relative to their own package folder at run time.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = [
  { in: 'server/cli/main.ts', out: 'cli' },
  { in: 'server/runtime/worker.ts', out: 'runtime-worker' },
  { in: 'server/lsp/main.ts', out: 'server' },
  { in: 'extension/main.ts', out: 'extension' },
].filter((e) => existsSync(e.in));

await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['cap', 'vscode', 'quickjs-emscripten', '@jitl/*', 'quickjs-emscripten-core'],
  banner: { js: '' },
});
