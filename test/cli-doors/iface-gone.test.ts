/**
 * A door of live capture: the interface disappears mid-capture. A veth pair, one end in a
 * network namespace of its own with an HTTP server; `wirehook run -i` captures on the other end,
 * real requests cross it, then the interface is deleted. The user must be told (exit 2, one
 * clear line) and the items of what was captured before must all be out. Before the fix, tcpdump
 * ended with "pcap_loop: The interface disappeared" and the CLI exited 0 as if the capture had
 * simply ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CLI = resolve('dist', 'cli.js');
const OUT = resolve('test', '.out');

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Resolves when `cond()` holds after some output, rejects when the process exits first or after `ms`. */
function waitFor(what: string, cond: () => boolean, onOutput: (f: () => void) => void, ms = 30_000): Promise<void> {
  return new Promise((res, rej) => {
    if (cond()) return res();
    const t = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms);
    onOutput(() => {
      if (cond()) {
        clearTimeout(t);
        res();
      }
    });
  });
}

test('run -i: the interface disappears mid-capture: exit 2 with one clear line, the items captured before are all out', async () => {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const ns = `whns${tag}`;
  const [a, b] = [`wha${tag}`, `whb${tag}`];
  const net = `10.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = mkdtempSync(join(OUT, 'iface-gone-'));
  const hook = join(dir, 'h.js');
  writeFileSync(hook, 'function onItemCaptured(d) { console.log("item " + d.request.path + " " + d.response.status); }\n');
  let server: ReturnType<typeof spawn> | null = null;
  let run: ReturnType<typeof spawn> | null = null;
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    ip('link', 'set', b, 'netns', ns);
    ip('addr', 'add', `${net}.1/30`, 'dev', a);
    ip('link', 'set', a, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', b);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', b, 'up');
    server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
      `require('http').createServer((q, s) => s.end('ok ' + q.url)).listen(${port}, '${net}.2', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      server!.stdout!.once('data', () => res());
      server!.once('exit', (c) => rej(new Error(`server exited ${c}`)));
    });

    run = spawn(process.execPath, [CLI, 'run', hook, '-i', a, '-f', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const listeners: (() => void)[] = [];
    const poke = () => listeners.forEach((l) => l());
    run.stdout!.on('data', (d) => { out += d; poke(); });
    run.stderr!.on('data', (d) => { err += d; poke(); });
    const exit = new Promise<number | null>((r) => run!.once('exit', (c) => { r(c); poke(); }));
    await waitFor('the capture to start', () => /capturing on/.test(err), (f) => listeners.push(f));

    const agent = new http.Agent({ keepAlive: false });
    for (let i = 0; i < 5; i++) {
      const body = await new Promise<string>((res, rej) => {
        http.get({ host: `${net}.2`, port, path: `/gone/${i}`, agent }, (r) => {
          let s = '';
          r.on('data', (d) => (s += d));
          r.on('end', () => res(s));
        }).on('error', rej);
      });
      assert.equal(body, `ok /gone/${i}`);
    }
    // Every exchange is an item before the interface goes (a block is handed over within ~1 s).
    await waitFor('5 items', () => (out.match(/^item /gm) ?? []).length >= 5, (f) => listeners.push(f));
    ip('link', 'del', a);
    const code = await Promise.race([exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    assert.equal(code, 2, `exit code; stderr: ${err}`);
    assert.match(err, /^wirehook: capture on wha\d+ ended early: The interface disappeared \(the items of the packets captured before are kept\)$/m);
    assert.deepEqual(out.trim().split('\n'), [0, 1, 2, 3, 4].map((i) => `item /gone/${i} 200`));
  } finally {
    if (run && run.exitCode === null) run.kill('SIGKILL');
    server?.kill();
    try { ip('link', 'del', a); } catch { /* gone already: the point of the test */ }
    try { ip('netns', 'del', ns); } catch { /* not made */ }
  }
});
