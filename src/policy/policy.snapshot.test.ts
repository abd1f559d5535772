import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CHROMEOS_PLACEHOLDER_VALUES, chromeosHash, chromeosHashes, placeholderHashes } from './policy.snapshot.ts';

const SALT = 'Oakfield-salt-2025';

describe('ChromeOS identifier hashes', () => {
  it('is the uppercase hex SHA-256 of salt then email (a vector computed outside the code)', () => {
    // printf '%s' 'Oakfield-salt-2025ada.lovelace@oakfield.example' | sha256sum
    assert.equal(chromeosHash(SALT, 'ada.lovelace@oakfield.example'), '65E2AF4B06A09C30063B74F17F0D45C359FBDD14E94DEF7807328B5134BF43CD');
    const independent = createHash('sha256').update(Buffer.concat([Buffer.from(SALT), Buffer.from('ada.lovelace@oakfield.example')])).digest('hex').toUpperCase();
    assert.equal(chromeosHash(SALT, 'ada.lovelace@oakfield.example'), independent);
  });

  it('knows the placeholder ChromeOS sends for identifiers it will not share', () => {
    // printf '%s' 'Oakfield-salt-2025VALUE_NOT_AVAILABLE' | sha256sum
    assert.ok(placeholderHashes(SALT).has('6540EE1C1B8E23C059896966138821CB98666C7147363E50BC4E89C01D3E4931'));
    assert.ok(CHROMEOS_PLACEHOLDER_VALUES.includes('DEVICE_NOT_MANAGED'));
  });

  it('never gives a person a placeholder hash, a hash shared with someone else, or a hash without a salt', () => {
    const people = [
      { id: 'ada', email: 'Ada.Lovelace@Oakfield.example ' },
      { id: 'none', email: null },
      { id: 'empty', email: '' },
      { id: 'placeholder', email: 'VALUE_NOT_AVAILABLE' },
      { id: 'placeholder2', email: 'device_not_managed' },
      { id: 'twin1', email: 'shared@oakfield.example' },
      { id: 'twin2', email: 'SHARED@oakfield.example' },
    ];
    const hashes = chromeosHashes(SALT, people);
    assert.equal(hashes.get('ada'), chromeosHash(SALT, 'ada.lovelace@oakfield.example'), 'lower-cased and trimmed, as ChromeOS sends it');
    for (const id of ['none', 'empty', 'placeholder', 'placeholder2', 'twin1', 'twin2']) assert.equal(hashes.get(id), null, id);
    const forbidden = placeholderHashes(SALT);
    assert.ok([...hashes.values()].every((h) => h === null || !forbidden.has(h)));
    assert.ok([...chromeosHashes(null, people).values()].every((h) => h === null));
  });
});
