/**
 * The `env` global: from `--env FILE|KEY=VALUE` (repeatable) or the `wirehook.env` setting.
 * FILE may be JSON, YAML (a Kubeshark config's `scripting.env` / `tap.scripting.env` is used
 * when present) or KEY=VALUE lines (`#` comments).
 */
import * as fs from 'node:fs';
import * as yaml from 'js-yaml';

export function parseEnvText(text: string, name: string): Record<string, unknown> {
  const t = text.trim();
  if (t === '') return {};
  if (/\.json$/i.test(name) || t.startsWith('{')) {
    try {
      return asObject(JSON.parse(t), name);
    } catch (e) {
      throw new Error(`env ${name}: ${(e as Error).message}`);
    }
  }
  const lines = t.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'));
  if (!/\.ya?ml$/i.test(name) && lines.every((l) => /^\s*(export\s+)?[A-Za-z_][\w.-]*\s*=/.test(l))) {
    const out: Record<string, unknown> = {};
    for (const l of lines) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(l)!;
      out[m[1]] = unquote(m[2].trim());
    }
    return out;
  }
  let doc: unknown;
  try {
    doc = yaml.load(t);
  } catch (e) {
    throw new Error(`env ${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  const o = asObject(doc, name);
  const sc = (o.scripting ?? (o.tap as Record<string, unknown> | undefined)?.scripting) as Record<string, unknown> | undefined;
  return sc && typeof sc.env === 'object' && sc.env ? (sc.env as Record<string, unknown>) : o;
}

/** Merges specs in order: each is an existing file, or KEY=VALUE. */
export function loadEnv(specs: string[]): Record<string, unknown> {
  const env: Record<string, unknown> = {};
  for (const s of specs) {
    if (fs.existsSync(s) && fs.statSync(s).isFile()) {
      for (const [k, v] of Object.entries(parseEnvText(fs.readFileSync(s, 'utf8'), s))) {
        Object.defineProperty(env, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
    else if (/^[A-Za-z_][\w.-]*=/.test(s)) {
      const i = s.indexOf('=');
      env[s.slice(0, i)] = s.slice(i + 1);
    } else throw new Error(`env ${JSON.stringify(s)}: not a file and not KEY=VALUE`);
  }
  return env;
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'")))) return v.slice(1, -1);
  return v;
}

function asObject(v: unknown, name: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`env ${name}: expected an object of KEY: value`);
  // Rebuilt so a "__proto__" key stays a plain property.
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, x] of Object.entries(v)) out[k] = x;
  return { ...out };
}
