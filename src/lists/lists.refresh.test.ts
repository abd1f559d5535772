/**
 * The app's refresh: it does nothing on a fresh install (no list synced, no
 * feed, no mirror), refreshes from the configured mirror when there is one,
 * and never runs two syncs at once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { loadConfig } from '../config/config.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { startTestApp } from '../../test/support/dialects.ts';
import { createListsRefresher, SyncBusyError, syncConfiguredLists } from './lists.refresh.ts';

const tempDir = tempDirs('refresh');

function mirror(): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'ut1', 'gambling'), { recursive: true });
  writeFileSync(path.join(dir, 'ut1', 'gambling', 'domains.gz'), gzipSync('bet1.example\nbet2.example\n'));
  return dir;
}

describe('the app’s list refresh', () => {
  it('is off on a fresh install, so a demo never reaches out by itself', async () => {
    const t = await startTestApp('sqlite');
    try {
      const refresher = createListsRefresher({ config: t.app.config, logger: pino({ level: 'silent' }), alerts: t.app.alerts });
      refresher.start({ firstDelayMs: 0 });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(refresher.state().nextAt, null);
      assert.equal(refresher.state().last, null);
      await refresher.stop();
    } finally {
      await t.close();
    }
  });

  it('refreshes from the configured mirror with progress, runs a request made meanwhile after it, and keeps two syncs apart', async () => {
    const t = await startTestApp('sqlite', { overrides: { 'lists.mirror': mirror() } });
    try {
      const refresher = t.app.listsRefresher;
      const run = refresher.runNow('test');
      assert.equal(refresher.state().running, true);
      assert.equal(await refresher.runNow('again'), null, 'one at a time: the second is queued');
      const report = await run;
      assert.ok(report);
      assert.equal(report.lists.find((l) => l.id === 'ut1:gambling')!.status, 'updated');
      assert.equal(refresher.state().last!.trigger, 'test');
      assert.equal(refresher.state().running, true, 'the queued request runs after the first');
      while (refresher.state().running) await new Promise((r) => setTimeout(r, 20));
      const state = refresher.state();
      assert.equal(state.last!.trigger, 'again');
      assert.ok(state.last!.problems > 0, 'the other default lists are not in this small mirror');
      assert.equal(state.done, state.total);

      const both = await Promise.allSettled([syncConfiguredLists(t.app.config, { mirror: mirror() }), syncConfiguredLists(t.app.config, { mirror: mirror() })]);
      const busy = both.filter((r) => r.status === 'rejected');
      assert.equal(busy.length, 1, 'exactly one of two syncs at once runs');
      assert.ok((busy[0] as PromiseRejectedResult).reason instanceof SyncBusyError);
      assert.match((busy[0] as PromiseRejectedResult).reason.message, new RegExp(`another sync is running \\(process ${process.pid}\\)`));
    } finally {
      await t.close();
    }
  });
});

describe('lists configuration', () => {
  it('refuses a negative refresh interval, naming the key', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { 'lists.refreshHours': -1 } }), (e: Error & { issues?: { where: string }[] }) => e.issues!.some((i) => i.where.startsWith('lists.refreshHours')));
  });
});
