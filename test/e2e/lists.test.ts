/**
 * Browser test of the lists page: the illegal feeds' red status, a system
 * alert shown and dismissed with a reason, "why is this blocked?" naming
 * the list line behind a category and the group's decision, and choosing
 * lists: a built-in list switched off and an own list uploaded, each
 * reviewed and saved with a reason.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { syncConfiguredLists } from '../../src/lists/lists.refresh.ts';
import { browserSkip, type E2E, screenshot, signInThroughApi, startE2E } from './helpers.ts';

describe('lists page (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
    const { app } = e2e.test;
    const group = await app.people.createGroup(SYSTEM_ACTOR, e2e.schoolId, { name: 'Pupils', kind: 'year' });
    await app.policy.updateGroupPolicy(SYSTEM_ACTOR, e2e.schoolId, group.id, { priority: 10, blocked: ['illegal', 'gambling'], scheduled: [], safeSearch: true, youtube: 'strict', filterOff: false, reason: 'pupils do not gamble' });
    const mirror = path.join(app.config.dataDir, 'mirror');
    mkdirSync(path.join(mirror, 'ut1', 'gambling'), { recursive: true });
    writeFileSync(path.join(mirror, 'ut1', 'gambling', 'domains.gz'), gzipSync('# gambling\nbet365.example\npokerstars.example\n'));
    await syncConfiguredLists(app.config, { mirror });
    await app.alerts.raise({ schoolId: null, source: 'lists', key: 'list:ut1:dating', severity: 'warning', title: 'The list ut1:dating could not be updated', detail: 'not found' });
    await signInThroughApi(e2e);
  });
  after(async () => {
    await e2e?.close();
  });

  it('shows the feeds’ status and alerts, dismisses an alert with a reason, and explains a block', async () => {
    const { page } = e2e;
    await page.goto('/lists');
    await page.getByRole('heading', { level: 1, name: 'Lists' }).waitFor();
    const feeds = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Illegal-content feeds (IWF, CTIRU)' }) });
    assert.match(await feeds.innerText(), /Not in service\. No licensed illegal-content feed/);
    await page.getByRole('heading', { name: '1 open system alert' }).waitFor();

    const dismiss = page.getByRole('form', { name: 'Dismiss The list ut1:dating could not be updated' });
    await dismiss.getByLabel('Reason for dismissing').fill('dating list retired by the trust');
    await dismiss.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByText('Dismissed “The list ut1:dating could not be updated”.').waitFor();
    const audit = await e2e.test.app.audit.list(e2e.schoolId, { targetType: 'system_alert', limit: 5 });
    assert.match(audit[0].details, /dating list retired by the trust/);

    await page.getByLabel('Site names').fill('www.bet365.example');
    await page.getByLabel('For the group').selectOption({ label: 'Pupils' });
    await page.getByRole('button', { name: 'Explain' }).click();
    const result = page.getByRole('article', { name: 'Why www.bet365.example' });
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /In: gambling\./);
    assert.match(text, /list ut1:gambling line 2: bet365\.example \(a parent domain\)/);
    assert.match(text, /For Pupils: blocked by category/);
    await screenshot(page, 'lists-why');
    assert.deepEqual(e2e.pageErrors, []);
  });

  it('switches a built-in list off and uploads an own list, each reviewed with a reason, and shows the lines it could not use', async () => {
    const { page } = e2e;
    await page.goto('/lists');
    await page.getByRole('heading', { name: 'Built-in sources' }).waitFor();
    await page.locator('summary').filter({ hasText: 'UT1 blacklists' }).click();
    await page.getByLabel('Use ut1:games').uncheck();
    await page.getByRole('button', { name: 'Review 1 change(s)' }).click();
    const review = page.locator('.review-panel');
    assert.match(await review.innerText(), /Switch off ut1:games \(blocks Games\)/);
    await review.getByLabel('Reason for this change').fill('games are part of the computing curriculum');
    await review.getByRole('button', { name: 'Save with this reason' }).click();
    await page.getByText('Saved 1 change(s); the lists are being refreshed.').waitFor();
    const switches = await e2e.test.app.listChoices.switches();
    assert.deepEqual(switches.map((s) => [s.listId, s.enabled, s.reason]), [['ut1:games', false, 'games are part of the computing curriculum']]);

    await page.getByRole('button', { name: 'Add a list' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Local betting');
    await page.getByLabel('Category', { exact: true }).selectOption('gambling');
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'local.txt', mimeType: 'text/plain', buffer: Buffer.from('# found by IT\nlocal-bets.example\nnot a name\nmore-bets.example\n') });
    await page.getByRole('button', { name: 'Review the new list' }).click();
    const add = page.locator('.review-panel');
    assert.match(await add.innerText(), /Add the list “Local betting”: blocks Gambling, one domain a line, uploaded from local\.txt/);
    await add.getByLabel('Reason for this change').fill('sites pupils found on the library computers');
    await add.getByRole('button', { name: 'Save with this reason' }).click();
    await page.getByText('Added Local betting; the lists are being refreshed.').waitFor();
    const report = page.locator('.check-report');
    assert.match(await report.innerText(), /2 names from 4 lines\. 1 line\(s\) not used:/);
    assert.match(await report.innerText(), /line 3: not a name: more than one word/);
    const row = page.getByRole('row', { name: /Local betting/ });
    await row.getByText(/2 names, taken/).waitFor({ timeout: 15_000 });
    await screenshot(page, 'lists-sources');
    assert.deepEqual(e2e.pageErrors, []);
  });
});
