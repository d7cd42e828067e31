// A pcap stream on stdout for the speed figures: FILE's records repeated BURST times at once,
// then RATE copies a second for SECONDS (each copy shifted in time after the last, so streams
// do not overlap). Used as a `command` capture source by the e2e speed test, and with RATE 0 by
// the LSP bench (`FILE 10 0 0`: ten copies, then the stream ends).
import { readFileSync, writeSync } from 'node:fs';

const [file, burstArg, rateArg, secondsArg] = process.argv.slice(2);
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
let c = 0;
const copy = () => {
  const b = Buffer.from(recs);
  for (let o = 0; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8)) b.writeUInt32LE(b.readUInt32LE(o) + c * span, o);
  c++;
  write(b);
};
write(buf.subarray(0, 24));
for (let i = 0; i < Number(burstArg); i++) copy();
const rate = Number(rateArg) || 0;
if (rate <= 0) process.exit(0);
const end = Date.now() + Number(secondsArg) * 1000;
const timer = setInterval(() => {
  for (let i = 0; i < Math.max(1, Math.round(rate / 10)); i++) copy();
  if (Date.now() >= end) {
    clearInterval(timer);
    process.exit(0);
  }
}, 100);
