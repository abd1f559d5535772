/**
 * TOTP two-factor (RFC 6238, 6 digits, 30 s, SHA-1: what every authenticator
 * app supports) and single-use recovery codes. A code is accepted at most once:
 * the caller stores the time step of the last code used and passes it back.
 */
import { randomInt } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { sha256Hex } from './auth.crypto.ts';

const PERIOD = 30;
/** How many periods either side of now a code may be from (clock drift). */
const WINDOW = 1;

/** A fresh 160-bit TOTP secret, base32 (what authenticator apps take when typed in). */
export const newTotpSecret = () => new OTPAuth.Secret({ size: 20 }).base32;

function totp(secret: string, label = 'account', issuer = 'Schoolgate') {
  return new OTPAuth.TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: OTPAuth.Secret.fromBase32(secret) });
}

/** The `otpauth://` URL and its QR code (a data: URL) for enrolling an authenticator app. */
export async function enrolment(secret: string, label: string, issuer: string) {
  const otpauthUrl = totp(secret, label, issuer).toString();
  return { otpauthUrl, qrDataUrl: await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', margin: 2, width: 240 }) };
}

/**
 * Checks a 6-digit code; returns its time step, or null when it is wrong or
 * not newer than `lastStep` (a replay of a code already used).
 */
export function checkTotp(secret: string, code: string, lastStep: number | null, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, window: WINDOW, timestamp: now });
  if (delta === null) return null;
  const step = Math.floor(now / 1000 / PERIOD) + delta;
  if (lastStep !== null && step <= lastStep) return null;
  return step;
}

/** The current code for a secret (tests and the demo only). */
export const currentTotp = (secret: string, now = Date.now()) => totp(secret).generate({ timestamp: now });

const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Normalises a recovery code as typed: case, spaces and dashes do not matter. */
export const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

/** The stored form of a recovery code: SHA-256 is enough for 80 random bits. */
export const hashRecoveryCode = (code: string) => sha256Hex(`recovery:${normaliseRecoveryCode(code)}`);

/** Whether a typed code looks like a recovery code rather than a TOTP. */
export const looksLikeRecoveryCode = (code: string) => normaliseRecoveryCode(code).length === 16;

/** Ten recovery codes of 16 characters (80 bits each), shown once as `xxxx-xxxx-xxxx-xxxx`. */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    let raw = '';
    for (let i = 0; i < 16; i += 1) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    return raw.match(/.{4}/g)!.join('-');
  });
}
