/** `schoolgate people import` as a user runs it: a real process, a real SQLite file, real exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createSchoolgate, ROOT_DIR } from '../app.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import { loadConfig } from '../config/config.ts';

const launcher = path.join(ROOT_DIR, 'bin', 'schoolgate.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'schoolgate-people-cli-'));
const env = { PATH: process.env.PATH ?? '', HOME: dataDir, SCHOOLGATE_DATA_DIR: dataDir, SCHOOLGATE_LOG__LEVEL: 'silent' };

function run(args: string[]) {
  const result = spawnSync(process.execPath, [launcher, ...args], { cwd: dataDir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function write(name: string, lines: string[]): string {
  const file = path.join(dataDir, name);
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

const HEADER = 'Adno,Legal Surname,Forename,DOB,Year,Reg Group';

describe('schoolgate people import', () => {
  before(async () => {
    const app = await createSchoolgate(loadConfig({ env: {}, file: undefined, overrides: { dataDir, 'log.level': 'silent' } }), { logger: pino({ level: 'silent' }) });
    await app.schools.create(SYSTEM_ACTOR, { name: 'CLI School' });
    await app.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('has help', () => {
    const { code, out } = run(['people', 'import', '--help']);
    assert.equal(code, 0);
    assert.match(out, /Usage: schoolgate people import FILE/);
    assert.match(out, /--confirm-leavers/);
  });

  it('prints every bad row as FILE:LINE: column: message, exits 1 and imports nothing', () => {
    const file = write('bad.csv', [HEADER, '1,Khan,Aisha,12/03/2012,7,7A', '2,Jones,Ben,31/02/2012,7,7B', '3,,Chen,01/01/2012,8,8A']);
    for (const args of [[], ['--apply']]) {
      const { code, out } = run(['people', 'import', file, ...args]);
      assert.equal(code, 1, out);
      assert.match(out, /3 row\(s\) read as utf-8/);
      assert.ok(out.includes(`${file}:3: DOB: "31/02/2012" is not a real date: February 2012 has 29 days`), out);
      assert.ok(out.includes(`${file}:4: Legal Surname: is empty`), out);
    }
    const dry = run(['people', 'import', write('good.csv', [HEADER, '1,Khan,Aisha,12/03/2012,7,7A']), '--full']);
    assert.equal(dry.code, 0, dry.out + dry.err);
    assert.match(dry.out, /1 to create, 0 to update, 0 unchanged/, 'nothing from the bad file was written');
    assert.match(dry.out, /Dry run: nothing was changed/);
  });

  it('applies, then finds everything unchanged, then proposes and marks leavers', () => {
    const full = write('full.csv', [HEADER, '1,Khan,Aisha,12/03/2012,7,7A', '2,Jones,Ben,28/02/2012,7,7B']);
    const applied = run(['people', 'import', full, '--apply', '--full']);
    assert.equal(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /Imported: 2 created, 0 updated, 0 unchanged, 0 leaver\(s\) marked/);
    assert.match(applied.out, /groups: 3 new, 4 joined/);
    const again = run(['people', 'import', full, '--apply']);
    assert.match(again.out, /Imported: 0 created, 0 updated, 2 unchanged/);

    const smaller = write('smaller.csv', [HEADER, '1,Khan,Aisha,12/03/2012,7,7A']);
    const dry = run(['people', 'import', smaller, '--full']);
    assert.match(dry.out, /1 proposed leaver\(s\)/);
    assert.match(dry.out, /Ben Jones \(pupil\)/);
    const notConfirmed = run(['people', 'import', smaller, '--full', '--apply']);
    assert.match(notConfirmed.out, /0 leaver\(s\) marked/);
    assert.match(notConfirmed.out, /were NOT marked/);
    const confirmed = run(['people', 'import', smaller, '--full', '--apply', '--confirm-leavers']);
    assert.match(confirmed.out, /1 leaver\(s\) marked/);
    assert.doesNotMatch(run(['people', 'import', smaller, '--full']).out, /proposed leaver/);
  });

  it('explains wrong options', () => {
    assert.match(run(['people', 'import']).err, /Say which file/);
    assert.match(run(['people', 'import', 'missing.csv']).err, /no such file/);
    assert.match(run(['people', 'import', path.join(dataDir, 'full.csv'), '--preset', 'capita']).err, /--preset must be one of/);
    assert.equal(run(['people', 'import', path.join(dataDir, 'full.csv'), '--school', 'nope']).code, 1);
  });
});
