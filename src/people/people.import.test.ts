import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { rejectsWith } from '../../test/support/assertions.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { decodeFile, effectiveMapping, parseImportDate, readImportFile } from './people.import.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Windows-1252 bytes for ASCII plus the few accented characters the tests use. */
function cp1252(text: string): Uint8Array {
  const extra: Record<string, number> = { 'é': 0xe9, 'ë': 0xeb, '£': 0xa3, '’': 0x92 };
  return Uint8Array.from([...text].map((c) => extra[c] ?? (c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : assert.fail(`no byte for ${c}`))));
}

const SIMS_HEADER = 'Adno,Legal Surname,Forename,Preferred Forename,DOB,Year,Reg Group,Admission Date,Email';


describe('import parsing (no database)', () => {
  it('reads UK and ISO dates and explains bad ones', () => {
    assert.deepEqual(parseImportDate('01/09/2023'), { ok: true, date: '2023-09-01' });
    assert.deepEqual(parseImportDate('1/9/2023'), { ok: true, date: '2023-09-01' });
    assert.deepEqual(parseImportDate('29/02/2024'), { ok: true, date: '2024-02-29' });
    assert.deepEqual(parseImportDate('2023-09-01'), { ok: true, date: '2023-09-01' });
    assert.deepEqual(parseImportDate('01/09/2023 00:00'), { ok: true, date: '2023-09-01' });
    const feb = parseImportDate('31/02/2024');
    assert.equal(feb.ok, false);
    assert.match(!feb.ok ? feb.message : '', /"31\/02\/2024" is not a real date: February 2024 has 29 days/);
    const us = parseImportDate('12/31/2024');
    assert.match(!us.ok ? us.message : '', /no month 31.*day first/);
    assert.equal(parseImportDate('29/02/2023').ok, false);
    assert.match(((r) => (!r.ok ? r.message : ''))(parseImportDate('2024/01/05')), /dd\/mm\/yyyy/);
  });

  it('detects the encoding', () => {
    assert.equal(decodeFile(utf8('a,b\n')).encoding, 'utf-8');
    const bom = decodeFile(Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('Adno\n')]));
    assert.deepEqual(bom, { text: 'Adno\n', encoding: 'utf-8-bom' });
    const latin = decodeFile(cp1252('Renée,£5,O’Neil'));
    assert.deepEqual(latin, { text: 'Renée,£5,O’Neil', encoding: 'windows-1252' });
  });

  it('matches headers loosely, reports missing columns and reads semicolons', () => {
    const columns = effectiveMapping('generic');
    const read = readImportFile(utf8('MIS ID;Given Name;Family Name\n1;A;B\n'), columns, undefined);
    assert.deepEqual(read.errors, []);
    assert.equal(read.rows[0].fields.given_name, 'A');
    const missing = readImportFile(utf8('mis_id,given_name\n1,A\n'), columns, undefined);
    assert.equal(missing.errors[0].line, 1);
    assert.equal(missing.errors[0].field, 'family_name');
    assert.match(missing.errors[0].message, /missing.*mis_id, given_name/);
    const custom = effectiveMapping('sims', { misId: 'UPN' });
    assert.equal(custom.misId, 'UPN');
    assert.throws(() => effectiveMapping('sims', { nonsense: 'x' } as any), /Unknown field/);
  });

  it('gives the first line of a record whose quoted cell spans lines', () => {
    const read = readImportFile(utf8('mis_id,given_name,family_name,date_of_birth\n1,"Multi\nLine",B,01/01/2010\n2,C,D,31/02/2010\n'), effectiveMapping('generic'), undefined);
    assert.equal(read.errors.length, 1);
    assert.equal(read.errors[0].line, 4);
  });
});

for (const d of DIALECTS) {
  describe(`people import (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    const count = async () => (await t.app.people.listPeople(schoolId, { pageSize: 1 })).total;
    const preview = (file: Uint8Array, more: { preset?: 'sims' | 'generic'; fullExport?: boolean; kind?: 'staff' } = {}) =>
      t.app.people.previewImport(CLI_ACTOR, schoolId, { fileName: 'export.csv', file, preset: more.preset ?? 'sims', fullExport: more.fullExport ?? false, kind: more.kind });

    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Import School' })).id;
    });
    after(() => t?.close());

    it('reports one bad row with its line and column, and writes nothing', async () => {
      const file = utf8([
        SIMS_HEADER,
        '1001,Khan,Aisha,,12/03/2012,Year 7,7A,01/09/2023,aisha@pupils.example.org',
        '1002,Jones,Ben,Benny,31/02/2012,7,7B,01/09/2023,',
        '1003,Li,Chen,,2012-05-06,Y8,8A,,',
      ].join('\r\n'));
      const result = await preview(file);
      assert.equal(result.ok, false);
      assert.equal(result.rows, 3);
      assert.equal(result.encoding, 'utf-8');
      assert.deepEqual(result.errors, [{ line: 3, field: 'DOB', message: '"31/02/2012" is not a real date: February 2012 has 29 days' }]);
      assert.equal(result.create, 2);
      const error = await rejectsWith(t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: result.runId, file, confirmLeavers: [] }), 'validation');
      assert.deepEqual(error.issues, [{ where: 'export.csv:3', message: 'DOB: "31/02/2012" is not a real date: February 2012 has 29 days' }]);
      assert.equal(await count(), 0, 'nothing written');
      assert.equal((await t.app.people.listGroups(schoolId)).length, 0, 'no groups either');
    });

    it('imports pupils and parents, and a second apply changes nothing', async () => {
      const pupils = utf8([
        SIMS_HEADER,
        '1001,Khan,Aisha,,12/03/2012,Year 7,7A,01/09/2023,aisha@pupils.example.org',
        '1002,Jones,Ben,Benny,28/02/2012,7,7B,01/09/2023,',
        '1003,Li,Chen,,2012-05-06,Y8,8A,,',
      ].join('\n'));
      const first = await preview(pupils);
      assert.equal(first.ok, true, JSON.stringify(first.errors));
      assert.deepEqual([first.create, first.update, first.unchanged], [3, 0, 0]);
      assert.deepEqual(first.kinds, { pupil: 3 });
      const applied = await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: first.runId, file: pupils, confirmLeavers: [] });
      assert.deepEqual([applied.created, applied.updated, applied.unchanged], [3, 0, 0]);
      assert.equal(applied.groupsCreated, 5, 'Year 7, Year 8, 7A, 7B, 8A');
      await rejectsWith(t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: first.runId, file: pupils, confirmLeavers: [] }), 'conflict');

      const ben = (await t.app.people.listPeople(schoolId, { q: '1002' })).items[0];
      assert.deepEqual([ben.yearGroup, ben.registrationGroup, ben.preferredName, ben.dateOfBirth], ['7', '7B', 'Benny', '2012-02-28']);
      const classes = await t.app.people.listGroups(schoolId, 'class');
      const years = await t.app.people.listGroups(schoolId, 'year');
      assert.equal(classes.find((g) => g.name === '8A')!.parentId, years.find((g) => g.name === 'Year 8')!.id);

      const contacts = utf8([
        'Adno,Legal Surname,Forename,Email,Pupil Adno,Relationship,Parental Responsibility',
        'C1,Khan,Samina,samina@example.org,1001,Mother,Yes',
        'C2,Khan,Imran,,1001,Father,Y',
        'C3,Jones,Kate,,1002,Aunt,No',
        'C4,Li,Wei,,1003,Father,yes',
        'C4,Li,Wei,,1002,Step-father,no',
      ].join('\n'));
      const p2 = await preview(contacts);
      assert.equal(p2.ok, true, JSON.stringify(p2.errors));
      assert.deepEqual(p2.kinds, { parent: 4 });
      assert.deepEqual([p2.rows, p2.create], [5, 4]);
      await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: p2.runId, file: contacts, confirmLeavers: [] });
      const aisha = (await t.app.people.listPeople(schoolId, { q: '1001' })).items.find((p) => p.kind === 'pupil')!;
      const detail = await t.app.people.personDetail(schoolId, aisha.id);
      assert.deepEqual(detail.parents.map((l) => [l.person.givenName, l.relationship, l.parentalResponsibility]).sort(), [
        ['Imran', 'Father', true],
        ['Samina', 'Mother', true],
      ]);
      const wei = (await t.app.people.listPeople(schoolId, { q: 'wei' })).items[0];
      assert.equal((await t.app.people.personDetail(schoolId, wei.id)).children.length, 2);

      // The same files again: everything unchanged, nothing written but the run and its summary entry.
      const audited = (await t.app.audit.list(schoolId, { limit: 500 })).length;
      for (const file of [pupils, contacts]) {
        const again = await preview(file);
        assert.deepEqual([again.create, again.update, again.unchanged], [0, 0, file === pupils ? 3 : 4]);
        const second = await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: again.runId, file, confirmLeavers: [] });
        assert.deepEqual([second.created, second.updated, second.membershipsAdded, second.membershipsRemoved, second.linksCreated], [0, 0, 0, 0, 0]);
      }
      assert.equal((await t.app.audit.list(schoolId, { limit: 500 })).length, audited + 2, 'one people.import entry per apply');

      // A change in one cell is one update, with its audit entry.
      const moved = utf8(new TextDecoder().decode(pupils).replace('1002,Jones,Ben,Benny,28/02/2012,7,7B', '1002,Jones,Ben,Benny,28/02/2012,7,7A'));
      const p3 = await preview(moved);
      assert.deepEqual([p3.create, p3.update, p3.unchanged], [0, 1, 2]);
      const a3 = await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: p3.runId, file: moved, confirmLeavers: [] });
      assert.deepEqual([a3.membershipsAdded, a3.membershipsRemoved], [1, 1]);
      const entries = await t.app.audit.list(schoolId, { limit: 5, targetId: ben.id });
      assert.equal(entries[0].action, 'person.update');
      assert.deepEqual(JSON.parse(entries[0].details).changed, ['registration_group']);
      assert.equal((await t.app.audit.verify()).ok, true);
    });

    it('refuses a link to an unknown pupil and an id clash between kinds', async () => {
      const file = utf8(['Adno,Legal Surname,Forename,Pupil Adno', 'C9,Nobody,Nora,9999', '1003,Li,Chen,1001'].join('\n'));
      const result = await preview(file);
      assert.equal(result.ok, false);
      assert.deepEqual(result.errors.map((e) => [e.line, e.field]), [
        [2, 'Pupil Adno'],
        [3, 'Adno'],
      ]);
      assert.match(result.errors[0].message, /no pupil with MIS id 9999/);
      assert.match(result.errors[1].message, /is a pupil in Schoolgate/);
    });

    it('reads Windows-1252 and UTF-8 with a BOM', async () => {
      const latin = cp1252(['Adno,Legal Surname,Forename,Preferred Forename', 'S100,Dupré,Renée,£ Renée', 'S101,O’Neil,Zoë,'].join('\r\n'));
      const result = await preview(latin, { kind: 'staff' });
      assert.equal(result.encoding, 'windows-1252');
      assert.equal(result.ok, true, JSON.stringify(result.errors));
      assert.deepEqual(result.kinds, { staff: 2 });
      await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: result.runId, file: latin, confirmLeavers: [] });
      const renee = (await t.app.people.listPeople(schoolId, { q: 'S100' })).items[0];
      assert.deepEqual([renee.givenName, renee.familyName, renee.preferredName, renee.kind], ['Renée', 'Dupré', '£ Renée', 'staff']);
      assert.equal((await t.app.people.listPeople(schoolId, { q: 'o’neil' })).items[0].givenName, 'Zoë');

      const bom = Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('Adno,Legal Surname,Forename\nS102,Ørsted,Åse\n')]);
      const withBom = await preview(bom, { kind: 'staff' });
      assert.equal(withBom.encoding, 'utf-8-bom');
      assert.equal(withBom.ok, true, JSON.stringify(withBom.errors));
      await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: withBom.runId, file: bom, confirmLeavers: [] });
      assert.equal((await t.app.people.listPeople(schoolId, { q: 'S102' })).items[0].familyName, 'Ørsted');
    });

    it('refuses a file that differs from the preview', async () => {
      const file = utf8('Adno,Legal Surname,Forename\nS200,Okafor,Ada\n');
      const result = await preview(file, { kind: 'staff' });
      const error = await rejectsWith(
        t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: result.runId, file: utf8('Adno,Legal Surname,Forename\nS200,Okafor,Adaeze\n'), confirmLeavers: [] }),
        'validation',
      );
      assert.match(error.message, /differs from the one that was previewed/);
      await rejectsWith(t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: 'no-such-run', file, confirmLeavers: [] }), 'not_found');
    });

    it('proposes leavers on a full export and marks only the confirmed ones', async () => {
      // Pupils 1001-1003 are stored; the new export has only 1001.
      const file = utf8([SIMS_HEADER, '1001,Khan,Aisha,,12/03/2012,Year 7,7A,01/09/2023,aisha@pupils.example.org'].join('\n'));
      const partial = await preview(file);
      assert.deepEqual(partial.leavers, [], 'not a full export: no leavers');
      const full = await preview(file, { fullExport: true });
      assert.deepEqual(full.leavers.map((l) => l.name), ['Ben Jones', 'Chen Li'], 'pupils only: staff and parents are other kinds');
      const [ben, chen] = full.leavers;
      const refused = await rejectsWith(
        t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: full.runId, file, confirmLeavers: [ben.id, 'someone-else'] }),
        'validation',
      );
      assert.equal(refused.issues[0].where, 'confirmLeavers');
      assert.equal((await t.app.people.getPerson(schoolId, ben.id))!.leaveDate, null, 'nothing written');

      const again = await preview(file, { fullExport: true });
      const applied = await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: again.runId, file, confirmLeavers: [ben.id] });
      assert.equal(applied.leaversMarked, 1);
      const benNow = (await t.app.people.getPerson(schoolId, ben.id))!;
      assert.match(benNow.leaveDate ?? '', /^\d{4}-\d{2}-\d{2}$/);
      assert.equal((await t.app.people.getPerson(schoolId, chen.id))!.leaveDate, null, 'not confirmed: untouched');
      assert.deepEqual((await t.app.people.personDetail(schoolId, ben.id)).groups, [], 'a leaver leaves the year and class groups');
      const third = await preview(file, { fullExport: true });
      assert.deepEqual(third.leavers.map((l) => l.name), ['Chen Li'], 'a marked leaver is not proposed again');
    });

    it('imports 5,000 rows in one go', async () => {
      const lines = ['mis_id,kind,given_name,family_name,date_of_birth,year_group,registration_group,start_date,email'];
      for (let i = 0; i < 5000; i += 1) {
        const year = 7 + (i % 5);
        lines.push(`G${i},pupil,Given${i},Family${i % 397},${String(1 + (i % 28)).padStart(2, '0')}/0${1 + (i % 9)}/20${10 + (i % 5)},${year},${year}${'ABCD'[i % 4]},01/09/2023,g${i}@pupils.example.org`);
      }
      const file = utf8(lines.join('\n'));
      const started = performance.now();
      const result = await t.app.people.previewImport(CLI_ACTOR, schoolId, { fileName: 'big.csv', file, preset: 'generic', fullExport: false });
      const previewed = performance.now();
      assert.equal(result.ok, true, JSON.stringify(result.errors.slice(0, 3)));
      assert.equal(result.create, 5000);
      let ticks = 0;
      const applied = await t.app.people.applyImport(CLI_ACTOR, schoolId, { runId: result.runId, file, confirmLeavers: [] }, { onProgress: () => (ticks += 1) });
      const done = performance.now();
      assert.equal(applied.created, 5000);
      assert.equal(ticks, 10, 'progress every 500 rows');
      assert.equal((await t.app.people.listPeople(schoolId, { q: 'given4999' })).items[0].registrationGroup, '11D');
      const again = await t.app.people.previewImport(CLI_ACTOR, schoolId, { fileName: 'big.csv', file, preset: 'generic', fullExport: false });
      assert.equal(again.unchanged, 5000);
      console.log(`# ${d.name}: 5,000-row import: preview ${Math.round(previewed - started)} ms, apply ${Math.round(done - previewed)} ms`);
    });
  });
}
