/**
 * GraphQL over HTTP (kubeshark-compat §6.8): an HTTP/1.1 or HTTP/2 request that is a GraphQL
 * request — a POST body (one request, or a batch: a JSON array of them) or a GET whose URL
 * carries `query` (and `operationName`), as the GraphQL-over-HTTP spec allows. The query is
 * parsed with the `graphql` package's parser (the reference implementation; a hand-written scan
 * would misread comments, strings and fragments).
 */
import type * as GraphqlParser from 'graphql/language/parser';
import type { GraphqlOperation, GraphqlRequest, HttpRequest, Protocol } from '../item/schema';
import type { L7Message } from '../types';

/**
 * The parser is loaded with the first GraphQL-looking body, not with the bundle: the `graphql`
 * modules' set-up was ~7 ms of every `wirehook items` start (docs/capture.md).
 */
let parser: typeof GraphqlParser | null = null;
const parse: typeof GraphqlParser.parse = (src, opts) => (parser ??= require('graphql/language/parser') as typeof GraphqlParser).parse(src, opts);

/** The operation `query` asks for (the one `wanted` names, else the first), or null when it does not parse. */
function operationOf(query: unknown, wanted: unknown): GraphqlOperation | null {
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

/** A JSON GraphQL request object `{"query": "...", "operationName"?: "..."}` → its operation. */
function fromObject(body: unknown): GraphqlOperation | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const o = body as Record<string, unknown>;
  return operationOf(o.query, o.operationName);
}

function request(ops: GraphqlOperation[], batch: boolean, source: GraphqlRequest['source']): GraphqlRequest {
  return { operationName: ops[0].operationName, operationType: ops[0].operationType, batch, operations: ops, source };
}

/**
 * What a request body asks for, or null when it is not GraphQL. Bodies: JSON (`application/json`,
 * what Kubeshark checks) holding one GraphQL request or a batch — an array in which **every**
 * element is one (anything else in it and the exchange stays plain HTTP) — or a raw query
 * (`application/graphql`). Cheap refusals first: most bodies fail the content-type or substring
 * test without any parsing.
 */
export function graphqlOf(mimeType: string | undefined, text: string): GraphqlRequest | null {
  if (!mimeType || text.length === 0) return null;
  if (/^application\/(?:graphql\+)?json/i.test(mimeType)) {
    if (!text.includes('"query"')) return null;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return null;
    }
    if (Array.isArray(body)) {
      if (body.length === 0) return null;
      const ops: GraphqlOperation[] = [];
      for (const el of body) {
        const op = fromObject(el);
        if (op === null) return null;
        ops.push(op);
      }
      return request(ops, true, 'body');
    }
    const op = fromObject(body);
    return op && request([op], false, 'body');
  }
  if (/^application\/graphql/i.test(mimeType)) {
    const op = operationOf(text, undefined);
    return op && request([op], false, 'body');
  }
  return null;
}

/** A GET whose query string has `query` (and maybe `operationName`): the GraphQL-over-HTTP GET form. */
export function graphqlOfUrl(queryString: Record<string, string | string[]>): GraphqlRequest | null {
  const op = operationOf(queryString.query, queryString.operationName);
  return op && request([op], false, 'url');
}

/**
 * Turns an HTTP item into a GraphQL one when its request is a GraphQL request: sets
 * `request.graphql` and the protocol entry (`gql`: PROTOCOLS.gql11 / gql2). Requests without a
 * body cost a property read or two (a GET without `?query=`).
 */
export function markGraphql(msg: L7Message, gql: Protocol): void {
  const req = msg.request as Partial<HttpRequest>;
  const pd = req.postData;
  let op: GraphqlRequest | null;
  if (pd !== undefined) op = graphqlOf(pd.mimeType, pd.text);
  else if (req.method === 'GET' && req.queryString !== undefined && req.queryString.query !== undefined) op = graphqlOfUrl(req.queryString);
  else return;
  if (op === null) return;
  req.graphql = op;
  msg.protocol = gql;
}
