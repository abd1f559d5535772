/**
 * The lists' health as the running app shows it: the illegal category's
 * licensed feeds (red, amber, green) and every list whose latest check had a
 * problem. Read from `<dataDir>/lists/state.json`, which `schoolgate lists
 * sync` writes, so it is right whichever process ran the sync; the file is
 * re-read only when it changes. A level change is logged (a warning while not
 * green), and the level is a Prometheus gauge.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { SystemAlerts } from '../alerts/alerts.service.ts';
import type { Config } from '../config/config.ts';
import { type IllegalFeedStatus, illegalFeedStatus, type StatusLevel } from './lists.feeds.ts';
import { type ListState, readListStates } from './lists.sync.ts';

/** A list whose latest check went wrong (its last good copy, if any, stays in service). */
export interface ListProblem {
  id: string;
  reason: string;
  at: string;
  /** Whether a last good copy is still in service. */
  inService: boolean;
}

/** What the app, API and metrics show about the lists. */
export interface ListsHealth {
  illegalFeed: IllegalFeedStatus;
  problems: ListProblem[];
}

/** The lists' health, re-read when `state.json` changes. */
export interface ListsStatus {
  current(): ListsHealth;
  /** What `state.json` says of each list (copy in service, last check, problem). */
  states(): Record<string, ListState>;
  /**
   * Logs the illegal feed's level now and whenever it changes, and keeps a
   * system alert open for every list whose latest check had a problem
   * (whichever process synced); checked every `everyMs`. Returns a stop function.
   */
  watch(logger: Logger, alerts: SystemAlerts, everyMs?: number): () => void;
}

const LEVEL_VALUE: Record<StatusLevel, number> = { green: 0, amber: 1, red: 2 };

/** Reads the lists' health for an install (`cacheDir`: `<dataDir>/lists`). */
export function createListsStatus(options: { cacheDir: string; lists: Config['lists']; clock?: () => Date }): ListsStatus {
  const clock = options.clock ?? (() => new Date());
  const stateFile = path.join(options.cacheDir, 'state.json');
  let stamp = '';
  let states: Record<string, ListState> = {};
  const read = () => {
    let now = 'none';
    try {
      const info = statSync(stateFile);
      now = `${info.mtimeMs}:${info.size}`;
    } catch {
      // no sync has run yet
    }
    if (now !== stamp) {
      stamp = now;
      states = readListStates(options.cacheDir);
    }
    return states;
  };
  const current = (): ListsHealth => {
    const s = read();
    const problems = Object.values(s)
      .filter((state) => state.problem)
      .map((state) => ({ id: state.id, reason: state.problem!.reason, at: state.problem!.at, inService: state.copy !== null }));
    return { illegalFeed: illegalFeedStatus(options.lists.illegalFeeds, s, { now: clock(), staleHours: options.lists.illegalFeedStaleHours }), problems };
  };
  return {
    current,
    states: read,
    watch(logger, alerts, everyMs = 5000) {
      let last: StatusLevel | null = null;
      let seen: Record<string, ListState> | null = null;
      // Only lists whose problem state changed are touched; the first pass (after a restart) looks at every one.
      const reconcile = async (now: Record<string, ListState>, before: Record<string, ListState> | null) => {
        for (const state of Object.values(now)) {
          const key = `list:${state.id}`;
          const earlier = before?.[state.id];
          if (!state.problem) {
            if (!before || earlier?.problem) await alerts.resolve('lists', key);
            continue;
          }
          if (earlier?.problem?.at === state.problem.at) continue;
          const feed = state.id.startsWith('feed:');
          const title = feed ? `The licensed illegal-content feed ${state.id.slice(5)} could not be updated` : `The list ${state.id} could not be updated`;
          await alerts.raise({ schoolId: null, source: 'lists', key, severity: feed ? 'critical' : 'warning', title, detail: `${state.problem.reason} (${state.copy ? 'its last good copy stays in service' : 'it is not in service'})` });
        }
      };
      const check = () => {
        const states = read();
        if (states !== seen) {
          const before = seen;
          seen = states;
          reconcile(states, before).catch((error) => logger.error({ err: error }, 'could not record list problems as system alerts'));
        }
        const { illegalFeed } = current();
        if (illegalFeed.level === last) return;
        last = illegalFeed.level;
        const details = { status: illegalFeed.level, feeds: illegalFeed.feeds.map((f) => ({ name: f.name, status: f.level, message: f.message })), docs: illegalFeed.docs };
        if (illegalFeed.level === 'green') logger.info(details, `illegal-content feeds: ${illegalFeed.summary}`);
        else logger.warn(details, `illegal-content feeds ${illegalFeed.level.toUpperCase()}: ${illegalFeed.summary} ${illegalFeed.advice}`);
      };
      check();
      const timer = setInterval(check, everyMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

/** `schoolgate_illegal_feed_level` (0 green, 1 amber, 2 red) and `schoolgate_list_problems`. */
export function registerListsMetrics(registry: Registry, status: ListsStatus): void {
  new Gauge({
    name: 'schoolgate_illegal_feed_level',
    help: 'Licensed illegal-content feeds: 0 green (in service), 1 amber (update failing or late), 2 red (none configured or none loaded)',
    registers: [registry],
    collect() {
      this.set(LEVEL_VALUE[status.current().illegalFeed.level]);
    },
  });
  new Gauge({
    name: 'schoolgate_list_problems',
    help: 'Category lists whose latest check failed (their last good copy, if any, stays in service)',
    registers: [registry],
    collect() {
      this.set(status.current().problems.length);
    },
  });
}
