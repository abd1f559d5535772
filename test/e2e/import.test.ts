/**
 * Browser test: an admin previews a CSV export with one bad row, sees the
 * problem with its line number, cannot apply it and finds nothing imported;
 * then previews the corrected file and applies it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { browserSkip, type E2E, screenshot, signInThroughApi, startE2E } from './helpers.ts';

type Preset = { id: string; name: string; columns: Record<string, string> };

const PUPILS: Record<string, string>[] = [
  { kind: 'pupil', misId: 'P1001', givenName: 'Amelia', familyName: 'Hartley', dateOfBirth: '2016-03-14', yearGroup: 'Year 4', registrationGroup: '4H' },
  { kind: 'pupil', misId: 'P1002', givenName: 'Ben', familyName: 'Okafor', dateOfBirth: '2016-02-30', yearGroup: 'Year 4', registrationGroup: '4H' },
  { kind: 'pupil', misId: 'P1003', givenName: 'Chloe', familyName: 'Nguyen', dateOfBirth: '2015-11-02', yearGroup: 'Year 5', registrationGroup: '5W' },
];

/** A CSV in the preset's own headers; fields the rows do not have are left empty. */
function csvFor(preset: Preset, rows: Record<string, string>[]): string {
  const fields = Object.keys(preset.columns);
  const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [fields.map((f) => cell(preset.columns[f])).join(','), ...rows.map((r) => fields.map((f) => cell(r[f] ?? '')).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

describe('MIS import (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  let dir: string;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
    dir = mkdtempSync(path.join(tmpdir(), 'schoolgate-e2e-import-'));
  });
  after(async () => {
    await e2e?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a bad row with its line, imports nothing, then applies the corrected file', async () => {
    const { page } = e2e;
    await signInThroughApi(e2e);
    const pupilCount = async () => {
      const response = await page.request.get('/api/people?kind=pupil&pageSize=100');
      assert.equal(response.status(), 200);
      return ((await response.json()) as { total: number }).total;
    };
    assert.equal(await pupilCount(), 0);

    const presetsResponse = await page.request.get('/api/people/import/presets');
    assert.equal(presetsResponse.status(), 200);
    const presets = ((await presetsResponse.json()) as { presets: Preset[] }).presets;
    const generic = presets.find((p) => p.id === 'generic');
    assert.ok(generic, 'the generic preset is offered');
    assert.ok(generic.columns.dateOfBirth, 'the generic preset has a date of birth column (the bad row has an impossible date)');

    const badFile = path.join(dir, 'pupils-bad.csv');
    writeFileSync(badFile, csvFor(generic, PUPILS));
    const goodFile = path.join(dir, 'pupils.csv');
    writeFileSync(goodFile, csvFor(generic, PUPILS.map((r) => (r.misId === 'P1002' ? { ...r, dateOfBirth: '2016-02-28' } : r))));

    // Reach the page through the navigation, as a person would.
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
    await page.getByRole('heading', { level: 1, name: 'Import from your MIS' }).waitFor();
    await page.getByLabel('Export format (preset)').selectOption('generic');
    await page.getByLabel('CSV file').setInputFiles(badFile);
    await page.getByRole('button', { name: 'Preview import' }).click();

    const problems = page.getByRole('table', { name: 'Problems in the file' });
    await problems.waitFor();
    const rows = problems.locator('tbody tr');
    assert.equal(await rows.count(), 1, 'exactly one bad row is reported');
    assert.equal((await rows.first().getByRole('rowheader').innerText()).trim(), '3', 'the bad row is line 3 (the header is line 1)');
    const message = (await rows.first().locator('td').allInnerTexts()).join(' ');
    assert.match(message, /date|birth/i, `the problem names the date of birth (got: ${message})`);
    await page.getByText('Nothing has been imported.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Apply import' }).isDisabled(), true, 'Apply is disabled while a row is bad');
    await screenshot(page, 'import-1-bad-row');
    assert.equal(await pupilCount(), 0, 'the preview stored no one');

    // The corrected file previews clean and applies.
    await page.getByLabel('CSV file').setInputFiles(goodFile);
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('heading', { name: 'Preview of pupils.csv' }).waitFor();
    await page.getByText('The file is valid.').waitFor();
    assert.equal(await problems.count(), 0, 'no problems table for a clean file');
    const toCreate = page.locator('.counts div').filter({ hasText: 'To create' }).locator('dd');
    assert.equal((await toCreate.innerText()).trim(), '3');
    await screenshot(page, 'import-2-clean-preview');
    const apply = page.getByRole('button', { name: 'Apply import' });
    assert.equal(await apply.isDisabled(), false);
    await apply.click();
    await page.getByRole('heading', { name: 'Import applied' }).waitFor();
    await page.getByText('3 created').waitFor();
    await screenshot(page, 'import-3-applied');
    assert.equal(await pupilCount(), 3, 'the three pupils are stored');

    // They can be found in People.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
    await page.getByRole('link', { name: 'Ben Okafor' }).waitFor();
    assert.deepEqual(e2e.pageErrors, []);
  });
});
