/**
 * The host side of the sandbox's helper calls: every Wirehook helper a script calls (`this`
 * store, kfl.match, jobs, utils, hub.action, vendor/webhooks, file.*, pcap.*, timers) arrives
 * here as one `op` with up to three string/number arguments (script.ts marshals them). Return
 * values: undefined, or a string the prelude decodes (`s…` a string, `=…` JSON).
 */
import * as yaml from 'js-yaml';
import type { Item } from '../../capture/item/schema';
import type { CompiledQuery } from '../kfl/api';
import { compileLegacy } from '../kfl/legacy/index';
import type { FileSandbox } from './helpers/files';
import { buildHar } from './helpers/har';
import type { MetricsRegistry } from './helpers/metrics';
import type { NetHelpers } from './helpers/net';
import { sentiment } from './helpers/sentiment';
import type { JobScheduler } from './jobs';
import type { Loaded } from './loaded';
import type { PcapHelpers } from './pcap';
import type { ScriptInstance } from './script';
import type { RuntimeEvent } from './types';

/** What the helpers need from the runtime around them. */
export interface HelperHost {
  /** Items of the batch being run (for kfl.match by index). */
  batch(): Item[];
  /** Runs a crossing into a script (faults.ts). */
  crossing(s: Loaded, hook: string, calls: number, fn: () => void): void;
  /** Delivers queued hub actions. */
  deliverHub(): void;
  onEvent(e: RuntimeEvent): void;
}

export interface HelperServices {
  jobs: JobScheduler;
  metrics: MetricsRegistry;
  files: FileSandbox;
  pcap: PcapHelpers;
  net: NetHelpers;
}

export class HelperCalls {
  /** The `this` store shared by all scripts (JSON text by key). */
  readonly shared = new Map<string, string>();
  /** `hub.action` calls waiting for the hub instances (delivered after the current crossing). */
  readonly hubQueue: [string, string][] = [];
  private kflCache = new Map<string, CompiledQuery | Error>();

  constructor(private readonly host: HelperHost, private readonly svc: HelperServices) {}

  dispatch(s: Loaded, inst: ScriptInstance, op: string, a: string | number | undefined, b: string | number | undefined, c: string | number | undefined): string | undefined {
    const { jobs, metrics, files, pcap, net } = this.svc;
    switch (op) {
      case 'sget': {
        return this.shared.get(String(a));
      }
      case 'sset':
        this.shared.set(String(a), String(b));
        return undefined;
      case 'shas':
        return this.shared.has(String(a)) ? '1' : '0';
      case 'sdel':
        this.shared.delete(String(a));
        return undefined;
      case 'skeys':
        return JSON.stringify([...this.shared.keys()]);
      case 'kfl': {
        const item = this.host.batch()[Number(b)];
        return `s${this.kfl(String(a)).match(item) ? '1' : '0'}`;
      }
      case 'kflj': {
        let item: unknown;
        try {
          item = JSON.parse(String(b));
        } catch {
          item = null;
        }
        return `s${this.kfl(String(a)).match(item as Item) ? '1' : '0'}`;
      }
      case 'kflv':
        this.kfl(String(a));
        return 's1';
      case 'jsched':
        jobs.schedule(inst, String(a), String(b), Number(c) || 0, (tag) => {
          if (s.disabled) return;
          this.host.crossing(s, 'job', 1, () => inst.job(tag));
          this.host.deliverHub();
        });
        return undefined;
      case 'jremove':
        jobs.remove(inst, String(a));
        return undefined;
      case 'jremoveAll':
        jobs.removeAll(inst);
        return undefined;
      case 'jrunning':
        return jobs.isRunning ? 's1' : 's0';
      case 'jstart':
        jobs.start();
        return undefined;
      case 'jstop':
        jobs.stop();
        return undefined;
      case 'yaml': {
        let v: unknown;
        try {
          v = JSON.parse(String(a));
        } catch (e) {
          throw new Error(`utils.json2Yaml: not JSON: ${(e as Error).message}`);
        }
        return `s${yaml.dump(v, { lineWidth: -1 })}`;
      }
      case 'hub':
        this.hubQueue.push([String(a), String(b)]);
        return undefined;
      case 'har':
        return `s${buildHar(JSON.parse(String(a)))}`;
      case 'prom': {
        const [name, help, type, value, labels] = JSON.parse(String(a)) as unknown[];
        return `s${metrics.update(name, help, type, value, labels)}`;
      }
      case 'file': {
        const r = files.call(String(a), JSON.parse(String(b)) as unknown[]);
        return r === undefined ? undefined : `s${r}`;
      }
      case 'pcap': {
        const args = JSON.parse(String(b)) as unknown[];
        if (a === 'path') return `s${pcap.path(args[0])}`;
        if (a === 'snapshot') return `s${pcap.snapshot(args[0], args[1])}`;
        return `=${JSON.stringify(pcap.nameResolutionHistory())}`;
      }
      case 'net': {
        const helper = String(a);
        const t0 = Date.now();
        try {
          const r = net.call(
            helper,
            JSON.parse(String(b)) as unknown[],
            (rep) => this.host.onEvent({ type: 'network', script: s.file, ...rep }),
            (text) => this.host.onEvent({ type: 'notice', script: s.file, text }),
          );
          return `s${r}`;
        } finally {
          inst.extendDeadline(Date.now() - t0);
        }
      }
      case 'sentiment':
        return `=${JSON.stringify(sentiment(String(a)))}`;
      case 'timer': {
        // Keyed by role too: the worker and hub instances of a script both number from 1.
        const key = `${inst.cfg.role}#${Number(a)}`;
        const id = Number(a);
        const t = setTimeout(() => {
          s.timers.delete(key);
          if (s.disabled) return;
          this.host.crossing(s, 'timer', 1, () => inst.timer(id));
          this.host.deliverHub();
        }, Math.max(0, Number(b) || 0));
        t.unref();
        s.timers.set(key, t);
        return undefined;
      }
      case 'untimer': {
        const key = `${inst.cfg.role}#${Number(a)}`;
        clearTimeout(s.timers.get(key));
        s.timers.delete(key);
        return undefined;
      }
      default:
        throw new Error(`${op} is not a Wirehook helper`);
    }
  }

  private kfl(q: string): CompiledQuery {
    let c = this.kflCache.get(q);
    if (c === undefined) {
      try {
        c = compileLegacy(q);
      } catch (e) {
        c = e as Error;
      }
      if (this.kflCache.size > 1000) this.kflCache.clear();
      this.kflCache.set(q, c);
    }
    if (c instanceof Error) throw c;
    return c;
  }
}
