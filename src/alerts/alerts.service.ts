/**
 * System alerts: problems with Schoolgate itself that admins must see, such
 * as a category list that cannot be refreshed or a self-test that finds the
 * illegal category not enforced. A module raises an alert under its source
 * and a key saying what it is about; raising it again while it is open only
 * bumps its count and time, so a failing hourly job makes one alert, not
 * hundreds. It is resolved when the module sees the problem gone, or when an
 * admin dismisses it with a reason (audited). Every first raise and every
 * resolution is logged; the monitor module will route alerts to people later.
 * Rows are never deleted: they are the record of what went wrong and when.
 */
import type { Logger } from 'pino';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { notFound } from '../shared/errors.ts';
import type { Store } from '../store/store.ts';
import type { SystemAlertsTable } from './alerts.tables.ts';

/** What a module says when it raises an alert. */
export interface AlertInput {
  /** Null: about the whole install (shown to every school's admins). */
  schoolId: string | null;
  source: string;
  key: string;
  severity: SystemAlertsTable['severity'];
  title: string;
  detail: string;
}

/** An alert as the API shows it. */
export interface SystemAlert extends AlertInput {
  id: string;
  firstAt: string;
  lastAt: string;
  times: number;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export interface SystemAlerts {
  /** Opens the alert, or bumps the open one with the same source and key (its title and detail become the latest). */
  raise(input: AlertInput): Promise<SystemAlert>;
  /** Resolves the open alert with this source and key, if any (the problem is gone). */
  resolve(source: string, key: string): Promise<boolean>;
  /** An admin dismisses an open alert with a reason (audited). */
  dismiss(actor: Actor, schoolId: string, id: string, reason: string): Promise<SystemAlert>;
  /** Alerts a school's admins see (its own and the install's), open ones or all, newest first. */
  list(schoolId: string, options?: { open?: boolean; limit?: number }): Promise<SystemAlert[]>;
}

const toAlert = (row: SystemAlertsTable): SystemAlert => ({
  id: row.id,
  schoolId: row.school_id,
  source: row.source,
  key: row.key,
  severity: row.severity,
  title: row.title,
  detail: row.detail,
  firstAt: row.first_at,
  lastAt: row.last_at,
  times: Number(row.times),
  resolvedAt: row.resolved_at,
  resolvedBy: row.resolved_by,
});

/** The alerts service over the store. */
export function createSystemAlerts(deps: { store: Store; audit: AuditLog; logger: Logger; clock?: () => Date }): SystemAlerts {
  const { store, audit, logger } = deps;
  const db = store.db;
  const now = () => (deps.clock ?? (() => new Date()))().toISOString();
  const openOne = (source: string, key: string) => db.selectFrom('system_alerts').selectAll().where('source', '=', source).where('key', '=', key).where('resolved_at', 'is', null).executeTakeFirst();

  return {
    async raise(input) {
      const at = now();
      const open = await openOne(input.source, input.key);
      if (open) {
        await db.updateTable('system_alerts').set({ last_at: at, times: Number(open.times) + 1, title: input.title, detail: input.detail, severity: input.severity }).where('id', '=', open.id).execute();
        return toAlert({ ...open, last_at: at, times: Number(open.times) + 1, title: input.title, detail: input.detail, severity: input.severity });
      }
      const row: SystemAlertsTable = {
        id: crypto.randomUUID(),
        school_id: input.schoolId,
        source: input.source,
        key: input.key,
        severity: input.severity,
        title: input.title,
        detail: input.detail,
        first_at: at,
        last_at: at,
        times: 1,
        resolved_at: null,
        resolved_by: null,
      };
      await db.insertInto('system_alerts').values(row).execute();
      const log = { alert: row.id, source: row.source, key: row.key, detail: row.detail };
      if (row.severity === 'critical') logger.error(log, `system alert: ${row.title}`);
      else logger.warn(log, `system alert: ${row.title}`);
      return toAlert(row);
    },

    async resolve(source, key) {
      const open = await openOne(source, key);
      if (!open) return false;
      await db.updateTable('system_alerts').set({ resolved_at: now(), resolved_by: 'system' }).where('id', '=', open.id).execute();
      logger.info({ alert: open.id, source, key }, `system alert resolved: ${open.title}`);
      return true;
    },

    async dismiss(actor, schoolId, id, reason) {
      return audit.transaction(async (trx) => {
        const row = await trx
          .selectFrom('system_alerts')
          .selectAll()
          .where('id', '=', id)
          .where((eb) => eb.or([eb('school_id', '=', schoolId), eb('school_id', 'is', null)]))
          .executeTakeFirst();
        if (!row || row.resolved_at) throw notFound('Open alert');
        const at = now();
        await trx.updateTable('system_alerts').set({ resolved_at: at, resolved_by: actor.label }).where('id', '=', id).execute();
        await audit.append(trx, actor, { schoolId, action: 'alert.dismiss', targetType: 'system_alert', targetId: id, details: { source: row.source, key: row.key, title: row.title, reason } });
        logger.info({ alert: id, by: actor.label }, `system alert dismissed: ${row.title}`);
        return toAlert({ ...row, resolved_at: at, resolved_by: actor.label });
      });
    },

    async list(schoolId, options = {}) {
      let query = db
        .selectFrom('system_alerts')
        .selectAll()
        .where((eb) => eb.or([eb('school_id', '=', schoolId), eb('school_id', 'is', null)]));
      if (options.open) query = query.where('resolved_at', 'is', null);
      const rows = await query.orderBy('last_at', 'desc').limit(options.limit ?? 200).execute();
      return rows.map(toAlert);
    },
  };
}
