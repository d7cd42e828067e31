// Writes a pcap stream to stdout: the records of FILE repeated COPIES times, each copy shifted in
// time after the last (as the 1 GB capture is made). Used as a `command` source by the LSP bench
// to push a million items through the server without a million-item file on disk.
import { readFileSync, writeSync } from 'node:fs';

const [file, copiesArg] = process.argv.slice(2);
const buf = readFileSync(file);
const recs = buf.subarray(24);
const first = buf.readUInt32LE(24);
let last = first;
for (let o = 0; o + 16 <= recs.length; o += 16 + recs.readUInt32LE(o + 8)) last = recs.readUInt32LE(o);
const span = last - first + 2;
const write = (b) => {
  for (let off = 0; off < b.length; ) {
    try {
      off += writeSync(1, b, off);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    }
  }
};
write(buf.subarray(0, 24));
for (let c = 0; c < Number(copiesArg); c++) {
  const copy = Buffer.from(recs);
  for (let o = 0; o + 16 <= copy.length; o += 16 + copy.readUInt32LE(o + 8)) copy.writeUInt32LE(copy.readUInt32LE(o) + c * span, o);
  write(copy);
}
