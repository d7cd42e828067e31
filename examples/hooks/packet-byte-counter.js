// Packet and byte counter
// onPacketCaptured runs for every packet: keep it to arithmetic and report from a job.
var packets = 0;
var bytes = 0;

function onPacketCaptured(info) {
  packets++;
  bytes += info.length;
}

function report() {
  console.log("packets: " + packets + ", bytes: " + bytes);
}

jobs.schedule("packet-byte-report", "*/5 * * * * *", report);
