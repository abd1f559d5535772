/**
 * The block page in Debian's Chromium: the browser is told that tinder.com
 * lives at the block page's address (as the filter's DNS answer says), opens
 * it, sees the page, and sends a review request with the form (no script).
 * The screenshot is kept in test-results/e2e for a person to look at.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { startTestUpstream, type TestUpstream } from '../support/dns.ts';
import { browserSkip, launchBrowser, screenshot } from './helpers.ts';

describe('block page in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let browser: Browser;
  let port: string;

  before(async () => {
    upstream = await startTestUpstream(new Map());
    t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
    await seedDemoSchool(t.app);
    t.url = await t.app.listen();
    port = new URL(t.url).port;
    // What the filter's answer does on a real network: the blocked name resolves to the block page's address.
    browser = await launchBrowser(['--host-resolver-rules=MAP tinder.com 127.0.0.1']);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await upstream?.close();
  });

  it('shows the block page for a blocked site and takes a review request', async () => {
    const page = await browser.newPage({ javaScriptEnabled: false });
    const response = await page.goto(`http://tinder.com:${port}/profile/42`);
    assert.equal(response!.status(), 403);
    await page.getByRole('heading', { name: 'tinder.com is blocked' }).waitFor();
    assert.match(await page.locator('dl').innerText(), /Dating/);
    assert.match(await page.getByRole('note').innerText(), /monitors the use of its network/);
    await screenshot(page, 'block-page');
    await page.getByLabel('Why do you need it?').fill('Our PSHE lesson looks at how dating apps verify ages.');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { name: /has been sent/ }).waitFor();
    await screenshot(page, 'block-page-request-sent');
    const [saved] = await t.app.unblockRequests.list((await t.app.schools.list())[0].id);
    assert.equal(saved.site, 'tinder.com');
    assert.match(saved.message, /PSHE/);
  });
});
