/** Runs the `schoolgate` command as a person would, on its own data directory, with the logs silenced. */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT_DIR } from '../../src/app.ts';

/** `schoolgate ARGS...` with `dataDir` as its data directory, home and working directory. */
export function runSchoolgate(dataDir: string, args: string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(ROOT_DIR, 'bin', 'schoolgate.js'), ...args], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '', HOME: dataDir, SCHOOLGATE_DATA_DIR: dataDir, SCHOOLGATE_LOG__LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}
