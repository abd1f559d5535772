/**
 * Compiles every block list of the built-in catalogue that the mirror holds,
 * enabled by default or not, into one catalog, and prints the build report
 * as JSON. `schoolgate lists sync` compiles only the enabled lists; this is
 * the "every list" figure of issue 5. Run in its own process by run.ts, so
 * its peak RSS is the compile's alone.
 *
 *   node bench/lists/compile-all.ts MIRROR_DIR OUT_FILE
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildCatalog } from '../../src/filter/catalog-build.ts';
import { BUILT_IN_LISTS } from '../../src/lists/lists.sources.ts';

const [mirror, outFile] = process.argv.slice(2);
if (!mirror || !outFile) throw new Error('usage: compile-all.ts MIRROR_DIR OUT_FILE');

const sources = [];
const notInMirror: string[] = [];
for (const list of BUILT_IN_LISTS.values()) {
  if (list.use !== 'block' || !list.category) continue;
  const file = path.join(mirror, list.mirrorPath);
  const found = fs.existsSync(file) ? file : fs.existsSync(file.replace(/\.gz$/, '')) ? file.replace(/\.gz$/, '') : null;
  if (!found) {
    notInMirror.push(list.id);
    continue;
  }
  sources.push({ name: list.id, category: list.category, format: list.format, file: found });
}
fs.mkdirSync(path.dirname(outFile), { recursive: true });
const report = await buildCatalog({ sources, outFile, maxReported: 0 });
process.stdout.write(JSON.stringify({ ...report, notInMirror, enabledByDefault: sources.filter((s) => BUILT_IN_LISTS.get(s.name)?.enabledByDefault).length }) + '\n');
