import { z } from 'zod';
import { LIST_FORMATS } from '../filter/list-formats.ts';
import { Secret } from './secret.ts';

/** A string that becomes a Secret so it never reaches a log. */
const secret = () => z.string().min(1).transform((v) => new Secret(v));

const port = z.coerce.number().int().min(0).max(65535);

/** A boolean that also accepts the strings `true` and `false` (environment variables). */
const flag = () =>
  z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());

/** A list from YAML, or from an environment variable as comma-separated values. */
const list = () => z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)));

/** A certificate and its key, as PEM files. */
const tlsFiles = () =>
  z
    .object({
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
    })
    .prefault({});

/** One zod section per module; every key has a default that suits the demo install. */
export const configSchema = z.object({
  /** Where the SQLite file, keys and checkpoints live. */
  dataDir: z.string().default('./data'),
  log: z
    .object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  http: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: port.default(8080),
      /** The address people use to reach the app (links in mail, OIDC redirects). */
      publicUrl: z.url().optional(),
      /** Largest accepted request body in bytes (CSV uploads included). */
      bodyLimit: z.coerce.number().int().positive().default(10 * 1024 * 1024),
      trustProxy: flag().default(false),
      tls: tlsFiles(),
      /** Without tls.certFile/keyFile: serve HTTPS (and DoH) with a self-signed certificate made at first start in `<dataDir>/tls`. */
      selfSignedTls: flag().default(false),
    })
    .prefault({}),
  store: z
    .object({
      driver: z.enum(['sqlite', 'postgres']).default('sqlite'),
      /** SQLite file; defaults to `<dataDir>/schoolgate.db`. */
      sqlitePath: z.string().optional(),
      /** postgres://user:password@host:port/db */
      postgresUrl: secret().optional(),
      /** Milliseconds a SQLite writer waits for a lock before failing. */
      busyTimeoutMs: z.coerce.number().int().min(0).default(5000),
    })
    .prefault({}),
  auth: z
    .object({
      /** Minutes of inactivity after which a session ends. */
      sessionIdleMinutes: z.coerce.number().int().min(1).default(30),
      /** Hours after sign-in at which a session ends whatever the activity. */
      sessionAbsoluteHours: z.coerce.number().int().min(1).default(12),
      /** Wrong passwords in a row before an account is locked. */
      lockoutAttempts: z.coerce.number().int().min(1).default(5),
      lockoutMinutes: z.coerce.number().int().min(1).default(15),
      /** Sign-in attempts per minute from one address. */
      signInRatePerMinute: z.coerce.number().int().min(1).default(20),
      /** A school-supplied file of SHA-1 hashes of breached passwords (sorted, one per line) checked besides the built-in list. */
      breachListFile: z.string().optional(),
      google: z
        .object({
          issuer: z.url().default('https://accounts.google.com'),
          clientId: z.string().min(1),
          clientSecret: secret(),
          /** The school's Google Workspace domain: only ID tokens with this `hd` are accepted. */
          hostedDomain: z.string().min(1),
        })
        .optional(),
      microsoft: z
        .object({
          /** The Entra tenant id: only ID tokens with this `tid` are accepted. */
          tenantId: z.string().min(1),
          issuer: z.url().optional(),
          clientId: z.string().min(1),
          clientSecret: secret(),
        })
        .optional(),
    })
    .prefault({}),
  audit: z
    .object({
      /** HMAC key for the audit checkpoint; keep it off the database server. Created on first start. */
      keyFile: z.string().optional(),
      /** Where the keyed checkpoint (latest hash and count) is written after each append. */
      checkpointFile: z.string().optional(),
    })
    .prefault({}),
  dns: z
    .object({
      /** Whether to answer DNS at all (off: the web app alone). */
      enabled: flag().default(true),
      /** Plain DNS over UDP and TCP, `HOST:PORT` each; production: `0.0.0.0:53` (docs/operations.md). */
      listen: list().default(['127.0.0.1:8053']),
      /** Resolvers allowed queries go to: `HOST:PORT` (UDP, TCP on truncation), `tcp://`, `tls://HOST:PORT#name`, `https://…/dns-query`. */
      upstreams: list().default(['9.9.9.9:53', '149.112.112.112:53']),
      upstreamTimeoutMs: z.coerce.number().int().min(100).max(30_000).default(2000),
      /** DNS worker threads (each binds every listener with SO_REUSEPORT). */
      workers: z.coerce.number().int().min(1).max(64).default(2),
      /** Memory for cached upstream answers, in MiB (per worker). */
      cacheMb: z.coerce.number().int().min(1).max(4096).default(32),
      /** Per-client limit where it applies (not on the school's own networks unless a network says so). */
      rateLimitPerSecond: z.coerce.number().int().min(1).default(50),
      rateLimitBurst: z.coerce.number().int().min(1).default(200),
      /** DNS-over-TLS (RFC 7858) listeners; they need tls.certFile and tls.keyFile. */
      tlsListen: list().default([]),
      tls: tlsFiles(),
    })
    .prefault({}),
  blockPage: z
    .object({
      /** Listeners that show only the block page over HTTP, `HOST:PORT` each; production: `0.0.0.0:80` on the address blocked names point to. */
      listen: list().default([]),
      /** The same over HTTPS with certificates from the school root CA; production: `0.0.0.0:443`. Needs rootCa. */
      httpsListen: list().default([]),
      /** Make (once) and use a school root CA so HTTPS blocks show the block page on devices that trust it. */
      rootCa: flag().default(false),
    })
    .prefault({}),
  lists: z
    .object({
      /**
       * Licensed illegal-content feeds (the IWF URL list, the police's CTIRU list), brought in by
       * `schoolgate lists sync` into the `illegal` category, which nothing can switch off. Until
       * one is configured and loaded the filter shows a red status (docs/lists.md).
       */
      illegalFeeds: z
        .array(
          z
            .object({
              /** Short name shown in reports and the status (`IWF`, `CTIRU`). */
              name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'letters, digits, _ . - (at most 40)'),
              url: z.url({ protocol: /^https?$/ }),
              /** `urls` (one URL a line: whole sites block, page URLs are reported) or a domain-list format. */
              format: z.enum(LIST_FORMATS).default('urls'),
              /** HTTP basic authentication. */
              username: z.string().min(1).optional(),
              password: secret().optional(),
              passwordFile: z.string().min(1).optional(),
              /** A token sent as `Authorization: Bearer …`, or in the header `tokenHeader` names. */
              token: secret().optional(),
              tokenFile: z.string().min(1).optional(),
              tokenHeader: z.string().regex(/^[A-Za-z0-9-]+$/).optional(),
            })
            .superRefine((feed, ctx) => {
              if (feed.password && feed.passwordFile) ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'give password or passwordFile, not both' });
              if (feed.token && feed.tokenFile) ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give token or tokenFile, not both' });
              if ((feed.password || feed.passwordFile) && !feed.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'is needed with a password' });
              if (feed.username && !(feed.password || feed.passwordFile)) ctx.addIssue({ code: 'custom', path: ['password'], message: 'is needed with a username (or passwordFile)' });
              if (feed.username && (feed.token || feed.tokenFile)) ctx.addIssue({ code: 'custom', path: ['token'], message: 'give a username and password or a token, not both' });
              if (feed.tokenHeader && !(feed.token || feed.tokenFile)) ctx.addIssue({ code: 'custom', path: ['tokenHeader'], message: 'needs token or tokenFile' });
            }),
        )
        .default([]),
      /** A feed not brought in successfully for this many hours turns its status amber, and red after a week. */
      illegalFeedStaleHours: z.coerce.number().int().min(1).max(168).default(48),
      /** Hours between the app's own refreshes of the lists (0: only `schoolgate lists sync`). Starts once lists were synced, or a feed or mirror is configured. */
      refreshHours: z.coerce.number().int().min(0).max(24 * 31).default(24),
      /** Read the built-in lists from this directory instead of their URLs (an air-gapped school, a trust's mirror). */
      mirror: z.string().min(1).optional(),
    })
    .prefault({}),
  monitor: z
    .object({
      /** Days filter events are kept. */
      retentionDays: z.coerce.number().int().min(1).max(3650).default(90),
    })
    .prefault({}),
  school: z
    .object({
      /** Name of the school created on first start when no demo is seeded. */
      name: z.string().min(1).default('My School'),
      timezone: z.string().default('Europe/London'),
    })
    .prefault({}),
}).superRefine((config, ctx) => {
  if (config.dns.tlsListen.length > 0 && !(config.dns.tls.certFile && config.dns.tls.keyFile)) {
    ctx.addIssue({ code: 'custom', path: ['dns', 'tlsListen'], message: 'needs dns.tls.certFile and dns.tls.keyFile' });
  }
  if (config.blockPage.httpsListen.length > 0 && !config.blockPage.rootCa) {
    ctx.addIssue({ code: 'custom', path: ['blockPage', 'httpsListen'], message: 'needs blockPage.rootCa: true (the HTTPS block page issues its certificates from the school root CA)' });
  }
  const feedNames = config.lists.illegalFeeds.map((f) => f.name.toLowerCase());
  feedNames.forEach((name, i) => {
    if (feedNames.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['lists', 'illegalFeeds', i, 'name'], message: `'${name}' is used by another feed` });
  });
  if (config.store.driver === 'postgres' && !config.store.postgresUrl) {
    ctx.addIssue({ code: 'custom', path: ['store', 'postgresUrl'], message: 'is required when store.driver is postgres' });
  }
});

/** Validated configuration as the rest of the code sees it. */
export type Config = z.infer<typeof configSchema>;
