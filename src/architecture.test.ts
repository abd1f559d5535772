/**
 * Keeps the house in order: a module's tables are queried only from that
 * module's folder, and dependencies point one way (http/cli → modules →
 * auth/audit/store → shared).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** Which module owns each table. */
const OWNER: Record<string, string> = {
  schools: 'schools',
  people: 'people', parent_links: 'people', groups: 'people', group_members: 'people', networks: 'people', import_runs: 'people',
  accounts: 'auth', account_roles: 'auth', recovery_codes: 'auth', sessions: 'auth', sso_identities: 'auth',
  audit_log: 'audit',
  filter_group_policies: 'policy', filter_entries: 'policy', filter_schedules: 'policy', school_calendar: 'policy',
  filter_exemptions: 'policy', filter_sanctions: 'policy', filter_settings: 'policy', filter_snapshot_state: 'policy', unblock_requests: 'policy',
  system_alerts: 'alerts',
  known_good_sites: 'lists',
  list_choices: 'lists', own_lists: 'lists',
  devices: 'devices',
  filter_events: 'monitor',
  check_runs: 'checks', check_results: 'checks', check_names: 'checks', check_name_settings: 'checks',
};

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/**
 * Known exceptions, each with its reason. Keep this list short and shrinking.
 * - auth.store.ts joins people (read only) to list accounts sorted and searched by
 *   the person's name in one query; the clean form is a people-service lookup.
 */
const ALLOWED_READS = new Set(['auth/auth.store.ts:people']);

const moduleOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

describe('architecture', () => {
  it('queries a table only from the module that owns it', () => {
    const offences: string[] = [];
    for (const file of sourceFiles()) {
      const module = moduleOf(file);
      if (module === 'store') continue; // migrations create every table
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\b(selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin)\(\s*'([a-z_]+)/g)) {
        const [, verb, table] = match;
        const owner = OWNER[table];
        assert.ok(owner, `${table} (in ${path.relative(SRC, file)}) has an owner in this test`);
        const read = verb === 'selectFrom' || verb.endsWith('Join');
        if (read && ALLOWED_READS.has(`${path.relative(SRC, file)}:${table}`)) continue;
        if (owner !== module) offences.push(`${path.relative(SRC, file)} queries ${table} (owned by ${owner})`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it('keeps dependencies pointing one way', () => {
    // Lower layers must not import from higher ones.
    const forbidden: Record<string, string[]> = {
      shared: ['store', 'audit', 'auth', 'people', 'schools', 'http', 'cli', 'demo', 'app.ts'],
      config: ['store', 'audit', 'auth', 'people', 'schools', 'http', 'cli', 'demo', 'app.ts'],
      store: ['auth', 'people', 'schools', 'http', 'cli', 'demo', 'app.ts'],
      audit: ['people', 'schools', 'http/server.ts', 'demo', 'app.ts'],
      // The DNS hot path depends on nothing but its own compiled inputs.
      filter: ['store', 'audit', 'auth', 'people', 'schools', 'http', 'cli', 'demo', 'config', 'app.ts'],
    };
    const offences: string[] = [];
    for (const file of sourceFiles()) {
      const module = moduleOf(file);
      const banned = forbidden[module];
      if (!banned) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = path.relative(SRC, path.resolve(path.dirname(file), match[1]));
        if (banned.some((b) => target === b || target.startsWith(`${b}/`) || target.startsWith(`${b}${path.sep}`))) {
          // A module's routes and commands plug into the HTTP server and the CLI: those edges are the point.
          if (file.endsWith('.routes.ts') && target.startsWith('http')) continue;
          if (file.endsWith('.cli.ts') && target.startsWith('cli')) continue;
          // Type-only imports of table row types are how store/database.ts assembles the schema.
          if (module === 'store' && /^import type/m.test(text) && target.endsWith('.tables.ts')) continue;
          offences.push(`${path.relative(SRC, file)} imports ${target}`);
        }
      }
    }
    assert.deepEqual(offences, []);
  });
});
