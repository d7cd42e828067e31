/**
 * `file.*`: every path is confined to one folder (default `.wirehook/files`). Relative paths
 * are relative to it; absolute paths must resolve inside it; `..` and symlinks that lead out
 * are refused. Checked on the real path of the deepest existing ancestor, so a symlink planted
 * inside the folder cannot point a write elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarEntries, type TarEntry } from './tar';

export class FileSandbox {
  private real: string | null = null;
  private readRoots: string[];

  constructor(private dir: string, extraReadRoots: string[] = []) {
    this.dir = path.resolve(dir);
    this.readRoots = extraReadRoots.map((r) => path.resolve(r));
  }

  /** The folder, created on first use (a run that never calls file.* leaves no trace). */
  get root(): string {
    if (this.real === null) {
      fs.mkdirSync(this.dir, { recursive: true });
      this.real = fs.realpathSync(this.dir);
    }
    return this.real;
  }

  /** Resolves `p` inside the sandbox or throws a clear error. */
  resolve(p: unknown, forRead = false): string {
    if (typeof p !== 'string' || p === '') throw new Error(`file: expected a path, got ${JSON.stringify(p)}`);
    const abs = path.resolve(this.root, p);
    const real = realOfDeepest(abs);
    const roots = forRead ? [this.root, ...this.readRoots.map(realOfDeepest)] : [this.root];
    if (!roots.some((r) => real === r || real.startsWith(r + path.sep))) {
      throw new Error(`file: ${JSON.stringify(p)} is outside the files folder ${this.root}`);
    }
    return real;
  }

  call(op: string, args: unknown[]): string | undefined {
    const a = args;
    switch (op) {
      case 'write':
        fs.writeFileSync(this.resolve(a[0]), text(a[1]));
        return undefined;
      case 'append':
        fs.appendFileSync(this.resolve(a[0]), text(a[1]));
        return undefined;
      case 'read':
        return fs.readFileSync(this.resolve(a[0], true), 'utf8');
      case 'move': {
        const src = this.resolve(a[0]);
        fs.renameSync(src, this.intoDir(src, this.resolve(a[1])));
        return undefined;
      }
      case 'copy': {
        const src = this.resolve(a[0], true);
        fs.cpSync(src, this.intoDir(src, this.resolve(a[1])), { recursive: true });
        return undefined;
      }
      case 'delete': {
        const t = this.resolve(a[0]);
        if (t === this.root) throw new Error('file.delete: refusing to delete the files folder itself');
        fs.rmSync(t, { recursive: true, force: true });
        return undefined;
      }
      case 'mkdir':
        fs.mkdirSync(this.resolve(a[0]), { recursive: true });
        return undefined;
      case 'mkdirTemp': {
        const dir = this.resolve(a[1] ? String(a[1]) : '.');
        // The prefix is a path too ('../x' climbs): check where the new folder will be.
        const prefix = path.join(dir, a[0] ? String(a[0]) : 'tmp');
        this.resolve(`${prefix}XXXXXX`);
        return fs.mkdtempSync(prefix);
      }
      case 'temp': {
        const dir = this.resolve(a[1] ? String(a[1]) : '.');
        const ext = a[2] === undefined || a[2] === null || a[2] === '' ? 'txt' : String(a[2]);
        const p = path.join(dir, `${a[0] ?? ''}${randomBytes(5).toString('hex')}.${ext}`);
        this.resolve(p);
        fs.writeFileSync(p, '', { flag: 'wx' });
        return p;
      }
      case 'tar': {
        const dir = this.resolve(a[0]);
        if (!fs.statSync(dir).isDirectory()) throw new Error(`file.tar: ${JSON.stringify(a[0])} is not a directory`);
        const out = path.join(this.root, `kubeshark_${Math.floor(Date.now() / 1000)}.tar.gz`);
        fs.writeFileSync(out, gzipSync(tarEntries(collect(dir))));
        return out;
      }
      default:
        throw new Error(`file.${op} is not a Wirehook helper`);
    }
  }

  /** `move`/`copy` into an existing directory keep the base name. */
  private intoDir(src: string, dst: string): string {
    try {
      if (fs.statSync(dst).isDirectory()) return this.resolve(path.join(dst, path.basename(src)));
    } catch {
      /* destination does not exist yet */
    }
    return dst;
  }
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
}

/**
 * realpath of `p` if it exists, else realpath of its deepest existing ancestor + the rest. A
 * dangling symlink on the way is followed to where it points (a write through it would create
 * its target): realpath fails on it, yet it exists, so it is not a missing component.
 */
function realOfDeepest(p: string, depth = 0): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest);
    } catch {
      let link: string | null = null;
      try {
        if (fs.lstatSync(cur).isSymbolicLink()) link = fs.readlinkSync(cur);
      } catch {
        /* missing: climb */
      }
      if (link !== null) {
        // A loop or a very long chain: say it is outside (refused) rather than guess.
        if (depth >= 40) return path.sep + '\0symlink-loop';
        return realOfDeepest(path.join(path.resolve(path.dirname(cur), link), ...rest), depth + 1);
      }
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.unshift(path.basename(cur));
      cur = parent;
    }
  }
}

/** Regular files and directories under `dir`, names relative to it (symlinks are not followed). */
function collect(dir: string, rel = ''): TarEntry[] {
  const out: TarEntry[] = [];
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(path.join(dir, r));
    if (st.isDirectory()) {
      out.push({ name: `${r}/`, dir: true, mtime: st.mtimeMs / 1000 });
      out.push(...collect(dir, r));
    } else if (st.isFile()) {
      out.push({ name: r, data: fs.readFileSync(path.join(dir, r)), mtime: st.mtimeMs / 1000 });
    }
  }
  return out;
}
