/**
 * Client-side conversions of one item (Kubeshark JSON shape, docs/items.md) for "Copy as …":
 * cURL and HAR need only the item, so they are built here instead of round-tripping a temp
 * file through `wirehook/exportItems` (which the export command uses for many items).
 */

type Rec = Record<string, any>;

function hostOf(item: Rec): string {
  const headers: Rec = item?.request?.headers ?? {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'host' && v) return String(v);
  const dst: Rec = item?.dst ?? {};
  const port = String(dst.port ?? '');
  const host = dst.name || dst.ip || 'localhost';
  return port && port !== '80' ? `${host}:${port}` : host;
}

/** Absolute URL of an HTTP item's request (`url` is the target exactly as sent). */
export function fullUrl(item: Rec): string {
  const url = String(item?.request?.url ?? item?.request?.path ?? '/');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return `http://${hostOf(item)}${url.startsWith('/') ? '' : '/'}${url}`;
}

function isHttp(item: Rec): boolean {
  return item?.protocol?.name === 'http';
}

/** POSIX-shell single-quoting. */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A cURL command that repeats an HTTP item's request. Throws for other protocols. */
export function toCurl(item: Rec): string {
  if (!isHttp(item)) throw new Error(`cURL needs an HTTP item; this one is ${item?.protocol?.abbr ?? 'unknown'}`);
  const req: Rec = item.request ?? {};
  const parts = ['curl'];
  const method = String(req.method || 'GET');
  if (method !== 'GET') parts.push('-X', sh(method));
  parts.push(sh(fullUrl(item)));
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    // curl computes these itself; repeating them breaks a body we re-encode.
    if (/^(content-length|host|transfer-encoding)$/i.test(k)) continue;
    parts.push('-H', sh(`${k}: ${v}`));
  }
  const body = req.postData?.text;
  if (typeof body === 'string' && body.length > 0) parts.push('--data-raw', sh(body));
  return parts.join(' ');
}

function nameValues(obj: Rec | undefined): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [name, v] of Object.entries(obj ?? {})) {
    if (Array.isArray(v)) for (const x of v) out.push({ name, value: String(x) });
    else out.push({ name, value: String(v) });
  }
  return out;
}

/** A HAR 1.2 entry for an HTTP item. */
export function toHarEntry(item: Rec): Rec {
  if (!isHttp(item)) throw new Error(`HAR needs an HTTP item; this one is ${item?.protocol?.abbr ?? 'unknown'}`);
  const req: Rec = item.request ?? {};
  const res: Rec = item.response ?? {};
  const elapsed = Number(item.elapsedTime) || 0;
  const entry: Rec = {
    startedDateTime: new Date(Number(item.timestamp) || 0).toISOString(),
    time: elapsed,
    request: {
      method: String(req.method ?? ''),
      url: fullUrl(item),
      httpVersion: String(req.httpVersion ?? ''),
      cookies: nameValues(req.cookies),
      headers: nameValues(req.headers),
      queryString: nameValues(req.queryString),
      headersSize: typeof req.headersSize === 'number' ? req.headersSize : -1,
      bodySize: typeof req.bodySize === 'number' ? req.bodySize : -1,
    },
    response: {
      status: Number(res.status) || 0,
      statusText: String(res.statusText ?? ''),
      httpVersion: String(res.httpVersion ?? ''),
      cookies: nameValues(res.cookies),
      headers: nameValues(res.headers),
      content: {
        size: Number(res.content?.size) || 0,
        mimeType: String(res.content?.mimeType ?? ''),
        ...(res.content?.text ? { text: String(res.content.text), encoding: 'base64' } : {}),
      },
      redirectURL: String(res.redirectURL ?? ''),
      headersSize: typeof res.headersSize === 'number' ? res.headersSize : -1,
      bodySize: typeof res.bodySize === 'number' ? res.bodySize : -1,
    },
    cache: {},
    timings: { send: 0, wait: elapsed, receive: 0 },
  };
  if (req.postData) {
    entry.request.postData = {
      mimeType: String(req.postData.mimeType ?? ''),
      text: String(req.postData.text ?? ''),
      ...(Array.isArray(req.postData.params) && req.postData.params.length ? { params: req.postData.params } : {}),
    };
  }
  if (item.dst?.ip) entry.serverIPAddress = String(item.dst.ip);
  return entry;
}

export function toHar(items: Rec[]): Rec {
  return { log: { version: '1.2', creator: { name: 'Wirehook', version: '0.1.0' }, entries: items.map(toHarEntry) } };
}
