/** Unit tests of the pure parts: password rules, the breach file search, TOTP replay, hashing, the sealed box. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createSecretBox } from './auth.crypto.ts';
import { hashPassword, needsRehash, verifyPassword } from './auth.passwords.ts';
import { assertPasswordAllowed, createHashFileLookup, DEFAULT_POLICY, isCommonPassword, policyFromSettings } from './auth.policy.ts';
import { checkTotp, currentTotp, newTotpSecret } from './auth.totp.ts';
import { createRateLimiter } from './auth.limiter.ts';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex').toUpperCase();

describe('password rules', () => {
  it('recognises common and breached patterns but lets real passphrases through', () => {
    const context = { schoolName: 'Oakfield Primary School', login: 'jsmith@oakfield.sch.uk', names: ['Jane', 'Smith'] };
    for (const weak of ['password1', 'Passw0rd!', 'qwerty123', 'Oakfield2024', 'oakfield2024!', 'asdfghjkl', '1qaz2wsx3edc', 'zzzzzzzzzzzz', 'abcabcabcabc',
      '123456789012', 'Liverpool1892', 'Welcome123!', 'iloveyou2', 'JaneSmith1990', 'jsmith2024', 'Summer2025!!', 'footballfootball']) {
      assert.equal(isCommonPassword(weak, context), true, weak);
    }
    for (const fine of ['violet-harbour-teapot-91', 'correct horse battery staple', 'Kx7#mQ2$vL9pWz', 'tangerine wolf orbit']) {
      assert.equal(isCommonPassword(fine, context), false, fine);
    }
  });

  it('reports length and breach problems on the field', () => {
    assert.throws(() => assertPasswordAllowed('short', DEFAULT_POLICY, {}), (e: any) => e.code === 'validation' && e.issues[0].where === 'newPassword' && /at least 12/.test(e.issues[0].message));
    assert.throws(() => assertPasswordAllowed('Password12345', DEFAULT_POLICY, {}), (e: any) => /common or breached/.test(e.issues[0].message));
    assert.doesNotThrow(() => assertPasswordAllowed('Password12345', { ...DEFAULT_POLICY, checkBreached: false }, {}));
  });

  it('reads a policy from settings with defaults and bounds', () => {
    assert.deepEqual(policyFromSettings({}), DEFAULT_POLICY);
    assert.deepEqual(policyFromSettings({ passwordPolicy: { minLength: 2, checkBreached: false, expiryDays: 30 } }), { minLength: 8, checkBreached: false, expiryDays: 30 });
  });

  it('finds a password in a sorted SHA-1 file by binary search (with and without counts)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-breach-'));
    try {
      const words = Array.from({ length: 5000 }, (_, i) => `leaked-${i}`);
      const hashes = words.map(sha1).sort();
      const withCounts = path.join(dir, 'counts.txt');
      writeFileSync(withCounts, hashes.map((h, i) => `${h}:${i + 1}`).join('\r\n') + '\r\n');
      const plain = path.join(dir, 'plain.txt');
      writeFileSync(plain, hashes.join('\n'));
      for (const file of [withCounts, plain]) {
        const contains = createHashFileLookup(file);
        for (const w of ['leaked-0', 'leaked-4999', 'leaked-2500', words[hashes.indexOf(hashes[0])]]) assert.equal(contains(w), true, `${file} ${w}`);
        // The first and last lines of the file.
        assert.equal(contains(words.find((w) => sha1(w) === hashes[0])!), true);
        assert.equal(contains(words.find((w) => sha1(w) === hashes.at(-1))!), true);
        for (const w of ['not-leaked', 'leaked-5000', '']) assert.equal(contains(w), false, `${file} ${w}`);
      }
      const policyCheck = createHashFileLookup(plain);
      assert.throws(() => assertPasswordAllowed('leaked-1234', { ...DEFAULT_POLICY, minLength: 8 }, { breachFile: policyCheck }), /password rules/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('argon2id hashing', () => {
  it('verifies the right password only, in a PHC string with its parameters', async () => {
    const hash = await hashPassword('violet-harbour-teapot-91');
    assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=3,p=1\$/);
    assert.equal(await verifyPassword('violet-harbour-teapot-91', hash), true);
    assert.equal(await verifyPassword('violet-harbour-teapot-92', hash), false);
    assert.equal(await verifyPassword('x', 'garbage'), false);
    assert.equal(needsRehash(hash), false);
    assert.equal(needsRehash(hash.replace('m=65536', 'm=19456')), true);
  });
});

describe('TOTP', () => {
  it('accepts a code once and refuses it (and older ones) afterwards', () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const step = checkTotp(secret, currentTotp(secret, now), null, now);
    assert.ok(step !== null);
    assert.equal(checkTotp(secret, currentTotp(secret, now), step, now), null, 'replay');
    assert.equal(checkTotp(secret, currentTotp(secret, now - 30_000), step, now), null, 'older code');
    assert.equal(checkTotp(secret, currentTotp(secret, now + 30_000), step, now), step + 1);
    assert.equal(checkTotp(secret, currentTotp(secret, now + 120_000), null, now), null, 'outside the window');
  });
});

describe('secret box and limiter', () => {
  it('opens only what it sealed, for the same context', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-box-'));
    try {
      const box = createSecretBox(path.join(dir, 'secrets', 'totp.key'));
      const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:a');
      assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
      assert.equal(box.open(sealed, 'totp:a'), 'JBSWY3DPEHPK3PXP');
      assert.throws(() => box.open(sealed, 'totp:b'));
      assert.throws(() => box.open(sealed.slice(0, -2) + 'AA', 'totp:a'));
      const again = createSecretBox(path.join(dir, 'secrets', 'totp.key'));
      assert.equal(again.open(sealed, 'totp:a'), 'JBSWY3DPEHPK3PXP', 'the key file persists');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('limits per key per window', () => {
    const limiter = createRateLimiter(2, 60_000);
    assert.equal(limiter.hit('a', 0).allowed, true);
    assert.equal(limiter.hit('a', 1).allowed, true);
    assert.equal(limiter.hit('a', 2).allowed, false);
    assert.equal(limiter.hit('b', 2).allowed, true);
    assert.equal(limiter.hit('a', 60_001).allowed, true);
  });
});
