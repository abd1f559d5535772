/**
 * Shared parts of the browser tests: a real Schoolgate on a temp SQLite
 * database, Debian's Chromium driven by playwright-core (never a downloaded
 * browser), TOTP codes computed from the enrolment secret, and screenshots
 * kept under test-results/e2e for a person to look at.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as OTPAuth from 'otpauth';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { buildQuery, parseAnswer, udpExchange } from '../support/dns.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Debian's Chromium (installed by apt). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests are skipped, or false when they run. */
export const browserSkip: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** Where screenshots go (gitignored). */
export const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e');

/** Builds the web app once if web/dist is missing, so the server has pages to serve. */
export function ensureWebBuilt() {
  if (existsSync(path.join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-web.ts')], { cwd: ROOT, stdio: 'inherit' });
}

/** Starts Chromium headless with the flags a container needs. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

/** Saves a full-page screenshot as test-results/e2e/<name>.png. */
export async function screenshot(page: Page, name: string) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true });
}

/** A running app, a school with its first admin, and a browser page on it. */
export interface E2E {
  test: TestApp;
  url: string;
  schoolId: string;
  schoolName: string;
  admin: { login: string; password: string };
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Uncaught errors in the page's scripts (tests assert there are none). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Starts Schoolgate (listening), creates a school and its first admin, and opens a browser page. */
export async function startE2E(schoolName = 'Oakfield Primary School'): Promise<E2E> {
  ensureWebBuilt();
  const test = await startTestApp('sqlite', { listen: true });
  const url = test.url.replace('://[::1]', '://localhost');
  const school = await test.app.schools.create(SYSTEM_ACTOR, { name: schoolName });
  const admin = await test.app.auth.createFirstAdmin(school.id);
  const browser = await launchBrowser();
  const context = await browser.newContext({ baseURL: url, locale: 'en-GB', timezoneId: 'Europe/London', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Anything the app logs as an error is a test failure waiting to be understood.
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  return {
    test,
    url,
    schoolId: school.id,
    schoolName,
    admin,
    browser,
    context,
    page,
    pageErrors,
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
      await test.close();
    },
  };
}

/** Sleeps, for waiting out a TOTP period. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The current 6-digit code for a base32 secret. */
export function totpNow(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, '')), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
}

/**
 * A code not used before: a server rightly refuses a TOTP code a second time,
 * so when the current one was spent, wait for the next 30-second period.
 */
export async function freshTotp(secret: string, used: Set<string>): Promise<string> {
  for (;;) {
    const code = totpNow(secret);
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
    await sleep(1000);
  }
}

/** A password a policy should accept (long, random, not from any breach list). */
export function strongPassword(): string {
  const words = ['meadow', 'lantern', 'pebble', 'harbour', 'thistle', 'copper', 'willow', 'biscuit'];
  const pick = () => words[Math.floor(Math.random() * words.length)];
  return `${pick()}-${pick()}-${pick()}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Signs the first admin in through the API on the browser context's own
 * cookie jar (changing the one-time password and enrolling two-factor as the
 * server asks), for tests whose subject is not the sign-in pages.
 */
export async function signInThroughApi(e2e: E2E): Promise<{ password: string; secret: string | null }> {
  const request = e2e.context.request;
  const post = async (pathName: string, csrf: string, data?: unknown) => {
    const response = await request.post(pathName, { data: data ?? {}, headers: { 'x-csrf-token': csrf } });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok()) throw new Error(`${pathName} answered ${response.status()}: ${JSON.stringify(body)}`);
    return body;
  };
  let password = e2e.admin.password;
  const signIn = await post('/api/auth/sign-in', '', { login: e2e.admin.login, password });
  const csrf = String(signIn.csrfToken);
  let next = String(signIn.next);
  let secret: string | null = null;
  const used = new Set<string>();
  for (let step = 0; step < 6 && next !== 'done'; step++) {
    if (next === 'change_password') {
      const newPassword = strongPassword();
      next = String((await post('/api/auth/password', csrf, { currentPassword: password, newPassword })).next);
      password = newPassword;
    } else if (next === 'mfa_setup') {
      secret = String((await post('/api/auth/mfa/setup', csrf)).secret);
      next = String((await post('/api/auth/mfa/confirm', csrf, { code: await freshTotp(secret, used) })).next);
    } else if (next === 'mfa') {
      if (!secret) throw new Error('asked for a two-factor code before enrolment');
      next = String((await post('/api/auth/mfa/verify', csrf, { code: await freshTotp(secret, used) })).next);
    } else {
      throw new Error(`unexpected sign-in step ${next}`);
    }
  }
  if (next !== 'done') throw new Error(`sign-in did not finish (stuck at ${next})`);
  return { password, secret };
}

/** A signed-in browser context, on a running test app, for a new account with one role (demo school tests). */
export async function roleSession(options: { test: TestApp; browser: Browser; url: string; schoolId: string; role: 'admin' | 'head'; email: string }): Promise<E2E> {
  const { test, browser, url, schoolId, role, email } = options;
  const account = await test.app.auth.createAdmin({ email, givenName: role === 'admin' ? 'Nina' : 'Harriet', familyName: role === 'admin' ? 'Network' : 'Head', role, schoolId });
  const context: BrowserContext = await browser.newContext({ baseURL: url, locale: 'en-GB', timezoneId: 'Europe/London', viewport: { width: 1440, height: 900 } });
  const page: Page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  const session: E2E = {
    test,
    url,
    schoolId,
    schoolName: 'Oakfield Academy (demo)',
    admin: { login: account.login, password: account.password },
    browser,
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close().catch(() => {});
    },
  };
  await signInThroughApi(session);
  return session;
}

/** Asks the running filter from one client address: `ask` once, or `answerWithin5s` until the answer is `expected` (or 5 seconds pass). */
export function dnsAsker(port: () => number, localAddress: string) {
  const ask = async (name: string) => parseAnswer(await udpExchange(port(), buildQuery(name), { localAddress })).answers.map((a) => a.data);
  async function answerWithin5s(name: string, expected: string): Promise<{ answer: string[]; ms: number }> {
    const started = Date.now();
    let answer = await ask(name);
    while (answer[0] !== expected && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await ask(name);
    }
    return { answer, ms: Date.now() - started };
  }
  return { ask, answerWithin5s };
}
