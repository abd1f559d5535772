#!/usr/bin/env node
// The `schoolgate` command. Schoolgate runs on Node 24 (TypeScript run natively,
// node:sqlite, crypto.argon2); this launcher is plain JavaScript that any Node
// can start, and it re-runs the CLI on the Node 24 the project pins in
// node_modules/node when the machine's own node is older.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const modernEnough = major > 24 || (major === 24 && minor >= 7);

if (modernEnough && process.argv[2] === 'filter' && process.argv[3] === 'serve') {
  // A DNS node: a lean entry that loads only the filter (not the web app), run as
  // plain JavaScript (see src/cli/filter-serve.strip.js); it hands --help and bad
  // flags back to the full CLI.
  const { plainEntry } = await import('../src/cli/filter-serve.strip.js');
  const lean = plainEntry(root, 'src/cli/filter-serve.main.ts');
  if (lean.note) console.error(`schoolgate filter serve: ${lean.note}`);
  const code = await (await import(lean.url)).runFilterServe(process.argv.slice(4));
  if (code === null) await import(pathToFileURL(entry).href);
  else process.exitCode = code;
} else if (modernEnough) {
  await import(pathToFileURL(entry).href);
} else {
  const pinned = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(
      `schoolgate needs Node.js 24.7 or newer; this is ${process.version} and the pinned Node 24 is not installed.\n` +
        `Run \`npm install\` in ${root} first.`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
