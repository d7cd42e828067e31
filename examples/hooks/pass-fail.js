// Pass/fail marks for queried items
// Run with a query (wirehook run pass-fail.js --query http …): server errors are marked
// failed (red), everything else passed (green).
function onItemQueried(data) {
  if (data.protocol.name === "http" && data.response.status >= 500) {
    test.fail(data);
  } else {
    test.pass(data);
  }
}
