/**
 * Browser test of the illegal-feed banner and two admin journeys: networks (a bad CIDR is reported on its
 * field; add, edit, delete with an inline confirm) and accounts (create an
 * account for a person; its one-time password is shown once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { browserSkip, type E2E, screenshot, signInThroughApi, startE2E } from './helpers.ts';

describe('admin pages (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
    const { app } = e2e.test;
    await app.people.createGroup(SYSTEM_ACTOR, e2e.schoolId, { name: 'All staff', kind: 'staff' });
    await app.people.createPerson(SYSTEM_ACTOR, e2e.schoolId, { kind: 'staff', givenName: 'Priya', familyName: 'Shah', email: 'Priya.Shah@oakfield.sch.uk' });
    await signInThroughApi(e2e);
  });
  after(async () => {
    await e2e?.close();
  });

  it('shows a red banner while no licensed illegal-content feed is in service', async () => {
    const { page } = e2e;
    await page.goto('/');
    const banner = page.getByRole('region', { name: 'Illegal-content lists are not in service' });
    await banner.waitFor();
    assert.equal(await banner.getAttribute('data-level'), 'red');
    assert.match(await banner.innerText(), /No licensed illegal-content feed \(IWF, CTIRU\) is configured[\s\S]*broadband provider/);
    await screenshot(page, 'admin-0-illegal-feed-red');
  });

  it('networks: a bad CIDR is shown on its field; add, edit and delete', async () => {
    const { page } = e2e;
    await page.goto('/networks');
    await page.getByRole('heading', { level: 1, name: 'Networks' }).waitFor();
    await page.getByText('No networks yet.').waitFor();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Add a network' }) });
    await form.getByLabel('Name').fill('Staff Wi-Fi');
    await form.getByLabel('Range (CIDR)').fill('10.20.0.1/16');
    await form.getByLabel('Group').selectOption({ label: 'All staff' });
    await form.getByRole('button', { name: 'Add network' }).click();

    const cidr = form.getByLabel('Range (CIDR)');
    await page.waitForFunction(() => document.querySelector('input[name="cidr"]')?.getAttribute('aria-invalid') === 'true');
    const errorId = (await cidr.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
    const message = (await page.locator(`[id="${errorId}"]`).innerText()).trim();
    assert.ok(message.length > 0, 'the CIDR problem is shown beside the field');
    assert.equal(await page.getByRole('table').count(), 0, 'nothing was added');
    await screenshot(page, 'admin-1-bad-cidr');

    await cidr.fill('10.20.0.0/16');
    await cidr.press('Enter');
    const row = page.getByRole('row').filter({ hasText: 'Staff Wi-Fi' });
    await row.waitFor();
    assert.match(await row.innerText(), /10\.20\.0\.0\/16\s+All staff/);
    assert.equal(await cidr.inputValue(), '', 'the add form is cleared after adding');

    await row.getByRole('button', { name: 'Edit Staff Wi-Fi' }).click();
    const edit = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Edit Staff Wi-Fi' }) });
    await edit.getByLabel('Name').fill('Staff and office Wi-Fi');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const renamed = page.getByRole('row').filter({ hasText: 'Staff and office Wi-Fi' });
    await renamed.waitFor();
    await screenshot(page, 'admin-2-networks');

    await renamed.getByRole('button', { name: 'Delete' }).click();
    const confirm = renamed.getByRole('button', { name: 'Yes, delete' });
    assert.equal(await confirm.evaluate((el) => el === document.activeElement), true, 'focus moves to the confirm button');
    await confirm.press('Enter');
    await page.getByText('No networks yet.').waitFor();
    assert.deepEqual(e2e.pageErrors, []);
  });

  it('accounts: creates an account for a person and shows the one-time password once', async () => {
    const { page } = e2e;
    await page.goto('/accounts');
    await page.getByRole('heading', { level: 1, name: 'Users & roles' }).waitFor();
    const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create account' }) });
    await form.getByLabel('Find the person').fill('shah');
    const person = form.getByLabel('Person', { exact: true });
    await person.locator('option', { hasText: 'Priya Shah' }).waitFor({ state: 'attached' });
    await person.selectOption({ label: 'Priya Shah (staff, Priya.Shah@oakfield.sch.uk)' });
    assert.equal(await form.getByLabel('Sign-in name').inputValue(), 'priya.shah@oakfield.sch.uk', 'the sign-in name is offered from the email');
    await form.getByLabel('Staff', { exact: true }).check();
    await form.getByRole('button', { name: 'Create account' }).click();

    const secret = page.locator('.one-time');
    await secret.getByRole('heading', { name: 'One-time password for priya.shah@oakfield.sch.uk' }).waitFor();
    const password = (await secret.locator('.one-time-password code').innerText()).trim();
    assert.ok(password.length >= 8, 'a one-time password is shown');
    const row = page.getByRole('row').filter({ hasText: 'Priya Shah' });
    await row.waitFor();
    assert.match(await row.innerText(), /Staff/);
    await screenshot(page, 'admin-3-account-created');
    await secret.getByRole('button', { name: /hide it/ }).click();
    assert.equal(await page.getByText(password).count(), 0, 'the password is gone once hidden');
    assert.deepEqual(e2e.pageErrors, []);
  });
});
