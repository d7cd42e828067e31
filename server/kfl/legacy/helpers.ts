/**
 * Run-time pieces of the helpers that read the document: json() and xml() (both try a base64
 * decode first, as Kubeshark does), and datetime() parsing (done at compile time, the argument
 * being a constant).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { getAll, type Frag } from './path';

/** Go's base64.StdEncoding.DecodeString acceptance: padded, canonical alphabet, CR/LF ignored. */
export function tryBase64(s: string): string | null {
  const t = s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s;
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64').toString('utf8');
}

const FAIL = Symbol('fail');
// One-entry caches: a query often reads the same body several times per item.
let lastJsonIn: string | null = null;
let lastJsonOut: unknown = FAIL;

export function parseJsonLoose(s: string): unknown {
  if (s === lastJsonIn) return lastJsonOut;
  let out: unknown = FAIL;
  try {
    out = JSON.parse(tryBase64(s) ?? s);
  } catch {
    out = FAIL;
  }
  lastJsonIn = s;
  lastJsonOut = out;
  return out;
}

/** json(): first result of the path inside the parsed text, or false. */
export function jsonLookup(text: string, frags: Frag[]): unknown {
  const doc = parseJsonLoose(text);
  if (doc === FAIL) return false;
  const r = getAll(frags, doc);
  return r.length ? r[0] : false;
}

export const XML_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: '-',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
} as const;
const xmlParser = new XMLParser(XML_OPTIONS);

let lastXmlIn: string | null = null;
let lastXmlOut: unknown = FAIL;

/** XML text (or base64 of it) → mxj-like object (attributes `-name`, text `#text`), or FAIL. */
export function parseXmlLoose(s: string): unknown {
  if (s === lastXmlIn) return lastXmlOut;
  const text = tryBase64(s) ?? s;
  let out: unknown = FAIL;
  // DTD entities are refused (Go's encoding/xml does not expand them either; no entity bombs).
  if (text.trim().startsWith('<') && !text.includes('<!ENTITY') && XMLValidator.validate(text) === true) {
    try {
      out = xmlParser.parse(text);
    } catch {
      out = FAIL;
    }
  }
  lastXmlIn = s;
  lastXmlOut = out;
  return out;
}
export const isXmlFail = (v: unknown) => v === FAIL;

export interface XmlSeg { key: string; index?: number }

/** A jp path as mxj's ValuesForPath would read it: `a.b[1].c`, `*` wildcards. */
export function xmlSegs(frags: Frag[]): XmlSeg[] | null {
  const segs: XmlSeg[] = [];
  for (const f of frags) {
    if (f.k === 'child') segs.push({ key: f.name });
    else if (f.k === 'wild') segs.push({ key: '*' });
    else if (f.k === 'nth') {
      if (!segs.length) return null;
      segs[segs.length - 1].index = f.i;
    } else return null;
  }
  return segs;
}

/** All values at the path; lists met without an index are walked element by element (mxj). */
export function xmlValues(root: unknown, segs: XmlSeg[]): unknown[] {
  let cur: unknown[] = [root];
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const node of cur.flatMap((n) => (Array.isArray(n) ? n : [n]))) {
      if (typeof node !== 'object' || node === null) continue;
      const vals = seg.key === '*' ? Object.entries(node).filter(([k]) => !k.startsWith('-') && k !== '#text').map(([, v]) => v) : [(node as Record<string, unknown>)[seg.key]];
      for (const v of vals) {
        if (v === undefined) continue;
        if (seg.index !== undefined) {
          const arr = Array.isArray(v) ? v : [v];
          if (seg.index < arr.length) next.push(arr[seg.index]);
        } else if (Array.isArray(v)) next.push(...v);
        else next.push(v);
      }
    }
    cur = next;
  }
  return cur;
}

/** xml(): the first value's text, or false. */
export function xmlLookup(text: string, segs: XmlSeg[] | null): unknown {
  if (!segs) return false;
  const doc = parseXmlLoose(text);
  if (doc === FAIL) return false;
  const r = xmlValues(doc, segs);
  if (!r.length) return false;
  const v = r[0];
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['#text'] === 'string') return (v as Record<string, unknown>)['#text'];
  return false;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Go layout `1/2/2006, 3:04:05.000 PM`, UTC → Unix ms; false when it does not parse. */
export function parseDatetime(s: string): number | false {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), +(\d{1,2}):(\d{2}):(\d{2})\.(\d{3}) +(AM|PM)$/.exec(s);
  if (!m) return false;
  const [mo, d, y, h, mi, se, ms] = m.slice(1, 8).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && leap ? 29 : DAYS[mo - 1])) return false;
  if (h > 12 || mi > 59 || se > 59) return false;
  let hour = h;
  if (m[8] === 'PM' && hour < 12) hour += 12;
  else if (m[8] === 'AM' && hour === 12) hour = 0;
  const t = new Date(Date.UTC(2000, mo - 1, d, hour, mi, se, ms));
  t.setUTCFullYear(y); // Date.UTC maps years 0-99 to 19xx
  return t.getTime();
}
