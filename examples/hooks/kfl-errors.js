// KFL error handling
// kfl.match throws on an invalid query; the message is "LINE:COL: text".
var queries = ["http and response.status >= 500", "http and ?", env.ALERT_KFL || "dns"];
var valid = [];

for (var i = 0; i < queries.length; i++) {
  try {
    kfl.validate(queries[i]);
    valid.push(queries[i]);
  } catch (e) {
    console.error("invalid query " + JSON.stringify(queries[i]) + ": " + e.message);
  }
}

function onItemCaptured(data) {
  for (var i = 0; i < valid.length; i++) {
    if (kfl.match(valid[i], data)) console.log("match [" + valid[i] + "] " + data.id);
  }
}
