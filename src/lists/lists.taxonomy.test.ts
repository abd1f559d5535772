/** The taxonomy as people read it: every engine category described, with safe suggested defaults. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATEGORY_KEYS } from '../filter/categories.ts';
import { allCategories, AUDIENCES, categoryInfo } from './lists.taxonomy.ts';

describe('the category taxonomy', () => {
  it('describes every category the engine knows', () => {
    assert.deepEqual(allCategories().map((c) => c.key), [...CATEGORY_KEYS]);
    for (const c of allCategories()) assert.ok(c.label && c.description.endsWith('.'), c.key);
  });

  it('suggests blocking illegal for everyone, and every safeguarding category for pupils', () => {
    for (const audience of AUDIENCES) assert.equal(categoryInfo('illegal').suggestedBlock[audience], true, audience);
    for (const c of allCategories().filter((c) => c.safeguarding)) {
      assert.equal(c.suggestedBlock.primary, true, `${c.key} for primary pupils`);
      assert.equal(c.suggestedBlock.secondary, true, `${c.key} for secondary pupils`);
    }
    assert.deepEqual(['self_harm', 'extremism', 'pornography'].map((k) => categoryInfo(k as 'self_harm').safeguarding), [true, true, true]);
    assert.equal(categoryInfo('streaming').suggestedBlock.secondary, false, 'secondary pupils keep streaming (YouTube lessons)');
  });
});
