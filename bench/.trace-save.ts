import * as http from 'node:http';
import * as fs from 'node:fs';
import { startServer, uriOf } from '../test/lsp/client';
async function main() {
  fs.mkdirSync('/tmp/ws1', { recursive: true });
  const c = await startServer('/tmp/ws1');
  const server = http.createServer((req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const uri = uriOf('/tmp/ws1/h.js');
  const version = (v: number) => `function onItemCaptured(data) {\n  console.log("v${v} " + data.request.path);\n}\n`;
  c.open(uri, version(0));
  await c.conn.sendRequest('wirehook/startCapture', { source: { interface: 'lo', filter: 'tcp port ' + port } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let stop = false;
  const load = (async () => { let i = 0; while (!stop) { await new Promise<void>((r) => { const rq = http.request({ host: '127.0.0.1', port, path: '/r/' + i++, agent }, (rs) => { rs.resume(); rs.on('end', () => r()); }); rq.end(); }); await new Promise((r) => setTimeout(r, 1)); } })();
  await c.until('v0', () => c.console.some((l) => l.text.startsWith('v0 ')));
  for (let v = 1; v <= 8; v++) {
    const from = c.console.length;
    const t = performance.now();
    c.save(uri, version(v));
    await c.until('v', () => c.console.slice(from).some((l) => l.text.startsWith('v' + v + ' ')));
    console.log('save', v, (performance.now() - t).toFixed(1));
    await new Promise((r) => setTimeout(r, 300));
  }
  stop = true;
  await load;
  console.log(c.stderr().split('\n').filter((l) => l.startsWith('TRACE load')).join(' | '));
  await c.close();
  process.exit(0);
}
void main();
