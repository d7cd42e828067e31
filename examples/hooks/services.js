// One line per call to the services an app talks to: databases, brokers, gRPC, GraphQL, TLS.
// Failures print with console.error and mark the item failed. Try it on the second bundled
// capture: wirehook run examples/hooks/services.js --pcap examples/captures/services.pcap
var SLOW_MS = 100;

function line(data, text, failed) {
  var ms = data.elapsedTime;
  var out = data.protocol.abbr + " " + text + " (" + ms + " ms" + (ms >= SLOW_MS ? ", slow" : "") + ")";
  if (failed) {
    console.error(out);
    test.fail(data);
  } else {
    console.log(out);
  }
}

function onItemCaptured(data) {
  switch (data.protocol.name) {
    case "postgresql":
      if (data.request.query) {
        line(data, data.request.query + " → " + (data.response.errorCode ? data.response.errorCode + " " + data.response.errorMessage : data.response.commandTag), !!data.response.errorCode);
      }
      break;
    case "mysql":
      if (data.request.query) {
        line(data, data.request.query + " → " + (data.response.errorCode ? data.response.errorCode + " " + data.response.errorMessage : data.response.type + ", " + data.response.rows + " rows"), !!data.response.errorCode);
      }
      break;
    case "redis":
      line(data, (data.request.command + " " + data.request.key).trim() + " → " + data.response.type, data.response.type === "Error");
      break;
    case "kafka":
      line(data, data.request.apiKeyName + " v" + data.request.apiVersion + " from " + data.request.clientID, false);
      break;
    case "amqp":
      if (data.request.method === "basic publish" || data.request.method === "basic deliver") {
        line(data, data.request.method + " " + (data.request.routingKey || data.request.exchange), false);
      }
      break;
    case "mongodb":
      line(data, data.request.summary, false);
      break;
    case "tlsx":
      line(data, "to " + (data.request.sni || data.dst.ip) + " JA4 " + data.request.ja4 + " → " + data.response.version, false);
      break;
    case "http":
      if (data.response.grpc) {
        line(data, data.request.path + " → " + data.response.grpc.status + (data.response.grpc.message ? " " + data.response.grpc.message : ""), data.response.grpc.status !== 0);
      } else if (data.request.graphql) {
        line(data, data.request.graphql.operationType + " " + data.request.graphql.operationName + " → " + data.response.status, data.response.status >= 400);
      }
      break;
  }
}
