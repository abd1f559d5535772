/**
 * An unblock request from asking to outcome in Debian's Chromium: a device is
 * sent to the block page for tiktok.com (the browser is told the name lives
 * at the block page's address, as the filter's answer says), asks for a
 * review with the form (no script), follows the link to its status page; the
 * network manager approves it for Pupils in the app's "Unblock requests"
 * inbox; the requester's status page then shows the approval and its end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { startTestUpstream, type TestUpstream } from '../support/dns.ts';
import { browserSkip, type E2E, ensureWebBuilt, launchBrowser, screenshot, signInThroughApi } from './helpers.ts';

describe('unblock requests in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let requesterBrowser: Browser;
  let adminBrowser: Browser;
  let adminContext: BrowserContext;
  let port: string;
  let appUrl: string;
  const pageErrors: string[] = [];

  before(async () => {
    ensureWebBuilt();
    upstream = await startTestUpstream(new Map());
    t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
    await seedDemoSchool(t.app);
    t.url = await t.app.listen();
    appUrl = t.url.replace('://[::1]', '://localhost').replace('://127.0.0.1', '://localhost');
    port = new URL(t.url).port;
    requesterBrowser = await launchBrowser(['--host-resolver-rules=MAP tiktok.com 127.0.0.1']);
    adminBrowser = await launchBrowser();
    adminContext = await adminBrowser.newContext({ baseURL: appUrl, locale: 'en-GB', timezoneId: 'Europe/London', viewport: { width: 1280, height: 1000 } });
  });
  after(async () => {
    await requesterBrowser?.close();
    await adminBrowser?.close();
    await t?.close();
    await upstream?.close();
  });

  it('request from the block page, approval in the inbox, outcome on the requester’s status page', async () => {
    // The requester: the block page, the form, the link to the status page.
    const requester = await requesterBrowser.newPage({ javaScriptEnabled: false });
    const blocked = await requester.goto(`http://tiktok.com:${port}/@someone/video/1`);
    assert.equal(blocked!.status(), 403);
    await requester.getByLabel('Why do you need it?').fill('Media studies: analysing short-form video.');
    await requester.getByRole('button', { name: 'Send request' }).click();
    await requester.getByRole('heading', { name: /has been sent/ }).waitFor();
    await requester.getByRole('link', { name: 'See what happens to your request' }).click();
    await requester.getByRole('heading', { name: 'Your request about tiktok.com is waiting' }).waitFor();
    assert.match(requester.url(), /\/blocked\/status\/[A-Za-z0-9_-]{43}$/);
    const statusUrl = requester.url();

    // The network manager: signs in, opens the inbox, approves for Pupils with a reason.
    const school = (await t.app.schools.list())[0];
    const admin = await t.app.auth.createFirstAdmin(school.id);
    await signInThroughApi({ context: adminContext, admin } as unknown as E2E);
    const page = await adminContext.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Unblock requests' }).click();
    await page.getByRole('heading', { name: 'Unblock requests', level: 1 }).waitFor();
    const card = page.getByRole('listitem', { name: 'Request about tiktok.com' });
    await card.waitFor();
    const form = card.getByRole('form', { name: 'Decide the request about tiktok.com' });
    await form.getByRole('checkbox', { name: 'Pupils' }).check();
    await screenshot(page, 'unblock-requests-inbox');
    // A refusal or approval without a reason is refused by the server, beside the field.
    await form.getByRole('button', { name: 'Approve' }).click();
    await form.getByText(/required: say why/i).waitFor();
    await form.getByLabel('Reason (shown to the person who asked)').fill('Coursework this week');
    await form.getByRole('button', { name: 'Approve' }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByLabel('Show').selectOption('all');
    await page.getByRole('listitem', { name: 'Request about tiktok.com' }).getByRole('heading', { name: 'tiktok.com Approved' }).waitFor();
    const [saved] = await t.app.unblockRequests.list(school.id);
    assert.equal(saved.status, 'approved');
    const exemptions = await t.app.policy.listExemptions(school.id, { activeOnly: true });
    const pupils = (await t.app.people.listGroups(school.id)).find((g) => g.name === 'Pupils')!;
    assert.deepEqual(
      exemptions.filter((e) => saved.exemptionIds.includes(e.id)).map((e) => [e.domain, e.groupId]),
      [['tiktok.com', pupils.id]],
    );

    // The requester's status page shows the outcome.
    await requester.goto(statusUrl);
    await requester.getByRole('heading', { name: 'Your request about tiktok.com was approved' }).waitFor();
    assert.match(await requester.locator('main').innerText(), /tiktok\.com is unblocked for Pupils until/);
    await screenshot(requester, 'unblock-request-status-approved');
    assert.deepEqual(pageErrors, []);
  });
});
