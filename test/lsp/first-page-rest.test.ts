/**
 * A new query whose first page the time budget cuts short: the rest of the page comes as
 * `older` rows (stored matches older than everything sent since the reset, oldest first), not
 * as live previews, which a client appends as the newest. The real server over stdio, copies
 * of the demo recording played through a command source; the query matches only the oldest
 * copies, so the newest-first scan for the page passes every newer item before its first match.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckQuery, QueryItems, SetQuery, StartCapture } from '../../server/protocol';
import { OUT_DIR } from '../helpers/capture';
import { startServer, type LspClient } from './client';

const DEMO = path.resolve('examples/captures/demo.pcap');
let c: LspClient | undefined;
after(async () => {
  await c?.close();
});

test('a first page cut short by the time budget is completed with older rows, in order, before the count', async () => {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const ws = fs.mkdtempSync(path.join(OUT_DIR, 'lsp-rest-'));
  c = await startServer(ws);
  const copies = 500;
  const r = await c.conn.sendRequest(StartCapture, { source: { command: [process.execPath, 'test/e2e/pcap-feed.mjs', DEMO, String(copies), '0', '0'] } });
  await c.until('the copies to be stored', () => c!.states.some((s) => s.session === r.session && !s.running), 120_000);
  const stored = await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 0 });
  const perCopy = stored.total / copies;
  assert.equal(perCopy, Math.round(perCopy), `${stored.total} items from ${copies} copies`);
  // Items of the oldest 5 copies (each copy is 2 s after the last): 5 × perCopy > a page.
  const [firstOfSixth] = (await c.conn.sendRequest(QueryItems, { query: '', offset: 5 * perCopy, limit: 1 })).items;
  const query = `timestamp < timestamp("${new Date(firstOfSixth.timestamp).toISOString()}")`;
  // Its matches, read without the query (running it would fill the store's hit cache for it,
  // and the page would then come at once).
  const matches = (await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 5 * perCopy })).items;
  assert.ok(matches.length > 200);
  const all = { total: matches.length };
  const page = matches.slice(-200).map((p) => p.id);

  const from = c.items.length;
  const q = await c.conn.sendRequest(SetQuery, { query });
  assert.equal(q.ok, true);
  assert.ok(q.partial && (q.matched ?? 0) < 200, `the budget cut the page short (${q.matched} of 200 found before the answer)`);
  await c.until('the total', () => c!.items.slice(from).some((b) => !b.counting && b.matched === all.total), 60_000);
  const batches = c.items.slice(from);
  const at = batches.findIndex((b) => b.reset);
  assert.ok(at >= 0);
  const shown = batches[at].previews.map((p) => p.id);
  assert.equal(shown.length, q.matched);
  // Nothing arrives live here: no batch before the count has previews; one has the page's rest.
  const total = batches.findIndex((b) => !b.counting);
  const before = batches.slice(at + 1, total);
  assert.deepEqual(before.flatMap((b) => b.previews), []);
  const rest = before.flatMap((b) => b.older ?? []).map((p) => p.id);
  assert.equal(before.filter((b) => b.older).length, 1, 'the rest comes in one batch');
  assert.deepEqual([...rest, ...shown], page, 'the rest goes before the page shown, oldest first: together the newest 200 matches');
  // Its count is what is shown meanwhile (a lower bound), then the total.
  assert.equal(before.find((b) => b.older)!.matched, 200);
  assert.equal(batches[total].matched, all.total);
  assert.equal(batches[total].older, undefined);
});

test('a check still counting stops for a newer check or an applied query, and says it was not counted', async () => {
  assert.ok(c, 'runs after the test above, on its store');
  const total = (await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 0 })).total;
  assert.ok(total > 20_000, `${total} items stored: more than one slice of a scan`);
  // Texts no query has used yet (each is compiled and counted anew).
  const older = c.conn.sendRequest(CheckQuery, { query: 'http && status_code >= 400 ' });
  const newer = c.conn.sendRequest(CheckQuery, { query: 'http && status_code >= 400  ' });
  const [a, b] = await Promise.all([older, newer]);
  assert.equal(a.ok, true);
  assert.equal(a.matched, undefined, 'the older check was stopped');
  const errors = (await c.conn.sendRequest(QueryItems, { query: 'http && status_code >= 400', offset: 0, limit: 0 })).total;
  assert.equal(b.matched, errors, 'the newer one counted every stored match');
  const check = c.conn.sendRequest(CheckQuery, { query: 'dns && dst.port == 53' });
  const applied = await c.conn.sendRequest(SetQuery, { query: 'dns && dst.port == 53' });
  assert.equal(applied.ok, true);
  const r = await check;
  assert.equal(r.ok, true);
  assert.equal(r.matched, undefined, 'stopped by setQuery, which counts the query itself');
  // A bad query is still refused at once, with its position.
  const bad = await c.conn.sendRequest(CheckQuery, { query: 'http && (' });
  assert.equal(bad.ok, false);
  assert.ok(bad.error);
  await c.conn.sendRequest(SetQuery, { query: '' });
});
