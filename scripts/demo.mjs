// `npm run demo`: the bundled example hooks over the bundled capture, through the real CLI.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const capture = 'examples/captures/demo.pcap';
const hooks = readdirSync('examples/hooks').filter((f) => f.endsWith('.js')).sort().map((f) => `examples/hooks/${f}`);
const argv = ['dist/cli.js', 'run', ...hooks, '--pcap', capture, '--query', 'http and response.status >= 500',
  // the example reports run on 5 s and 10 s jobs: keep them alive long enough to print once
  '--env', 'examples/demo.env', '--linger', '11'];
console.error(`$ wirehook ${argv.slice(1).join(' ')}\n`);
const r = spawnSync(process.execPath, argv, { stdio: 'inherit' });
process.exit(r.status ?? 1);
