// Top talkers by bytes
var bytes = {};

function onItemCaptured(data) {
  var who = data.src.ip + " -> " + data.dst.ip + ":" + data.dst.port;
  bytes[who] = (bytes[who] || 0) + data.requestSize + data.responseSize;
}

function top5() {
  var keys = Object.keys(bytes).sort(function (a, b) { return bytes[b] - bytes[a]; });
  for (var i = 0; i < keys.length && i < 5; i++) console.log((i + 1) + ". " + keys[i] + " " + bytes[keys[i]] + " bytes");
}

jobs.schedule("top-talkers", "*/10 * * * * *", top5);
