/**
 * A door of the hook runtime: a full disk while stream packets are recorded for `pcap.*` and
 * during `pcap.snapshot`. The files folder is a small tmpfs (mounted by the test; we are root),
 * the capture the demo pcap, the script snapshots every 10th item. Before the fix, the first
 * failed stream write ended the run with exit 70 and an internal-error stack, and no item came
 * out at all; a snapshot cut by ENOSPC left a partial file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CLI = resolve('dist', 'cli.js');
const DEMO = resolve('examples', 'captures', 'demo.pcap');
const OUT = mkdtempSync(join(resolve('test', '.out'), 'full-disk-'));
const SCRIPT = join(OUT, 'snap.js');
writeFileSync(SCRIPT, `var n = 0;
function onItemCaptured(d) {
  n++;
  console.log("item " + n + " " + d.stream + " " + d.protocol.name);
  if (n % 10 === 0) {
    try { console.log("snapshot " + pcap.snapshot()); } catch (e) { console.log("snapshot failed: " + e.message); }
  }
}
`);

function run(filesDir: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', SCRIPT, '--pcap', DEMO, '--files-dir', filesDir], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs with the files folder on a tmpfs of `size`, then unmounts it. */
function onFullDisk(size: string, check: (r: ReturnType<typeof run>, dir: string) => void): void {
  const dir = join(OUT, `tmpfs-${size}`);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  try {
    check(run(dir), dir);
  } finally {
    execFileSync('umount', [dir]);
  }
}

const itemLines = (out: string) => out.split('\n').filter((l) => l.startsWith('item '));
const snapLines = (out: string) => out.split('\n').filter((l) => l.startsWith('snapshot'));
const FAILED = /^snapshot failed: pcap\.snapshot: cannot write \S+\.pcap: ENOSPC: no space left on device, write; no snapshot was written$/;

/** Every snapshot either a whole pcap (the merged packets) or a clear failure; no partial file left. */
function snapshotsSound(stdout: string, dir: string, whole: number): { ok: number; failed: number } {
  let ok = 0;
  let failed = 0;
  const made = new Set<string>();
  for (const l of snapLines(stdout)) {
    if (FAILED.test(l)) {
      failed++;
      continue;
    }
    const file = /^snapshot (\S+\.pcap)$/.exec(l)?.[1];
    assert.ok(file, `a snapshot line is a path or a clear failure: ${l}`);
    const b = readFileSync(file);
    assert.equal(b.readUInt32LE(0), 0xa1b23c4d, 'a nanosecond pcap');
    // A whole snapshot: tshark reads every record (a cut file would end in an error).
    const n = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length;
    assert.equal(n, whole, `${file} holds every recorded packet`);
    made.add(file.slice(dir.length + 1));
    ok++;
  }
  const left = readdirSync(dir).filter((f) => f.endsWith('.pcap'));
  assert.deepEqual(left.sort(), [...made].sort(), 'no snapshot file but the reported ones');
  return { ok, failed };
}

test('full disk while recording stream pcaps and during pcap.snapshot: every item still comes out, each failure said once and clearly', () => {
  const roomy = run(join(OUT, 'roomy'));
  assert.equal(roomy.code, 0, roomy.stderr);
  const want = itemLines(roomy.stdout);
  assert.ok(want.length > 50, `the demo capture's items (${want.length})`);
  const packets = Number(execFileSync('capinfos', ['-M', '-c', '-T', DEMO], { encoding: 'utf8' }).trim().split('\n').pop()!.split('\t')[1]);
  const demoSnaps = snapshotsSound(roomy.stdout, join(OUT, 'roomy'), packets);
  assert.ok(demoSnaps.ok > 0 && demoSnaps.failed === 0);

  // 48 KiB: the stream pcaps fill it; recording stops with one warning, snapshots fail cleanly.
  onFullDisk('48k', (r, dir) => {
    assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
    assert.deepEqual(itemLines(r.stdout), want, 'every item, in order');
    const warn = r.stderr.split('\n').filter((l) => /recording stream packets/.test(l));
    assert.deepEqual(warn, [`wirehook: warning: recording stream packets for pcap.* in ${dir}/pcaps stopped: ENOSPC: no space left on device, write; the capture goes on`]);
    assert.doesNotMatch(r.stderr, /internal error/);
    const s = snapshotsSound(r.stdout, dir, -1);
    assert.equal(s.ok, 0);
    assert.equal(s.failed, snapLines(roomy.stdout).length, 'every snapshot failed, each with the clear message');
  });
  // 160 KiB: the stream pcaps fit, the first snapshot too; later ones run out of room mid-write.
  onFullDisk('160k', (r, dir) => {
    assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
    assert.deepEqual(itemLines(r.stdout), want, 'every item, in order');
    assert.doesNotMatch(r.stderr, /recording stream packets|internal error/);
    const s = snapshotsSound(r.stdout, dir, packets);
    assert.ok(s.ok >= 1 && s.failed >= 1, `some snapshots written whole, later ones refused (${s.ok} / ${s.failed})`);
  });
});
