/** Helpers for the suite: asking the launcher for browser work, awaiting VS Code events. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const OUT = process.env.WIREHOOK_E2E_OUT ?? '';
let nextId = 0;

/** Asks the launcher (test/e2e/launcher.mjs) to do something in the browser; resolves with its answer. */
export function askLauncher<T = unknown>(op: 'screenshot' | 'ui', fields: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
  if (!OUT) throw new Error('WIREHOOK_E2E_OUT is not set: run the suite through test/e2e/run.mjs');
  const id = `${process.pid}-${Date.now()}-${nextId++}`;
  const ackDir = path.join(OUT, 'acks');
  fs.mkdirSync(ackDir, { recursive: true });
  const file = path.join(ackDir, `${id}.json`);
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      let r: { ok: boolean; value?: T; error?: string; path?: string };
      try {
        r = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        return false; // not complete yet
      }
      watcher.close();
      clearTimeout(timer);
      if (r.ok) resolve((r.value ?? r.path) as T);
      else reject(new Error(`launcher ${op} failed: ${r.error}`));
      return true;
    };
    const watcher = fs.watch(ackDir, () => void done());
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`launcher did not answer ${op} ${JSON.stringify(fields)} in ${timeoutMs} ms (not run through test/e2e/launcher.mjs?)`));
    }, timeoutMs);
    console.log(`__e2e__:${JSON.stringify({ id, op, ...fields })}`);
    done();
  });
}

export async function screenshot(name: string): Promise<string> {
  await vscode.commands.executeCommand('notifications.clearAll');
  // A short settle lets the workbench paint after the last change (only for the picture).
  return askLauncher<string>('screenshot', { name, settle: 400 });
}

export function ui<T = any>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  return askLauncher<T>('ui', { name, args }, 90_000);
}

/** Resolves when `check()` is truthy, re-checking whenever `event` fires. */
export function when<T>(event: vscode.Event<unknown>, check: () => T | undefined | false, what: string, timeoutMs = 45_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const first = check();
    if (first) return resolve(first);
    const sub = event(() => {
      const v = check();
      if (v) {
        sub.dispose();
        clearTimeout(timer);
        resolve(v);
      }
    });
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
  });
}

export async function setTheme(theme: 'Default Light Modern' | 'Default Dark Modern' | 'Default High Contrast' | 'Default High Contrast Light'): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
}
