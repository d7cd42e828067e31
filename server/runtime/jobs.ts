/**
 * `jobs.*` host side: 6-field cron (seconds first) through croner. One scheduler per runtime
 * (Kubeshark's per-node scheduler): `jobs.scheduler.stop()` pauses every script's jobs.
 * Jobs belong to a script instance; a reload or unload removes them.
 */
import { Cron } from 'croner';

interface Job { owner: object; tag: string; cron: Cron; pattern: string; limit: number; runs: number }

export class JobScheduler {
  private jobs = new Map<object, Map<string, Job>>();
  private running = true;

  schedule(owner: object, tag: string, pattern: string, limit: number, fire: (tag: string) => void): void {
    if (pattern.trim().split(/\s+/).length !== 6) {
      throw new Error(`jobs.schedule: cron ${JSON.stringify(pattern)} must have 6 fields (seconds first), e.g. "*/5 * * * * *"`);
    }
    let cron: Cron;
    const job = { owner, tag, pattern, limit, runs: 0 } as Job;
    try {
      cron = new Cron(pattern, { paused: !this.running, mode: '6-part', unref: true, protect: true }, () => {
        if (!this.running) return;
        job.runs++;
        if (job.limit > 0 && job.runs >= job.limit) this.remove(owner, tag);
        fire(tag);
      });
    } catch (e) {
      throw new Error(`jobs.schedule: invalid cron ${JSON.stringify(pattern)}: ${(e as Error).message.replace(/^CronPattern: /, '')}`);
    }
    job.cron = cron;
    let m = this.jobs.get(owner);
    if (!m) this.jobs.set(owner, (m = new Map()));
    m.get(tag)?.cron.stop();
    m.set(tag, job);
  }

  remove(owner: object, tag: string): void {
    const m = this.jobs.get(owner);
    m?.get(tag)?.cron.stop();
    m?.delete(tag);
  }

  removeAll(owner: object): void {
    for (const j of this.jobs.get(owner)?.values() ?? []) j.cron.stop();
    this.jobs.delete(owner);
  }

  list(owner: object): { tag: string; pattern: string; limit: number; runs: number; next: Date | null }[] {
    return [...(this.jobs.get(owner)?.values() ?? [])].map((j) => ({ tag: j.tag, pattern: j.pattern, limit: j.limit, runs: j.runs, next: j.cron.nextRun() }));
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    for (const m of this.jobs.values()) for (const j of m.values()) j.cron.resume();
  }

  stop(): void {
    this.running = false;
    for (const m of this.jobs.values()) for (const j of m.values()) j.cron.pause();
  }

  /** Total scheduled jobs (all scripts). */
  get size(): number {
    let n = 0;
    for (const m of this.jobs.values()) n += m.size;
    return n;
  }

  close(): void {
    for (const owner of [...this.jobs.keys()]) this.removeAll(owner);
  }
}
