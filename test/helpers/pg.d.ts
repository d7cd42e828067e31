/** The part of `pg` (no bundled types, @types/pg not installed) the tests use. */
declare module 'pg' {
  interface ClientConfig { host?: string; port?: number; user?: string; password?: string; database?: string }
  interface QueryConfig { name?: string; text: string; values?: unknown[] }
  interface QueryResult { rows: Record<string, any>[]; rowCount: number | null }
  class Client {
    constructor(config?: ClientConfig);
    connect(): Promise<void>;
    query(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult>;
    end(): Promise<void>;
    on(event: 'error', fn: (e: Error) => void): this;
  }
  const pg: { Client: typeof Client };
  export default pg;
}
