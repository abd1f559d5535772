/**
 * The password rules a school can set (minimum length, breach check, expiry)
 * and the breach check itself: a built-in recogniser of the most common and
 * most often breached password patterns, plus an optional school-supplied
 * file of SHA-1 hashes (sorted, one per line, as Have I Been Pwned publishes),
 * searched on disk by binary search so even a very large file is never loaded.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type Issue, invalid } from '../shared/errors.ts';
import { MAX_PASSWORD_LENGTH } from './auth.passwords.ts';

/** A school's password policy (stored under `passwordPolicy` in the school's settings). */
export interface PasswordPolicy {
  minLength: number;
  checkBreached: boolean;
  /** Days after which a password must be changed; null: never (NCSC advice). */
  expiryDays: number | null;
}

/** The defaults: 12 characters, breach check on, no expiry. */
export const DEFAULT_POLICY: PasswordPolicy = { minLength: 12, checkBreached: true, expiryDays: null };

/** The bounds an admin may set. */
export const POLICY_LIMITS = { minLength: { min: 8, max: 128 }, expiryDays: { min: 1, max: 3650 } } as const;

/** Reads the policy from a school's settings, falling back to defaults for anything missing or malformed. */
export function policyFromSettings(settings: Record<string, unknown>): PasswordPolicy {
  const raw = (settings.passwordPolicy ?? {}) as Partial<Record<keyof PasswordPolicy, unknown>>;
  const minLength = Number.isInteger(raw.minLength) ? (raw.minLength as number) : DEFAULT_POLICY.minLength;
  const expiry = raw.expiryDays;
  return {
    minLength: Math.min(Math.max(minLength, POLICY_LIMITS.minLength.min), POLICY_LIMITS.minLength.max),
    checkBreached: typeof raw.checkBreached === 'boolean' ? raw.checkBreached : DEFAULT_POLICY.checkBreached,
    expiryDays: Number.isInteger(expiry) && (expiry as number) > 0 ? (expiry as number) : null,
  };
}

// The words behind most breached passwords: the top of every published list,
// plus what people in English schools reach for (football clubs, seasons, the school itself).
const COMMON_WORDS = `
password passw0rd pass passwd qwerty qwertz azerty letmein welcome admin administrator root login iloveyou
loveyou lovely love monkey dragon football soccer baseball basketball cricket rugby tennis hockey golf
sunshine princess shadow master superman batman spiderman pokemon minecraft fortnite roblox starwars
trustno1 whatever freedom secret hello hellothere charlie jessica michael jordan hunter ranger buster
thomas robert daniel andrew joshua matthew george harry oliver jack william james jennifer ashley amanda
nicole michelle sophie emily olivia chloe jasmine summer winter autumn spring monday tuesday friday
sunday january february march april june july august september october november december
london england britain english scotland wales manchester liverpool chelsea arsenal tottenham everton
united city rangers celtic leeds newcastle school teacher teachers pupil pupils student students
classroom headteacher office staff changeme change default temp temporary guest user test testing
computer internet google microsoft apple samsung windows linux access secure security safety
abc abcd abcdef abcdefg abc123 pass123 blink182 cheese chocolate cookie banana orange purple
yellow silver golden tigger pepper ginger bailey maggie buddy lucky angel angels flower flowers
baby babygirl family friends happy smile peanut butterfly killer matrix mustang ferrari porsche
jaguar tigers eagles liverpoolfc chelseafc arsenalfc manutd mufc lfc cfc afc thfc qazwsx
zaq1zaq1 zxcvbn asdfgh iloveu ilove loveme mylove fuckyou jesus christ heaven faith hope grace blessed
`.trim().split(/\s+/);

const KEYBOARD_WALKS = [
  'qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1234567890', '0987654321', 'qazwsxedcrfvtgbyhnujmikolp',
  '1qaz2wsx3edc4rfv5tgb', 'zaq12wsxcde34rfv', 'qweasdzxc', '147258369', '159357', '741852963', 'abcdefghijklmnopqrstuvwxyz',
];

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's', '!': 'i' };

/** Facts about the account that make a password guessable (its school, its owner's names). */
export interface PasswordContext {
  schoolName?: string | null;
  login?: string | null;
  names?: (string | null | undefined)[];
}

const letters = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');

function isWalkOrRepeat(lower: string): boolean {
  if (/^(.{1,4})\1+$/.test(lower)) return true; // aaaaaa, abab, 123123
  if (lower.length < 6) return false;
  return KEYBOARD_WALKS.some((walk) => walk.includes(lower) || [...walk].reverse().join('').includes(lower));
}

/**
 * Whether a password is one of the common patterns: a common word, the
 * school's or the person's name, a keyboard walk, or a repeat, with digits,
 * symbols and letter-for-digit swaps around it (`P@ssw0rd2024!`, `Oakfield1`).
 */
export function isCommonPassword(password: string, context: PasswordContext = {}): boolean {
  const lower = password.toLowerCase();
  if (isWalkOrRepeat(lower) || /^[\d\W_]*$/.test(lower)) return true;
  // Strip leading and trailing digits and symbols: "password123!" → "password".
  const core = lower.replace(/^[\d\W_]+/, '').replace(/[\d\W_]+$/, '');
  const candidates = new Set([core, core.replace(/[0-9@$!]/g, (c) => LEET[c] ?? c), letters(core)]);
  const words = new Set(COMMON_WORDS);
  const personal = [context.schoolName, context.login?.split('@')[0], ...(context.names ?? [])]
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .flatMap((v) => [letters(v), ...v.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 3)])
    .filter((v) => v.length >= 3);
  for (const w of personal) words.add(w);
  for (const candidate of candidates) {
    if (candidate.length === 0) return true;
    if (words.has(candidate) || isWalkOrRepeat(candidate)) return true;
    // Two common words run together ("ilovechelsea", "welcomeschool") or a word doubled.
    for (let i = 3; i <= candidate.length - 3; i += 1) {
      if (words.has(candidate.slice(0, i)) && words.has(candidate.slice(i))) return true;
    }
  }
  return false;
}

/** Looks a password up in a sorted file of SHA-1 hashes (`HASH` or `HASH:count` per line). */
export function createHashFileLookup(file: string) {
  return function contains(password: string): boolean {
    const target = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(256);
      // The first whole line starting at or after byte `pos`, with where it starts.
      const lineAt = (pos: number): { start: number; hash: string } | null => {
        let start = pos;
        if (pos > 0) {
          // Skip the partial line we landed in.
          for (;;) {
            const n = readSync(fd, buffer, 0, buffer.length, start);
            if (n === 0) return null;
            const nl = buffer.subarray(0, n).indexOf(10);
            if (nl >= 0) {
              start += nl + 1;
              break;
            }
            start += n;
          }
        }
        if (start >= size) return null;
        const n = readSync(fd, buffer, 0, buffer.length, start);
        const line = buffer.subarray(0, n).toString('latin1').split('\n')[0].trim();
        return { start, hash: line.slice(0, 40).toUpperCase() };
      };
      let low = 0;
      let high = size;
      // Invariant: any line equal to target starts in [low, high).
      while (high - low > 512) {
        const mid = Math.floor((low + high) / 2);
        const found = lineAt(mid);
        if (!found || found.start >= high) {
          high = mid;
          continue;
        }
        if (found.hash === target) return true;
        if (found.hash < target) low = found.start + 1;
        else high = mid;
      }
      // Scan what is left line by line.
      for (let found = lineAt(low); found && found.start < high + 256; found = lineAt(found.start + 1)) {
        if (found.hash === target) return true;
        if (found.hash > target) return false;
      }
      return false;
    } finally {
      closeSync(fd);
    }
  };
}

/** Checks a new password against a policy; throws a validation error with issues on `field`. */
export function assertPasswordAllowed(
  password: string,
  policy: PasswordPolicy,
  options: { context?: PasswordContext; breachFile?: (password: string) => boolean; field?: string },
): void {
  const where = options.field ?? 'newPassword';
  const issues: Issue[] = [];
  if ([...password].length < policy.minLength) {
    issues.push({ where, message: `must be at least ${policy.minLength} characters long` });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    issues.push({ where, message: `must be at most ${MAX_PASSWORD_LENGTH} characters long` });
  }
  if (policy.checkBreached && issues.length === 0) {
    if (isCommonPassword(password, options.context) || options.breachFile?.(password)) {
      issues.push({ where, message: 'is a common or breached password (or is built from your name or the school’s): choose another, for example three random words' });
    }
  }
  if (issues.length) throw invalid('This password does not meet the school’s password rules', issues);
}
