/**
 * The filtering-policy pages in Debian's Chromium, on the demo school with
 * the DNS filter running: a network manager blocks a category for Pupils
 * (diff, reason, save) and a pupil address (127.0.1.5) asking over a real UDP
 * socket is blocked within 5 seconds; illegal cannot be unblocked in the page
 * or through the API; a deny entry and an exemption with an expiry are added
 * (each seen to act on the running filter); a head sees it all without edit
 * controls. Screenshots go to test-results/e2e/filter-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { startTestUpstream, type TestUpstream } from '../support/dns.ts';
import { browserSkip, dnsAsker, type E2E, ensureWebBuilt, launchBrowser, roleSession, screenshot } from './helpers.ts';

/** The demo points blocked names at the block page on this machine. */
const BLOCK_ADDRESS = '127.0.0.1';
const PUPIL = '127.0.1.5';

describe('filtering policy pages (browser, running filter)', { skip: browserSkip }, () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let browser: Browser;
  let url: string;
  let schoolId: string;
  let dnsPort: number;
  let admin: E2E;
  let head: E2E;
  let pupilsId: string;

  const sessionFor = (role: 'admin' | 'head', email: string) => roleSession({ test: t, browser, url, schoolId, role, email });

  /** The running filter's answers for a pupil. */
  const { ask, answerWithin5s } = dnsAsker(() => dnsPort, PUPIL);

  before(async () => {
    ensureWebBuilt();
    upstream = await startTestUpstream(
      new Map([
        ['twitch.tv', { a: ['192.0.2.60'] }],
        ['quizland.example', { a: ['192.0.2.61'] }],
      ]),
    );
    t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
    schoolId = (await seedDemoSchool(t.app)).id;
    url = (await t.app.listen()).replace('://[::1]', '://localhost');
    dnsPort = t.app.dns!.bound.udp[0].port;
    pupilsId = (await t.app.people.listGroups(schoolId)).find((g) => g.name === 'Pupils')!.id;
    browser = await launchBrowser();
    admin = await sessionFor('admin', 'nina.network@oakfield.example');
    head = await sessionFor('head', 'harriet.head@oakfield.example');
  });
  after(async () => {
    await admin?.close();
    await head?.close();
    await browser?.close();
    await t?.close();
    await upstream?.close();
  });

  it('blocks a category for Pupils with a diff and a reason, and the running filter answers the change within 5 seconds', async () => {
    const { page } = admin;
    assert.deepEqual(await ask('twitch.tv'), ['192.0.2.60'], 'streaming is allowed for pupils in the demo');

    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Filtering' }).click();
    await page.getByRole('heading', { level: 2, name: 'Categories by group' }).waitFor();
    const streaming = page.getByRole('checkbox', { name: 'Block Streaming for Pupils' });
    await streaming.waitFor();
    assert.equal(await streaming.isChecked(), false);
    // The category descriptions are readable beside each row.
    assert.match(await page.locator('tr[data-category="streaming"] th').innerText(), /Video and music streaming services/);
    await screenshot(page, 'filter-1-categories-grid');

    await streaming.check();
    await page.getByRole('button', { name: /^Review changes/ }).click();
    const review = page.getByRole('region', { name: 'Check these changes before saving' });
    await review.waitFor();
    assert.match(await review.getByRole('listitem').first().innerText(), /Block:\s*Streaming for Pupils/);

    // No reason: refused, and the message is beside the reason field.
    await review.getByRole('button', { name: 'Save with this reason' }).click();
    const reason = review.getByLabel('Reason for this change');
    await page.waitForFunction(() => document.querySelector('input[name="reason"]')?.getAttribute('aria-invalid') === 'true');
    const errorId = (await reason.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
    assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /required/i);
    assert.equal((await t.app.policy.getGroupPolicy(schoolId, pupilsId)).blocked.includes('streaming'), false, 'nothing saved without a reason');
    await screenshot(page, 'filter-2-review-needs-reason');

    await reason.fill('Streaming sites use most of the pupil Wi-Fi in lessons; agreed at the e-safety group');
    await review.getByRole('button', { name: 'Save with this reason' }).click();
    await page.getByText('Saved the policy of Pupils.').waitFor();
    // The grid reloads from the server after saving: wait for the saved state rather than read it at once.
    await page.getByRole('checkbox', { name: 'Block Streaming for Pupils', checked: true }).waitFor();
    await screenshot(page, 'filter-3-saved');

    const { answer, ms } = await answerWithin5s('twitch.tv', BLOCK_ADDRESS);
    assert.deepEqual(answer, [BLOCK_ADDRESS], `a pupil is sent to the block page (after ${ms} ms)`);

    const audit = await page.request.get(`/api/audit?targetType=group&targetId=${pupilsId}`);
    const entries = ((await audit.json()) as { entries: { action: string; details: { reason?: string; changes?: { blocked?: { added: string[] } } } }[] }).entries;
    const entry = entries.find((e) => e.action === 'filter.policy.update' && e.details.reason?.startsWith('Streaming sites'));
    assert.ok(entry, 'the change is in the audit log with its reason');
    assert.deepEqual(entry.details.changes?.blocked?.added, ['streaming']);
    assert.deepEqual(admin.pageErrors, []);
  });

  it('never lets illegal be unblocked: locked in the page, refused by the server', async () => {
    const { page } = admin;
    await page.goto('/filter');
    const illegal = page.getByRole('checkbox', { name: 'Block Illegal content for Pupils' });
    await illegal.waitFor();
    assert.equal(await illegal.isChecked(), true);
    assert.equal(await illegal.isDisabled(), true);
    const noteId = await illegal.getAttribute('aria-describedby');
    assert.match(await page.locator(`[id="${noteId}"]`).innerText(), /can never be unblocked/);
    await illegal.click({ force: true });
    assert.equal(await illegal.isChecked(), true, 'a click on the locked box changes nothing');

    // Suggested defaults fill the column, illegal included, without saving.
    await page.getByLabel('Group', { exact: true }).selectOption({ label: 'Staff' });
    await page.getByLabel('Audience').selectOption({ label: 'staff' });
    await page.getByRole('button', { name: 'Start from suggested defaults for staff' }).click();
    assert.equal(await page.getByRole('checkbox', { name: 'Block Illegal content for Staff' }).isChecked(), true);
    await page.getByRole('button', { name: 'Discard changes' }).click();

    // The same session asking the API directly, as a changed page could, is refused on the field it names.
    const me = (await (await page.request.get('/api/auth/me')).json()) as { csrfToken: string };
    const current = await t.app.policy.getGroupPolicy(schoolId, pupilsId);
    const response = await page.request.put(`/api/filter/groups/${pupilsId}/policy`, {
      headers: { 'x-csrf-token': me.csrfToken },
      data: { priority: current.priority, blocked: current.blocked.filter((c) => c !== 'illegal'), scheduled: current.scheduled, safeSearch: true, youtube: 'strict', filterOff: false, reason: 'Trying to unblock illegal' },
    });
    assert.equal(response.status(), 400);
    const body = (await response.json()) as { message: string; issues: { where: string; message: string }[] };
    assert.match(body.message, /illegal category can never be unblocked/);
    assert.ok(body.issues.some((i) => i.where === 'blocked' && /illegal/.test(i.message)));
    assert.ok((await t.app.policy.getGroupPolicy(schoolId, pupilsId)).blocked.includes('illegal'));
  });

  it('adds a deny entry for Pupils (a bad site is reported on its field) and the filter blocks it', async () => {
    const { page } = admin;
    assert.deepEqual(await ask('quizland.example'), ['192.0.2.61']);
    await page.goto('/filter/entries');
    await page.getByRole('heading', { level: 2, name: 'Allow and deny lists' }).waitFor();
    const form = page.getByRole('region', { name: 'Add an entry' });
    await form.getByLabel('List', { exact: true }).selectOption('deny');
    await form.getByLabel('Site', { exact: true }).fill('not a site!');
    await form.getByLabel('For', { exact: true }).selectOption({ label: 'Pupils' });
    await form.getByRole('button', { name: 'Review this entry' }).click();
    await form.getByLabel('Reason for this change').fill('Quiz site with chat and adverts; pupils should use the school quiz tool');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    await page.waitForFunction(() => document.querySelector('input[name="domain"]')?.getAttribute('aria-invalid') === 'true');
    const site = form.getByLabel('Site', { exact: true });
    const errorId = (await site.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
    assert.ok((await page.locator(`[id="${errorId}"]`).innerText()).trim().length > 0, 'the problem with the site is shown beside it');
    await screenshot(page, 'filter-4-entry-bad-site');

    await site.fill('quizland.example');
    await form.getByRole('button', { name: 'Review this entry' }).click();
    const change = form.locator('.diff-list li');
    assert.match(await change.innerText(), /Add:\s*quizland\.example \(and every name under it\) to the deny list for Pupils/);
    await form.getByLabel('Reason for this change').fill('Quiz site with chat and adverts; pupils should use the school quiz tool');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    const row = page.getByRole('row').filter({ hasText: 'quizland.example' });
    await row.waitFor();
    assert.match(await row.innerText(), /Deny\s+Pupils/);
    await screenshot(page, 'filter-5-entry-added');
    const { answer, ms } = await answerWithin5s('quizland.example', BLOCK_ADDRESS);
    assert.deepEqual(answer, [BLOCK_ADDRESS], `the deny entry acts (after ${ms} ms)`);
    assert.deepEqual(admin.pageErrors, []);
  });

  it('makes an exemption with an expiry (a past time is reported on its field) and the filter lets the site through', async () => {
    const { page } = admin;
    await page.goto('/filter/exemptions');
    await page.getByRole('heading', { level: 2, name: 'Exemptions' }).waitFor();
    await page.getByText('No exemptions are active.').waitFor();
    const form = page.getByRole('region', { name: 'Make an exemption' });
    await form.getByLabel('A site', { exact: true }).check();
    await form.getByLabel('Site', { exact: true }).fill('twitch.tv');
    await form.getByLabel('A group', { exact: true }).check();
    await form.getByLabel('Group', { exact: true }).selectOption({ label: 'Pupils' });
    await form.getByLabel('Until').fill('2020-01-01T09:00');
    await form.getByRole('button', { name: 'Review this exemption' }).click();
    await form.getByLabel('Reason for this change').fill('Year 10 media studies: live-streaming unit this week');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    await page.waitForFunction(() => document.querySelector('input[name="until"]')?.getAttribute('aria-invalid') === 'true');
    const until = form.getByLabel('Until');
    const errorId = (await until.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
    assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /not in the future/);

    const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await until.fill(`${inThreeDays}T16:00`);
    await form.getByRole('button', { name: 'Review this exemption' }).click();
    assert.match(await form.locator('.diff-list li').innerText(), /Unblock:\s*twitch\.tv \(and every name under it\) for Pupils until .*then it is filtered again by itself/);
    await screenshot(page, 'filter-6-exemption-review');
    await form.getByLabel('Reason for this change').fill('Year 10 media studies: live-streaming unit this week');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    const row = page.getByRole('row').filter({ hasText: 'twitch.tv' });
    await row.waitFor();
    assert.match(await row.innerText(), /Pupils[\s\S]*Active/);
    const [saved] = await t.app.policy.listExemptions(schoolId, { activeOnly: true });
    assert.equal(saved.domain, 'twitch.tv');
    assert.ok(Math.abs(Date.parse(saved.until) - Date.parse(`${inThreeDays}T16:00:00Z`)) <= 3_600_000, `ends at the time given (London time): ${saved.until}`);
    await screenshot(page, 'filter-7-exemption-added');
    const { answer, ms } = await answerWithin5s('twitch.tv', '192.0.2.60');
    assert.deepEqual(answer, ['192.0.2.60'], `the exemption acts (after ${ms} ms)`);
    assert.deepEqual(admin.pageErrors, []);
  });

  it('records a sanction on a device until a date', async () => {
    const { page } = admin;
    await page.goto('/filter/sanctions');
    const form = page.getByRole('region', { name: 'Record a sanction' });
    await form.waitFor();
    await form.getByLabel('A device', { exact: true }).check();
    await form.getByLabel('Device', { exact: true }).selectOption({ label: 'Library iPad 3' });
    await form.getByLabel('Still allowed (optional)').fill('oakfield.example');
    await form.getByRole('button', { name: 'Review this sanction' }).click();
    assert.match(await form.locator('.diff-list li').innerText(), /Block:\s*all internet access for Library iPad 3 until the end of .*except oakfield\.example/);
    await form.getByLabel('Reason for this change').fill('Misuse of the library iPad, agreed with the head of year');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Library iPad 3' });
    await row.waitFor();
    assert.match(await row.innerText(), /oakfield\.example[\s\S]*Active/);
    await screenshot(page, 'filter-8-sanction');
    assert.deepEqual(admin.pageErrors, []);
  });

  it('makes a schedule and a rule that blocks a category for Staff during it', async () => {
    const { page } = admin;
    await page.goto('/filter/schedules');
    const form = page.getByRole('region', { name: 'Make a schedule' });
    await form.waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Lunch');
    await form.getByLabel('From', { exact: true }).fill('12:00');
    await form.getByLabel('To', { exact: true }).fill('13:00');
    await form.getByRole('button', { name: 'Review this schedule' }).click();
    assert.match(await form.locator('.diff-list li').innerText(), /Add:\s*the schedule “Lunch”: Mon–Fri 12:00–13:00, on school days only/);
    await form.getByLabel('Reason for this change').fill('Lunchtime rules from the new acceptable use policy');
    await form.getByRole('button', { name: 'Save with this reason' }).click();
    await page.getByRole('rowheader', { name: 'Lunch' }).waitFor();

    const rule = page.getByRole('region', { name: 'Add a rule' });
    await rule.getByLabel('Group', { exact: true }).selectOption({ label: 'Staff' });
    await rule.getByLabel('Category', { exact: true }).selectOption({ label: 'Streaming' });
    await rule.getByLabel('Schedule', { exact: true }).selectOption({ label: 'Lunch' });
    await rule.getByRole('button', { name: 'Review this rule' }).click();
    assert.match(await rule.locator('.diff-list li').first().innerText(), /Add:\s*a rule for Staff: Streaming blocked during “Lunch”/);
    await rule.getByLabel('Reason for this change').fill('Streaming at lunch slows the staff Wi-Fi for lesson preparation');
    await rule.getByRole('button', { name: 'Save with this reason' }).click();
    await page.getByText('Added the rule: Streaming blocked for Staff during “Lunch”.').waitFor();
    const staff = (await t.app.policy.listGroupPolicies(schoolId)).find((g) => g.groupName === 'Staff')!;
    assert.ok(staff.scheduled.some((r) => r.category === 'streaming' && r.mode === 'block_during'));
    await screenshot(page, 'filter-11-schedules');
    assert.deepEqual(admin.pageErrors, []);
  });

  it('shows a head everything without edit controls', async () => {
    const { page } = head;
    await page.goto('/filter');
    await page.getByRole('heading', { level: 2, name: 'Categories by group' }).waitFor();
    await page.getByText('You can see the policy but not change it.').waitFor();
    const grid = page.getByRole('region', { name: 'Categories by group' });
    assert.match(await grid.locator('tr[data-category="streaming"]').innerText(), /Blocked/, 'the saved change is shown');
    assert.equal(await grid.locator('input, select').count(), 0, 'no checkboxes or selects in the grid');
    assert.equal(await page.getByRole('button', { name: /Review changes|Start from suggested defaults/ }).count(), 0);
    await screenshot(page, 'filter-9-head-read-only');

    for (const [path, text] of [
      ['/filter/entries', 'quizland.example'],
      ['/filter/exemptions', 'twitch.tv'],
      ['/filter/schedules', 'School day'],
      ['/filter/sanctions', 'oakfield.example'],
    ] as const) {
      await page.goto(path);
      await page.getByRole('cell', { name: text }).or(page.getByRole('rowheader', { name: text })).first().waitFor();
      assert.equal(await page.locator('main form').count(), 0, `${path}: no forms`);
      assert.equal(await page.locator('main table button').count(), 0, `${path}: no row actions`);
    }
    await screenshot(page, 'filter-10-head-sanctions');
    assert.deepEqual(head.pageErrors, []);
  });
});
