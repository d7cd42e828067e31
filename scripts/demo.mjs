// `npm run demo`: the bundled example hooks over the bundled captures, through the real CLI.
// First every hook over demo.pcap (HTTP/1.1 and DNS), then services.js over services.pcap
// (HTTP/2, gRPC, GraphQL, WebSocket, TLS, Redis, PostgreSQL, MySQL, Kafka, AMQP, MongoDB).
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

function wirehook(argv) {
  console.error(`\n$ wirehook ${argv.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['dist/cli.js', ...argv], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const hooks = readdirSync('examples/hooks').filter((f) => f.endsWith('.js') && f !== 'services.js').sort().map((f) => `examples/hooks/${f}`);
wirehook(['run', ...hooks, '--pcap', 'examples/captures/demo.pcap', '--query', 'http and response.status >= 500',
  // the example reports run on 5 s and 10 s jobs: keep them alive long enough to print once
  '--env', 'examples/demo.env', '--linger', '11']);
wirehook(['run', 'examples/hooks/services.js', '--pcap', 'examples/captures/services.pcap']);
