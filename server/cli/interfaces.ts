/** `wirehook interfaces`: capture interfaces with addresses and flags. */
import { listInterfaces } from '../../capture/sources/interfaces';
import { UsageError } from './common';

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      process.stdout.write('usage: wirehook interfaces [--json]\n\nLists capture interfaces: name, flags, addresses, description.\n');
      return 0;
    }
    if (a !== '--json') throw new UsageError(`unknown option '${a}' for interfaces`);
  }
  const list = listInterfaces();
  if (json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return 0;
  }
  for (const i of list) {
    const flags = [i.up === null ? '' : i.up ? 'up' : 'down', i.loopback ? 'loopback' : ''].filter(Boolean).join(',');
    const parts = [i.name.padEnd(16), (flags ? `[${flags}]` : '').padEnd(16), i.addresses.join(' ')];
    if (i.description) parts.push(`(${i.description})`);
    process.stdout.write(parts.join(' ').trimEnd() + '\n');
  }
  return 0;
}
