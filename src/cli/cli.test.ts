/**
 * The `schoolgate` command as a user runs it: a real process started through
 * the launcher, a real SQLite file, real exit codes and messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT_DIR } from '../app.ts';
import { createAuditLog } from '../audit/audit.service.ts';
import { dataPaths, loadConfig } from '../config/config.ts';
import { createStore } from '../store/store.ts';
import { COMMANDS } from './cli.ts';

const launcher = path.join(ROOT_DIR, 'bin', 'schoolgate.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'schoolgate-cli-'));

function run(args: string[], env: Record<string, string> = {}, node = process.execPath) {
  const result = spawnSync(node, [launcher, ...args], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '', HOME: dataDir, SCHOOLGATE_DATA_DIR: dataDir, SCHOOLGATE_LOG__LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** An installed Node older than 24 on this machine, to prove the launcher re-runs on the pinned one. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(version.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('schoolgate command', () => {
  it('lists every command with --help', () => {
    const { code, out } = run(['--help']);
    assert.equal(code, 0);
    for (const command of COMMANDS) assert.ok(out.includes(command.name), `--help lists ${command.name}`);
  });

  it('gives help for each command', () => {
    for (const command of COMMANDS) {
      const { code, out } = run([...command.name.split(' '), '--help']);
      assert.equal(code, 0, `${command.name} --help exits 0`);
      assert.match(out, new RegExp(`Usage: schoolgate ${command.name}`));
    }
  });

  it('rejects an unknown command with exit code 2', () => {
    const { code, err } = run(['frobnicate']);
    assert.equal(code, 2);
    assert.match(err, /Unknown command: frobnicate/);
  });

  it('exits non-zero naming the bad key and where it came from', () => {
    const { code, err } = run(['migrate'], { SCHOOLGATE_HTTP__PORT: 'eighty' });
    assert.equal(code, 1);
    assert.match(err, /http\.port \(from environment variable SCHOOLGATE_HTTP__PORT\)/);
    const file = path.join(dataDir, 'bad.yaml');
    writeFileSync(file, 'store:\n  driver: oracle\n');
    const fromFile = run(['migrate', '--config', file]);
    assert.equal(fromFile.code, 1);
    assert.match(fromFile.err, /store\.driver \(from file .*bad\.yaml\)/);
  });

  it('migrates, backs up (encrypted), restores and verifies the audit log', () => {
    assert.equal(run(['migrate']).code, 0);
    assert.match(run(['migrate']).out, /up to date/);
    const plain = path.join(dataDir, 'plain.backup');
    const sealed = path.join(dataDir, 'sealed.backup');
    assert.equal(run(['backup', plain]).code, 0);
    const encrypted = run(['backup', sealed], { SCHOOLGATE_BACKUP_PASSPHRASE: 'correct horse battery staple' });
    assert.equal(encrypted.code, 0, encrypted.err);
    assert.match(encrypted.out, /encrypted/);

    const refused = run(['restore', sealed, '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /encrypted/);
    const wrong = run(['restore', sealed, '--force'], { SCHOOLGATE_BACKUP_PASSPHRASE: 'wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /wrong passphrase/);
    assert.equal(run(['restore', sealed]).code, 1, 'refuses to overwrite without --force');

    const restored = run(['restore', sealed, '--force'], { SCHOOLGATE_BACKUP_PASSPHRASE: 'correct horse battery staple' });
    assert.equal(restored.code, 0, restored.err);
    assert.equal(run(['audit', 'verify']).code, 0);

    const truncated = path.join(dataDir, 'truncated.backup');
    writeFileSync(truncated, 'SGBACKUP1\n{"format":"schoolgate-backup","version":1,"createdAt":"x","dbBytes":100,"checkpoint":null}\nshort');
    const bad = run(['restore', truncated, '--force']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /truncated or damaged/);
  });

  it('audit verify names the first broken link and exits 1', async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir } });
    const paths = dataPaths(config);
    const store = await createStore({ driver: 'sqlite', path: paths.sqlite });
    const audit = createAuditLog({ store, keyFile: paths.auditKey, checkpointFile: paths.auditCheckpoint });
    for (const action of ['one', 'two', 'three']) {
      await audit.transaction((trx) => audit.append(trx, { id: null, label: 'test' }, { schoolId: null, action }));
    }
    assert.equal(run(['audit', 'verify']).code, 0);
    const { seq } = await store.db.selectFrom('audit_log').select('seq').where('action', '=', 'two').executeTakeFirstOrThrow();
    await store.db.updateTable('audit_log').set({ actor_label: 'someone else' }).where('seq', '=', seq).execute();
    await store.close();
    const { code, err } = run(['audit', 'verify']);
    assert.equal(code, 1);
    assert.match(err, new RegExp(`entry ${seq} was changed`));
  });

  const old = olderNode();
  it('runs on the pinned Node 24 when started by an older node', { skip: old ? false : 'no Node older than 24 on this machine' }, () => {
    const { code, out, err } = run(['--help'], {}, old!);
    assert.equal(code, 0, err);
    assert.match(out, /Usage: schoolgate/);
  });
});
