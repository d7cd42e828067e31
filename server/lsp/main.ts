/**
 * dist/server.js: the Wirehook language server, started by the extension (or any LSP client)
 * as `node dist/server.js --stdio`.
 */
import * as v8 from 'node:v8';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { WirehookServer } from './server';

// V8 grows the old generation by a factor it picks from GC speed (up to 4x the live heap): at
// full capture speed on a loaded machine it kept ~150 MB of old space for ~40 MB live, and the
// server's RSS after 1M items was 313–322 MB. Capping the growth at 50% brought it to ~225 MB
// for ~8% more server CPU (20%: ~212 MB for ~36% more; docs/store.md, "In the server"). The
// flag is read at each GC, so setting it here, before the capture allocates, takes effect; it
// is process-wide (the runtime worker's heap too). WIREHOOK_HEAP_GROWING_PERCENT overrides it
// (0 = V8's own choice) for measuring.
const growing = Number(process.env.WIREHOOK_HEAP_GROWING_PERCENT ?? 50);
if (growing > 0) v8.setFlagsFromString(`--heap-growing-percent=${growing}`);

const connection = createConnection(ProposedFeatures.all);
new WirehookServer(connection);
connection.listen();
