// HTTP status code counter
var codes = {};

function onItemCaptured(data) {
  if (data.protocol.name !== "http") return;
  var status = data.response.status;
  codes[status] = (codes[status] || 0) + 1;
}

function report() {
  var keys = Object.keys(codes).sort();
  var parts = [];
  for (var i = 0; i < keys.length; i++) {
    parts.push(keys[i] + "=" + codes[keys[i]]);
    prometheus.vector("http_status_codes", "HTTP responses by status code", 2, codes[keys[i]], { s_status: keys[i] });
  }
  console.log("status codes: " + (parts.join(" ") || "none yet"));
}

jobs.schedule("status-report", "*/10 * * * * *", report);
