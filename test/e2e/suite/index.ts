/** Entry the extension host loads (extensionTestsPath): runs the mocha suite in tests.js. */
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  const grep = process.env.WIREHOOK_E2E_GREP;
  if (grep) mocha.grep(grep);
  mocha.addFile(path.join(__dirname, 'tests.js'));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} e2e test(s) failed`)) : resolve()));
  });
}
