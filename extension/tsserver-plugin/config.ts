/**
 * What the extension sends through the TypeScript extension's `configurePlugin`
 * (extension/tsPlugin.ts): the `wirehook.scripts` globs and the workspace folders they are
 * relative to, so a file they name is a hook script here as it is for the language server.
 * A file of its own: index.ts must have no `export` (tsserver loads it as CommonJS through
 * `module.exports`, and an export made esbuild treat it as an ES module).
 */
export interface PluginConfig {
  roots?: string[];
  scripts?: string[];
}
