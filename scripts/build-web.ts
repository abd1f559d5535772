/**
 * Builds the React app into web/dist with Vite. With --if-stale it does
 * nothing when the build is newer than every source file, so `npm start`
 * stays quick on the second run.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web');
const marker = path.join(webDir, 'dist', 'index.html');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(marker) && statSync(marker).mtimeMs >= newestSource(webDir)) {
  process.exit(0);
}
await build({ root: webDir, configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
console.log('web app built into web/dist');
