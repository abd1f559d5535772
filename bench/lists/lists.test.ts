/**
 * The lists bench end to end in its quick form (one source, short waits: about
 * 15 s), and its skip without the lists. The quick run needs ../shared/data
 * and Linux's /proc; without them it is skipped, saying why.
 *   node --test bench/lists/lists.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ListsResults } from './report.ts';

const RUN = path.join(import.meta.dirname, 'run.ts');
const MIRROR = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const skipQuick = !fs.existsSync(path.join(MIRROR, 'sinfonietta'))
  ? `${MIRROR} not found (it holds the lists)`
  : !fs.existsSync('/proc/self/status')
    ? 'needs Linux /proc'
    : false;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_QUICK: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lists bench', () => {
  it('says it is skipped, and succeeds, when the lists are not there', async () => {
    const { code, stdout } = await run(['--mirror', path.join(os.tmpdir(), 'no-such-lists-mirror')]);
    assert.equal(code, 0);
    assert.match(stdout, /skipped: .*not found \(it holds the lists/);
  });

  it('compiles a source, swaps the running filter to a new catalog and reports both', { skip: skipQuick, timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schoolgate-lists-bench-test-'));
    try {
      const { code, stdout, stderr } = await run(['--quick', '--steady', '2', '--results-dir', dir]);
      assert.equal(code, 0, stderr);
      const results = JSON.parse(fs.readFileSync(path.join(dir, 'lists.json'), 'utf8')) as ListsResults;
      const [first, second] = results.compiles;
      assert.ok(first.names > 60_000, `names: ${first.names}`);
      assert.equal(second.names, first.names + 1, 'the second catalog holds the fresh name too');
      assert.ok(first.bytesOnDisk > 0 && first.tableBytes > 0 && first.peakRssKb > 0);
      const swap = results.swap!;
      assert.deepEqual(swap.answerCheck, { blockedRight: 100, allowedRight: 100, of: 100 });
      assert.equal(swap.swaps.length, 1);
      assert.notEqual(swap.swaps[0].renameAfterSyncStartMs, null, 'the catalog file was replaced');
      assert.notEqual(swap.blockedAfterRenameMs, null, 'the running filter blocked the new name');
      assert.ok(swap.steadyRssKb > 0 && swap.peakRssKb >= swap.steadyRssKb * 0.9);
      assert.ok(swap.swapQueries.sent > 0 && swap.swapQueries.answered > 0);
      assert.match(stdout, /rename → first answer blocking the new name, median/);
      assert.equal(fs.readFileSync(path.join(dir, 'lists.md'), 'utf8'), stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
