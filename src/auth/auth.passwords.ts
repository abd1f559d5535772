/**
 * Password hashing with argon2id (Node's built-in `crypto.argon2`). Hashes are
 * PHC strings (`$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>`) so the
 * parameters can be raised later: old hashes still verify and are re-hashed
 * at the next successful sign-in.
 */
import { argon2, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const argon2Async = promisify(argon2);

/** Current parameters: RFC 9106's second recommended set (64 MiB, 3 passes, 1 lane). */
export const ARGON2_PARAMS = { memory: 65536, passes: 3, parallelism: 1 } as const;
const TAG_LENGTH = 32;
const SALT_LENGTH = 16;

/** Longest password we hash: stops a megabyte "password" being used to burn CPU. */
export const MAX_PASSWORD_LENGTH = 256;

interface Parsed {
  memory: number;
  passes: number;
  parallelism: number;
  salt: Buffer;
  hash: Buffer;
}

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

function parse(phc: string): Parsed | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!match) return null;
  return {
    memory: Number(match[1]),
    passes: Number(match[2]),
    parallelism: Number(match[3]),
    salt: Buffer.from(match[4], 'base64'),
    hash: Buffer.from(match[5], 'base64'),
  };
}

async function derive(password: string, salt: Buffer, params: { memory: number; passes: number; parallelism: number }, tagLength: number) {
  return argon2Async('argon2id', {
    // NFC so the same password typed on different systems gives the same bytes.
    message: Buffer.from(password.normalize('NFC'), 'utf8'),
    nonce: salt,
    memory: params.memory,
    passes: params.passes,
    parallelism: params.parallelism,
    tagLength,
  });
}

/** Hashes a password into a PHC string with the current parameters and a fresh salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, ARGON2_PARAMS, TAG_LENGTH);
  const { memory, passes, parallelism } = ARGON2_PARAMS;
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${b64(salt)}$${b64(hash)}`;
}

/** Checks a password against a PHC string in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parse(phc);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed, parsed.hash.length);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** Whether a stored hash uses other parameters than the current ones (re-hash at next sign-in). */
export function needsRehash(phc: string): boolean {
  const parsed = parse(phc);
  return (
    !parsed ||
    parsed.memory !== ARGON2_PARAMS.memory ||
    parsed.passes !== ARGON2_PARAMS.passes ||
    parsed.parallelism !== ARGON2_PARAMS.parallelism ||
    parsed.hash.length !== TAG_LENGTH
  );
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as checking a real password, for an unknown sign-in
 * name, so response times do not tell which names exist.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}

// No 0/O, 1/l/I: a one-time password is read off a screen or a letter and typed.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time password: 4 groups of 5 characters (about 114 bits), changed at first sign-in. */
export function oneTimePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g += 1) {
    let group = '';
    for (let i = 0; i < 5; i += 1) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
