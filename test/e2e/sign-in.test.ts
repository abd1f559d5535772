/**
 * Browser test: the first admin signs in with the one-time password, is made
 * to choose a new one, enrols two-factor (the test computes the TOTP from the
 * secret shown on the page), keeps the recovery codes, signs out, and signs in
 * again with the new password and a TOTP code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { browserSkip, type E2E, freshTotp, screenshot, startE2E, strongPassword } from './helpers.ts';

describe('sign-in with two-factor (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
  });
  after(async () => {
    await e2e?.close();
  });

  it('first sign-in: one-time password, password change, two-factor enrolment, then sign in again with a TOTP code', async () => {
    const { page, admin } = e2e;
    const heading = page.getByRole('heading', { level: 1 });
    await page.goto('/');
    await heading.filter({ hasText: 'Sign in to Schoolgate' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en-GB');

    // A wrong password is refused, with the message in the live region.
    await page.getByLabel('Sign-in name').fill(admin.login);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong sign-in name or password' }).waitFor();
    await screenshot(page, 'sign-in-1-wrong-password');

    // The one-time password works; submitting with Enter, as a keyboard user would.
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Password', { exact: true }).press('Enter');

    let newPassword = '';
    let secret = '';
    const used = new Set<string>();
    const seen: string[] = [];
    for (let step = 0; step < 4; step++) {
      const stepHeading = heading.filter({ hasText: /Choose a new password|Set up two-factor sign-in|^Welcome, / });
      await stepHeading.waitFor();
      const text = await stepHeading.innerText();
      const title = text.startsWith('Choose') ? 'password' : text.startsWith('Set up') ? 'mfa_setup' : 'home';
      seen.push(title);
      if (title === 'home') break;
      if (title === 'password') {
        await screenshot(page, 'sign-in-2-change-password');
        // A password the policy refuses is reported beside the New password field.
        await page.getByLabel('Current password').fill(admin.password);
        await page.getByLabel('New password', { exact: true }).fill('short');
        await page.getByLabel('Confirm new password').fill('short');
        await page.getByRole('button', { name: 'Change password' }).click();
        const newPasswordInput = page.getByLabel('New password', { exact: true });
        await page.waitForFunction(() => document.querySelector('input[name="newPassword"]')?.getAttribute('aria-invalid') === 'true');
        const errorId = (await newPasswordInput.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
        const fieldError = (await page.locator(`[id="${errorId}"]`).innerText()).trim();
        assert.ok(fieldError.length > 0, 'the policy failure is shown beside the New password field');
        await screenshot(page, 'sign-in-3-password-refused');

        newPassword = strongPassword();
        await newPasswordInput.fill(newPassword);
        await page.getByLabel('Confirm new password').fill(newPassword);
        await page.getByRole('button', { name: 'Change password' }).click();
        await heading.filter({ hasText: 'Choose a new password' }).waitFor({ state: 'detached' });
      } else {
        const qr = page.getByRole('img', { name: /QR code/ });
        await qr.waitFor();
        assert.match((await qr.getAttribute('src')) ?? '', /^data:image\//);
        secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
        assert.match(secret, /^[A-Z2-7]{16,}=*$/, 'a base32 set-up key is shown');
        await screenshot(page, 'sign-in-4-mfa-setup');
        await page.getByLabel('Code from the app').fill(await freshTotp(secret, used));
        await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();

        await heading.filter({ hasText: 'Your recovery codes' }).waitFor();
        await page.getByText('Store these recovery codes safely now.').waitFor();
        const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
        assert.ok(codes.length >= 5, `recovery codes are shown (got ${codes.length})`);
        await screenshot(page, 'sign-in-5-recovery-codes');
        const carryOn = page.getByRole('button', { name: 'Continue' });
        assert.equal(await carryOn.isDisabled(), true, 'cannot go on before saying the codes are stored');
        await page.getByLabel('I have stored these codes safely').check();
        await carryOn.click();
      }
    }
    assert.ok(seen.includes('password'), `the one-time password had to be changed (steps: ${seen.join(', ')})`);
    assert.ok(seen.includes('mfa_setup'), `two-factor had to be set up (steps: ${seen.join(', ')})`);
    assert.equal(seen.at(-1), 'home');

    // Signed in: the shell shows the school, the person and the admin's navigation.
    await page.getByRole('banner').getByText(e2e.schoolName).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of ['People', 'Groups', 'Import', 'Networks', 'Users & roles', 'Audit log', 'Settings']) {
      await nav.getByRole('link', { name: label, exact: true }).waitFor();
    }
    await page.getByRole('heading', { name: 'Your roles' }).waitFor();
    await page.getByRole('main').getByText('Administrator').waitFor();
    await screenshot(page, 'sign-in-6-home');

    // Sign out, and back in with the new password and a TOTP code.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading.filter({ hasText: 'Sign in to Schoolgate' }).waitFor();
    const me = await page.request.get('/api/auth/me');
    assert.equal(me.status(), 401, 'the session is gone after signing out');

    await page.getByLabel('Sign-in name').fill(admin.login);
    await page.getByLabel('Password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading.filter({ hasText: 'Enter your two-factor code' }).waitFor();
    await screenshot(page, 'sign-in-7-totp');
    await page.getByLabel('Code', { exact: true }).fill(await freshTotp(secret, used));
    await page.getByLabel('Code', { exact: true }).press('Enter');
    await heading.filter({ hasText: /^Welcome, / }).waitFor();
    await page.getByRole('banner').getByText('Signed in as').waitFor();
    await screenshot(page, 'sign-in-8-signed-in-again');
    assert.deepEqual(e2e.pageErrors, []);
  });
});
