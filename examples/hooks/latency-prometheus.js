// Latency per path, exported to Prometheus
// Run with --metrics-port 9100 and scrape http://127.0.0.1:9100/metrics.
var sums = {};

function onItemCaptured(data) {
  if (data.protocol.name !== "http") return;
  var key = data.request.method + " " + data.request.path;
  var s = sums[key] || (sums[key] = { n: 0, ms: 0 });
  s.n++;
  s.ms += data.elapsedTime;
}

function publish() {
  var keys = Object.keys(sums);
  for (var i = 0; i < keys.length; i++) {
    var s = sums[keys[i]];
    var avg = s.ms / s.n;
    prometheus.vector("http_latency_ms", "Average HTTP latency per path (ms)", 2, avg, { s_path: keys[i] });
    console.log("latency " + keys[i] + " avg " + avg.toFixed(1) + " ms over " + s.n);
  }
  sums = {};
}

jobs.schedule("latency-publish", "*/10 * * * * *", publish);
