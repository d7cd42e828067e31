/**
 * redact("path", …) as Kubeshark applies it to the record: each path's value becomes
 * "[REDACTED]"; `..name` redacts every key of that name at any depth; `.json()` / `.xml()`
 * segments descend into an embedded (possibly base64) JSON/XML string, which is re-encoded the
 * same way. Missing or malformed paths are skipped.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { XML_OPTIONS, parseXmlLoose, isXmlFail, tryBase64, xmlSegs, type XmlSeg } from './helpers';
import { getAll, parsePath, type Frag } from './path';

export const REDACTED = '[REDACTED]';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Set `value` at every location the path matches (ojg `Set` on existing paths). */
function setAll(frags: Frag[], root: unknown, value: unknown): void {
  if (!frags.length) return;
  const last = frags[frags.length - 1];
  for (const parent of getAll(frags.slice(0, -1), root)) {
    if (last.k === 'child' && isMap(parent)) parent[last.name] = value;
    else if (last.k === 'nth' && Array.isArray(parent)) {
      const i = last.i < 0 ? parent.length + last.i : last.i;
      if (i >= 0 && i < parent.length) parent[i] = value;
    } else if (last.k === 'wild') {
      if (Array.isArray(parent)) parent.fill(value);
      else if (isMap(parent)) for (const k of Object.keys(parent)) parent[k] = value;
    }
  }
}

function redactEverywhere(node: unknown, name: string): void {
  if (Array.isArray(node)) for (const x of node) redactEverywhere(x, name);
  else if (isMap(node)) {
    for (const k of Object.keys(node)) {
      if (k === name) node[k] = REDACTED;
      else redactEverywhere(node[k], name);
    }
  }
}

const xmlBuilder = new XMLBuilder({ ...XML_OPTIONS, suppressEmptyNode: false });

function setXml(root: unknown, segs: XmlSeg[]): void {
  let cur: unknown[] = [root];
  segs.forEach((seg, n) => {
    const lastSeg = n === segs.length - 1;
    const next: unknown[] = [];
    for (const node of cur.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
      if (!isMap(node) || !(seg.key in node)) continue;
      const v = node[seg.key];
      if (seg.index !== undefined) {
        if (Array.isArray(v)) {
          if (seg.index >= v.length) continue;
          if (lastSeg) v[seg.index] = REDACTED;
          else next.push(v[seg.index]);
        } else if (seg.index === 0) {
          if (lastSeg) node[seg.key] = REDACTED;
          else next.push(v);
        }
      } else if (lastSeg) node[seg.key] = REDACTED;
      else next.push(v);
    }
    cur = next;
  });
}

function redactXmlString(value: unknown, xmlPath: string): string | null {
  if (typeof value !== 'string') return null;
  const decoded = tryBase64(value);
  const text = decoded ?? value;
  const doc = parseXmlLoose(value);
  if (isXmlFail(doc)) return null;
  const copy = structuredClone(doc);
  let segs: XmlSeg[] | null;
  try {
    segs = xmlSegs(parsePath(xmlPath));
  } catch {
    return null;
  }
  if (!segs) return null;
  setXml(copy, segs);
  let out = String(xmlBuilder.build(copy));
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<?')) out = `${trimmed.split(/\r?\n/, 1)[0]}\n${out}`;
  return decoded !== null ? Buffer.from(out, 'utf8').toString('base64') : out;
}

/** One redact parameter, split on ".json()" — mutates `obj` in place; returns false when skipped. */
function redactParts(obj: unknown, parts: string[]): boolean {
  const xmlParts = parts[0].split('.xml()');
  let frags: Frag[];
  try {
    frags = parsePath(xmlParts[0]);
  } catch {
    return false;
  }
  const found = getAll(frags, obj);
  if (!found.length) return false;
  if (xmlParts.length > 1) {
    const v = redactXmlString(found[0], xmlParts[1]);
    if (v === null) return false;
    setAll(frags, obj, v);
    return true;
  }
  if (parts.length > 1) {
    if (typeof found[0] !== 'string') return false;
    const decoded = tryBase64(found[0]);
    let inner: unknown;
    try {
      inner = JSON.parse(decoded ?? found[0]);
    } catch {
      return false;
    }
    if (!redactParts(inner, parts.slice(1))) return false;
    const text = JSON.stringify(inner);
    setAll(frags, obj, decoded !== null ? Buffer.from(text, 'utf8').toString('base64') : text);
    return true;
  }
  if (/^\.\./.test(xmlParts[0])) {
    const name = xmlParts[0].replace(/^\.+/, '');
    redactEverywhere(obj, name);
    return true;
  }
  setAll(frags, obj, REDACTED);
  return true;
}

/** Apply paths to `doc` in place (the caller owns it). */
export function redactInPlace(doc: unknown, paths: string[]): void {
  for (const p of paths) redactParts(doc, p.split('.json()'));
}

/** A redacted deep copy of the item, for display. */
export function redactItem(item: object, paths: string[]): object {
  const copy = structuredClone(item);
  redactInPlace(copy, paths);
  return copy;
}
