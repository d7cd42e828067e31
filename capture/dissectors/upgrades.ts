/**
 * Upgrade hand-off: what an HTTP/1 connection becomes after `101 Switching Protocols` (or a 2xx
 * to CONNECT).
 *
 * When the server switches protocols, the HTTP/1 parser (http.ts) emits the upgrade exchange as
 * an ordinary HTTP item, then looks the token up here:
 *   - 101: the first token of the response's `Upgrade` header (else the request's), lower-cased
 *     (`h2c`, `websocket`);
 *   - a 2xx to CONNECT: the token `connect`.
 * If a factory is registered for it, the parser it returns receives every remaining byte of the
 * connection, both directions, in capture order: first the client bytes held while it waited for
 * the verdict (with their own timestamps), then the server bytes that followed the 101 head in
 * the same segment, then everything after. Its gap() and end() calls follow too. It shares the
 * connection's DissectorContext (emit, pending, warn, bodyCap): its items come after the
 * upgrade item, in the order it emits them.
 * With nothing registered the connection is a tunnel: its bytes are ignored without warnings
 * (the behaviour before this registry existed).
 *
 * A protocol plugs in from its own module, called once at load (registry.ts imports it):
 *   registerUpgrade('h2c', (ctx, ex) => new H2Stream(ctx, { upgradedFrom: ex }));
 */
import type { DissectorContext, TcpStreamParser } from '../types';
import type { ReqLine, StatusLine } from './http-wire';

/** The exchange that switched protocols, as parsed (headers canonicalised, e.g. `Http2-Settings`). */
export interface UpgradeExchange {
  /** `h2c`, `websocket`, `connect`, …: the registry key that matched. */
  readonly token: string;
  /** The request (null when the capture began after it). */
  readonly request: { readonly line: ReqLine; readonly headers: Readonly<Record<string, string>> } | null;
  readonly response: { readonly line: StatusLine; readonly headers: Readonly<Record<string, string>> };
}

export type UpgradeFactory = (ctx: DissectorContext, exchange: UpgradeExchange) => TcpStreamParser;

const factories = new Map<string, UpgradeFactory>();

/** Registers the parser for an upgrade token (case-insensitive). A second registration replaces the first. */
export function registerUpgrade(token: string, factory: UpgradeFactory): void {
  factories.set(token.toLowerCase(), factory);
}

/** The factory for `token`, if any (tests and http.ts). */
export function upgradeFor(token: string): UpgradeFactory | undefined {
  return factories.get(token.toLowerCase());
}

/** Removes a registration (tests). */
export function unregisterUpgrade(token: string): void {
  factories.delete(token.toLowerCase());
}

/** The registry key for a switch: `connect` for CONNECT, else the first Upgrade token, lower-cased. */
export function upgradeToken(method: string, resUpgrade: string | undefined, reqUpgrade: string | undefined): string {
  if (method === 'CONNECT') return 'connect';
  const v = resUpgrade ?? reqUpgrade ?? '';
  return v.split(',')[0].trim().toLowerCase();
}
