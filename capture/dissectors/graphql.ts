/**
 * GraphQL over HTTP (kubeshark-compat §6.8): an HTTP/1.1 or HTTP/2 request whose body is a
 * GraphQL request. The query is parsed with the `graphql` package's parser (the reference
 * implementation; a hand-written scan would misread comments, strings and fragments).
 */
import type * as GraphqlParser from 'graphql/language/parser';
import type { GraphqlOperation, HttpRequest, Protocol } from '../item/schema';
import type { L7Message } from '../types';

/**
 * The parser is loaded with the first GraphQL-looking body, not with the bundle: the `graphql`
 * modules' set-up was ~7 ms of every `wirehook items` start (docs/capture.md).
 */
let parser: typeof GraphqlParser | null = null;
const parse: typeof GraphqlParser.parse = (src, opts) => (parser ??= require('graphql/language/parser') as typeof GraphqlParser).parse(src, opts);

/**
 * The operation a request body asks for, or null when it is not GraphQL. Bodies: JSON
 * `{"query": "...", "operationName"?: "..."}` (`application/json`, what Kubeshark checks) or a
 * raw query (`application/graphql`). Cheap refusals first: most bodies fail the content-type or
 * substring test without any parsing.
 */
export function graphqlOf(mimeType: string | undefined, text: string): GraphqlOperation | null {
  if (!mimeType || text.length === 0) return null;
  let query: unknown;
  let wanted: unknown;
  if (/^application\/(?:graphql\+)?json/i.test(mimeType)) {
    if (!text.includes('"query"')) return null;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return null;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
    query = (body as Record<string, unknown>).query;
    wanted = (body as Record<string, unknown>).operationName;
  } else if (/^application\/graphql/i.test(mimeType)) {
    query = text;
  } else {
    return null;
  }
  if (typeof query !== 'string' || query.length === 0) return null;
  let doc;
  try {
    doc = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
  if (ops.length === 0) return null;
  const op = (typeof wanted === 'string' && wanted ? ops.find((o) => o.name?.value === wanted) : undefined) ?? ops[0];
  return { operationName: op.name?.value ?? (typeof wanted === 'string' ? wanted : ''), operationType: op.operation };
}

/**
 * Turns an HTTP item into a GraphQL one when its request body is a GraphQL request: sets
 * `request.graphql` and the protocol entry (`gql`: PROTOCOLS.gql11 / gql2). Requests without a
 * body (most) cost one property read.
 */
export function markGraphql(msg: L7Message, gql: Protocol): void {
  const req = msg.request as Partial<HttpRequest>;
  const pd = req.postData;
  if (pd === undefined) return;
  const op = graphqlOf(pd.mimeType, pd.text);
  if (op === null) return;
  req.graphql = op;
  msg.protocol = gql;
}
