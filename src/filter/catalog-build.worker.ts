/**
 * Worker thread of `buildCatalogInWorker`: builds the catalog from
 * `workerData` (BuildOptions) and posts back the report or the error, so the
 * thread that asked keeps none of the build's memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BuildOptions, buildCatalog } from './catalog-build.ts';
import { CatalogError } from './catalog.ts';

try {
  const report = await buildCatalog(workerData as BuildOptions);
  parentPort?.postMessage({ ok: true, report });
} catch (error) {
  const known = error instanceof CatalogError;
  parentPort?.postMessage({
    ok: false,
    code: known ? error.code : null,
    message: error instanceof Error ? error.message : String(error),
    issues: known ? error.issues : [],
  });
}
