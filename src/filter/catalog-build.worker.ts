/**
 * The isolated side of `buildCatalogInWorker`: builds the catalog and sends
 * back the report or the error, so the process that asked keeps none of the
 * build's memory. Runs as a worker thread (options in `workerData`) or as a
 * child process (options in the first IPC message; it exits when done, giving
 * all of its memory back to the system).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BuildOptions, type BuildProgress, buildCatalog } from './catalog-build.ts';
import { CatalogError } from './catalog.ts';

async function run(options: BuildOptions, send: (message: { progress: BuildProgress }) => void) {
  try {
    return { ok: true, report: await buildCatalog(options, (progress) => send({ progress })) };
  } catch (error) {
    const known = error instanceof CatalogError;
    return { ok: false, code: known ? error.code : null, message: error instanceof Error ? error.message : String(error), issues: known ? error.issues : [] };
  }
}

if (parentPort) {
  const port = parentPort;
  port.postMessage(await run(workerData as BuildOptions, (message) => port.postMessage(message)));
} else if (process.send) {
  process.once('message', async (options: BuildOptions) => {
    const result = await run(options, (message) => process.send?.(message));
    process.send?.(result, () => process.exit(0));
  });
}
