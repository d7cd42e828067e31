// Periodic report of items per protocol
var perProtocol = {};
var total = 0;

function onItemCaptured(data) {
  var p = data.protocol.abbr;
  perProtocol[p] = (perProtocol[p] || 0) + 1;
  total++;
}

function report(label) {
  console.log(label + " " + total + " items " + JSON.stringify(perProtocol));
}

function onJobPassed(tag, cron, limit) {
  if (tag === "protocol-report") prometheus.metric("report_runs_total", "Reports printed", 1, 1);
}

jobs.schedule("protocol-report", "*/5 * * * * *", report, 0, "report:");
