import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildQuery, parseAnswer, startTestUpstream, type TestUpstream, udpExchange } from '../../test/support/dns.ts';
import { tempDirs } from '../../test/support/temp.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'schoolgate.js');
const tempDir = tempDirs('filter-serve');

/** Started the way users and the bench start it: `bin/schoolgate.js filter serve ...`, as a process of its own. */
describe('schoolgate filter serve (the lean entry)', () => {
  let upstream: TestUpstream;
  let dir: string;
  let child: ChildProcess;
  let stdout = '';
  let port = 0;
  const exited = () => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

  before(async () => {
    upstream = await startTestUpstream(new Map([['allowed.example', { a: ['192.0.2.10'] }]]));
    dir = tempDir();
    const list = path.join(dir, 'block.txt');
    writeFileSync(list, 'blocked.example\n');
    // Records every module the main thread loads, to show the web app stays out of it.
    const hook = path.join(dir, 'record-modules.mjs');
    writeFileSync(
      hook,
      `import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const seen = [];
registerHooks({ resolve(specifier, context, next) { const found = next(specifier, context); seen.push(found.url); return found; } });
process.on('exit', () => writeFileSync(${JSON.stringify(path.join(dir, 'modules.txt'))}, seen.join('\\n')));
`,
    );
    child = spawn(
      process.execPath,
      ['--import', hook, BIN, 'filter', 'serve', '--listen', '127.0.0.1:0', '--workers', '1', '--upstream', `127.0.0.1:${upstream.port}`, '--block-list', list, '--data', path.join(dir, 'data')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout!.setEncoding('utf8');
    port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (text: string) => {
        stdout += text;
        const found = /answering DNS on 127\.0\.0\.1:(\d+)/.exec(stdout);
        if (found) resolve(Number(found[1]));
      });
      child.once('exit', (code) => reject(new Error(`filter serve ended (${code}) before it listened:\n${stdout}`)));
    });
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited();
    }
    await upstream.close();
  });

  it('blocks a listed name and forwards another, then stops on SIGTERM with its events written', async () => {
    const blocked = parseAnswer(await udpExchange(port, buildQuery('www.blocked.example')));
    assert.deepEqual(blocked.answers.map((r) => r.data), ['0.0.0.0']);
    const allowed = parseAnswer(await udpExchange(port, buildQuery('allowed.example')));
    assert.equal(allowed.rcode, 0);
    assert.deepEqual(allowed.answers.map((r) => r.data), ['192.0.2.10']);

    child.kill('SIGTERM');
    assert.equal(await exited(), 0);
    assert.match(stdout, /filter: stopped after 2 answers; 0 events shed/);
    const events = readFileSync(path.join(dir, 'data', 'events.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => [e.name, e.kind, e.client]), [
      ['www.blocked.example', 'blocked', '127.0.0.1'],
      ['allowed.example', 'allowed', '127.0.0.1'],
    ]);

    const modules = readFileSync(path.join(dir, 'modules.txt'), 'utf8').split('\n');
    assert.ok(modules.some((url) => url.endsWith('/src/cli/filter-serve.js')), 'the hook saw the command load, from its plain JavaScript copy');
    assert.ok(modules.some((url) => url.endsWith('/src/filter/worker.js')), 'with --workers 1 the DNS worker runs on the main thread (no second isolate)');
    const packages = modules.filter((url) => url.includes('/node_modules/') && !url.includes('/node_modules/.cache/schoolgate/filter-serve/'));
    assert.deepEqual(packages, [], 'filter serve loads no package (the web app\'s Fastify, Kysely, zod...)');
    const typescript = modules.filter((url) => url.endsWith('.ts'));
    assert.deepEqual(typescript, [], 'it runs from plain JavaScript, so this thread never loads the type stripper');
    const app = modules.filter((url) => /\/src\/(app|cli\/cli|cli\/main)\.[jt]s$/.test(url));
    assert.deepEqual(app, [], 'nor the full CLI or the app');
  });

  it('prints the same --help as the full CLI', () => {
    const lean = spawnSync(process.execPath, [BIN, 'filter', 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
    const full = spawnSync(process.execPath, [path.join(ROOT, 'src', 'cli', 'main.ts'), 'filter', 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(lean.status, 0);
    assert.match(lean.stdout, /--block-list FILE/);
    assert.equal(lean.stdout, full.stdout);
  });

  it('reports a bad flag like the full CLI, with exit code 2', () => {
    const lean = spawnSync(process.execPath, [BIN, 'filter', 'serve', '--workers', 'many', '--listen', '127.0.0.1:53'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(lean.status, 2);
    assert.match(lean.stderr, /--workers: "many" must be a whole number/);
    assert.match(lean.stderr, /--upstream HOST:PORT is required/);
    const unknown = spawnSync(process.execPath, [BIN, 'filter', 'serve', '--no-such-flag'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--no-such-flag'/);
  });
});
