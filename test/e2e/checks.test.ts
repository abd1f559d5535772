/**
 * Filter checks in Debian's Chromium (the demo school, DNS on loopback): an
 * admin runs a check from the Filter checks page, sees the check log and the
 * results, and records a follow-up action; a pupil device opens /check and
 * its own resolver's answers (given to the browser as the filter answered
 * them for a pupil address) show which test names are blocked there.
 * Screenshots are kept in test-results/e2e.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { CLI_ACTOR } from '../../src/auth/auth.context.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, type TestUpstream, udpExchange } from '../support/dns.ts';
import { browserSkip, type E2E, ensureWebBuilt, launchBrowser, screenshot, signInThroughApi } from './helpers.ts';

const PUPIL = '127.0.1.9';

describe('filter checks in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let browser: Browser;
  let url: string;
  let schoolId: string;
  let dnsPort: number;

  before(async () => {
    ensureWebBuilt();
    upstream = await startTestUpstream(new Map([['netflix.com', { a: ['192.0.2.70'] }]]));
    // The web server believes X-Forwarded-For, so the browser can be a pupil device behind the school's proxy.
    t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`], 'http.trustProxy': true } });
    schoolId = (await seedDemoSchool(t.app)).id;
    url = (await t.app.listen()).replace('://[::1]', '://localhost');
    dnsPort = t.app.dns!.bound.udp[0].port;
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await upstream?.close();
  });

  it('runs a check from the Filter checks page, shows the log and results, and records an action', async () => {
    browser = await launchBrowser();
    const account = await t.app.auth.createAdmin({ email: 'nina.network@oakfield.example', givenName: 'Nina', familyName: 'Network', role: 'admin', schoolId });
    const context: BrowserContext = await browser.newContext({ baseURL: url, locale: 'en-GB', timezoneId: 'Europe/London', viewport: { width: 1440, height: 900 } });
    const page: Page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    const session: E2E = { test: t, url, schoolId, schoolName: 'Oakfield Academy (demo)', admin: { login: account.login, password: account.password }, browser, context, page, pageErrors, close: async () => context.close() };
    await signInThroughApi(session);

    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Filter checks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Filter checks' }).waitFor();
    await page.getByText('No checks yet.').waitFor();
    await page.getByRole('button', { name: 'Run a check now' }).click();
    await page.getByRole('heading', { level: 2, name: /Check of .* by Nina Network/ }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.app-main').innerText(), /0 not as expected/);
    const pupilPorn = page.locator('tr[data-result="Pupils pornhub.com udp"]');
    assert.match(await pupilPorn.innerText(), /blocked\s+as expected/);
    assert.match(await pupilPorn.innerText(), /from 127\.0\.1\./);
    assert.match(await page.locator('tr[data-result="Visitors pornhub.com udp"]').innerText(), /not checked/);
    await screenshot(page, 'checks-1-run');

    await page.getByLabel('Action for pornhub.com (Visitors, DNS (UDP))').fill('Check from a guest Wi-Fi laptop next week.');
    await page.locator('tr[data-result="Visitors pornhub.com udp"]').getByRole('button', { name: 'Save action' }).click();
    await page.locator('tr[data-result="Visitors pornhub.com udp"]').getByText(/by Nina Network/).waitFor();
    const [run] = await t.app.checks.listRuns(schoolId);
    const stored = (await t.app.checks.getRun(schoolId, run.id)).results.find((r) => r.groupName === 'Visitors' && r.name === 'pornhub.com' && r.transport === 'udp');
    assert.equal(stored?.action, 'Check from a guest Wi-Fi laptop next week.');
    await screenshot(page, 'checks-2-action');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('opens /check on a pupil device: the network and group it is seen as, and which test names its own DNS blocks', async () => {
    // Names browsers load over plain HTTP (not on the HSTS preload list, as pornhub.com is), so this test does not need the HTTPS block page.
    await t.app.checks.setNames(CLI_ACTOR, schoolId, [
      { category: 'gambling', name: 'skybet.com' },
      { category: 'dating', name: 'tinder.com' },
      { category: 'streaming', name: 'netflix.com' },
    ], 'Browser test: names loaded over plain HTTP');
    const probed = (await t.app.checks.getNames(schoolId)).names.filter((n) => n.category !== 'bypass').map((n) => n.name);
    // The device's resolver is the filter: each probed name (and what is under it) resolves as the filter answers it for a pupil address.
    const rules: string[] = [];
    const blockedForPupils: string[] = [];
    for (const name of probed) {
      const answer = parseAnswer(await udpExchange(dnsPort, buildQuery(`probe.${name}`), { localAddress: PUPIL })).answers.map((a) => a.data);
      if (answer[0] === '127.0.0.1') {
        rules.push(`MAP *.${name} 127.0.0.1`);
        blockedForPupils.push(name);
      }
    }
    assert.deepEqual(blockedForPupils.sort(), ['illegal-test.schoolgate.invalid', 'skybet.com', 'tinder.com']);
    const device = await launchBrowser([`--host-resolver-rules=${[...rules, 'MAP * ~NOTFOUND', 'EXCLUDE localhost', 'EXCLUDE 127.0.0.1'].join(', ')}`]);
    try {
      const context = await device.newContext({ baseURL: url, extraHTTPHeaders: { 'x-forwarded-for': PUPIL } });
      const page = await context.newPage();
      await page.goto('/check');
      await page.getByRole('heading', { name: 'Filter check for this device' }).waitFor();
      assert.equal(await page.locator('#network').innerText(), 'Pupil lab (this computer, demo)');
      assert.equal(await page.locator('#group').innerText(), 'Pupils');
      await page.locator('body[data-check="done"]').waitFor({ timeout: 20_000 });
      const cell = async (name: string) => page.locator(`tr[data-name="${name}"] td`).nth(2).innerText();
      assert.equal(await cell('skybet.com'), 'blocked here');
      assert.equal(await cell('tinder.com'), 'blocked here');
      assert.equal(await cell('illegal-test.schoolgate.invalid'), 'blocked here');
      assert.equal(await cell('netflix.com'), 'not blocked here');
      assert.match(await cell('use-application-dns.net'), /does not exist/);
      assert.match(await page.locator('#summary').innerText(), new RegExp(`sent ${blockedForPupils.length} of ${probed.length} probed names`));
      await screenshot(page, 'checks-3-device-page');
    } finally {
      await device.close();
    }
  });
});
