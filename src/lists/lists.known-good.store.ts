/** The known-good sites' queries. Only this file touches `known_good_sites`. */
import type { Db } from '../store/store.ts';
import type { KnownGoodSitesTable } from './lists.tables.ts';

/** A school's sites, by domain. */
export function sitesOf(db: Db, schoolId: string): Promise<KnownGoodSitesTable[]> {
  return db.selectFrom('known_good_sites').selectAll().where('school_id', '=', schoolId).orderBy('domain').execute();
}

/** One site of a school, or undefined (another school's site is not found either). */
export function siteById(db: Db, schoolId: string, id: string): Promise<KnownGoodSitesTable | undefined> {
  return db.selectFrom('known_good_sites').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** The school's rows among `domains` (to find the ones already listed). */
export async function sitesByDomain(db: Db, schoolId: string, domains: string[]): Promise<KnownGoodSitesTable[]> {
  const rows: KnownGoodSitesTable[] = [];
  // In slices so PostgreSQL's parameter limit is never near.
  for (let i = 0; i < domains.length; i += 500) {
    rows.push(...(await db.selectFrom('known_good_sites').selectAll().where('school_id', '=', schoolId).where('domain', 'in', domains.slice(i, i + 500)).execute()));
  }
  return rows;
}

/** Stores sites (inside the caller's transaction). */
export async function insertSites(db: Db, rows: KnownGoodSitesTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('known_good_sites').values(rows.slice(i, i + 200)).execute();
}

/** Removes one site of a school. */
export async function deleteSite(db: Db, schoolId: string, id: string): Promise<void> {
  await db.deleteFrom('known_good_sites').where('school_id', '=', schoolId).where('id', '=', id).execute();
}
