// DNS top 5 (worker counts, hub aggregates)
// Workers count DNS questions and send their counts to the hub; the hub merges them with
// wrapper.joinMaps and prints the top 5. The action name is unique to this script so other
// scripts' hub actions are not mixed in.
var ACTION = "dns-top5";
var counts = {};
var merged = {};

function onItemCaptured(data) {
  if (data.protocol.name !== "dns") return;
  var q = data.request.questions;
  for (var i = 0; i < q.length; i++) counts[q[i].name] = (counts[q[i].name] || 0) + 1;
}

function send() {
  if (utils.nodeName() === "hub") return;
  hub.action(ACTION, counts);
  counts = {};
}

function onHubAction(action, object) {
  if (action !== ACTION) return;
  merged = wrapper.joinMaps(merged, object);
  var names = Object.keys(merged).sort(function (a, b) { return merged[b] - merged[a] || (a < b ? -1 : 1); });
  var top = [];
  for (var i = 0; i < names.length && i < 5; i++) top.push(names[i] + " " + merged[names[i]]);
  console.log("top DNS: " + top.join(", "));
}

jobs.schedule("dns-top5-send", "*/10 * * * * *", send);
