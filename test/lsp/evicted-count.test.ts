/**
 * The match count the items notifications carry is what the store holds: on a full store,
 * evicted matches stop counting (it used to count every arrival, so a panel showed 125k
 * matches of 100k stored and asked for rows that no longer exist). The real server over stdio,
 * a small store, copies of a real recording played through a command source.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { QueryItems, SetQuery, StartCapture } from '../../server/protocol';
import { OUT_DIR, scenarioCapture } from '../helpers/capture';
import { startServer, type LspClient } from './client';

let c: LspClient | undefined;
after(async () => {
  await c?.close();
});

test('on a full store the matched count follows evictions, for the empty query and a filter alike', async () => {
  const cap = await scenarioCapture();
  const ws = fs.mkdtempSync(path.join(OUT_DIR, 'lsp-evict-'));
  const maxItems = 120;
  c = await startServer(ws, { maxItems });
  const copies = Math.ceil(600 / cap.http.length);
  const fed = copies * cap.http.length;
  const play = async () => {
    const r = await c!.conn.sendRequest(StartCapture, { source: { command: [process.execPath, 'test/e2e/pcap-feed.mjs', cap.file, String(copies), '0', '0'] } });
    await c!.until('the copies to be stored', () => c!.states.some((s) => s.session === r.session && !s.running), 60_000);
    // The last items notification after the capture ended carries the final count.
    const n = c!.items.length;
    await c!.until('a batch after the end', () => c!.items.length > n, 5_000).catch(() => {});
    return c!.items.at(-1)!;
  };

  const all = await play();
  const stored = await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 10 });
  assert.equal(stored.total, maxItems, 'the store is full');
  assert.ok(fed > 4 * maxItems);
  assert.equal(all.matched, stored.total, `empty query: ${all.matched} matched, ${stored.total} stored`);

  const q = await c.conn.sendRequest(SetQuery, { query: 'http' });
  assert.equal(q.ok, true);
  const last = await play();
  const http = await c.conn.sendRequest(QueryItems, { query: 'http', offset: 0, limit: 10 });
  assert.ok(http.total > 0 && http.total < maxItems, `${http.total} http items stored`);
  assert.equal(last.matched, http.total, `filter: ${last.matched} matched, ${http.total} stored`);
  assert.ok(!last.counting);
});
