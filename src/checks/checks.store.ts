/** The checks module's queries: runs, results and the school's own test names. Only this file touches their tables. */
import type { Db } from '../store/store.ts';
import type { CheckNamesTable, CheckResultsTable, CheckRunsTable } from './checks.tables.ts';

/** Stores a finished run and its results (inside the caller's transaction). */
export async function insertRun(db: Db, run: CheckRunsTable, results: CheckResultsTable[]): Promise<void> {
  await db.insertInto('check_runs').values(run).execute();
  // A few hundred rows at most; in slices so PostgreSQL's parameter limit is never near.
  for (let i = 0; i < results.length; i += 200) await db.insertInto('check_results').values(results.slice(i, i + 200)).execute();
}

/** A school's runs, newest first. */
export function listRuns(db: Db, schoolId: string, limit: number): Promise<CheckRunsTable[]> {
  return db.selectFrom('check_runs').selectAll().where('school_id', '=', schoolId).orderBy('started_at', 'desc').orderBy('id').limit(limit).execute();
}

/** One run of a school, or undefined. */
export function getRun(db: Db, schoolId: string, runId: string): Promise<CheckRunsTable | undefined> {
  return db.selectFrom('check_runs').selectAll().where('school_id', '=', schoolId).where('id', '=', runId).executeTakeFirst();
}

/** A run's results in the order they were asked. */
export function runResults(db: Db, schoolId: string, runId: string): Promise<CheckResultsTable[]> {
  return db.selectFrom('check_results').selectAll().where('school_id', '=', schoolId).where('run_id', '=', runId).orderBy('seq').execute();
}

/** One result of a school, or undefined. */
export function getResult(db: Db, schoolId: string, resultId: string): Promise<CheckResultsTable | undefined> {
  return db.selectFrom('check_results').selectAll().where('school_id', '=', schoolId).where('id', '=', resultId).executeTakeFirst();
}

/** Records the follow-up action of a result. */
export async function setAction(db: Db, resultId: string, action: string | null, by: string | null, at: string | null): Promise<void> {
  await db.updateTable('check_results').set({ action, action_by: by, action_at: at }).where('id', '=', resultId).execute();
}

/** The school's own names, or null when it never saved any (the built-in set applies). */
export async function schoolNames(db: Db, schoolId: string): Promise<{ rows: CheckNamesTable[]; updatedAt: string; updatedBy: string } | null> {
  const setting = await db.selectFrom('check_name_settings').selectAll().where('school_id', '=', schoolId).executeTakeFirst();
  if (!setting) return null;
  const rows = await db.selectFrom('check_names').selectAll().where('school_id', '=', schoolId).orderBy('category').orderBy('name').execute();
  return { rows, updatedAt: setting.updated_at, updatedBy: setting.updated_by };
}

/** Replaces the school's own names (inside the caller's transaction); null restores the built-in set. */
export async function replaceNames(db: Db, schoolId: string, names: { category: string; name: string }[] | null, at: string, by: string): Promise<void> {
  await db.deleteFrom('check_names').where('school_id', '=', schoolId).execute();
  await db.deleteFrom('check_name_settings').where('school_id', '=', schoolId).execute();
  if (names === null) return;
  await db.insertInto('check_name_settings').values({ school_id: schoolId, updated_at: at, updated_by: by }).execute();
  if (names.length) await db.insertInto('check_names').values(names.map((n) => ({ school_id: schoolId, category: n.category, name: n.name, created_at: at }))).execute();
}
