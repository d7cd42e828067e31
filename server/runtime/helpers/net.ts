/**
 * Helpers that leave the machine (`vendor.*`, `chatgpt.prompt`, `hub.blockPod`, …). Off by
 * default: each call is recorded (what would be sent, where) and returns "". With
 * allowNetwork, the HTTP-shaped ones really send; cloud-SDK ones throw "not supported locally".
 *
 * QuickJS calls are synchronous, so a request blocks the script: a helper thread does the
 * fetch and wakes us through Atomics.wait on a SharedArrayBuffer; the reply is then taken
 * with receiveMessageOnPort (no asyncify build needed, hooks stay on the fast sync variant).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Multipart form fields (webhookForm). */
  form?: Record<string, string>;
}

export interface NetReport {
  helper: string;
  sent: boolean;
  summary: string;
  error?: string;
}

const FETCHER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ req, port, sab, timeoutMs }) => {
  const flag = new Int32Array(sab);
  let reply;
  try {
    let body = req.body;
    if (req.form) { body = new FormData(); for (const [k, v] of Object.entries(req.form)) body.append(k, String(v)); }
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    reply = { status: res.status, text: await res.text() };
  } catch (e) {
    reply = (e && e.name === 'TimeoutError') ? { timeout: true } : { error: String(e && e.cause ? e.cause.message || e.cause : e && e.message || e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

export class NetHelpers {
  private worker: Worker | null = null;

  constructor(private allow: boolean, private timeoutMs: number) {}

  /** Synchronous HTTP request; returns the response body. Throws on network errors and timeouts. */
  requestSync(req: HttpRequestSpec): { status: number; text: string } {
    if (!this.worker) {
      this.worker = new Worker(FETCHER, { eval: true });
      this.worker.unref();
    }
    const sab = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ req, port: port2, sab, timeoutMs: this.timeoutMs }, [port2 as unknown as MessagePort]);
    const flag = new Int32Array(sab);
    const waited = Atomics.wait(flag, 0, 0, this.timeoutMs + 2000);
    const msg = receiveMessageOnPort(port1)?.message as { status: number; text: string; error?: string; timeout?: boolean } | undefined;
    port1.close();
    if (waited === 'timed-out' || !msg || msg.timeout) throw new Error(`request to ${req.url} timed out after ${this.timeoutMs} ms`);
    if (msg.error) throw new Error(`request to ${req.url} failed: ${msg.error}`);
    return msg;
  }

  /** Runs (or records) one helper call; `report` gets what was (or would have been) sent, `notice` warnings. */
  call(helper: string, args: unknown[], report: (r: NetReport) => void, notice: (t: string) => void): string {
    const spec = this.plan(helper, args, notice);
    if (!this.allow) {
      report({ helper, sent: false, summary: spec.summary });
      return '';
    }
    if (!spec.req) {
      const error = `${helper} is not supported locally yet (recorded: ${spec.summary})`;
      report({ helper, sent: false, summary: spec.summary, error });
      throw new Error(error);
    }
    try {
      const r = this.requestSync(spec.req);
      report({ helper, sent: true, summary: `${spec.summary} → ${r.status}` });
      return r.text;
    } catch (e) {
      report({ helper, sent: false, summary: spec.summary, error: (e as Error).message });
      throw e;
    }
  }

  /** What a helper call would send: an HTTP request when it maps to one, and a one-line summary. */
  private plan(helper: string, a: unknown[], notice: (t: string) => void): { req?: HttpRequestSpec; summary: string } {
    const s = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    const preview = (b: string) => `${Buffer.byteLength(b)} bytes${b ? `: ${b.length > 200 ? `${b.slice(0, 200)}…` : b}` : ''}`;
    const json = (url: string, body: unknown, headers: Record<string, string> = {}): HttpRequestSpec => ({
      method: 'POST', url, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
    });
    switch (helper) {
      case 'vendor.webhook': {
        const req: HttpRequestSpec = { method: s(a[0]).toUpperCase() || 'GET', url: s(a[1]), headers: strMap(a[3]), body: s(a[2]) };
        return { req, summary: `${req.method} ${req.url} (${preview(req.body ?? '')})` };
      }
      case 'vendor.webhookForm': {
        const form = strMap(a[2]);
        const req: HttpRequestSpec = { method: s(a[0]).toUpperCase() || 'POST', url: s(a[1]), headers: {}, form };
        return { req, summary: `${req.method} ${req.url} multipart fields ${Object.keys(form).join(', ')}` };
      }
      case 'vendor.slack': {
        const req = json(s(a[0]), { attachments: [{ pretext: s(a[1]), text: s(a[2]), color: s(a[3]) }] });
        return { req, summary: `POST ${req.url} slack message (${preview(req.body!)})` };
      }
      case 'vendor.slackBot': {
        const fields = Object.entries(strMap(a[5])).map(([title, value]) => ({ title, value, short: true }));
        const req = json('https://slack.com/api/chat.postMessage', { channel: s(a[1]), attachments: [{ pretext: s(a[2]), text: s(a[3]), color: s(a[4]), fields }] }, { Authorization: `Bearer ${s(a[0])}` });
        const files = Object.keys(strMap(a[6]));
        return { req, summary: `POST ${req.url} to channel ${s(a[1])}${files.length ? ` (files not attached locally: ${files.join(', ')})` : ''} (${preview(req.body!)})` };
      }
      case 'vendor.influxdb': {
        const [url, token, org, bucket, measurement, data, tags] = a;
        const line = influxLine(s(measurement), data, tags);
        const req: HttpRequestSpec = {
          method: 'POST', url: `${s(url).replace(/\/$/, '')}/api/v2/write?org=${encodeURIComponent(s(org))}&bucket=${encodeURIComponent(s(bucket))}&precision=ns`,
          headers: { Authorization: `Token ${s(token)}`, 'Content-Type': 'text/plain; charset=utf-8' }, body: line,
        };
        return { req, summary: `POST ${req.url} (${preview(line)})` };
      }
      case 'vendor.elastic': {
        const [url, index, data, user, pass, cloudID, apiKey, serviceToken] = a;
        const headers: Record<string, string> = {};
        if (user) headers.Authorization = `Basic ${Buffer.from(`${s(user)}:${s(pass)}`).toString('base64')}`;
        if (apiKey) headers.Authorization = `ApiKey ${s(apiKey)}`;
        if (serviceToken) headers.Authorization = `Bearer ${s(serviceToken)}`;
        const summary = `index ${s(index)} at ${s(url) || `cloud ${s(cloudID)}`} (${preview(JSON.stringify(data ?? null))})`;
        if (!url) return { summary };
        return { req: json(`${s(url).replace(/\/$/, '')}/${encodeURIComponent(s(index))}/_doc`, data, headers), summary: `POST ${summary}` };
      }
      case 'vendor.s3.put': {
        let [bucket, file, region] = a;
        if (/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(s(a[0])) && a.length >= 5) {
          notice('vendor.s3.put(region, keyID, secret, bucket, path) is the legacy argument order; use vendor.s3.put(bucket, path, region, keyID, secret)');
          [region, bucket, file] = [a[0], a[3], a[4]];
        }
        return { summary: `upload ${s(file)} to s3://${s(bucket)} (${s(region)})` };
      }
      case 'vendor.s3.clear':
        return { summary: `delete this node's folder in s3://${s(a[3])} (${s(a[0])})` };
      case 'vendor.gcs.put':
        return { summary: `upload ${s(a[1])} to gs://${s(a[0])}` };
      case 'vendor.gcs.clear':
        return { summary: `delete this node's folder in gs://${s(a[0])}` };
      case 'vendor.azure.put':
        return { summary: `upload ${s(a[1])} to Azure container ${s(a[0])}` };
      case 'vendor.kinesis.put':
        return { summary: `put a record (${preview(s(a[1]))}) to Kinesis stream ${s(a[0])} (${s(a[2])})` };
      case 'chatgpt.prompt':
        return { summary: `OpenAI prompt (${preview(s(a[1]))})` };
      case 'hub.blockPod':
        return { summary: `block pod ${s(a[0])} in namespace ${s(a[1])} (no cluster here)` };
      case 'wrapper.kflPcapS3':
        return { summary: `collect PCAPs of KFL matches and upload to S3 (${preview(s(a[0]))})` };
      default:
        return { summary: helper };
    }
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

/** InfluxDB line protocol for one point: `measurement,tag=v field=1,other="s" <ns>`. */
function influxLine(measurement: string, data: unknown, tags: unknown): string {
  const esc = (x: string) => x.replace(/[ ,=]/g, '\\$&');
  const t = Object.entries(strMap(tags)).map(([k, v]) => `,${esc(k)}=${esc(v)}`).join('');
  const f = Object.entries((data && typeof data === 'object' ? data : { value: data }) as Record<string, unknown>)
    .map(([k, v]) => `${esc(k)}=${typeof v === 'number' ? v : typeof v === 'boolean' ? v : JSON.stringify(String(v))}`)
    .join(',');
  return `${esc(measurement)}${t} ${f} ${BigInt(Date.now()) * 1000000n}`;
}
