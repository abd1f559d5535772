/**
 * The filter check log (DfE filtering standard, "checks"): a run is one
 * check of every chosen group, made by a person or by the daily self-test;
 * a result is one test name asked over one transport as one group, with
 * what was expected, what happened, and the follow-up action recorded later.
 * Also the school's own test names per category (none stored: the built-in set).
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('check_runs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('trigger', t.text, (c) => c.notNull())
    .addColumn('actor_id', t.id)
    .addColumn('actor_label', t.text, (c) => c.notNull())
    .addColumn('started_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .addColumn('policy_version', t.bigint)
    .addColumn('groups', t.json, (c) => c.notNull())
    .addColumn('total', t.integer, (c) => c.notNull())
    .addColumn('unexpected', t.integer, (c) => c.notNull())
    .addColumn('not_checked', t.integer, (c) => c.notNull())
    .addColumn('problem', t.text)
    .execute();
  await db.schema.createIndex('check_runs_school_started').on('check_runs').columns(['school_id', 'started_at']).execute();

  await db.schema
    .createTable('check_results')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('run_id', t.id, (c) => c.notNull().references('check_runs.id'))
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('seq', t.integer, (c) => c.notNull())
    .addColumn('group_id', t.id, (c) => c.notNull())
    .addColumn('group_name', t.text, (c) => c.notNull())
    .addColumn('category', t.text, (c) => c.notNull())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('transport', t.text, (c) => c.notNull())
    .addColumn('source', t.text)
    .addColumn('expected', t.text, (c) => c.notNull())
    .addColumn('outcome', t.text, (c) => c.notNull())
    .addColumn('as_expected', t.flag)
    .addColumn('detail', t.text, (c) => c.notNull())
    .addColumn('action', t.text)
    .addColumn('action_by', t.text)
    .addColumn('action_at', t.timestamp)
    .execute();
  await db.schema.createIndex('check_results_run').on('check_results').columns(['run_id', 'seq']).execute();

  await db.schema
    .createTable('check_names')
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('category', t.text, (c) => c.notNull())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('check_names_pk', ['school_id', 'category', 'name'])
    .execute();
  await db.schema
    .createTable('check_name_settings')
    .addColumn('school_id', t.id, (c) => c.primaryKey().references('schools.id'))
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_by', t.text, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('check_name_settings').execute();
  await db.schema.dropTable('check_names').execute();
  await db.schema.dropTable('check_results').execute();
  await db.schema.dropTable('check_runs').execute();
}
