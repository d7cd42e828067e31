#!/usr/bin/env node
/**
 * `wirehook` — the headless CLI: the same capture engine and hook runtime as the editor, in a
 * terminal. Each subcommand lives in its own file and exports `main(argv): Promise<number>`.
 */
import { reportAndExit, UsageError } from './common';
import { loadBundle } from './load';

type CommandModule = { main(argv: string[]): Promise<number> };
type Command = { summary: string; load: () => CommandModule };

// Each command is its own bundle (dist/cmd-NAME.js): a start compiles only what it runs.
const COMMANDS: Record<string, Command> = {
  items: { summary: 'dissect a capture and print one item per line (NDJSON)', load: () => loadBundle('cmd-items', 'items') },
  interfaces: { summary: 'list capture interfaces', load: () => loadBundle('cmd-interfaces', 'interfaces') },
  run: { summary: 'run hook scripts over a capture', load: () => loadBundle('cmd-run', 'run') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)}${c.summary}`);
  return `usage: wirehook <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'wirehook <command> --help' for a command's options.\n`;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    process.exit(cmd ? 0 : 2);
  }
  const c = COMMANDS[cmd];
  if (!c) throw new UsageError(`unknown command '${cmd}' (try 'wirehook --help')`);
  const mod = c.load();
  process.exitCode = await mod.main(rest);
}

main().catch(reportAndExit);
