/**
 * Builds the host-side function that copies just the projected fields of an item. Generated
 * once per script with `new Function` (keys are JSON-quoted, never spliced raw): a straight-line
 * copier is several times faster than walking the projection tree for every item.
 *
 * Rule: descend into plain objects only; arrays and primitives at a projected key are copied
 * whole (`data.response.answers.length` gets the whole array), so what the script reads has
 * the same value it would have on the whole item.
 */
import type { Projection } from './analyze';

export type Projector = (item: unknown) => unknown;

export function compileProjection(p: Projection): Projector {
  if (p === true) return (item) => item;
  let n = 0;
  // Emits statements that store the projection of `v` into `target` (straight-line, no closures).
  const gen = (spec: { [k: string]: Projection }, v: string, target: string): string => {
    const o = `o${n++}`;
    let code = `if(${v}===null||typeof ${v}!=="object"||Array.isArray(${v}))${target}=${v};else{var ${o}={};`;
    for (const [k, sub] of Object.entries(spec)) {
      const x = `x${n++}`;
      const key = JSON.stringify(k);
      code += `var ${x}=${v}[${key}];`;
      // Late-2024 Kubeshark scripts read Go-cased names (data.Protocol.Name, data.Request.Path):
      // a capitalised key that is absent falls back to its lowerCamel JSON name.
      const json = k.charAt(0).toLowerCase() + k.slice(1);
      if (json !== k) code += `if(${x}===undefined)${x}=${v}[${JSON.stringify(json)}];`;
      code += `if(${x}!==undefined){`;
      code += sub === true ? `${o}[${key}]=${x};` : gen(sub, x, `${o}[${key}]`);
      code += '}';
    }
    return `${code}${target}=${o};}`;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('v', `var r;${gen(p, 'v', 'r')}return r;`) as Projector;
}

/** Whether the projection reads `key` at the top level (e.g. `timestamp` of a packet info). */
export function readsKey(p: Projection, key: string): boolean {
  return p === true || key in p;
}

/** The smallest projection that contains both (used to send one projected item for all scripts). */
export function mergeProjections(a: Projection, b: Projection): Projection {
  if (a === true || b === true) return true;
  const out: { [k: string]: Projection } = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeProjections(out[k], v) : v;
  return out;
}

/** What the capture side must send for a script's onItemCaptured (whole items when kfl.match needs them). */
export function itemProjection(reads: Projection, usesKflMatch: boolean, usesPcap: boolean): Projection {
  if (usesKflMatch) return true;
  // pcap.nameResolutionHistory() learns from DNS answers.
  return usesPcap ? mergeProjections(reads, { protocol: { name: true }, timestamp: true, response: { answers: true } }) : reads;
}
