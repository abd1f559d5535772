/**
 * Browser test of the over-blocking page: a known-good name a group's policy
 * blocks is shown with its list line and "why"; adding a known-good site
 * (and a pasted list with a bad line, refused by its line number) works.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { dataPaths } from '../../src/config/config.ts';
import { buildCatalog } from '../../src/filter/catalog-build.ts';
import { cacheFileOf } from '../../src/lists/lists.sync.ts';
import { browserSkip, type E2E, screenshot, signInThroughApi, startE2E } from './helpers.ts';

describe('over-blocking page (browser)', { skip: browserSkip }, () => {
  let e2e: E2E;
  before(async () => {
    e2e = await startE2E('Oakfield Primary School');
    const { app } = e2e.test;
    const group = await app.people.createGroup(SYSTEM_ACTOR, e2e.schoolId, { name: 'Pupils', kind: 'year' });
    await app.policy.updateGroupPolicy(SYSTEM_ACTOR, e2e.schoolId, group.id, { priority: 10, blocked: ['illegal', 'games', 'shopping'], scheduled: [], safeSearch: false, youtube: 'off', filterOff: false, reason: 'pupils: no games or shops' });
    const paths = dataPaths(app.config);
    const lists = path.join(app.config.dataDir, 'block-lists');
    mkdirSync(lists, { recursive: true });
    writeFileSync(path.join(lists, 'games'), '# games\nkids-games.example\n');
    writeFileSync(path.join(lists, 'shopping'), 'bookshop.example\n');
    mkdirSync(path.dirname(paths.catalog), { recursive: true });
    await buildCatalog({
      outFile: paths.catalog,
      sources: [
        { name: 'ut1:games', category: 'games', format: 'plain', file: path.join(lists, 'games') },
        { name: 'ut1:shopping', category: 'shopping', format: 'plain', file: path.join(lists, 'shopping') },
      ],
    });
    mkdirSync(paths.lists, { recursive: true });
    writeFileSync(cacheFileOf(paths.lists, { id: 'ut1:child' }), 'museum.example\nkids-games.example\n');
    await signInThroughApi(e2e);
  });
  after(async () => {
    await e2e?.close();
  });

  it('shows a blocked known-good site with its list line and why, and adds sites', async () => {
    const { page } = e2e;
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Over-blocking' }).click();
    await page.getByRole('heading', { level: 1, name: 'Over-blocking' }).waitFor();
    await page.getByRole('heading', { name: 'Pupils: 1 of 2 known-good sites blocked' }).waitFor();
    const row = page.getByRole('row', { name: /kids-games\.example/ });
    assert.match(await row.innerText(), /ut1:child line 2\s+games\s+category blocked\s+ut1:games line 2/);
    await row.getByRole('button', { name: 'Why is kids-games.example blocked?' }).click();
    const why = row.getByRole('note', { name: 'Why kids-games.example' });
    await why.waitFor();
    assert.match(await why.innerText(), /For Pupils: blocked by category/);

    const add = page.getByRole('form', { name: 'Add a site' });
    await add.getByLabel('Site', { exact: true }).fill('https://www.bookshop.example/maths');
    await add.getByLabel('Note (optional)').fill('maths reading scheme');
    await add.getByRole('button', { name: 'Add site' }).click();
    await add.getByText('Reason for adding is required').or(add.getByText('Is required: say why this change is made.')).first().waitFor();
    await add.getByLabel('Reason for adding').fill('Year 4 reading scheme');
    await add.getByRole('button', { name: 'Add site' }).click();
    await page.getByText('Added www.bookshop.example.').waitFor();
    assert.match(await page.getByRole('row', { name: /www\.bookshop\.example maths reading scheme/ }).innerText(), /maths reading scheme/);
    await page.getByRole('heading', { name: 'Pupils: 2 of 3 known-good sites blocked' }).waitFor();
    assert.match(await page.getByRole('row', { name: /www\.bookshop\.example school’s list/ }).innerText(), /shopping\s+category blocked\s+ut1:shopping line 1 \(bookshop\.example\)/);

    const paste = page.getByRole('form', { name: 'Add a list of sites' });
    await paste.getByLabel('Sites').fill('www.oak.example\nnot a site\n');
    await paste.getByLabel('Reason for adding these').fill('lesson resources');
    await paste.getByRole('button', { name: 'Add sites' }).click();
    await paste.getByText('line 2:').waitFor();
    assert.match(await paste.innerText(), /"not a site" spaces are not allowed in a domain name/);
    await paste.getByLabel('Sites').fill('www.oak.example\n');
    await paste.getByRole('button', { name: 'Add sites' }).click();
    await page.getByText('Added 1 site(s).').waitFor();
    await screenshot(page, 'overblocking');

    const audit = await e2e.test.app.audit.list(e2e.schoolId, { targetType: 'known_good_site', limit: 5 });
    assert.deepEqual(audit.map((a) => a.action), ['lists.known_good.import', 'lists.known_good.create']);
    assert.match(audit[1].details, /Year 4 reading scheme/);
    assert.deepEqual(e2e.pageErrors, []);
  });
});
