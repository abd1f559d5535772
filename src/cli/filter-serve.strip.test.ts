import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDirs } from '../../test/support/temp.ts';
import { build, plainEntry } from './filter-serve.strip.js';

const tempDir = tempDirs('strip');

/** A small source tree: an entry with a value import, a type-only import, a worker URL and a string that only looks like a module. */
function sourceTree(): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'src', 'lib'), { recursive: true });
  writeFileSync(
    path.join(root, 'src', 'main.ts'),
    [
      "import { base } from './lib/base.ts';",
      "import type { Shape } from './lib/shape.ts';",
      'const shape: Shape = { size: base + 1 };',
      '/** The answer. */',
      'export const answer: number = shape.size;',
      "export const workerUrl = new URL('./lib/worker.ts', import.meta.url).href;",
      "export const message = 'see ./missing.ts';",
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(root, 'src', 'lib', 'base.ts'), 'export const base: number = 41;\n');
  writeFileSync(path.join(root, 'src', 'lib', 'shape.ts'), 'export interface Shape { size: number }\n');
  writeFileSync(path.join(root, 'src', 'lib', 'worker.ts'), "const name: string = 'worker';\nexport default name;\n");
  return root;
}

describe('filter serve as plain JavaScript (filter-serve.strip.js)', () => {
  it('strips the modules an entry reaches, keeps their lines, and points relative .ts specifiers at the copies', async () => {
    const root = sourceTree();
    const dir = await build(root, path.join(root, 'cache'), ['src/main.ts']);
    const main = readFileSync(path.join(dir, 'src', 'main.js'), 'utf8');
    assert.match(main, /from '\.\/lib\/base\.js'/);
    assert.match(main, /new URL\('\.\/lib\/worker\.js', import\.meta\.url\)/);
    assert.match(main, /'see \.\/missing\.ts'/, 'a string naming no module of ours is left alone');
    assert.doesNotMatch(main, /: number|Shape/, 'types are gone');
    assert.equal(main.split('\n').length, readFileSync(path.join(root, 'src', 'main.ts'), 'utf8').split('\n').length, 'lines stay where they were');
    assert.throws(() => statSync(path.join(dir, 'src', 'lib', 'shape.js')), 'a module imported for types only is not copied');
    const loaded = await import(pathToFileURL(path.join(dir, 'src', 'main.js')).href);
    assert.equal(loaded.answer, 42);
    assert.equal((await import(loaded.workerUrl)).default, 'worker');
  });

  it('makes a copy once, uses it while the sources stay the same, and makes a new one when one changes', async () => {
    const root = sourceTree();
    const first = plainEntry(root, 'src/main.ts');
    assert.equal(first.note, null);
    assert.ok(first.url.endsWith('/main.js') && first.url.includes('/node_modules/.cache/schoolgate/filter-serve/'), first.url);
    const pointer = path.join(root, 'node_modules', '.cache', 'schoolgate', 'filter-serve', 'current.json');
    const written = statSync(pointer).mtimeMs;
    assert.equal(plainEntry(root, 'src/main.ts').url, first.url);
    assert.equal(statSync(pointer).mtimeMs, written, 'nothing was built again');

    writeFileSync(path.join(root, 'src', 'lib', 'base.ts'), 'export const base: number = 99;\n');
    const second = plainEntry(root, 'src/main.ts');
    assert.notEqual(second.url, first.url);
    assert.equal((await import(second.url)).answer, 100);
    assert.equal((await import(first.url)).answer, 42, 'the older copy is still whole for a process that runs from it');
  });

  it('runs the sources when asked to, or when no copy can be written, and says why', () => {
    const root = sourceTree();
    const source = pathToFileURL(path.join(root, 'src', 'main.ts')).href;
    process.env.SCHOOLGATE_STRIP = 'off';
    try {
      assert.deepEqual(plainEntry(root, 'src/main.ts'), { url: source, note: null });
    } finally {
      delete process.env.SCHOOLGATE_STRIP;
    }
    writeFileSync(path.join(root, 'node_modules'), 'a file where the cache directory would go');
    const fallback = plainEntry(root, 'src/main.ts');
    assert.equal(fallback.url, source);
    assert.match(fallback.note ?? '', /running from the TypeScript sources: could not write plain JavaScript to .*: .*(ENOTDIR|EEXIST|not a directory)/);
  });

  it('is the module bin/schoolgate.js uses for this checkout', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const entry = plainEntry(root, 'src/cli/filter-serve.main.ts');
    assert.equal(entry.note, null);
    assert.ok(entry.url.endsWith('/src/cli/filter-serve.main.js'), entry.url);
  });
});
