/**
 * Finds the Node.js runtime that runs the language server. The server may load the native
 * `cap` addon, so it runs in a real Node, never in the extension host (Electron's ABI differs).
 */
import { execFile } from 'node:child_process';

export const MIN_NODE_MAJOR = 20;

export interface NodeRuntime {
  path: string;
  version: string;
}

export class NodeNotFoundError extends Error {}

/** Runs `<nodePath> -p process.version`; rejects with a sentence a user can act on. */
export function findNode(nodePath: string): Promise<NodeRuntime> {
  const path = nodePath.trim() || 'node';
  return new Promise((resolve, reject) => {
    execFile(path, ['-p', 'process.version'], { timeout: 10_000, windowsHide: true }, (err, stdout) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'was not found' : `did not run (${err.message.split('\n')[0]})`;
        reject(new NodeNotFoundError(`Wirehook needs Node.js ${MIN_NODE_MAJOR} or newer to run its language server, and "${path}" ${why}.`));
        return;
      }
      const version = stdout.trim();
      const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
      if (major < MIN_NODE_MAJOR) {
        reject(new NodeNotFoundError(`Wirehook needs Node.js ${MIN_NODE_MAJOR} or newer to run its language server; "${path}" is ${version || 'of unknown version'}.`));
        return;
      }
      resolve({ path, version });
    });
  });
}
