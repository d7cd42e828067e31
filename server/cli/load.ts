/**
 * Loads a module that the build ships as its own bundle (dist/<name>.js), or its source under
 * tsx (tests, benches). One bundle for everything cost ~50 ms of compile time on every start
 * (1.25 MB, most of it the query engines and the hook runtime); `items` now loads only the
 * capture engine, and the query engines only with --query. scripts/build.mjs lists the bundles.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function loadBundle<T>(bundle: string, source: string): T {
  const built = join(__dirname, `${bundle}.js`);
  if (__filename.endsWith('.js') && existsSync(built)) return require(built) as T;
  // From source: `source` is relative to server/cli/. A computed path keeps esbuild from
  // inlining it into the calling bundle.
  return require(join(__dirname, source)) as T;
}
