/** Temporary directories for a test file, removed when the file's tests end. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** Returns a maker of fresh directories named `schoolgate-<prefix>-…`; all are removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const dir = mkdtempSync(path.join(tmpdir(), `schoolgate-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
}
