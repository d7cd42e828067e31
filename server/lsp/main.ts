/**
 * dist/server.js: the Wirehook language server, started by the extension (or any LSP client)
 * as `node dist/server.js --stdio`.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { WirehookServer } from './server';

const connection = createConnection(ProposedFeatures.all);
new WirehookServer(connection);
connection.listen();
