/**
 * `wirehook run --watch`: notices when hook script files change. The folder is watched, not the
 * file, because editors often save by writing a new file and renaming it over the old one
 * (a watch on the file would then follow the replaced inode and go quiet). Events come in
 * bursts per save, so each file settles for `debounceMs` and fires only if its text changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ScriptWatcher {
  close(): void;
}

export function watchScripts(files: string[], initial: Map<string, string>, onChange: (file: string, source: string) => void, debounceMs = 100): ScriptWatcher {
  const last = new Map(initial);
  const timers = new Map<string, NodeJS.Timeout>();
  const byDir = new Map<string, Map<string, string>>();
  for (const f of files) {
    const dir = path.dirname(path.resolve(f));
    if (!byDir.has(dir)) byDir.set(dir, new Map());
    byDir.get(dir)!.set(path.basename(f), f);
  }
  const settle = (file: string) => {
    clearTimeout(timers.get(file));
    timers.set(file, setTimeout(() => {
      timers.delete(file);
      let source: string;
      try {
        source = fs.readFileSync(file, 'utf8');
      } catch {
        return; // mid-save (renamed away) or deleted: the next event brings it back
      }
      if (source === last.get(file)) return;
      last.set(file, source);
      onChange(file, source);
    }, debounceMs));
  };
  const watchers = [...byDir].map(([dir, names]) =>
    fs.watch(dir, (_event, name) => {
      // Some platforms do not say which file changed: check all of this folder's scripts.
      if (name === null) for (const f of names.values()) settle(f);
      else if (names.has(String(name))) settle(names.get(String(name))!);
    }),
  );
  return {
    close() {
      for (const w of watchers) w.close();
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
