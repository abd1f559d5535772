/** `schoolgate people import FILE`: dry run by default, `--apply` to import. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import type { Command } from '../cli/command.ts';
import { invalid } from '../shared/errors.ts';
import { IMPORT_FIELDS, type ImportField, PRESET_IDS, type PresetId } from './people.import.ts';
import { PERSON_KINDS, type PersonKind } from './people.tables.ts';

export const peopleCommands: Command[] = [
  {
    name: 'people import',
    summary: 'Import people from a MIS CSV export (a dry run unless --apply)',
    usage: 'people import FILE [--preset sims|arbor|bromcom|generic] [--full] [--apply] [--confirm-leavers] [--kind KIND] [--mapping FILE] [--school ID]',
    help: [
      'Without --apply nothing is changed: the file is checked and the summary and every bad',
      'row are printed as FILE:LINE: column: message (exit code 1 when any row is bad).',
      'With --apply the file is imported in one transaction: any bad row and nothing is written.',
      'People are matched by MIS id, so importing the same file again changes nothing.',
      '',
      '  --preset      the MIS the file comes from (default sims); see the presets in the web app',
      '  --full        the file is a full export: people of its kinds who are missing from it are',
      '                listed as proposed leavers (never deleted)',
      '  --confirm-leavers  with --apply, give every proposed leaver today as leave date',
      '  --kind        the kind of every row without a kind column (default pupil; contact rows',
      `                with a child's MIS id are parents). One of: ${PERSON_KINDS.join(', ')}`,
      '  --mapping     a JSON file of {"field": "Header"} overriding the preset\'s headers; fields:',
      `                ${IMPORT_FIELDS.join(', ')}`,
      '  --school      the school id (default: the only school)',
    ].join('\n'),
    options: {
      preset: { type: 'string' },
      full: { type: 'boolean' },
      apply: { type: 'boolean' },
      'confirm-leavers': { type: 'boolean' },
      kind: { type: 'string' },
      mapping: { type: 'string' },
      school: { type: 'string' },
    },
    async run(ctx) {
      const [file] = ctx.positionals;
      if (!file) throw invalid('Say which file to import: schoolgate people import FILE');
      if (!existsSync(file)) throw invalid(`${file}: no such file`);
      const preset = (ctx.values.preset ?? 'sims') as string;
      if (!(PRESET_IDS as readonly string[]).includes(preset)) throw invalid(`--preset must be one of ${PRESET_IDS.join(', ')} (not "${preset}")`);
      const kind = ctx.values.kind as string | undefined;
      if (kind !== undefined && !(PERSON_KINDS as readonly string[]).includes(kind)) throw invalid(`--kind must be one of ${PERSON_KINDS.join(', ')} (not "${kind}")`);
      let mapping: Partial<Record<ImportField, string>> | undefined;
      if (typeof ctx.values.mapping === 'string') {
        try {
          mapping = JSON.parse(readFileSync(ctx.values.mapping, 'utf8'));
        } catch (error) {
          throw invalid(`${ctx.values.mapping}: not a JSON mapping (${(error as Error).message})`);
        }
      }
      if (ctx.values['confirm-leavers'] && !ctx.values.apply) throw invalid('--confirm-leavers only means something with --apply');

      const app = await ctx.app();
      const schools = await app.schools.list();
      let schoolId = ctx.values.school as string | undefined;
      if (!schoolId) {
        if (schools.length === 0) throw invalid('There is no school yet: run `schoolgate start` once first');
        if (schools.length > 1) throw invalid(`There are ${schools.length} schools: say which with --school ID (${schools.map((s) => `${s.id} ${s.name}`).join('; ')})`);
        schoolId = schools[0].id;
      } else if (!schools.some((s) => s.id === schoolId)) {
        throw invalid(`No school with id ${schoolId}`);
      }

      const bytes = readFileSync(file);
      const name = path.basename(file);
      const result = await app.people.previewImport(CLI_ACTOR, schoolId, {
        fileName: name,
        file: bytes,
        preset: preset as PresetId,
        fullExport: Boolean(ctx.values.full),
        mapping,
        kind: kind as PersonKind | undefined,
      });
      const kinds = Object.entries(result.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
      ctx.out(`${file}: ${result.rows} row(s) read as ${result.encoding}${kinds ? ` (${kinds})` : ''}`);
      ctx.out(`  ${result.create} to create, ${result.update} to update, ${result.unchanged} unchanged, ${result.errors.length} bad row(s)`);
      for (const e of result.errors) ctx.out(`${file}:${e.line}: ${e.field}: ${e.message}`);
      if (result.leavers.length) {
        ctx.out(`  ${result.leavers.length} proposed leaver(s) (in Schoolgate, missing from this full export):`);
        for (const l of result.leavers) ctx.out(`    ${l.name} (${l.kind}) ${l.id}`);
      }
      if (!result.ok) {
        ctx.out(ctx.values.apply ? 'Nothing was imported: fix the rows above and run again.' : 'Fix the rows above, then run again with --apply.');
        return 1;
      }
      if (!ctx.values.apply) {
        ctx.out('Dry run: nothing was changed. Run again with --apply to import.');
        return 0;
      }
      const confirmLeavers = ctx.values['confirm-leavers'] ? result.leavers.map((l) => l.id) : [];
      const applied = await app.people.applyImport(CLI_ACTOR, schoolId, { runId: result.runId, file: bytes, confirmLeavers }, {
        onProgress: (done, total) => ctx.progress(`  importing: ${done}/${total} people`),
      });
      if (applied.created + applied.updated > 0) ctx.out('');
      ctx.out(`Imported: ${applied.created} created, ${applied.updated} updated, ${applied.unchanged} unchanged, ${applied.leaversMarked} leaver(s) marked`);
      ctx.out(`  parent links: ${applied.linksCreated} new, ${applied.linksUpdated} changed; groups: ${applied.groupsCreated} new, ${applied.membershipsAdded} joined, ${applied.membershipsRemoved} left`);
      if (result.leavers.length && !ctx.values['confirm-leavers']) {
        ctx.out(`  ${result.leavers.length} proposed leaver(s) were NOT marked: check them, then import again with --apply --confirm-leavers`);
      }
      return 0;
    },
  },
];
