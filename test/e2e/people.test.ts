/**
 * Browser test: an admin finds a pupil by typing part of the name (the search
 * runs as they type), opens the pupil's page and sees the details, groups and
 * parents there; a leaver carries the leaver badge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { browserSkip, type E2E, screenshot, signInThroughApi, startE2E } from './helpers.ts';

describe('people search (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
    const { app } = e2e.test;
    const school = e2e.schoolId;
    const amelia = await app.people.createPerson(SYSTEM_ACTOR, school, {
      kind: 'pupil', misId: 'P2001', givenName: 'Amelia', familyName: 'Hartley-Jones', dateOfBirth: '2016-03-14', yearGroup: 'Year 4', registrationGroup: '4H', startDate: '2021-09-01',
    });
    await app.people.createPerson(SYSTEM_ACTOR, school, { kind: 'pupil', misId: 'P2002', givenName: 'Ben', familyName: 'Okafor', dateOfBirth: '2016-05-01', yearGroup: 'Year 4', registrationGroup: '4H' });
    await app.people.createPerson(SYSTEM_ACTOR, school, {
      kind: 'pupil', misId: 'P2003', givenName: 'Harriet', familyName: 'Lane', dateOfBirth: '2014-01-20', yearGroup: 'Year 6', registrationGroup: '6B', startDate: '2019-09-01', leaveDate: '2024-07-19',
    });
    const mum = await app.people.createPerson(SYSTEM_ACTOR, school, { kind: 'parent', givenName: 'Sarah', familyName: 'Hartley-Jones', email: 'sarah.hj@example.org' });
    await app.people.linkParent(SYSTEM_ACTOR, school, { parentId: mum.id, childId: amelia.id, relationship: 'Mother', parentalResponsibility: true });
  });
  after(async () => {
    await e2e?.close();
  });

  it('finds a pupil by searching and opens the detail page', async () => {
    const { page } = e2e;
    await signInThroughApi(e2e);
    await page.goto('/people');
    await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
    await page.getByRole('link', { name: 'Ben Okafor' }).waitFor();

    // Typing is enough: the search runs once typing pauses (no button press).
    await page.getByLabel('Search by name, email or MIS id').fill('hartley');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'hartley');
    const table = page.getByRole('table');
    await table.getByRole('link', { name: 'Amelia Hartley-Jones' }).waitFor();
    await table.getByRole('link', { name: 'Ben Okafor' }).waitFor({ state: 'detached' });
    // Only pupils: the mother matches the name too, until filtered by kind.
    await page.getByLabel('Kind').selectOption('pupil');
    await table.getByRole('link', { name: 'Sarah Hartley-Jones' }).waitFor({ state: 'detached' });
    assert.equal(await table.locator('tbody tr').count(), 1);
    await page.getByText('Showing 1–1 of 1').waitFor();
    await screenshot(page, 'people-1-search');

    await table.getByRole('link', { name: 'Amelia Hartley-Jones' }).click();
    await page.getByRole('heading', { level: 1, name: 'Amelia Hartley-Jones' }).waitFor();
    const details = page.locator('dl.details');
    await details.getByText('14 Mar 2016').waitFor();
    await details.getByText('P2001').waitFor();
    await details.getByText('4H').waitFor();
    const parents = page.getByRole('region', { name: 'Parents and carers' });
    const mumRow = parents.getByRole('row').filter({ hasText: 'Sarah Hartley-Jones' });
    await mumRow.waitFor();
    assert.match(await mumRow.innerText(), /Mother\s+Yes/);
    assert.equal(await page.locator('.badge-leaver').count(), 0, 'a current pupil has no leaver badge');
    await screenshot(page, 'people-2-detail');

    // Back, and a leaver found by MIS id shows the badge on the list and the page.
    await page.goBack();
    await page.getByLabel('Search by name, email or MIS id').fill('P2003');
    const harriet = table.getByRole('row').filter({ hasText: 'Harriet Lane' });
    await harriet.waitFor();
    assert.match(await harriet.innerText(), /Left 19 Jul 2024/);
    await harriet.getByRole('link', { name: 'Harriet Lane' }).click();
    await page.getByRole('heading', { level: 1, name: /Harriet Lane/ }).waitFor();
    await page.getByRole('heading', { level: 1 }).getByText('Left 19 Jul 2024').waitFor();
    await screenshot(page, 'people-3-leaver');
    assert.deepEqual(e2e.pageErrors, []);
  });
});
