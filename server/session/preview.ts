/**
 * Item → the one row the items panel shows (ItemPreview, server/protocol.ts). HTTP and DNS
 * have their own summaries; any other protocol gets one from the request fields dissectors
 * commonly use (command, query, topic…), so a new dissector shows something sensible.
 */
import { isIP } from 'node:net';
import type { Endpoint, Item } from '../../capture/item/schema';
import type { ItemPreview } from '../protocol';
import type { ItemMarks } from './store';

const MAX_SUMMARY = 240;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/**
 * A name, else ip:port. A name that is an IP literal (an HTTP Host or :authority sent as an
 * address, kept so in the item) is an address too, and gets the port: `127.0.0.1` alone beside
 * another row's `127.0.0.1:8080` read as a different, port-less endpoint.
 */
function side(e: Endpoint | undefined): string {
  if (!e) return '';
  if (e.name && !isIP(e.name)) return e.name;
  const ip = e.name || e.ip;
  if (!ip) return e.port ? `:${e.port}` : '';
  if (!e.port) return ip;
  return ip.includes(':') ? `[${ip}]:${e.port}` : `${ip}:${e.port}`;
}

function clip(s: string): string {
  const one = s.replace(/[\r\n\t]+/g, ' ');
  return one.length > MAX_SUMMARY ? `${one.slice(0, MAX_SUMMARY - 1)}…` : one;
}

interface Line {
  summary: string;
  status: string;
  statusError: boolean;
}

function http(req: Rec, res: Rec): Line {
  const target = str(req.url) || str(req.path) || '/';
  const status = typeof res.status === 'number' ? res.status : Number(res.status) || 0;
  return {
    summary: `${str(req.method)} ${target}`,
    status: status ? `${status} ${str(res.statusText)}`.trim() : '',
    statusError: status >= 400,
  };
}

function rrData(a: Rec): string {
  const ip = str(a.ip);
  if (ip && ip !== '<nil>') return ip;
  for (const k of ['cname', 'ptr', 'mx', 'srv', 'ns', 'uri', 'soa']) if (str(a[k])) return str(a[k]);
  const txts = str(a.txts);
  return txts ? txts.replace(/^, /, '') : str(a.type);
}

function dns(req: Rec, res: Rec): Line {
  const qs = Array.isArray(req.questions) ? (req.questions as Rec[]) : [];
  const q = qs[0];
  let summary = q ? `${str(q.type)} ${str(q.name) || '.'}` : str(req.opCode) || 'DNS';
  if (qs.length > 1) summary += ` (+${qs.length - 1})`;
  const answers = Array.isArray(res.answers) ? (res.answers as Rec[]) : [];
  if (answers.length > 0) {
    const shown = answers.slice(0, 3).map(rrData).join(', ');
    summary += ` → ${shown}${answers.length > 3 ? ` (+${answers.length - 3})` : ''}`;
  }
  const code = str(res.code);
  return { summary, status: code, statusError: code !== '' && code !== 'No Error' };
}

/** Fields future dissectors (Redis, Postgres, Kafka, AMQP…) are likely to name what was asked. */
const ASK = ['method', 'command', 'operation', 'type', 'query', 'statement', 'topic', 'key', 'name', 'path', 'url', 'details'];
const ANSWER = ['status', 'code', 'statusCode', 'result', 'type'];

function generic(abbr: string, req: Rec, res: Rec): Line {
  const parts: string[] = [];
  for (const k of ASK) {
    const v = str(req[k]);
    if (v && !parts.includes(v)) parts.push(v);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) {
    for (const v of Object.values(req)) {
      const s = str(v);
      if (s) {
        parts.push(s);
        break;
      }
    }
  }
  let status = '';
  for (const k of ANSWER) {
    if (str(res[k])) {
      status = str(res[k]);
      break;
    }
  }
  const errorish = /err|fail|denied|refused|invalid/i.test(status);
  return { summary: parts.length ? parts.join(' ') : abbr, status, statusError: errorish };
}

export function preview(item: Item, marks?: ItemMarks | null): ItemPreview {
  const p = item.protocol;
  const req = isRec(item.request) ? item.request : {};
  const res = isRec(item.response) ? item.response : {};
  let line: Line;
  if (typeof req.method === 'string' && (p?.name === 'http' || 'statusText' in res || 'httpVersion' in req)) line = http(req, res);
  else if (Array.isArray(req.questions) || p?.name === 'dns') line = dns(req, res);
  else line = generic(p?.abbr || p?.name || '?', req, res);
  if (item.error) {
    line.statusError = true;
    if (!line.status) line.status = item.error.type;
  }
  const out: ItemPreview = {
    id: item.id,
    protocol: { name: p?.name ?? '', abbr: p?.abbr ?? '', backgroundColor: p?.backgroundColor ?? '#606060', foregroundColor: p?.foregroundColor ?? '#ffffff' },
    src: side(item.src),
    dst: side(item.dst),
    summary: clip(line.summary),
    status: line.status,
    statusError: line.statusError,
    timestamp: item.timestamp,
    elapsedMs: item.elapsedTime,
    size: (item.requestSize || 0) + (item.responseSize || 0),
    passed: marks?.passed ?? item.passed ?? false,
    failed: marks?.failed ?? item.failed ?? false,
  };
  if (marks && marks.queried !== undefined) out.queried = marks.queried;
  return out;
}
