/** `wrapper.buildHAR(items)`: HAR 1.2 from HTTP items (non-HTTP items are skipped). */

interface AnyItem {
  protocol?: { name?: string };
  startTime?: string;
  elapsedTime?: number;
  request?: Record<string, any>;
  response?: Record<string, any>;
  dst?: { ip?: string; port?: string };
}

const pairs = (m: unknown) =>
  m && typeof m === 'object' ? Object.entries(m as Record<string, unknown>).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ name, value: String(value) }))) : [];

export function buildHar(items: unknown): string {
  const list = (Array.isArray(items) ? items : []) as AnyItem[];
  const entries = list
    .filter((it) => it && it.protocol?.name === 'http' && it.request && it.response)
    .map((it) => {
      const rq = it.request!;
      const rs = it.response!;
      const host = rq.headers?.Host ?? `${it.dst?.ip ?? ''}${it.dst?.port ? `:${it.dst.port}` : ''}`;
      const url = /^https?:\/\//.test(String(rq.url)) ? String(rq.url) : `http://${host}${rq.url ?? rq.path ?? '/'}`;
      const request: Record<string, unknown> = {
        method: rq.method, url, httpVersion: rq.httpVersion ?? 'HTTP/1.1',
        cookies: pairs(rq.cookies), headers: pairs(rq.headers), queryString: pairs(rq.queryString),
        headersSize: rq.headersSize ?? -1, bodySize: rq.bodySize ?? -1,
      };
      if (rq.postData) request.postData = { mimeType: rq.postData.mimeType ?? '', text: rq.postData.text ?? '', params: rq.postData.params ?? [] };
      const content: Record<string, unknown> = { size: rs.content?.size ?? 0, mimeType: rs.content?.mimeType ?? '' };
      if (rs.content?.text !== undefined) {
        content.text = rs.content.text;
        content.encoding = rs.content.encoding ?? 'base64';
      }
      const time = Number(it.elapsedTime ?? 0);
      return {
        startedDateTime: it.startTime ?? new Date(0).toISOString(),
        time,
        request,
        response: {
          status: rs.status, statusText: rs.statusText ?? '', httpVersion: rs.httpVersion ?? 'HTTP/1.1',
          cookies: pairs(rs.cookies), headers: pairs(rs.headers), content, redirectURL: rs.redirectURL ?? '',
          headersSize: rs.headersSize ?? -1, bodySize: rs.bodySize ?? -1,
        },
        cache: {},
        timings: { send: 0, wait: time, receive: 0 },
      };
    });
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'Wirehook', version: '0.1.0' }, entries } });
}
