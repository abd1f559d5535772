/**
 * Small cryptographic helpers for the auth module: random tokens, hashes,
 * constant-time comparison, and an AES-256-GCM box for secrets kept at rest
 * (TOTP secrets, the short-lived SSO state cookie) with a key file outside the database.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A random token of `bytes` bytes, base64url (256 bits by default). */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** SHA-256 as lower-case hex. */
export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

/** Compares two strings in time that does not depend on where they differ (nor on their length). */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs, so even the length is not leaked.
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/** Encrypts and decrypts short secrets; `context` binds a ciphertext to its owner (e.g. the account id). */
export interface SecretBox {
  seal(plain: string, context: string): string;
  /** Throws when the ciphertext was altered, belongs to another context, or the key changed. */
  open(sealed: string, context: string): string;
}

/** Reads the 32-byte key (hex) from `keyFile`, creating it (mode 0600) on first use. */
export function loadOrCreateKey(keyFile: string): Buffer {
  if (existsSync(keyFile)) {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw new Error(`Key file ${keyFile} must hold 32 bytes as hex`);
    return key;
  }
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    writeFileSync(keyFile, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it between our check and our write: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(keyFile);
    throw error;
  }
  return key;
}

/** An AES-256-GCM box over a key file. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
export function createSecretBox(keyFile: string): SecretBox {
  let key: Buffer | undefined;
  const getKey = () => (key ??= loadOrCreateKey(keyFile));
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', getKey(), iv);
      cipher.setAAD(Buffer.from(context));
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', getKey(), Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
