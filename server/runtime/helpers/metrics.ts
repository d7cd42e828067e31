/**
 * `prometheus.metric/vector`: an in-process registry rendered in the Prometheus text format
 * (served on an opt-in 127.0.0.1 `/metrics` endpoint and summarised at exit). Type 1 = counter
 * (the value is added), 2 = gauge and 3 = untyped (the value is set), as Kubeshark's helper.
 */
import * as http from 'node:http';

type Kind = 'counter' | 'gauge' | 'untyped';
interface Family { help: string; kind: Kind; series: Map<string, { labels: Record<string, string>; value: number }> }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsRegistry {
  private families = new Map<string, Family>();

  update(name: unknown, help: unknown, type: unknown, value: unknown, labels: unknown): string {
    if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`prometheus: invalid metric name ${JSON.stringify(name)}`);
    const kind: Kind | undefined = ({ 1: 'counter', 2: 'gauge', 3: 'untyped' } as Record<number, Kind>)[Number(type)];
    if (!kind) throw new Error(`prometheus: type must be 1 (counter), 2 (gauge) or 3 (untyped), got ${JSON.stringify(type)}`);
    const v = Number(value);
    if (!Number.isFinite(v)) throw new Error(`prometheus: ${name}: value must be a number, got ${JSON.stringify(value)}`);
    const lab: Record<string, string> = {};
    if (labels && typeof labels === 'object') {
      for (const [k, x] of Object.entries(labels as Record<string, unknown>)) {
        if (!LABEL.test(k)) throw new Error(`prometheus: ${name}: invalid label name ${JSON.stringify(k)}`);
        lab[k] = String(x);
      }
    }
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help: String(help ?? ''), kind, series: new Map() }));
    else if (f.kind !== kind) throw new Error(`prometheus: ${name} is already a ${f.kind}`);
    const key = Object.keys(lab).sort().map((k) => `${k}=${lab[k]}`).join('\u0000');
    const s = f.series.get(key);
    if (kind === 'counter' && v < 0) throw new Error(`prometheus: ${name}: a counter cannot decrease (${v})`);
    if (!s) f.series.set(key, { labels: lab, value: v });
    else s.value = kind === 'counter' ? s.value + v : v;
    return 'ok';
  }

  get size(): number {
    return this.families.size;
  }

  render(): string {
    const esc = (x: string) => x.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    let out = '';
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      out += `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${f.kind}\n`;
      for (const s of f.series.values()) {
        const l = Object.keys(s.labels).sort().map((k) => `${k}="${esc(s.labels[k])}"`).join(',');
        out += `${name}${l ? `{${l}}` : ''} ${s.value}\n`;
      }
    }
    return out;
  }

  /** Serves `/metrics` on 127.0.0.1:port (0 = any free port). Resolves with the bound port. */
  serve(port: number): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('try /metrics\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.render());
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const addr = server.address();
        resolve({
          port: typeof addr === 'object' && addr ? addr.port : port,
          close: () => new Promise((r) => server.close(() => r())),
        });
      });
    });
  }
}
