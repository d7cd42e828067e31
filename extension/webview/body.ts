/// <reference lib="dom" />
/** Body previews: base64 `content.text` decoded, JSON pretty-printed, binary as a hex dump. */

export interface BodyPreview {
  kind: 'json' | 'text' | 'binary' | 'none';
  text: string;
  bytes: number;
}

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function looksBinary(bytes: Uint8Array): boolean {
  let ctl = 0;
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) ctl++;
  }
  return ctl > n / 20;
}

function hexDump(bytes: Uint8Array, max = 512): string {
  const lines: string[] = [];
  for (let off = 0; off < Math.min(bytes.length, max); off += 16) {
    const chunk = bytes.subarray(off, Math.min(off + 16, bytes.length));
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const asc = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${asc}`);
  }
  if (bytes.length > max) lines.push(`… ${bytes.length - max} more bytes`);
  return lines.join('\n');
}

export function previewText(text: string, mimeType: string): BodyPreview {
  const t = text.trim();
  if (/json/i.test(mimeType) || /^[[{]/.test(t)) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(t), null, 2), bytes: text.length };
    } catch {
      // not JSON after all
    }
  }
  return { kind: 'text', text, bytes: text.length };
}

/** `content` as the item carries it: `{ size, mimeType, text?, encoding? }`. */
export function previewContent(content: { text?: string; encoding?: string; mimeType?: string } | undefined): BodyPreview {
  if (!content?.text) return { kind: 'none', text: '', bytes: 0 };
  const mime = content.mimeType ?? '';
  if (content.encoding !== 'base64') return previewText(content.text, mime);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(content.text);
  } catch {
    return { kind: 'text', text: content.text, bytes: content.text.length };
  }
  if (looksBinary(bytes)) return { kind: 'binary', text: hexDump(bytes), bytes: bytes.length };
  return { ...previewText(new TextDecoder('utf-8').decode(bytes), mime), bytes: bytes.length };
}
