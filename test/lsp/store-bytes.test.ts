/**
 * The store's byte figures in the server's stats, against its memory setting (the soak's
 * "storeBytes 239 MB with maxStoreMB 64"): a capture of real loopback traffic several times the
 * size of a small `maxStoreMB` goes through the real server. Memory stays under the setting, the
 * rest is reported as spilled, and no item is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { QueryItems, StartCapture } from '../../server/protocol';
import { OUT_DIR, captureLoopback } from '../helpers/capture';
import { startServer } from './client';

const EXCHANGES = 300;
const BODY = 2048;
const MAX_STORE_MB = 0.25;

async function bigCapture(): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(Buffer.concat(chunks).toString('latin1').toUpperCase());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    return await captureLoopback(`tcp port ${port}`, async () => {
      for (let i = 0; i < EXCHANGES; i++) {
        const body = `${i} `.padEnd(BODY, 'abcdefghij');
        await new Promise<void>((res, rej) => {
          const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/upload/${i}`, agent }, (r) => {
            r.resume();
            r.on('end', res);
          });
          req.on('error', rej);
          req.end(body);
        });
      }
    });
  } finally {
    agent.destroy();
    await new Promise((r) => server.close(r));
  }
}

test('stats: storeBytes is the memory the store holds (≤ maxStoreMB), spilled items are counted apart, none lost', async () => {
  const file = await bigCapture();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const ws = fs.mkdtempSync(path.join(OUT_DIR, 'lsp-store-'));
  const c = await startServer(ws, { maxStoreMB: MAX_STORE_MB });
  try {
    const r = await c.conn.sendRequest(StartCapture, { source: { pcap: file } });
    await c.until('the capture to finish', () => c.states.some((s) => s.session === r.session && s.finished));
    await c.until('stats with every item stored', () => c.stats.some((s) => s.storedTotal >= EXCHANGES));
    const st = c.stats.find((s) => s.storedTotal >= EXCHANGES)!;
    const cap = MAX_STORE_MB * 1024 * 1024;
    assert.equal(st.storedTotal, EXCHANGES);
    assert.equal(st.stored, EXCHANGES, 'nothing evicted: the spill keeps the older items');
    assert.ok(st.storeBytes > 0 && st.storeBytes <= cap, `in memory: ${st.storeBytes} bytes, the setting ${cap}`);
    assert.ok(st.storeSpillBytes > cap, `spilled: ${st.storeSpillBytes} bytes (the items are several times the setting)`);
    const q = await c.conn.sendRequest(QueryItems, { query: 'http', offset: 0, limit: 1 });
    assert.equal(q.total, EXCHANGES, 'every exchange is queryable, spilled or not');
  } finally {
    await c.close();
  }
});
