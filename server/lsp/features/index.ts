/**
 * Language features for hook scripts, as pure functions of the document text and a context
 * (observed traffic, settings). The language server (server/lsp/main.ts) calls these; they never
 * throw on half-typed code. docs/language-features.md describes each feature.
 */
import type { CodeAction, CodeLens, CompletionItem, Diagnostic, Hover, Range, SignatureHelp } from 'vscode-languageserver';
import type { ObservedValues } from '../../session/observed';
import type { HookStats } from '../../protocol';
import { docOf, hooksIn } from './structure';
import { completions as complete } from './complete';
import { hover as hoverAt } from './hover';
import { signatureHelp as signature } from './signature';
import { diagnostics as diagnose } from './diagnostics';
import { codeActions as actions } from './actions';
import { codeLenses as lenses } from './lenses';

export interface FeatureContext {
  observed: ObservedValues;
  /** Warn about syntax newer than ES5 (settings.es5Warning). */
  es5Warning: boolean;
  /** Keys of the env file, for `env.` completions. */
  envKeys: string[];
}

/** The document declares a top-level Kubeshark hook (onItemCaptured, onPacketCaptured, …). */
export function isHookScript(text: string): boolean {
  return hooksIn(docOf(text)).length > 0;
}

/** Top-level hook declarations, 1-based line and column of the hook's name. */
export function hookDeclarations(text: string): { hook: string; line: number; col: number }[] {
  return hooksIn(docOf(text)).map(({ hook, line, col }) => ({ hook, line, col }));
}

export function completions(text: string, offset: number, ctx: FeatureContext): CompletionItem[] {
  return guard(() => complete(text, offset, ctx), []);
}

export function hover(text: string, offset: number, ctx: FeatureContext): Hover | null {
  return guard(() => hoverAt(text, offset, ctx), null);
}

export function signatureHelp(text: string, offset: number, ctx: FeatureContext): SignatureHelp | null {
  return guard(() => signature(text, offset, ctx), null);
}

/** Syntax errors and lints, source `wirehook`, each lint with a stable `code` (docs/language-features.md). */
export function diagnostics(text: string, ctx: FeatureContext): Diagnostic[] {
  return diagnose(text, ctx);
}

/** Quick fixes for the wirehook diagnostics in `range`, as WorkspaceEdits on `uri`. */
export function codeActions(text: string, uri: string, range: Range, diags: Diagnostic[], ctx: FeatureContext): CodeAction[] {
  return guard(() => actions(text, uri, range, diags, ctx), []);
}

/** One lens per hook declaration: calls, errors, mean µs per call; "not run yet" before any stats. */
export function codeLenses(text: string, stats: HookStats[]): CodeLens[] {
  return lenses(text, stats);
}

/** An editor feature must not take the server down: a bug here shows as no result (and a log line). */
function guard<R>(f: () => R, fallback: R): R {
  try {
    return f();
  } catch (e) {
    console.error(`wirehook language features: ${(e as Error).stack ?? e}`);
    return fallback;
  }
}
