/**
 * Plain JavaScript for `schoolgate filter serve`. Node strips the types of each
 * .ts file as it loads it, and that costs every thread that loads one (the
 * main thread and each DNS worker) about 17 MiB and tens of milliseconds: the
 * stripper (amaro, swc in WebAssembly) is set up per thread. So filter serve
 * runs from type-stripped copies of its modules, kept in
 * node_modules/.cache/schoolgate/filter-serve/<key>/, made again whenever a
 * source file changes (size or mtime) or Node does. They are made by a child
 * process, so the process that serves DNS never loads the stripper itself.
 * Stripping keeps every line and column where it was, so stack traces point
 * at the same places as in the sources.
 *
 * This file is plain JavaScript because it runs before anything else in that
 * process: loading a .ts file here would load the stripper it exists to avoid.
 * Run as a script it is the builder: `node filter-serve.strip.js ROOT CACHE ENTRY...`.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
/** A relative module specifier ending in .ts, in quotes: imports, dynamic imports and `new URL('./worker.ts', import.meta.url)` alike. */
const RELATIVE_TS = /(['"])(\.{1,2}\/[^'"\n]*?)\.ts\1/g;
/** Copies not used (rebuilt elsewhere) for this long are removed when a new one is made. */
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Whether every source a copy was made from is as it was then (size and mtime), on the same Node. */
function fresh(root, cacheDir) {
  let current;
  try {
    current = JSON.parse(fs.readFileSync(path.join(cacheDir, 'current.json'), 'utf8'));
  } catch {
    return null;
  }
  if (current.node !== process.version || !Array.isArray(current.files)) return null;
  for (const [file, size, mtimeMs] of current.files) {
    let stat;
    try {
      stat = fs.statSync(path.join(root, file));
    } catch {
      return null;
    }
    if (stat.size !== size || stat.mtimeMs !== mtimeMs) return null;
  }
  const dir = path.join(cacheDir, current.key);
  return fs.existsSync(dir) ? dir : null;
}

/**
 * Writes type-stripped copies of `entries` (paths relative to `root`) and of
 * every .ts module they reach by a relative specifier, with those specifiers
 * turned to .js; returns the directory they are in. Runs in the builder child.
 */
export async function build(root, cacheDir, entries) {
  const { stripTypeScriptTypes } = await import('node:module');
  const files = new Map(); // relative .ts path -> stripped JavaScript
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (files.has(file)) continue;
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    const js = stripTypeScriptTypes(source, { mode: 'strip' }).replace(RELATIVE_TS, (whole, quote, stem) => {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), `${stem}.ts`));
      if (!fs.existsSync(path.join(root, target))) return whole; // not one of ours (a message, a test name...): leave it
      queue.push(target);
      return `${quote}${stem}.js${quote}`;
    });
    files.set(file, js);
  }
  const sorted = [...files.keys()].sort();
  const hash = createHash('sha256').update(process.version);
  for (const file of sorted) hash.update(`\0${file}\0${files.get(file)}`);
  const key = hash.digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, key);
  fs.mkdirSync(cacheDir, { recursive: true });
  if (!fs.existsSync(dir)) {
    const temp = path.join(cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    for (const [file, js] of files) {
      const out = path.join(temp, file.replace(/\.ts$/, '.js'));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, js);
    }
    fs.writeFileSync(path.join(temp, 'package.json'), '{ "type": "module" }\n');
    try {
      fs.renameSync(temp, dir);
    } catch (error) {
      fs.rmSync(temp, { recursive: true, force: true });
      if (!fs.existsSync(dir)) throw error; // else another start made the same copy first
    }
  }
  // Sizes and mtimes as read now: a file changed while we worked makes the next start build again.
  const stamps = sorted.map((file) => {
    const stat = fs.statSync(path.join(root, file));
    return [file, stat.size, stat.mtimeMs];
  });
  const pointer = path.join(cacheDir, `.current-${process.pid}.json`);
  fs.writeFileSync(pointer, JSON.stringify({ node: process.version, key, files: stamps }));
  fs.renameSync(pointer, path.join(cacheDir, 'current.json'));
  for (const other of fs.readdirSync(cacheDir)) {
    if (other === key || other === 'current.json') continue;
    const otherPath = path.join(cacheDir, other);
    try {
      if (Date.now() - fs.statSync(otherPath).mtimeMs > PRUNE_AFTER_MS) fs.rmSync(otherPath, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
  return dir;
}

/**
 * The module to run `filter serve` from: the stripped copy of `entry`
 * (relative to `root`), made first if needed, or the .ts source itself when
 * no copy can be had (a read-only install, SCHOOLGATE_STRIP=off), with why.
 */
export function plainEntry(root, entry) {
  const source = pathToFileURL(path.join(root, entry)).href;
  if (process.env.SCHOOLGATE_STRIP === 'off') return { url: source, note: null };
  const cacheDir = path.join(root, 'node_modules', '.cache', 'schoolgate', 'filter-serve');
  const compiled = (dir) => pathToFileURL(path.join(dir, entry.replace(/\.ts$/, '.js'))).href;
  const ready = fresh(root, cacheDir);
  if (ready) return { url: compiled(ready), note: null };
  const run = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', SELF, root, cacheDir, entry], { encoding: 'utf8', timeout: 60_000 });
  const built = run.status === 0 ? fresh(root, cacheDir) : null;
  if (built) return { url: compiled(built), note: null };
  const why = (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').slice(-1)[0];
  return { url: source, note: `running from the TypeScript sources: could not write plain JavaScript to ${cacheDir}: ${why}` };
}

if (process.argv[1] === SELF) {
  const [root, cacheDir, ...entries] = process.argv.slice(2);
  try {
    await build(root, cacheDir, entries);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
