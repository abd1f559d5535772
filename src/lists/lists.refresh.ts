/**
 * Keeping the lists fresh from the running app, and the one way every sync
 * (the app's or `schoolgate lists sync`'s) chooses what to bring in.
 *
 * Once an install has synced its lists (or configured a licensed feed or a
 * mirror), the app refreshes them every `lists.refreshHours`: only lists that
 * changed are downloaded (conditional GET), each is checked as a manual sync
 * checks it, and the new catalog is compiled off the serving path and swapped
 * in by the DNS filter's catalog watcher. Progress is kept for the web app;
 * every list whose latest check had a problem becomes a system alert (and is
 * resolved when the list is fine again), whichever process ran the sync. Two
 * syncs never run at once: a lock file in `<dataDir>/lists` keeps a manual
 * sync and the app's refresh apart.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { link, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SystemAlerts } from '../alerts/alerts.service.ts';
import type { Config } from '../config/config.ts';
import { DomainError } from '../shared/errors.ts';
import { dataPaths } from '../config/config.ts';
import { feedCandidate, type FeedList, feedLists } from './lists.feeds.ts';
import { type ListSelection, type OwnSyncList, uploadCandidate } from './lists.choices.ts';
import { type BuiltInList, enabledLists } from './lists.sources.ts';
import { keepCandidate, type ListState, mirrorCandidate, readListStates, type SyncProgress, type SyncReport, syncLists, urlCandidate } from './lists.sync.ts';

const builtInFromUrl = urlCandidate<BuiltInList>({ urlOf: (list) => list.url });
const ownFromUrl = urlCandidate<OwnSyncList>({ urlOf: (list) => list.url as string });

/** The built-in lists' defaults and no own list: what a sync brings in before any choice was made. */
export const DEFAULT_SELECTION: ListSelection = { builtIn: enabledLists(), own: [], upload: async () => null };

/** Where the last manual sync read the built-in lists from, so the app's refresh reads the same place. */
interface SyncSource {
  mirror: string | null;
}

function readSyncSource(cacheDir: string): SyncSource | null {
  try {
    return JSON.parse(readFileSync(path.join(cacheDir, 'source.json'), 'utf8')) as SyncSource;
  } catch {
    return null;
  }
}

/** Thrown when another sync holds the lock (a conflict: the CLI prints it as one line). */
export class SyncBusyError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Takes `<cacheDir>/sync.lock` for `run`; a lock left by a process that is gone is taken over. */
async function withSyncLock<T>(cacheDir: string, run: () => Promise<T>): Promise<T> {
  const lock = path.join(cacheDir, 'sync.lock');
  // The lock is made whole (with the pid in it) and then linked into place, so nobody ever reads a half-written one.
  const mine = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (attempt > 0) throw new SyncBusyError('another sync is running');
        const pid = Number(readFileSync(lock, 'utf8'));
        let alive = false;
        try {
          process.kill(pid, 0);
          alive = pid > 0;
        } catch {
          alive = false;
        }
        if (alive) throw new SyncBusyError(`another sync is running (process ${pid})`);
        await rm(lock, { force: true });
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await run();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Syncs what the config and the school's choices say: the licensed feeds
 * from their URLs, the school's own lists (from their URL or the store), and
 * every enabled built-in list from `mirror` (when given) or its source's URL.
 * `remember`: keep where the built-in lists came from for the app's refresh.
 * `feedsOnly`: do not look for new versions of the built-in lists (not set
 * up on this install); the copies they have stay in the catalog.
 */
export async function syncConfiguredLists(
  config: Config,
  options: { mirror?: string | null; remember?: boolean; feedsOnly?: boolean; selection?: ListSelection; onProgress?(event: SyncProgress): void },
): Promise<SyncReport> {
  const paths = dataPaths(config);
  mkdirSync(paths.lists, { recursive: true });
  const mirror = options.mirror ?? null;
  const selection = options.selection ?? DEFAULT_SELECTION;
  // Built-in lists not set up are not looked for, but any copies they have are still compiled.
  const builtIn = options.feedsOnly ? keepCandidate : mirror ? mirrorCandidate(path.resolve(mirror)) : builtInFromUrl;
  const upload = uploadCandidate(selection);
  return withSyncLock(paths.lists, async () => {
    const report = await syncLists<BuiltInList | FeedList | OwnSyncList>({
      lists: [...feedLists(config.lists.illegalFeeds), ...selection.builtIn, ...selection.own],
      candidate: (list, last, scratch) => {
        if ('feed' in list) return feedCandidate(list, last, scratch);
        if ('own' in list) return list.url ? ownFromUrl(list, last, scratch) : upload(list, last, scratch);
        return builtIn(list, last, scratch);
      },
      cacheDir: paths.lists,
      catalogFile: paths.catalog,
      onProgress: options.onProgress,
    });
    if (options.remember) writeFileSync(path.join(paths.lists, 'source.json'), JSON.stringify({ mirror: mirror ? path.resolve(mirror) : null } satisfies SyncSource));
    return report;
  });
}

/** What the web app shows of the app's refresh. */
export interface RefreshState {
  running: boolean;
  /** What it is doing now (one line), while running. */
  step: string | null;
  /** Lists checked so far and in all, while running. */
  done: number;
  total: number;
  startedAt: string | null;
  /** The last refresh that ended: when, how, and its problems. */
  last: { finishedAt: string; trigger: string; ok: boolean; updated: number; problems: number; error: string | null } | null;
  /** When the next scheduled refresh is due (null: refreshing is off or not set up). */
  nextAt: string | null;
}

export interface ListsRefresher {
  state(): RefreshState;
  /** Starts a refresh now; when one is running, another follows it. Resolves when this one ends (null when it was queued). */
  runNow(trigger: string): Promise<SyncReport | null>;
  /** Checks every minute whether a refresh is due; the first check after `firstDelayMs`. */
  start(options?: { firstDelayMs?: number }): void;
  /** Stops the schedule and waits for a refresh under way to end. */
  stop(): Promise<void>;
}

/** The newest time a sync touched any list (a check or a problem), from the state file. */
function lastSyncAt(states: Record<string, ListState>): number {
  let newest = 0;
  for (const s of Object.values(states)) {
    for (const at of [s.checkedAt, s.problem?.at]) if (at) newest = Math.max(newest, Date.parse(at));
  }
  return newest;
}

/** The app's list refresh. */
export function createListsRefresher(deps: { config: Config; logger: Logger; alerts: SystemAlerts; selection?: () => Promise<ListSelection>; clock?: () => Date }): ListsRefresher {
  const { config, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const cacheDir = dataPaths(config).lists;
  const everyMs = config.lists.refreshHours * 3_600_000;
  const current: RefreshState = { running: false, step: null, done: 0, total: 0, startedAt: null, last: null, nextAt: null };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<SyncReport | null> | null = null;
  let stopped = false;

  /**
   * The built-in lists are refreshed once the school has synced them by hand
   * (which says where from) or configured a mirror; licensed feeds and the
   * school's own lists whenever there are any. So a fresh demo never reaches
   * out by itself.
   */
  const builtInsSetUp = () => !!config.lists.mirror || readSyncSource(cacheDir) !== null;
  const selection = () => deps.selection?.() ?? Promise.resolve(DEFAULT_SELECTION);
  const setUp = async () => config.lists.refreshHours > 0 && (config.lists.illegalFeeds.length > 0 || builtInsSetUp() || (await selection()).own.length > 0);
  const dueAt = async () => ((await setUp()) ? lastSyncAt(readListStates(cacheDir)) + everyMs : null);

  const run = async (trigger: string): Promise<SyncReport | null> => {
    Object.assign(current, { running: true, step: 'starting', done: 0, total: 0, startedAt: clock().toISOString() });
    const mirror = config.lists.mirror ?? readSyncSource(cacheDir)?.mirror ?? null;
    logger.info({ trigger, from: mirror ?? 'the sources’ URLs' }, 'refreshing category lists');
    try {
      const report = await syncConfiguredLists(config, {
        mirror,
        feedsOnly: !builtInsSetUp(),
        selection: await selection(),
        onProgress: (event) => {
          if (event.phase === 'check') {
            current.done = event.index + 1;
            current.total = event.total;
            current.step = `checked ${event.list}`;
          } else current.step = `compiling: ${event.step.phase}`;
        },
      });
      const updated = report.lists.filter((l) => l.status === 'updated').length;
      current.last = { finishedAt: clock().toISOString(), trigger, ok: report.problems.length === 0, updated, problems: report.problems.length, error: null };
      logger.info({ updated, problems: report.problems.length, names: report.build?.names }, 'category lists refreshed');
      await deps.alerts.resolve('lists', 'refresh');
      return report;
    } catch (error) {
      if (stopped) return null; // the app is closing: nothing to report to
      const message = (error as Error).message;
      current.last = { finishedAt: clock().toISOString(), trigger, ok: false, updated: 0, problems: 0, error: message };
      if (error instanceof SyncBusyError) logger.info({ reason: message }, 'list refresh skipped');
      else {
        logger.error({ err: error }, 'list refresh failed');
        await deps.alerts.raise({ schoolId: null, source: 'lists', key: 'refresh', severity: 'warning', title: 'The category lists could not be refreshed', detail: message });
      }
      return null;
    } finally {
      Object.assign(current, { running: false, step: null });
    }
  };

  const showNext = async () => {
    const next = await dueAt();
    current.nextAt = next === null ? null : new Date(next).toISOString();
  };

  /** Runs a refresh; a request made while one runs is run once more after it (a change must not wait a day). */
  let again: string | null = null;
  const start = (trigger: string): Promise<SyncReport | null> => {
    running = run(trigger).finally(() => {
      running = null;
      const next = again;
      again = null;
      if (next && !stopped) void start(next);
      else void showNext().catch(() => {});
    });
    return running;
  };

  const tick = async () => {
    const due = await dueAt();
    current.nextAt = due === null ? null : new Date(due).toISOString();
    if (due !== null && due <= clock().getTime() && !running && !stopped) void start('schedule');
  };
  const safeTick = () => void tick().catch((error) => logger.error({ err: error }, 'list refresh schedule check failed'));

  return {
    state: () => ({ ...current, last: current.last && { ...current.last } }),
    async runNow(trigger) {
      if (stopped) return null;
      if (running) {
        again = trigger;
        return null;
      }
      return start(trigger);
    },
    start(options = {}) {
      const first = setTimeout(() => {
        safeTick();
        timer = setInterval(safeTick, 60_000);
        timer.unref();
      }, options.firstDelayMs ?? 30_000);
      first.unref();
      timer = first;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
