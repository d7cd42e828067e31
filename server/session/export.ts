/**
 * `wirehook/exportItems`: stored items to a file. NDJSON is the items as they are; HAR 1.2 holds
 * the HTTP items (DNS and other protocols have no place in HAR: they are left out, counted in
 * `skipped` and in the log's comment); pcap is the packets of the items' streams, from the
 * PacketKeeper. The file appears only when complete (written beside it, then renamed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HttpItem, Item } from '../../capture/item/schema';
import type { ExportFormat } from '../protocol';
import { version } from '../../package.json';
import type { PacketKeeper } from './packets';

export interface ExportResult {
  /** Items written (HAR: entries; pcap: items whose packets were kept). */
  items: number;
  /** Packets written (pcap only). */
  packets?: number;
  path: string;
  /** Items left out: not HTTP (HAR), or without kept packets (pcap). */
  skipped: number;
}

type Writer = { write(s: string): Promise<void>; done(): Promise<void> };

/** Buffered writes to a file handle (one syscall per ~1 MB). */
async function writer(file: string): Promise<Writer> {
  const fh = await fs.promises.open(file, 'w');
  let parts: string[] = [];
  let size = 0;
  const flush = async () => {
    if (parts.length === 0) return;
    const s = parts.join('');
    parts = [];
    size = 0;
    await fh.write(s);
  };
  return {
    async write(s) {
      parts.push(s);
      size += s.length;
      if (size >= 1 << 20) await flush();
    },
    async done() {
      try {
        await flush();
      } finally {
        await fh.close();
      }
    },
  };
}

export async function exportItems(items: Iterable<Item>, format: ExportFormat, file: string, packets?: PacketKeeper): Promise<ExportResult> {
  if (format !== 'har' && format !== 'ndjson' && format !== 'pcap') throw new Error(`export: unknown format ${JSON.stringify(format)} (har, ndjson or pcap)`);
  if (typeof file !== 'string' || file === '') throw new Error('export: no file path given');
  if (format === 'pcap' && !packets) throw new Error('export: pcap needs the packets, and none were kept for this capture');
  const out = path.resolve(file);
  const dir = path.dirname(out);
  if (!fs.existsSync(dir)) throw new Error(`export: folder ${dir} does not exist`);
  const tmp = path.join(dir, `.${path.basename(out)}.${process.pid}.part`);
  try {
    let r: ExportResult;
    if (format === 'pcap') r = await writePcap(items, tmp, packets!);
    else {
      const w = await writer(tmp);
      try {
        r = format === 'ndjson' ? await writeNdjson(items, w) : await writeHar(items, w);
      } finally {
        await w.done();
      }
    }
    await fs.promises.rename(tmp, out);
    return { ...r, path: out };
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

async function writeNdjson(items: Iterable<Item>, w: Writer): Promise<ExportResult> {
  let n = 0;
  for (const it of items) {
    await w.write(JSON.stringify(it) + '\n');
    n++;
  }
  return { items: n, skipped: 0, path: '' };
}

async function writePcap(items: Iterable<Item>, tmp: string, keeper: PacketKeeper): Promise<ExportResult> {
  const streams = new Set<string>();
  let n = 0;
  let skipped = 0;
  for (const it of items) {
    if (keeper.has(it.stream)) {
      streams.add(it.stream);
      n++;
    } else skipped++;
  }
  const packets = await keeper.write([...streams], tmp);
  return { items: n, packets, skipped, path: '' };
}

// ---------------------------------------------------------------- HAR 1.2

const isHttp = (it: Item): it is HttpItem => {
  const req = it.request as Record<string, unknown> | undefined;
  return it.protocol?.name === 'http' && typeof req?.method === 'string' && typeof req?.url === 'string';
};

const pairs = (m: Record<string, string | string[]> | undefined) => {
  const out: { name: string; value: string }[] = [];
  for (const [name, v] of Object.entries(m ?? {})) {
    if (Array.isArray(v)) for (const x of v) out.push({ name, value: String(x) });
    else out.push({ name, value: String(v) });
  }
  return out;
};

function absoluteUrl(it: HttpItem): string {
  const target = it.request.url || '/';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target; // absolute-form (proxy request)
  const host = it.request.headers?.Host || (it.dst.ip.includes(':') ? `[${it.dst.ip}]:${it.dst.port}` : `${it.dst.ip}:${it.dst.port}`);
  const raw = `http://${host}${target.startsWith('/') ? '' : '/'}${target}`;
  try {
    return new URL(raw).href; // percent-encodes what a URI may not hold
  } catch {
    return `http://${encodeURIComponent(host)}/${encodeURIComponent(target)}`;
  }
}

function harEntry(it: HttpItem): unknown {
  const req = it.request;
  const res = (it.response ?? {}) as Partial<HttpItem['response']>;
  const request: Record<string, unknown> = {
    method: req.method,
    url: absoluteUrl(it),
    httpVersion: req.httpVersion || 'HTTP/1.1',
    cookies: pairs(req.cookies),
    headers: pairs(req.headers),
    queryString: pairs(req.queryString),
    headersSize: -1,
    bodySize: typeof req.bodySize === 'number' ? req.bodySize : -1,
  };
  if (req.postData) {
    request.postData = { mimeType: req.postData.mimeType || '', text: req.postData.text ?? '', params: (req.postData.params ?? []).map((p) => ({ ...p })) };
  }
  const content: Record<string, unknown> = { size: res.content?.size ?? 0, mimeType: res.content?.mimeType ?? '' };
  if (res.content?.text) {
    content.text = res.content.text;
    content.encoding = res.content.encoding || 'base64';
  }
  const answered = typeof res.status === 'number';
  const entry: Record<string, unknown> = {
    startedDateTime: new Date(it.timestamp).toISOString(),
    time: it.elapsedTime,
    request,
    response: {
      status: answered ? res.status : 0,
      statusText: res.statusText ?? '',
      httpVersion: res.httpVersion ?? '',
      cookies: pairs(res.cookies),
      headers: pairs(res.headers),
      content,
      redirectURL: res.redirectURL ?? '',
      headersSize: -1,
      bodySize: typeof res.bodySize === 'number' ? res.bodySize : -1,
    },
    cache: {},
    // Only request start and response end are known: the whole exchange counts as waiting.
    timings: { send: 0, wait: it.elapsedTime, receive: 0 },
    connection: it.stream,
    comment: it.error ? `${it.id} (${it.error.type}: ${it.error.msg})` : it.id,
  };
  if (/^[0-9.]+$|:/.test(it.dst.ip)) entry.serverIPAddress = it.dst.ip;
  return entry;
}

async function writeHar(items: Iterable<Item>, w: Writer): Promise<ExportResult> {
  await w.write(`{"log":{"version":"1.2","creator":${JSON.stringify({ name: 'Wirehook', version })},"entries":[`);
  let n = 0;
  let skipped = 0;
  const other: Record<string, number> = {};
  for (const it of items) {
    if (!isHttp(it)) {
      skipped++;
      const p = it.protocol?.abbr || it.protocol?.name || '?';
      other[p] = (other[p] ?? 0) + 1;
      continue;
    }
    await w.write((n++ ? ',' : '') + JSON.stringify(harEntry(it)));
  }
  const comment = skipped
    ? `${skipped} item(s) that HAR cannot hold were left out: ${Object.entries(other).map(([p, k]) => `${k} ${p}`).join(', ')}`
    : '';
  await w.write(`]${comment ? `,"comment":${JSON.stringify(comment)}` : ''}}}\n`);
  return { items: n, skipped, path: '' };
}
